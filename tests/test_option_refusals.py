"""Options a model does not use are refused in one line, never silently ignored:
--no-prior on a model without a learned prior; the conv fields the MLP-only wae and
aae configs no longer carry (older runs that recorded them still load)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

import aekit
from aekit.interfaces.cli import main
from aekit.models import MODELS, build_model, model_from_record, model_record

FAMILY_RUNS = Path(__file__).parent / "data" / "family_runs"
TINY = ["--epochs", "1", "--threads", "1", "--no-pictures", "--no-report"]


@pytest.mark.parametrize("model", ["vae", "mlp"])
def test_no_prior_on_a_model_without_a_learned_prior_is_refused(
    model, tmp_path, capsys
):
    out = tmp_path / "run"
    argv = ["train", "--data", "digits", "--model", model, "--no-prior"]
    code = main([*argv, "--latent-dim", "2", "--hidden", "8", *TINY, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "--no-prior" in err[0] and "vq-vae" in err[0]
    assert not out.exists()  # refused before anything is written


def test_no_prior_refused_from_python_too(tmp_path):
    with pytest.raises(aekit.AekitError, match="has none"):
        aekit.train("digits", "vae", out=tmp_path / "run", fit_prior=False, epochs=1)
    assert not (tmp_path / "run").exists()


def test_no_prior_refused_on_resume_of_a_run_without_a_learned_prior(tmp_path, capsys):
    run = tmp_path / "wae"
    shutil.copytree(FAMILY_RUNS / "wae", run)
    before = sorted(p.name for p in run.iterdir())
    assert main(["train", "--resume", str(run), "--no-prior", *TINY[:4]]) == 2
    assert "--no-prior" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == before


@pytest.mark.parametrize("name", ["wae", "aae"])
def test_mlp_only_configs_carry_no_conv_fields(name):
    fields = {f.name for f in dataclasses.fields(MODELS[name].config)}
    assert not fields & {"channels", "upsample"}
    record = model_record(name, build_model(name, (12,), latent_dim=2, hidden=(8,)))
    assert "channels" not in record["config"] and "upsample" not in record["config"]


@pytest.mark.parametrize("name", ["wae", "aae"])
def test_an_old_record_with_conv_fields_still_loads(name):
    record = json.loads((FAMILY_RUNS / name / "config.json").read_text())["model"]
    assert {"channels", "upsample"} <= set(record["config"])  # written before
    model = model_from_record(record)
    assert model.config.hidden == (16,) and model.config.latent_dim == 2


def test_a_record_with_a_truly_unknown_field_is_still_refused():
    record = json.loads((FAMILY_RUNS / "wae" / "config.json").read_text())["model"]
    record["config"]["warp_factor"] = 9
    with pytest.raises(aekit.AekitError, match="warp_factor"):
        model_from_record(record)


def _help(model: str, capsys) -> str:
    with pytest.raises(SystemExit):
        main(["train", "--model", model, "--help"])
    return capsys.readouterr().out


@pytest.mark.parametrize("model", ["vae", "mlp", "wae", "lstm", "vq-vae"])
def test_task_options_hidden_from_models_without_image_tasks(model, capsys):
    text = _help(model, capsys)
    for flag in ("--task {", "--masks", "--patch-size", "--color-space"):
        assert flag not in text, flag


@pytest.mark.parametrize("model", ["unet", "encoder-decoder", "segnet"])
def test_task_options_shown_for_image_to_image_models(model, capsys):
    text = _help(model, capsys)
    for flag in ("--task {", "--masks", "--patch-size", "--color-space"):
        assert flag in text, flag


OLD_RUNS = Path(__file__).parent / "data" / "old_runs"


@pytest.mark.parametrize(
    "extra, flag", [(["--grid", "5"], "--grid"), (["--data", "digits"], "--data")]
)
def test_report_of_a_task_run_refuses_options_it_does_not_read(
    extra, flag, tmp_path, capsys
):
    run = tmp_path / "colorize"
    shutil.copytree(OLD_RUNS / "colorize", run)
    before = sorted(p.name for p in run.iterdir())
    assert main(["report", str(run), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0] and "takes no" in err[0]
    assert sorted(p.name for p in run.iterdir()) == before  # nothing written
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").exists()


def test_task_report_refusal_names_the_python_option(tmp_path):
    from aekit.run import load_run
    from aekit.tasks import task_named

    run = tmp_path / "colorize"
    shutil.copytree(OLD_RUNS / "colorize", run)
    with pytest.raises(aekit.AekitError, match=r"takes no grid$"):
        task_named("colorize").write_report(load_run(run), run / "r.html", grid=5)


@pytest.mark.parametrize(
    "extra, flag, field",
    [
        (["--model", "vae", "--mmd-weight", "3"], "--mmd-weight", "mmd_weight"),
        (
            ["--model", "aae", "--discriminator-steps", "0"],
            "--discriminator-steps",
            "discriminator_steps",
        ),
        (["--model", "vae", "--kl-warmup", "-1"], "--kl-warmup", "kl_warmup_epochs"),
    ],
)
def test_cli_refusals_name_the_flag(extra, flag, field, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "digits", *extra, *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0] and field not in err[0]
    assert not out.exists()


def test_python_refusals_name_the_field():
    with pytest.raises(aekit.AekitError, match="no option\\(s\\) mmd_weight; it takes"):
        build_model("vae", (12,), mmd_weight=3.0)
    with pytest.raises(aekit.AekitError, match="^discriminator_steps must"):
        build_model("aae", (12,), discriminator_steps=0)


def test_flag_spelling_leaves_prose_alone():
    from aekit.interfaces.cli.flags import as_flags, option_flags

    flags = option_flags()
    assert flags["recon_loss"] == "--loss" and flags["mmd_weight"] == "--mmd-weight"
    text = "beta must be >= 0; the prior over codes"
    assert as_flags(text, flags) == text
    assert as_flags("it takes beta, latent_dim, output", flags) == (
        "it takes --beta, --latent-dim"
    )
