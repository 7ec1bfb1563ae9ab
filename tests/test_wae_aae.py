"""WAE-MMD and the adversarial autoencoder: their penalties, their declared prior and
posterior, checkpoint selection, and every vector family in the scikit-learn wrapper."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.data import Dataset
from aekit.interfaces.sklearn.base import vector_models
from aekit.models import build_model
from aekit.models.distributions import Posterior, posterior_of
from aekit.models.registry import capabilities
from aekit.models.wae.model import imq_mmd
from aekit.training.loop import TrainConfig, fit


def test_imq_mmd_is_near_zero_for_the_prior_and_grows_with_a_shift():
    g = torch.Generator().manual_seed(0)
    p = torch.randn(400, 4, generator=g)
    same = torch.randn(400, 4, generator=g)
    assert abs(float(imq_mmd(same, p))) < 0.02
    assert float(imq_mmd(same + 1.0, p)) > 10 * abs(float(imq_mmd(same, p)))


@pytest.mark.parametrize("name", ["wae", "aae"])
def test_codes_follow_a_prior_without_a_posterior(name):
    caps = capabilities(name)
    model = build_model(name, (12,), latent_dim=3, hidden=(16,))
    post = posterior_of(model, caps.posterior, caps.codes)
    assert caps.sampler == "prior" and type(post) is Posterior
    assert not post.is_distribution  # a deterministic encoder: no spread, no ELBO


def _data(n: int = 96) -> Dataset:
    g = torch.Generator().manual_seed(1)
    z = torch.randn(n, 2, generator=g)
    x = torch.sigmoid(z @ torch.randn(2, 12, generator=g))
    return Dataset(x)


def test_aae_selects_its_checkpoint_on_reconstruction(tmp_path):
    torch.manual_seed(0)
    model = build_model("aae", (12,), latent_dim=2, hidden=(16,))
    assert model.selection_metric == "recon"
    data = _data()
    config = TrainConfig(epochs=4, batch_size=32, seed=0, patience=0)
    history = fit(model, data, data, config, out=tmp_path)
    recon = [r["val_recon"] for r in history.rows]
    assert history.best_val_loss == min(recon)
    assert history.best_epoch == 1 + int(np.argmin(recon))
    # the adversarial terms trained: the discriminator's own loss was logged
    assert all(np.isfinite(r["train_discriminator_loss"]) for r in history.rows)


@pytest.mark.parametrize("name", vector_models())
def test_the_sklearn_wrapper_fits_every_vector_family(name):
    from aekit.interfaces.sklearn import AutoencoderTransformer

    x = np.random.default_rng(0).normal(size=(64, 6)) * 3.0  # not in [0, 1]
    est = AutoencoderTransformer(model=name, n_components=2, hidden=(8,), epochs=1)
    codes = est.fit(x).transform(x)
    assert codes.shape == (64, 2) and np.isfinite(codes).all()


@pytest.mark.parametrize("name", ["mlp", "vae", "wae", "aae"])
@pytest.mark.parametrize("option", [{"upsample": "nearest"}, {"channels": (8, 16)}])
def test_a_conv_option_on_an_mlp_body_is_refused(name, option):
    from aekit.errors import AekitError

    with pytest.raises(AekitError, match="MLP body, which takes no --"):
        build_model(name, (12,), latent_dim=2, **option)


def test_prior_fit_measures_codes_against_the_prior():
    g = torch.Generator().manual_seed(3)
    wae = build_model("wae", (12,), latent_dim=3, hidden=(16,))
    near = wae.prior_fit(torch.randn(500, 3, generator=g), seed=1)["mmd"]
    far = wae.prior_fit(torch.randn(500, 3, generator=g) + 1.5, seed=1)["mmd"]
    assert abs(near) < 0.05 and far > 10 * abs(near)
    aae = build_model("aae", (12,), latent_dim=3, hidden=(16,))
    # codes drawn as the prior is: whatever D says, it cannot beat a coin
    same = aae.prior_fit(torch.randn(4000, 3, generator=g), seed=1)
    assert abs(same["discriminator_accuracy"] - 0.5) < 0.03
    assert 0 <= same["p_prior_of_codes"] <= 1


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("wae", {"mmd_weight": -1.0}, "mmd_weight must be >= 0"),
        ("wae", {"latent_dim": 0}, "latent_dim must be at least 1"),
        ("wae", {"hidden": (0,)}, "hidden must be positive"),
        ("wae", {"activation": "nope"}, "unknown activation"),
        ("aae", {"adversarial_weight": -1.0}, "adversarial_weight must be >= 0"),
        ("aae", {"discriminator_width": 0}, "discriminator_width must be at least 1"),
        ("aae", {"latent_dim": 0}, "latent_dim must be at least 1"),
    ],
)
def test_bad_options_are_refused_when_the_config_is_built(name, options, match):
    from aekit.errors import AekitError

    with pytest.raises(AekitError, match=match):
        build_model(name, input_shape=(1, 8, 8), **options)
