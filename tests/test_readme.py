"""README stays true: its test command is what CI runs, and its Python examples run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    commands = [b.strip() for b in code_blocks("bash") if "pytest" in b]
    assert commands, "README has no test command"
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[0] in ci.splitlines()


def test_readme_quick_start_trains_on_built_in_data():
    main_job = code_blocks("bash")[0]
    assert "aekit train" in main_job and "--data mnist-5k" in main_job


@pytest.mark.parametrize("index", range(len(code_blocks("python"))))
def test_python_examples_run(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = code_blocks("python")[index]
    exec(compile(source, f"README.md python block {index}", "exec"), {})


def test_a_fast_run_beside_the_full_one_ci_keeps():
    """pytest is quiet and names its slowest tests; the README gives the fast run
    (`-m "not slow"`) and CI's command runs everything, slow tests included."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    addopts = config["tool"]["pytest"]["ini_options"]["addopts"].split()
    assert "-q" in addopts and "--durations=15" in addopts
    commands = [b.strip() for b in code_blocks("bash") if "pytest" in b]
    assert any('-m "not slow"' in c for c in commands[1:])
    ci = (ROOT / ".ci" / "run").read_text()
    ci_line = next(line for line in ci.splitlines() if "pytest" in line)
    pytest_args = ci_line.split("-m pytest", 1)[1].split()
    assert not any(a.startswith(("-m", "-k")) for a in pytest_args), ci_line


def test_the_tour_names_the_extra_each_step_needs():
    """The quick start installs aekit alone: a tour step that needs an extra says
    which (issue 25.6)."""
    tour = README.split("## A tour", 1)[1].split("# Reference", 1)[0]
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = config["project"]["optional-dependencies"]
    for command, extra in (("aekit explore", "explore"), ("aekit export", "export")):
        assert extra in extras
        paragraphs = [p for p in tour.split("\n\n") if command in p]
        assert paragraphs, command
        for paragraph in paragraphs:
            named = re.findall(r"\.\[([a-z,]+)\]", paragraph)
            assert any(extra in e.split(",") for e in named), paragraph
