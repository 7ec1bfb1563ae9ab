"""An SAE's one input scale: fitted so that the training inputs have E||s x|| =
sqrt(D), applied inside encode and decode, so the same data in other units (x0.1,
x10) trains to the same code at the defaults, outputs stay in the data's units, and
the scale travels with the weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from aekit.analysis.sae_metrics import fvu
from aekit.models import build_model, model_from_record, model_record
from aekit.training.checkpoint import load_weights, save_weights

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def pixels():
    """300 of sklearn's 8x8 digits as `aekit train --data digits` sees them: raw
    pixels in [0, 1], not centred (E||x|| is about 0.5 sqrt(64))."""
    x = load_digits().data[:300] / 16.0
    return torch.from_numpy(x).float()


def trained(family: str, x: torch.Tensor, steps: int = 240):
    """`family` at its defaults (64 latents) after `steps` Adam steps on x."""
    torch.manual_seed(0)
    model = build_model("sae", (x.shape[1],), sae=family, latent_dim=64)
    model.init_from_data(x)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps // (len(x) // 50)):
        for batch in x[torch.randperm(len(x), generator=g)].split(50):
            opt.zero_grad(set_to_none=True)
            model.loss(batch, batch)["loss"].backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        codes = model.encode(x)
        x_hat = model.decode(codes)
    return model, float((codes > 0).float().sum(1).mean()), fvu(x, x_hat)


@pytest.mark.parametrize("family", ["relu-l1", "jumprelu"])
def test_the_defaults_train_on_raw_pixels_in_any_units(pixels, family):
    """Before the scale, relu-l1 at its defaults left FVU ~1 on raw digits (the
    L1 outweighed an MSE of pixels in [0, 1]) and at x10 the balance moved again."""
    units = (0.1, 10.0)
    results = [trained(family, pixels * unit) for unit in units]
    for (_, l0, err), unit in zip(results, units, strict=True):
        assert err < 0.5, (family, unit, err)  # it reconstructs (FVU 1: nothing)
        assert 1 <= l0 <= 32, (family, unit, l0)  # sparse, and not silent
    (small, l0_small, fvu_small), (large, l0_large, fvu_large) = results
    ratio = float(small.input_scale) / float(large.input_scale)
    assert math.isclose(ratio, 100.0, rel_tol=1e-5)  # s follows the units
    assert abs(l0_small - l0_large) <= 0.05 * l0_large  # the same code in any units
    assert abs(fvu_small - fvu_large) <= 0.02


def test_outputs_stay_in_the_datas_units_and_the_scale_round_trips(pixels, tmp_path):
    model = build_model("sae", (64,), sae="topk", latent_dim=64, k=8)
    model.init_from_data(pixels * 10)
    s = float(model.input_scale)
    norms = (pixels * 10).norm(dim=1).mean()
    assert math.isclose(s * float(norms), 8.0, rel_tol=1e-4)  # E||s x|| = sqrt(64)
    model.eval()
    with torch.no_grad():  # the decoder bias starts at the median, in data units
        assert float(model.decode(torch.zeros(1, 64)).mean()) > 0.5
    save_weights(tmp_path / "w.safetensors", model)
    clone = model_from_record(model_record("sae", model)).eval()
    assert float(clone.input_scale) == 1.0  # a fresh model: no data seen yet
    load_weights(tmp_path / "w.safetensors", clone)
    assert float(clone.input_scale) == s
    with torch.no_grad():
        assert torch.equal(clone(pixels), model(pixels))


def test_an_all_zero_sample_leaves_the_scale_at_one():
    model = build_model("sae", (4,), sae="topk", latent_dim=8, k=2)
    model.init_from_data(torch.zeros(10, 4))
    assert float(model.input_scale) == 1.0
    assert np.isfinite(model.b_dec.detach().numpy()).all()
