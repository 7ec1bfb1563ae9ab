"""The conv decoder starts at the training data's mean image (issue 25, item 11)."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import AekitError
from aekit.models import build_model, model_from_record, model_record
from aekit.models.configs import UPSAMPLE_MODES


def images(n: int = 256) -> torch.Tensor:
    """Dark images with one bright blob each: a mean far from 0.5, as digits have."""
    g = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.arange(12.0), torch.arange(12.0), indexing="ij")
    centres = 3 + 6 * torch.rand(n, 2, generator=g)
    d2 = (yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2
    return torch.exp(-d2 / 4).unsqueeze(1)  # (N, 1, 12, 12), values in (0, 1]


def conv(x: torch.Tensor, **options) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(
        "conv", tuple(x.shape[1:]), latent_dim=4, channels=(8, 16), **options
    )
    model.init_from_data(x)
    return model.eval()


def start_error(model: torch.nn.Module, x: torch.Tensor) -> float:
    """Mean absolute distance of the untrained output from the data's mean image."""
    with torch.no_grad():
        return float((model(x) - x.mean(0)).abs().mean())


@pytest.mark.parametrize("upsample", UPSAMPLE_MODES)
@pytest.mark.parametrize("output", ["sigmoid", "identity"])
def test_untrained_decoder_outputs_the_data_mean(upsample, output):
    x = images()
    spread = float((x - x.mean(0)).abs().mean())  # the mean image's own error
    mean = conv(x, upsample=upsample, output=output)
    old = conv(x, upsample=upsample, output=output, decoder_start="zero")
    assert mean.config.decoder_start == "mean"  # the default
    assert start_error(mean, x) < 0.2 * spread
    # before: sigmoid(0) = 0.5 (or 0) plus the last conv's noise, far from the data
    assert start_error(old, x) > 0.5 * spread


def test_a_pca_start_keeps_its_own_mean():
    """The PCA path holds the mean: the correction's bias stays at zero."""
    x = images()
    model = conv(x, output="identity", start="pca")
    assert torch.count_nonzero(model.body.mean_output.bias) == 0
    with torch.no_grad():
        assert float((model(x) - x.mean(0)).abs().mean()) < float(
            (x - x.mean(0)).abs().mean()
        )  # PCA reconstructs better than the mean alone


def test_mean_bias_is_flat_so_weight_decay_skips_it():
    model = conv(images())
    assert model.body.mean_output.bias.ndim == 1  # make_optimizer decays ndim >= 2


def test_round_trip_and_old_records():
    x = images(32)
    model = conv(x)
    rebuilt = model_from_record(model_record("conv", model))
    rebuilt.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.equal(rebuilt.eval()(x), model(x))
    record = model_record("conv", model)
    del record["config"]["decoder_start"]  # a run written before the option
    old = model_from_record(record)
    assert old.config.decoder_start == "zero"
    assert not any("mean_output" in k for k in old.state_dict())


def test_bad_decoder_start_and_mlp_body_refused():
    with pytest.raises(AekitError, match="decoder start"):
        build_model("conv", (1, 8, 8), decoder_start="median")
    with pytest.raises(AekitError, match="decoder-start"):
        build_model("mlp", (64,), decoder_start="mean")
