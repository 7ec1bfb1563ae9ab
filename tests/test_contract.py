"""The model contract, over every registered model, and a conditional model defined
here that goes through the same training, sampling, loading and export paths."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import aekit
from aekit.models import (
    MODELS,
    build_model,
    model_from_record,
    model_record,
    options_for,
)
from aekit.models.base import Model
from aekit.models.options import option
from aekit.models.registry import Capabilities, ModelSpec
from aekit.training.checkpoint import load_weights, save_weights

SHAPES = {"vector": (12,), "image": (1, 8, 8), "sequence": (2, 16)}
SMALL = {  # small sizes for whichever of these fields a config has
    "latent_dim": 3,
    "hidden": (16,),
    "channels": (4, 8),
    "hidden_size": 8,
}


def small(name: str, kind: str) -> Model:
    spec = MODELS[name]
    fields = options_for(name)  # only the options its body reads
    options = {k: v for k, v in SMALL.items() if k in fields}
    if not spec.capabilities.has_code:  # image-to-image: any size, own channels
        options["channels"] = (4, 8, 8)
        return build_model(name, (), **options)
    torch.manual_seed(0)
    return build_model(name, SHAPES[kind], **options)


def cases():
    for name, spec in MODELS.items():
        for kind in spec.capabilities.inputs:
            yield pytest.param(name, kind, id=f"{name}-{kind}")


def batch(name: str, kind: str, n: int = 4):
    spec = MODELS[name]
    g = torch.Generator().manual_seed(1)
    if not spec.capabilities.has_code:
        model = small(name, kind)
        x = torch.rand(n, model.config.in_channels, 16, 16, generator=g)
        if model.config.loss == "cross-entropy":
            target = torch.randint(0, model.config.out_channels, (n, 16, 16))
        else:
            target = torch.rand(n, model.config.out_channels, 16, 16, generator=g)
        return model, x, target, None
    model = small(name, kind)
    x = torch.rand(n, *SHAPES[kind], generator=g)
    c = torch.arange(n) % 10 if spec.capabilities.conditional else None
    return model, x, x, c


@pytest.mark.parametrize(("name", "kind"), list(cases()))
def test_every_model_keeps_the_contract(name, kind):
    caps = MODELS[name].capabilities
    model, x, target, c = batch(name, kind)
    terms = model.loss(x, target, c)
    assert "loss" in terms and all(t.ndim == 0 for t in terms.values())
    assert all(torch.isfinite(t) for t in terms.values())
    groups = model.parameter_groups()
    assert len(groups) == caps.optimisers
    for i, (group, params) in enumerate(groups.items()):
        model.zero_grad()
        loss = terms["loss"] if i == 0 else terms[f"{group}_loss"]
        loss.backward(inputs=params, retain_graph=True)
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params)
    if not caps.has_code:
        assert model(x).shape[0] == len(x)
        return
    with torch.no_grad():
        z = model.encode(x, c)
        assert z.shape == (len(x), model.latent_dim)
        assert model.decode(z, c).shape == x.shape
        assert model(x, c).shape == x.shape
        if caps.posterior:
            mu, logvar = model.encode_distribution(x, c)
            assert mu.shape == logvar.shape == z.shape
        if caps.sampler == "prior":
            eps = torch.randn(5, model.latent_dim)
            c5 = None if c is None else c[:1].expand(5)
            assert model.prior_codes(eps, c5).shape == eps.shape


@pytest.mark.parametrize(("name", "kind"), list(cases()))
def test_every_model_reloads_to_identical_outputs(name, kind, tmp_path):
    model, x, _, c = batch(name, kind)
    model.eval()
    save_weights(tmp_path / "w.safetensors", model)
    record = model_record(name, model)
    clone = model_from_record(record).eval()
    load_weights(tmp_path / "w.safetensors", clone)
    with torch.no_grad():
        assert torch.equal(clone(x, c), model(x, c))
    assert record["name"] == name and clone.name == name


def test_capabilities_are_declared_for_every_entry():
    for name, spec in MODELS.items():
        caps = spec.capabilities
        assert isinstance(caps, Capabilities), name
        assert caps.inputs and caps.tasks, name
        if caps.posterior or caps.sampler == "prior":
            assert caps.has_code, name
        assert issubclass(spec.cls, Model), name


# -- a conditional model that lives only in this test --------------------------------
@dataclass(frozen=True)
class TinyCVAEConfig:
    input_shape: tuple[int, ...] = option((), "vector size", cli=False)
    latent_dim: int = option(2, "code size")
    classes: int = option(10, "number of classes", cli=False)
    output: str = option("sigmoid", "output activation", cli=False)


class TinyCVAE(Model):
    """A conditional VAE: the class embedding joins the input and the code."""

    def __init__(self, config: TinyCVAEConfig):
        super().__init__()
        self.config = config
        d, k = int(np.prod(config.input_shape)), config.latent_dim
        self.embed = nn.Embedding(config.classes, 4)
        self.enc = nn.Sequential(nn.Linear(d + 4, 32), nn.ReLU(), nn.Linear(32, 2 * k))
        self.dec = nn.Sequential(nn.Linear(k + 4, 32), nn.ReLU(), nn.Linear(32, d))

    def encode_distribution(self, x, c=None):
        mu, logvar = self.enc(torch.cat([x.flatten(1), self.embed(c)], 1)).chunk(2, 1)
        return mu, logvar.clamp(-10, 10)

    def encode(self, x, c=None):
        return self.encode_distribution(x, c)[0]

    def decode(self, z, c=None):
        x = torch.sigmoid(self.dec(torch.cat([z, self.embed(c)], 1)))
        return x.reshape(len(z), *self.config.input_shape)

    def loss(self, x, target, c=None):
        mu, logvar = self.encode_distribution(x, c)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        logits = self.dec(torch.cat([z, self.embed(c)], 1))
        recon = F.binary_cross_entropy_with_logits(
            logits, target.flatten(1), reduction="sum"
        )
        recon = recon / len(x)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
        return {"loss": recon + kl, "recon": recon, "kl": kl}


@pytest.fixture
def tiny_cvae():
    MODELS["tiny-cvae"] = ModelSpec(
        TinyCVAE,
        TinyCVAEConfig,
        capabilities=Capabilities(
            posterior=True,
            sampler="prior",
            conditional=True,
            inputs=("vector", "image"),
        ),
        description="a test's conditional VAE",
    )
    yield "tiny-cvae"
    del MODELS["tiny-cvae"]


def test_a_conditional_model_defined_outside_trains_samples_reloads(
    tiny_cvae, tmp_path
):
    torch.set_num_threads(1)
    run = aekit.train(
        "digits",
        tiny_cvae,
        out=tmp_path / "run",
        epochs=3,
        pictures=False,
        report=False,
        lr=5e-3,
    )
    assert run.capabilities.conditional and run.history.rows
    assert "val_kl" in run.history.rows[-1]
    # by label: the decoder sees the class, so two labels give different samples
    threes = aekit.sample(run.path, 16, label=3, seed=0)
    sevens = aekit.sample(run.path, 16, label=7, seed=0)
    assert threes.shape == (16, 8, 8) and not np.allclose(threes, sevens)
    again = aekit.load_run(run.path)  # reloads through the registry
    assert np.array_equal(aekit.sample(again, 16, label=3, seed=0), threes)
    with pytest.raises(aekit.AekitError, match="outside the run's classes"):
        aekit.sample(again, 4, label=12)
    every = aekit.sample(again, 20, seed=0)  # no label: every class in turn
    assert every.shape == (20, 8, 8)
    codes = aekit.encode(again, "digits")  # the data's labels are the conditions
    assert codes.shape == (1797, 2)


@pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None, reason="needs aekit[export]"
)
def test_a_conditional_model_exports_with_its_condition(tiny_cvae, tmp_path):
    torch.set_num_threads(1)
    run = aekit.train(
        "digits",
        tiny_cvae,
        out=tmp_path / "run",
        epochs=1,
        pictures=False,
        report=False,
    )
    meta = aekit.export_onnx(run, tmp_path / "onnx")
    assert set(meta["graphs"]) == {"encoder", "decoder", "autoencoder"}
    assert all(g["condition"] == "c" for g in meta["graphs"].values())
    assert all(g["max_abs_diff"] <= 1e-5 for g in meta["graphs"].values())
