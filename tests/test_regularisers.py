"""The classic regularisers: contractive, KL sparsity, tied weights, a linear AE,
transposed-convolution options and the checkerboard picture."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from aekit.analysis.metrics import pca_reconstruction_mse
from aekit.analysis.plots.checkerboard import plot_checkerboard
from aekit.errors import AekitError
from aekit.models import build_model, model_from_record, model_record
from aekit.models.autoencoder.model import contractive_penalty, kl_sparsity


def seeded(name, shape, **options):
    torch.manual_seed(0)
    return build_model(name, shape, **options)


# -- contractive ------------------------------------------------------------------
def test_contractive_matches_rifai_closed_form_for_a_sigmoid_layer():
    # one sigmoid hidden layer, the code head the identity: z = h = sigmoid(Wx + b),
    # so |J|_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ji^2 (Rifai et al. 2011, eq. 3)
    model = seeded(
        "mlp",
        (6,),
        latent_dim=4,
        hidden=(4,),
        activation="sigmoid",
        output="identity",
        contractive=0.5,
    )
    with torch.no_grad():
        model.to_code.weight.copy_(torch.eye(4))
        model.to_code.bias.zero_()
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    w, b = model.body.encoder[0].weight, model.body.encoder[0].bias
    h = torch.sigmoid(x @ w.T + b)
    expect = ((h * (1 - h)) ** 2 * (w**2).sum(1)).sum(1).mean()
    terms = model.loss(x, x)
    assert terms["contractive"].item() == pytest.approx(expect.item(), rel=1e-5)
    assert terms["loss"].item() == pytest.approx(
        terms["recon"].item() + 0.5 * expect.item(), rel=1e-5
    )


def test_contractive_on_a_deep_mlp_equals_the_full_jacobian():
    model = seeded(
        "mlp", (3, 4), latent_dim=3, hidden=(8, 5), activation="tanh", contractive=1.0
    )
    x = torch.rand(4, 3, 4, generator=torch.Generator().manual_seed(2))
    full = torch.func.vmap(torch.func.jacrev(lambda a: model.encode(a[None])[0]))(x)
    expect = full.pow(2).sum() / len(x)  # (B, latent, 3, 4)
    assert model.loss(x, x)["contractive"].item() == pytest.approx(
        expect.item(), rel=1e-5
    )


def test_contractive_penalty_backpropagates_to_the_encoder():
    model = seeded("mlp", (6,), latent_dim=2, hidden=(5,), contractive=1.0)
    x = torch.rand(3, 6)
    z = model.encode(x.requires_grad_(True))
    contractive_penalty(z, x).backward()
    assert model.body.encoder[0].weight.grad.abs().sum() > 0


def test_contractive_refuses_conv_bodies_and_bad_weights():
    with pytest.raises(AekitError, match="MLP bodies only"):
        build_model("conv", (1, 8, 8), contractive=0.1)
    with pytest.raises(AekitError, match="contractive"):
        build_model("mlp", (6,), contractive=-1.0)
    with pytest.raises(AekitError, match="takes no option"):
        build_model("vae", (6,), contractive=0.1)


# -- KL sparsity ------------------------------------------------------------------
def test_kl_sparsity_by_hand():
    z = torch.tensor([[0.0, math.log(3)], [0.0, math.log(3)]])  # sigmoid: 0.5, 0.75
    rho = 0.1
    expect = sum(
        rho * math.log(rho / r) + (1 - rho) * math.log((1 - rho) / (1 - r))
        for r in (0.5, 0.75)
    )
    assert kl_sparsity(z, rho).item() == pytest.approx(expect, rel=1e-6)
    assert kl_sparsity(torch.full((3, 2), math.log(0.1 / 0.9)), 0.1).item() == (
        pytest.approx(0.0, abs=1e-6)
    )


def test_kl_sparsity_is_logged_and_weighted():
    model = seeded(
        "mlp",
        (6,),
        latent_dim=3,
        hidden=(4,),
        sparsity_target=0.05,
        kl_sparsity_weight=2.0,
    )
    x = torch.rand(8, 6)
    terms = model.loss(x, x)
    z = model.encode(x)
    assert terms["kl_sparsity"].item() == pytest.approx(
        kl_sparsity(z, 0.05).item(), rel=1e-6
    )
    assert terms["loss"].item() == pytest.approx(
        terms["recon"].item() + 2.0 * terms["kl_sparsity"].item(), rel=1e-6
    )
    assert "contractive" not in terms and "sparsity" not in terms


@pytest.mark.parametrize("rho", [0.0, 1.0, -0.2, 1.5])
def test_sparsity_target_must_be_inside_zero_one(rho):
    with pytest.raises(AekitError, match=r"sparsity_target must be in \(0, 1\)"):
        build_model("mlp", (6,), sparsity_target=rho)


# -- tied weights -----------------------------------------------------------------
def test_tied_decoder_shares_the_encoder_weights():
    untied = seeded("mlp", (10,), latent_dim=3, hidden=(8, 6))
    tied = seeded("mlp", (10,), latent_dim=3, hidden=(8, 6), tied=True)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(untied) - count(tied) == 10 * 8 + 8 * 6 + 6 * 3
    x = torch.rand(4, 10)
    w0, w2, wc = (
        tied.body.encoder[0].weight,
        tied.body.encoder[2].weight,
        tied.to_code.weight,
    )  # all biases start at zero
    z = torch.relu(torch.relu(x @ w0.T) @ w2.T) @ wc.T
    expect = torch.sigmoid(torch.relu(torch.relu(z @ wc) @ w2) @ w0)
    with torch.no_grad():
        assert torch.allclose(tied(x), expect, atol=1e-6)
    tied.loss(x, x)["loss"].backward()
    for p in tied.parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0
    # the encoder weight gets gradient from both of its uses
    names = {n for n, _ in tied.named_parameters()}
    assert "body.decoder.1.bias" in names and "from_code.bias" in names
    assert not any(n.startswith("from_code.weight") for n in names)


def test_tied_model_round_trips_through_its_record():
    model = seeded("mlp", (10,), latent_dim=3, hidden=(8,), tied=True)
    again = model_from_record(model_record("mlp", model))
    again.load_state_dict(model.state_dict())
    x = torch.rand(2, 10)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))


def test_tied_refuses_conv_bodies():
    with pytest.raises(AekitError, match="tied decoder weights apply to MLP"):
        build_model("conv", (1, 8, 8), tied=True)


# -- a linear autoencoder spans the PCA subspace ----------------------------------
def test_linear_autoencoder_reaches_pca():
    g = torch.Generator().manual_seed(0)
    basis = torch.randn(4, 12, generator=g)
    x = torch.randn(200, 4, generator=g) @ basis + 0.1 * torch.randn(
        200, 12, generator=g
    )
    x = x - x.mean(0)
    model = seeded(
        "mlp", (12,), latent_dim=3, hidden=(), activation="linear", output="identity"
    )
    opt = torch.optim.Adam(model.parameters(), lr=3e-2)
    for _ in range(400):  # 1.01x PCA's MSE after 400 steps, 1.001x after 1,500
        loss = model.loss(x, x)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        ae = float(((model(x) - x) ** 2).mean())
    pca = pca_reconstruction_mse(x.numpy(), x.numpy(), 3)
    assert ae <= 1.05 * pca
    assert ae >= 0.999 * pca  # nothing linear beats PCA on its own training data


def test_linear_activation_is_the_identity():
    model = seeded("mlp", (5,), latent_dim=2, hidden=(4,), activation="linear")
    x = torch.randn(3, 5)
    w1, b1 = model.body.encoder[0].weight, model.body.encoder[0].bias
    expect = (x @ w1.T + b1) @ model.to_code.weight.T + model.to_code.bias
    assert torch.allclose(model.encode(x), expect, atol=1e-6)


# -- transposed convolutions ------------------------------------------------------
@pytest.mark.parametrize("kernel, padding", [(4, 1), (3, 1), (2, 0), (6, 2), (5, 2)])
@pytest.mark.parametrize("size", [7, 8, 9])
def test_transposed_convolutions_keep_the_size(kernel, padding, size):
    model = seeded(
        "conv",
        (1, size, size),
        latent_dim=3,
        channels=(4, 4),
        transpose_kernel=kernel,
        transpose_padding=padding,
    )
    x = torch.rand(2, 1, size, size)
    assert model(x).shape == x.shape
    assert model.body.up[0].conv.kernel_size == (kernel, kernel)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"transpose_stride": 1}, "stride 2"),
        ({"transpose_kernel": 5, "transpose_padding": 1}, "does not double"),
        ({"transpose_kernel": 1, "transpose_padding": 1}, "does not double"),
        ({"transpose_kernel": 3, "upsample": "nearest"}, "upsample 'transpose' only"),
    ],
)
def test_transposed_convolution_options_are_checked(options, match):
    with pytest.raises(AekitError, match=match):
        build_model("conv", (1, 8, 8), **options)
    with pytest.raises(AekitError):
        build_model("mlp", (6,), transpose_kernel=3)


# -- defaults keep today's models -------------------------------------------------
@pytest.mark.parametrize(
    "name, shape, options, y_sum, z_sum, n_params",
    [  # measured with the code before the regularisers were added
        (
            "mlp",
            (1, 8, 8),
            {"latent_dim": 3, "hidden": (16, 8)},
            64.0714701116085,
            0.4032793836668134,
            2467,
        ),
        (
            "conv",
            (1, 9, 9),
            {
                "latent_dim": 3,
                "channels": (4, 8),
                "norm": "none",
                "decoder_start": "zero",
            },  # the old body: no norm, decoder started at zero
            80.88857486844063,
            -0.45952416956424713,
            1952,
        ),
        (
            "conv",
            (3, 8, 8),
            {
                "latent_dim": 3,
                "channels": (4,),
                "upsample": "nearest",
                "norm": "none",
                "decoder_start": "zero",
            },
            191.4251297712326,
            -0.5665946900844574,
            1078,
        ),
    ],
)
def test_default_configs_give_identical_outputs(
    name, shape, options, y_sum, z_sum, n_params
):
    model = seeded(name, shape, **options)
    x = torch.rand((2, *shape), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert float(model(x).double().sum()) == pytest.approx(y_sum, rel=1e-6)
        assert float(model.encode(x).double().sum()) == pytest.approx(z_sum, rel=1e-5)
    assert sum(p.numel() for p in model.parameters()) == n_params
    terms = model.loss(x, x)
    assert set(terms) == {"loss", "recon"}


def test_records_without_the_new_fields_still_load():
    model = seeded("conv", (1, 8, 8), latent_dim=3, channels=(4,))
    record = model_record("conv", model)
    for key in (
        "contractive",
        "sparsity_target",
        "kl_sparsity_weight",
        "tied",
        "transpose_kernel",
        "transpose_stride",
        "transpose_padding",
    ):
        del record["config"][key]  # as an older aekit wrote it
    again = model_from_record(record)
    again.load_state_dict(model.state_dict())  # strict: the same parameter names
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))


# -- checkerboard picture ---------------------------------------------------------
def test_checkerboard_picture_shows_uneven_overlap():
    fig = plot_checkerboard()
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3 and all(len(ax.images) == 1 for ax in fig.axes)
    k3, k4, nearest = (np.asarray(ax.images[0].get_array()) for ax in fig.axes)
    inner = (slice(2, -2), slice(2, -2))  # away from the border's missing overlap
    assert k3[inner].std() > 0.1 * k3[inner].mean()  # kernel 3, stride 2: uneven
    assert np.allclose(k4[inner], k4[inner].mean())  # kernel 4, stride 2: even
    assert np.allclose(nearest[inner], nearest[inner].mean())
