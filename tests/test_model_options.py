"""Every option is checked against the model and body that use it: `aekit train
--model M --help` lists only M's options, and an option M ignores is one line, exit 2,
with nothing written."""

from __future__ import annotations

import pytest

from aekit.interfaces.cli import main


def _help(capsys, model: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(["train", "--model", model, "--help"])
    assert info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("model", "shown", "hidden"),
    [
        ("wae", ["--mmd-weight", "--hidden"], ["--channels", "--beta", "--norm"]),
        ("aae", ["--discriminator-steps", "--discriminator-lr"], ["--mmd-weight"]),
        ("mlp", ["--hidden", "--tied"], ["--channels", "--upsample", "--norm"]),
        ("conv", ["--channels", "--norm"], ["--mmd-weight", "--beta"]),
        ("vae", ["--beta"], ["--channels", "--sparsity", "--no-prior"]),
        ("vq-vae", ["--no-prior"], ["--hidden", "--beta"]),
    ],
)
def test_train_help_for_a_model_lists_only_its_options(capsys, model, shown, hidden):
    text = _help(capsys, model)
    flags = {word.rstrip(",") for word in text.split() if word.startswith("--")}
    assert set(shown) <= flags, set(shown) - flags
    assert not set(hidden) & flags, set(hidden) & flags
    assert "--lr" in flags and "--epochs" in flags  # the training options stay


def test_train_help_without_a_model_lists_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "--mmd-weight" in text and "--channels" in text and "--beta" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["--model", "mlp", "--channels", "8,16"],
        ["--model", "wae", "--upsample", "nearest"],
        ["--model", "aae", "--mmd-weight", "3"],
        ["--model", "wae", "--discriminator-steps", "2"],
        ["--model", "vae", "--norm", "batch"],
        ["--model", "conv", "--tied"],
    ],
)
def test_an_option_the_model_ignores_is_one_line_exit_2(capsys, tmp_path, argv):
    out = tmp_path / "run"
    code = main(["train", "--data", "digits", "--out", str(out), "--quiet", *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("aekit: error")
    assert not out.exists()
