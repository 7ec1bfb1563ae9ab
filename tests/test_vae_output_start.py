"""A VAE's optional output start: rarely-set pixels begin at their mean (issue 22)."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import AekitError
from aekit.models import build_model, model_from_record, model_record
from aekit.models.decoder_start import RARE


def images(n: int = 256) -> torch.Tensor:
    """Dark 12x12 images, a bright blob in the middle: a border the data never set."""
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(n, 1, 12, 12)
    x[:, :, 3:9, 3:9] = torch.rand(n, 1, 6, 6, generator=g)
    return x


def vae(x: torch.Tensor, **options) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(
        "vae", tuple(x.shape[1:]), latent_dim=4, hidden=(32,), **options
    )
    model.init_from_data(x)
    return model.eval()


def head_bias(model) -> torch.Tensor:
    return model.body.decoder[-1][-1].bias.detach()


def test_mean_start_sets_rare_pixels_to_their_logit_mean_and_the_rest_to_zero():
    x = images()
    mean = x.flatten(1).mean(0)
    bias = head_bias(vae(x, output_start="mean"))
    rare = mean < RARE
    assert rare.sum() == 144 - 36 and not rare[3 * 12 + 3]  # border, not the blob
    assert torch.allclose(bias[rare], torch.logit(torch.tensor(1e-3)), atol=1e-4)
    assert torch.count_nonzero(bias[~rare]) == 0
    with torch.no_grad():  # the untrained decoder already leaves the border dark
        border = vae(x, output_start="mean").decode(torch.zeros(8, 4)).flatten(1)
        before = vae(x).decode(torch.zeros(8, 4)).flatten(1)
    assert float(border[:, rare].max()) < 0.05 < float(before[:, rare].min())


def test_default_and_old_records_keep_the_zero_start():
    x = images(32)
    model = vae(x)
    assert model.config.output_start == "zero"
    fresh = build_model("vae", (1, 12, 12), latent_dim=4, hidden=(32,))
    torch.manual_seed(0)
    assert torch.equal(head_bias(model), head_bias(vae(x, output_start="zero")))
    record = model_record("vae", vae(x, output_start="mean"))
    del record["config"]["output_start"]  # a run written before the option
    old = model_from_record(record)
    assert old.config.output_start == "zero"
    assert set(old.state_dict()) == set(fresh.state_dict())


def test_bad_output_start_and_conv_body_refused():
    with pytest.raises(AekitError, match="output start"):
        build_model("vae", (1, 8, 8), output_start="median")
    with pytest.raises(AekitError, match="MLP bodies"):
        build_model("conv-vae", (1, 8, 8), output_start="mean")
