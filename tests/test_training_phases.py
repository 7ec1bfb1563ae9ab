"""The training loop's two growths: parameter groups stepped on their own losses,
and a second-stage fit (a learned prior over codes) kept in the run directory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

import aekit
from aekit import inference
from aekit.data import Dataset
from aekit.models import MODELS, build_model
from aekit.models.autoencoder.config import AutoencoderConfig
from aekit.models.base import Model
from aekit.models.options import option
from aekit.models.registry import Capabilities, ModelSpec
from aekit.training.loop import TrainConfig, fit
from aekit.training.stages import fit_stage, has_stage, load_stage


@dataclass(frozen=True)
class CriticConfig:
    input_shape: tuple[int, ...] = option((), "vector size", cli=False)
    latent_dim: int = option(2, "code size")


class WithCritic(Model):
    """An autoencoder and a critic that scores reconstructions: two groups, two
    losses, as a VAE-GAN's decoder and discriminator have."""

    def __init__(self, config: CriticConfig):
        super().__init__()
        self.config = config
        d = config.input_shape[0]
        self.enc, self.dec = nn.Linear(d, 2), nn.Linear(2, d)
        self.critic = nn.Linear(d, 1)

    def encode(self, x, c=None):
        return self.enc(x)

    def decode(self, z, c=None):
        return self.dec(z)

    def loss(self, x, target, c=None):
        x_hat = self(x)
        recon = (x_hat - target).pow(2).mean()
        fooled = self.critic(x_hat).mean()  # the autoencoder wants a high score
        real, fake = self.critic(target).mean(), self.critic(x_hat.detach()).mean()
        return {
            "loss": recon - 0.01 * fooled,
            "recon": recon,
            "critic_loss": fake - real,
        }

    def parameter_groups(self):
        ae = [*self.enc.parameters(), *self.dec.parameters()]
        return {"model": ae, "critic": list(self.critic.parameters())}


@pytest.fixture
def critic_model():
    MODELS["with-critic"] = ModelSpec(
        WithCritic, CriticConfig, capabilities=Capabilities(optimisers=2)
    )
    yield "with-critic"
    del MODELS["with-critic"]


def blobs(n: int = 64) -> tuple[Dataset, Dataset]:
    g = torch.Generator().manual_seed(0)
    data = Dataset(torch.randn(n, 6, generator=g), name="blobs")
    return data.split(0.25, seed=0)


def test_each_group_steps_on_its_own_loss(critic_model):
    torch.manual_seed(0)
    model = build_model(critic_model, (6,))
    train, val = blobs()
    terms = model.loss(train.x, train.x)
    critic_before = [p.detach().clone() for p in model.critic.parameters()]
    # the autoencoder's loss alone moves no critic weight, and the critic's loss
    # alone no autoencoder weight
    model.zero_grad()
    terms["loss"].backward(inputs=model.parameter_groups()["model"], retain_graph=True)
    assert all(p.grad is None for p in model.critic.parameters())
    terms["critic_loss"].backward(inputs=model.parameter_groups()["critic"])
    assert all(p.grad is not None for p in model.critic.parameters())
    history = fit(model, train, val, TrainConfig(epochs=2, batch_size=16))
    assert {"train_critic_loss", "val_critic_loss"} <= set(history.rows[-1])
    assert any(
        not torch.equal(a, b)
        for a, b in zip(critic_before, model.critic.parameters(), strict=True)
    )


# -- a learned prior, fitted as a second stage -----------------------------------------
@dataclass(frozen=True)
class GaussianPriorConfig:
    input_shape: tuple[int, ...] = option((), "code size", cli=False)


class GaussianPrior(Model):
    """A diagonal Gaussian fitted to codes by maximum likelihood."""

    def __init__(self, config: GaussianPriorConfig):
        super().__init__()
        self.config = config
        self.mean = nn.Parameter(torch.zeros(config.input_shape))
        self.log_std = nn.Parameter(torch.zeros(config.input_shape))

    def loss(self, x, target, c=None):
        z = (x - self.mean) * torch.exp(-self.log_std)
        nll = (0.5 * z.pow(2) + self.log_std).sum(1).mean()
        return {"loss": nll}

    def sample(self, n, c=None, *, generator=None):
        eps = torch.randn(n, *self.config.input_shape, generator=generator)
        return self.mean + eps * self.log_std.exp()


@pytest.fixture
def learned():
    MODELS["test-prior"] = ModelSpec(
        GaussianPrior,
        GaussianPriorConfig,
        capabilities=Capabilities(sampler=None, codes=None, tasks=("prior",)),
    )
    MODELS["ae-learned"] = ModelSpec(
        "aekit.models.autoencoder.model:Autoencoder",
        AutoencoderConfig,
        {"body": "mlp"},
        Capabilities(sampler="learned"),
    )
    yield
    del MODELS["test-prior"], MODELS["ae-learned"]


def test_a_second_stage_prior_lives_in_the_run_and_samples(learned, tmp_path):
    torch.set_num_threads(1)
    run = aekit.train(
        "digits",
        "ae-learned",
        out=tmp_path / "run",
        epochs=2,
        latent_dim=3,
        hidden=(16,),
        pictures=False,
        report=False,
        fit_prior=False,  # this test fits its own prior below
    )
    with pytest.raises(aekit.AekitError, match="no fitted prior"):
        aekit.sample(run, 4)
    codes = inference.encode(run, aekit.load_dataset("digits").x)
    train, val = Dataset(codes, name="codes").split(0.2, seed=0)
    prior = build_model("test-prior", (3,))
    config = TrainConfig(
        epochs=80, batch_size=256, lr=0.1, patience=0, schedule="constant"
    )
    history = fit_stage(run.path, "prior", prior, train, val, config)
    assert has_stage(run.path, "prior") and history.rows
    assert (run.path / "stages" / "prior" / "history.csv").is_file()
    loaded = load_stage(run.path, "prior")
    assert torch.allclose(loaded.mean, codes.mean(0), atol=0.3)
    drawn = inference.draw_codes(aekit.load_run(run.path), 500, seed=1)
    assert abs(float(drawn.mean()) - float(loaded.mean.mean())) < 0.5
    samples = aekit.sample(run.path, 4, seed=1)
    assert samples.shape == (4, 8, 8) and np.isfinite(samples).all()
