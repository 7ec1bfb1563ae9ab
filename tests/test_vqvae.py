"""VQ-VAE and its PixelCNN prior: quantisation, EMA codebook, restarts, masks, and a
run that samples right after training."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aekit.errors import AekitError
from aekit.interfaces import api
from aekit.interfaces.cli import main
from aekit.models import build_model, model_from_record, model_record
from aekit.models.vqvae.model import VectorQuantizer, perplexity
from aekit.models.vqvae.pixelcnn import MaskedConv2d
from aekit.training.checkpoint import load_weights, save_weights

torch.set_num_threads(1)


def small_vqvae(**kw):
    torch.manual_seed(0)
    options = {"channels": (8, 16), "codebook_size": 8, "code_dim": 4, **kw}
    return build_model("vq-vae", (1, 8, 8), **options)


def test_contract_encode_gives_index_grids_that_decode_round_trips(tmp_path):
    model = small_vqvae().eval()
    x = torch.rand(5, 1, 8, 8)
    z = model.encode(x)
    assert model.latent_dim == 4 and z.shape == (5, 4)  # a 2x2 grid of indices
    assert torch.equal(z, z.round()) and 0 <= z.min() and z.max() < 8
    assert torch.allclose(model.decode(z), model(x))  # forward decodes the indices
    save_weights(tmp_path / "w.safetensors", model)
    clone = model_from_record(model_record("vq-vae", model)).eval()
    load_weights(tmp_path / "w.safetensors", clone)
    assert torch.equal(clone.encode(x), z) and torch.equal(clone(x), model(x))


def test_decode_refuses_codes_outside_the_codebook():
    model = small_vqvae().eval()
    with pytest.raises(AekitError, match="code indices 0..7"):
        model.decode(torch.full((1, 4), 8.0))
    with pytest.raises(AekitError, match=r"shape \(N, 4\)"):
        model.decode(torch.zeros(1, 5))


def test_straight_through_gives_the_encoder_gradients():
    model = small_vqvae()
    x = torch.rand(6, 1, 8, 8)
    terms = model.loss(x, x)
    assert {"recon", "commitment", "perplexity", "dead_codes"} <= set(terms)
    grads = torch.autograd.grad(terms["recon"], list(model.encoder.parameters()))
    assert all(g.abs().sum() > 0 for g in grads)  # through the argmin, by design
    # the codebook is a buffer moved by EMA, never by the optimiser
    assert "quantizer.codebook" not in dict(model.named_parameters())


def test_ema_moves_codes_towards_their_assigned_encoder_outputs():
    vq = VectorQuantizer(size=2, dim=2, decay=0.9, dead_after=0)
    vq.codebook.copy_(torch.tensor([[0.0, 0.0], [10.0, 10.0]]))
    vq.embed_sum.copy_(vq.codebook)
    vq.initialised.fill_(1)
    z = torch.tensor([[1.0, 1.0], [1.2, 0.8], [9.0, 9.0]])
    index = vq.nearest(z)
    assert index.tolist() == [0, 0, 1]
    before = vq.codebook.clone()
    for _ in range(50):
        vq.update(z, index)
    means = torch.stack([z[:2].mean(0), z[2]])
    assert ((vq.codebook - means).norm(dim=1) < (before - means).norm(dim=1)).all()
    torch.testing.assert_close(vq.codebook, means, atol=0.05, rtol=0)


def test_dead_codes_restart_at_encoder_outputs():
    torch.manual_seed(0)
    vq = VectorQuantizer(size=4, dim=2, decay=0.99, dead_after=3)
    vq.codebook.copy_(torch.tensor([[0.0, 0.0], [50.0, 50.0], [60, 60], [70, 70]]))
    vq.embed_sum.copy_(vq.codebook)
    vq.initialised.fill_(1)
    z = torch.randn(32, 2)  # all nearest to code 0: codes 1-3 go unused
    for step in range(3):
        vq.update(z, vq.nearest(z))
        if step < 2:
            assert (vq.codebook[1:] > 40).all()  # not yet dead
    revived = vq.codebook[1:]
    assert (revived.abs() < 5).all()  # moved onto rows of z
    assert all(any(torch.equal(r, row) for row in z) for r in revived)
    assert (vq.unused_steps == 0).all()
    assert len(torch.unique(vq.nearest(z))) > 1  # the restarted codes take rows


def test_perplexity_on_hand_cases():
    assert float(perplexity(torch.tensor([0, 1, 2, 3]), 8)) == pytest.approx(4.0)
    assert float(perplexity(torch.tensor([5, 5, 5]), 8)) == pytest.approx(1.0)
    # usage (1/2, 1/4, 1/4): entropy 1.5 ln 2, perplexity 2^1.5
    value = float(perplexity(torch.tensor([0, 0, 1, 2]), 3))
    assert value == pytest.approx(2**1.5)


@pytest.mark.parametrize("kind", ["A", "B"])
def test_masked_convolutions_are_causal(kind):
    torch.manual_seed(0)
    conv = MaskedConv2d(3, 3, 5, kind)
    x = torch.randn(1, 3, 6, 6, requires_grad=True)
    i, j = 3, 2
    conv(x)[0, :, i, j].sum().backward()
    seen = x.grad[0].abs().sum(0) > 0  # (6, 6): inputs the output at (i, j) reads
    order = torch.arange(36).view(6, 6)
    here = order[i, j]
    assert not seen[order > here].any()
    assert bool(seen[i, j]) == (kind == "B")
    assert seen[order < here].any()


def test_the_prior_is_causal_end_to_end_through_every_layer():
    torch.manual_seed(0)
    prior = build_model("pixelcnn-prior", (1, 4, 4), codebook_size=5)
    h = prior.embed(torch.zeros(1, 4, 4).long()).permute(0, 3, 1, 2)
    h = h.detach().requires_grad_(True)
    out = prior.head(prior.blocks(prior.first(h)))  # (1, K, 4, 4)
    out[0, :, 2, 1].sum().backward()
    seen = h.grad[0].abs().sum(0) > 0
    order = torch.arange(16).view(4, 4)
    assert not seen[order >= order[2, 1]].any()


def test_prior_sample_gives_index_grids_the_vqvae_decodes():
    prior = build_model("pixelcnn-prior", (1, 2, 2), codebook_size=8)
    g = torch.Generator().manual_seed(0)
    grids = prior.eval().sample(3, generator=g)
    assert grids.shape == (3, 4) and torch.equal(grids, grids.round())
    assert small_vqvae().eval().decode(grids).shape == (3, 1, 8, 8)
    again = prior.sample(3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(grids, again)
    x = grids.view(3, 1, 2, 2)
    terms = prior.loss(x, x)
    bits = float(terms["bits_per_code"].detach())
    assert bits == pytest.approx(float(terms["loss"].detach()) / math.log(2))


def test_vqvae_images_must_halve_evenly():
    with pytest.raises(AekitError, match="divisible by 4"):
        build_model("vq-vae", (1, 10, 10), channels=(8, 16))


def test_train_on_digits_then_sample_encode_decode(tmp_path, monkeypatch):
    from aekit.tasks import learned_prior

    monkeypatch.setattr(learned_prior, "PRIOR_EPOCHS", 2)
    run = api.train(
        "digits",
        "vq-vae",
        out=tmp_path / "run",
        epochs=2,
        channels=(8, 16),
        codebook_size=16,
        code_dim=4,
        dead_after=10,
        pictures=False,
        report=False,
    )
    assert (run.path / "stages" / "prior" / "model.safetensors").is_file()
    header = (run.path / "history.csv").read_text().splitlines()[0]
    assert "val_perplexity" in header and "val_dead_codes" in header
    usage = run.metrics["codebook"]
    assert usage["size"] == 16 and usage["used"] + usage["dead"] == 16
    assert run.metrics["prior"]["epochs_run"] == 2
    samples = api.sample(run.path, 6, seed=1)
    assert samples.shape == (6, 8, 8) and np.isfinite(samples).all()
    codes = api.encode(run.path, "digits")
    assert codes.shape == (1797, 4)
    assert api.decode(run.path, codes[:3]).shape == (3, 8, 8)
    # pictures of a continuous code space do not apply to discrete codes
    assert (
        main(["plot", str(run.path), "latent", "--out", str(tmp_path / "l.png")]) == 2
    )
    # refit the prior from the command line
    assert main(["fit-prior", str(run.path), "--epochs", "1"]) == 0
    assert api.sample(run.path, 2).shape == (2, 8, 8)


def test_no_prior_leaves_a_run_that_says_how_to_fit_it(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(
        [
            "train", "--data", "digits", "--model", "vq-vae", "--out", str(out),
            "--epochs", "1", "--channels", "8,16", "--codebook-size", "8",
            "--code-dim", "4", "--no-prior", "--no-pictures", "--no-report",
            "--quiet",
        ]
    )  # fmt: skip
    assert code == 0 and not (out / "stages").exists()
    capsys.readouterr()
    assert main(["sample", str(out), "-n", "2", "--out", str(tmp_path / "s.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "aekit fit-prior RUN" in err


def test_options_of_other_families_are_refused_in_one_line(capsys):
    code = main(["train", "--data", "digits", "--model", "vae", "--codebook-size", "8"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "--codebook-size" in err  # the flag the user typed
    assert main(["fit-prior", "/nonexistent/run"]) == 2


def test_fit_prior_refuses_runs_without_a_learned_prior(tmp_path):
    run = api.train(
        "digits", "mlp", out=tmp_path / "mlp", epochs=1, hidden=(16,),
        latent_dim=2, pictures=False, report=False,
    )  # fmt: skip
    with pytest.raises(AekitError, match="not a learned prior"):
        api.fit_prior(run.path)


def _reference_nearest(z: torch.Tensor, book: torch.Tensor) -> torch.Tensor:
    """The textbook assignment: for each row, the code at the least distance."""
    return torch.tensor(
        [
            min(range(len(book)), key=lambda k: float((row - book[k]).pow(2).sum()))
            for row in z.double()
        ]
    )


def _reference_ema(vq: VectorQuantizer, z: torch.Tensor, index: torch.Tensor):
    """One EMA step written code by code (Razavi et al. 2019, appendix)."""
    decay, eps = vq.decay, 1e-5
    size = vq.cluster_size.double().clone()
    sums = vq.embed_sum.double().clone()
    for k in range(vq.size):
        rows = z.double()[index == k]
        size[k] = decay * size[k] + (1 - decay) * len(rows)
        sums[k] = decay * sums[k] + (1 - decay) * rows.sum(0)
    n = size.sum()
    book = sums / ((size + eps) / (n + vq.size * eps) * n)[:, None]
    return size, sums, book


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_quantiser_equals_a_row_by_row_reference(seed):
    """The batched distances, assignments, EMA step and restarts agree with a
    straightforward loop over rows and codes on random data."""
    g = torch.Generator().manual_seed(seed)
    vq = VectorQuantizer(size=12, dim=5, decay=0.9, dead_after=2)
    vq.codebook.copy_(torch.randn(12, 5, generator=g))
    vq.codebook[-3:] += 40.0  # three far codes: unused, so they die and restart
    vq.embed_sum.copy_(vq.codebook * 1.5)
    vq.cluster_size.copy_(torch.rand(12, generator=g) + 0.5)
    vq.unused_steps.copy_(torch.tensor([0.0] * 9 + [1.0] * 3))
    vq.initialised.fill_(1)
    z = torch.randn(200, 5, generator=g)

    index = vq.nearest(z)
    assert torch.equal(index, _reference_nearest(z, vq.codebook))
    assert not bool(torch.isin(torch.arange(9, 12), index).any())

    size, sums, book = _reference_ema(vq, z, index)
    counts = vq.update(z, index)
    assert torch.equal(counts, torch.bincount(index, minlength=12).float())
    live = torch.arange(12) < 9
    close = {"atol": 1e-5, "rtol": 1e-5}  # float32 against a float64 reference
    torch.testing.assert_close(vq.cluster_size[live].double(), size[live], **close)
    torch.testing.assert_close(vq.embed_sum[live].double(), sums[live], **close)
    torch.testing.assert_close(vq.codebook[live].double(), book[live], **close)
    # the three dead codes restarted at rows of z, with fresh statistics
    for k in range(9, 12):
        assert any(torch.equal(vq.codebook[k], row) for row in z)
        assert torch.equal(vq.embed_sum[k], vq.codebook[k])
    assert vq.cluster_size[~live].tolist() == [1.0] * 3
    assert (vq.unused_steps == 0).all()


@pytest.mark.parametrize("training", [True, False])
def test_loss_terms_count_codes_as_the_indices_do(training):
    """perplexity and dead_codes in the loss come from the batch's assignments."""
    model = small_vqvae(codebook_size=32).train(training)
    seen = []
    model.quantizer.register_forward_hook(lambda m, i, out: seen.append(out[1]))
    x = torch.rand(10, 1, 8, 8)
    terms = model.loss(x, x)
    (index,) = seen
    assert float(terms["dead_codes"]) == 32 - len(torch.unique(index))
    assert float(terms["perplexity"]) == pytest.approx(float(perplexity(index, 32)))


def test_same_seed_gives_the_same_weights_with_restarts_drawing_rows(tmp_path):
    """The quantiser's restarts draw random rows every step: the same seed must still
    give the same weights, and another seed other weights."""
    from safetensors.torch import load_file

    def weights(name: str, seed: int) -> dict[str, torch.Tensor]:
        out = tmp_path / name
        code = main(
            [
                "train", "--data", "digits", "--model", "vq-vae", "--out", str(out),
                "--epochs", "1", "--channels", "8,16", "--codebook-size", "32",
                "--code-dim", "4", "--dead-after", "2", "--seed", str(seed),
                "--no-prior", "--no-pictures", "--no-report", "--quiet",
            ]
        )  # fmt: skip
        assert code == 0
        return load_file(out / "model.safetensors")

    first, again, other = weights("a", 3), weights("b", 3), weights("c", 4)
    assert first.keys() == again.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not torch.equal(first["quantizer.codebook"], other["quantizer.codebook"])
