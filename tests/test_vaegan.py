"""VAE-GAN: two parameter groups, each moved by its own loss only; every term logged."""

from __future__ import annotations

import pytest
import torch

from aekit.interfaces import api
from aekit.models import build_model, capabilities
from aekit.training import phases
from aekit.training.loop import TrainConfig, make_optimizer

torch.set_num_threads(1)


def small(**kw):
    torch.manual_seed(0)
    return build_model(
        "vae-gan", (1, 8, 8), latent_dim=4, hidden=(32,), disc_hidden=(16, 8), **kw
    )


def test_declares_two_optimisers_and_a_posterior():
    caps = capabilities("vae-gan")
    assert caps.optimisers == 2 and caps.posterior and caps.sampler == "prior"
    groups = small().parameter_groups()
    assert list(groups) == ["model", "discriminator"]
    model_ids = {id(p) for p in groups["model"]}
    assert not model_ids & {id(p) for p in groups["discriminator"]}
    assert len(model_ids) + len(groups["discriminator"]) == len(
        list(small().parameters())
    )


def test_every_term_is_logged():
    x = torch.rand(4, 1, 8, 8)
    terms = small().loss(x, x)
    expected = {"loss", "discriminator_loss", "recon", "feature_recon", "kl"}
    assert expected | {"generator"} <= set(terms)
    assert all(t.ndim == 0 and torch.isfinite(t) for t in terms.values())


def test_the_discriminator_loss_does_not_depend_on_the_generator():
    """D's loss sees detached fakes: it has no path to the encoder or decoder."""
    model = small()
    x = torch.rand(4, 1, 8, 8)
    terms = model.loss(x, x)
    grads = torch.autograd.grad(
        terms["discriminator_loss"],
        model.parameter_groups()["model"],
        allow_unused=True,
    )
    assert all(g is None for g in grads)


def test_trainer_steps_each_group_on_its_own_loss():
    model = small()
    groups = list(model.parameter_groups().items())
    stages = phases.build(model, TrainConfig(), make_optimizer)
    assert [[s.phase.group for s in r] for r in stages] == [["model", "discriminator"]]
    for stage in stages[0]:  # keep the gradients where the step would apply them
        stage.optimizer.step = lambda: None
    x = torch.rand(4, 1, 8, 8)
    torch.manual_seed(1)
    terms = model.loss(x, x)
    phases.step(stages, terms, lambda: pytest.fail("one forward pass"), 1.0, 0.0)
    got = {id(p): p.grad.clone() for _, ps in groups for p in ps}
    for name, params in groups:
        key = "loss" if name == "model" else "discriminator_loss"
        model.zero_grad()
        torch.manual_seed(1)
        own = model.loss(x, x)[key]
        expected = torch.autograd.grad(own, params, allow_unused=True)
        for p, e in zip(params, expected, strict=True):
            e = torch.zeros_like(p) if e is None else e
            torch.testing.assert_close(got[id(p)], e)
    # the generator's loss does reach the discriminator's weights when asked...
    torch.manual_seed(1)
    terms = model.loss(x, x)
    disc = dict(groups)["discriminator"]
    leak = torch.autograd.grad(terms["loss"], disc, allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in leak)
    # ...which is why the trainer's backward must confine it: it did, above


def test_trains_through_the_pipeline_and_samples(tmp_path):
    run = api.train(
        "digits",
        "vae-gan",
        out=tmp_path / "run",
        epochs=2,
        hidden=(32,),
        latent_dim=4,
        pictures=False,
        report=False,
    )
    header = (run.path / "history.csv").read_text().splitlines()[0].split(",")
    for term in ("recon", "feature_recon", "kl", "generator", "discriminator_loss"):
        assert f"train_{term}" in header and f"val_{term}" in header
    assert api.sample(run.path, 4).shape == (4, 8, 8)
