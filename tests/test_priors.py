"""Priors (mog:K, vamp:K), the IWAE objective, beta-TC-VAE's KL decomposition and
the Mutual Information Gap, each against an independent reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import distributions as D

import aekit
from aekit.analysis.disentanglement import mutual_information_gap
from aekit.errors import AekitError
from aekit.interfaces.cli import main
from aekit.models import build_model
from aekit.models.priors import log_normal, standard_log_prob


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def small(prior: str = "standard", objective: str = "elbo", name: str = "vae"):
    torch.manual_seed(0)
    return build_model(
        name, (10,), latent_dim=3, hidden=(16,), prior=prior, objective=objective
    )


def reference_mixture(model) -> D.MixtureSameFamily:
    """The model's prior rebuilt with torch.distributions from its components."""
    means, logvars, log_w = model.prior.components(model._pseudo_posterior)
    return D.MixtureSameFamily(
        D.Categorical(logits=log_w),
        D.Independent(D.Normal(means, torch.exp(0.5 * logvars)), 1),
    )


@pytest.mark.parametrize("prior", ["mog:4", "vamp:5"])
def test_log_prior_is_the_mixture_density(prior):
    model = small(prior)
    with torch.no_grad():
        if prior.startswith("mog"):  # away from the start: unequal weights, spreads
            model.prior.logits.normal_()
            model.prior.logvars.uniform_(-1, 1)
        z = torch.randn(64, 3) * 2
        expected = reference_mixture(model).log_prob(z)
        assert torch.allclose(model.log_prior(z), expected, atol=1e-4)


def test_vamp_components_are_the_encoder_at_the_pseudo_inputs():
    model = small("vamp:3")
    with torch.no_grad():
        mu, logvar = model.encode_distribution(model.prior.pseudo_inputs)
        means, logvars, log_w = model.prior.components(model._pseudo_posterior)
    assert torch.equal(mu, means) and torch.equal(logvar, logvars)
    assert torch.allclose(log_w.exp(), torch.full((3,), 1 / 3))


@pytest.mark.parametrize("prior", ["mog:4", "vamp:5"])
def test_monte_carlo_kl_matches_a_reference(prior):
    model = small(prior)
    x = torch.rand(2, 10)
    with torch.no_grad():
        mu, logvar = model.encode_distribution(x)
        q = D.Independent(D.Normal(mu, torch.exp(0.5 * logvar)), 1)
        z = q.sample((20000,))  # (S, 2, d)
        reference = (q.log_prob(z) - reference_mixture(model).log_prob(z)).mean(0)
        torch.manual_seed(1)
        draws = [
            model.kl_divergence(model.reparameterize(mu, logvar), mu, logvar)
            for _ in range(20000)
        ]
    estimate = torch.stack(draws).mean(0)
    assert torch.allclose(estimate, reference, atol=0.05), (estimate, reference)


def test_standard_prior_keeps_the_closed_form_kl():
    model = small()
    mu, logvar = torch.randn(5, 3), torch.randn(5, 3)
    z = model.reparameterize(mu, logvar)
    assert torch.equal(model.kl_divergence(z, mu, logvar), model.kl(mu, logvar))
    assert model.prior is None and model.samples == 1
    eps = torch.randn(4, 3)
    assert torch.equal(model.prior_codes(eps), eps)


def test_mixture_samples_follow_the_prior():
    model = small("mog:2")
    with torch.no_grad():
        model.prior.means.copy_(torch.tensor([[-4.0, 0, 0], [4.0, 0, 0]]))
        model.prior.logits.copy_(torch.tensor([0.0, np.log(3.0)]))  # weights 1/4, 3/4
        model.prior.logvars.fill_(np.log(0.25))
        eps = torch.randn(20000, 3, generator=torch.Generator().manual_seed(0))
        z = model.prior_codes(eps)
    assert abs(float((z[:, 0] > 0).float().mean()) - 0.75) < 0.02
    assert abs(float(z[z[:, 0] > 0, 0].std()) - 0.5) < 0.02
    assert torch.equal(model.prior_codes(eps), z)  # the same eps, the same codes


@pytest.mark.parametrize("text", ["vamp:0", "mog:0", "gauss", "mog", "vamp:x"])
def test_bad_priors_are_refused(text):
    with pytest.raises(AekitError, match="prior"):
        small(text)


@pytest.mark.parametrize("text", ["iwae:0", "iwae", "elbo:3"])
def test_bad_objectives_are_refused(text):
    with pytest.raises(AekitError, match="objective"):
        small(objective=text)


def test_cli_refuses_a_bad_prior_in_one_line(capsys, tmp_path):
    out = str(tmp_path / "run")
    args = ["train", "--data", "digits", "--model", "vae", "--out", out]
    assert main([*args, "--prior", "vamp:0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "vamp:0" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("prior", ["standard", "mog:3"])
def test_iwae_bound_is_at_least_the_elbo(prior):
    iwae = small(prior, "iwae:8")
    elbo = small(prior)
    elbo.load_state_dict(iwae.state_dict())
    iwae.eval(), elbo.eval()  # the full bounds (training mode ramps a KL warm-up)
    x = torch.rand(16, 10)
    torch.manual_seed(0)
    with torch.no_grad():
        bounds = {
            name: -torch.stack([m.loss(x, x)["loss"] for _ in range(200)]).mean()
            for name, m in (("iwae", iwae), ("elbo", elbo))
        }
    assert bounds["iwae"] > bounds["elbo"] + 0.1, bounds


def test_iwae_with_one_sample_is_the_elbo():
    a, b = small(objective="iwae:1"), small()
    x = torch.rand(8, 10)
    torch.manual_seed(3)
    la = a.loss(x, x)["loss"]
    torch.manual_seed(3)
    assert torch.allclose(la, b.loss(x, x)["loss"])


def test_beta_tc_terms_sum_to_the_monte_carlo_kl():
    model = build_model("beta-tc-vae", (10,), latent_dim=4, hidden=(16,))
    mu, logvar = torch.randn(32, 4), torch.randn(32, 4) * 0.5
    z = model.reparameterize(mu, logvar)
    for n in (0, 1000):  # the data set's size moves the terms, never their sum
        object.__setattr__(model.config, "dataset_size", n)
        mi, tc, dim_kl = model.kl_terms(z, mu, logvar)
        kl = (log_normal(z, mu, logvar).sum(1) - standard_log_prob(z)).mean()
        assert torch.allclose(mi + tc + dim_kl, kl, atol=1e-4)
    x = torch.rand(32, 10)
    terms = model.loss(x, x)
    assert {"recon", "kl", "mi", "tc", "dim_kl"} <= set(terms)
    assert torch.allclose(terms["mi"] + terms["tc"] + terms["dim_kl"], terms["kl"])


def test_beta_tc_vae_keeps_the_standard_prior():
    with pytest.raises(AekitError, match="always has prior"):
        build_model("beta-tc-vae", (10,), prior="mog:2")


@pytest.mark.parametrize(
    ("model", "options"),
    [
        ("vae", {"prior": "mog:3", "objective": "iwae:3"}),
        ("vae", {"prior": "vamp:4"}),
        ("beta-tc-vae", {"tc_weight": 4.0}),
    ],
)
def test_train_sample_reload(model, options, tmp_path):
    run = aekit.train(
        "digits",
        model,
        out=tmp_path / "run",
        epochs=1,
        latent_dim=3,
        hidden=(32,),
        pictures=False,
        report=False,
        **options,
    )
    rows = run.history.rows[-1]
    assert np.isfinite(rows["val_loss"])
    if model == "beta-tc-vae":
        assert {"train_tc", "train_mi", "train_dim_kl"} <= set(rows)
        assert run.model.config.dataset_size == run.record["data"]["n_train"]
    samples = aekit.sample(run, 8, seed=2)
    again = aekit.load_run(run.path)
    assert np.array_equal(aekit.sample(again, 8, seed=2), samples)


# -- Mutual Information Gap -----------------------------------------------------------
def _factors_and_codes(seed: int = 0):
    rng = np.random.default_rng(seed)
    factors = rng.integers(0, 5, size=(4000, 2))
    code = factors + rng.normal(0, 0.2, size=factors.shape)  # one dimension each
    return factors, code


def test_mig_prefers_a_disentangled_code():
    factors, code = _factors_and_codes()
    angle = np.pi / 4
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    )
    aligned = mutual_information_gap(code, factors)
    rotated = mutual_information_gap(code @ rotation, factors)
    assert aligned["mig"] > 0.5 > rotated["mig"] + 0.3, (aligned, rotated)
    assert [f["dimension"] for f in aligned["per_factor"]] == [0, 1]


def test_mig_checks_its_input():
    with pytest.raises(ValueError, match="no entropy"):
        mutual_information_gap(np.random.rand(10, 2), np.zeros(10))
    with pytest.raises(ValueError, match="must be"):
        mutual_information_gap(np.random.rand(10, 2), np.zeros(9))


def test_evaluate_reports_mig_for_factors(tmp_path, capsys):
    run = aekit.train(
        "digits",
        "beta-tc-vae",
        out=tmp_path / "run",
        epochs=1,
        latent_dim=3,
        hidden=(32,),
        pictures=False,
        report=False,
    )
    n = run.record["data"]["n_val"]
    factors = tmp_path / "factors.csv"
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a},{b}" for a, b in rng.integers(0, 3, size=(n, 2)))
    factors.write_text("shape,size\n" + rows + "\n")
    args = ["evaluate", str(run.path), "-k", "5", "--no-probes", "--no-compression"]
    assert main([*args, "--factors", str(factors)]) == 0
    out = capsys.readouterr().out
    assert "MIG" in out and "over 2 factor(s)" in out
    assert main(args) == 0  # the data's labels are the one factor
    assert "from the data's labels" in capsys.readouterr().out
    bad = tmp_path / "short.csv"
    bad.write_text("1,2\n3,4\n")
    assert main([*args, "--factors", str(bad)]) == 2
    assert "rows of factors" in capsys.readouterr().err
