"""The layers of docs/ARCHITECTURE.md, enforced over every import (deferred too)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "aekit"

LAYERS = [
    "base",
    "data",
    "models",
    "training",
    "run",
    "inference",
    "analysis",
    "tasks",
    "interfaces",
]
# module (or package prefix) -> layer; the longest matching prefix wins
LAYER_OF = {
    "aekit.errors": "base",
    "aekit.version": "base",
    "aekit.data.io": "base",
    "aekit.models.options": "base",
    "aekit.training.config": "base",
    "aekit.training.hardware": "base",
    "aekit.training.noise": "base",
    "aekit.data.pixels": "base",
    "aekit.analysis.metrics": "base",
    "aekit.data": "data",
    "aekit.data.color": "data",
    "aekit.analysis.segmentation": "data",
    "aekit.data.pair_sources": "data",
    "aekit.models": "models",
    "aekit.training": "training",
    "aekit.training.batching": "training",
    "aekit.training.validation": "training",
    "aekit.training.distributed": "training",
    "aekit.training.checkpoint": "training",
    "aekit.training.loop": "training",
    "aekit.training.stages": "training",
    "aekit.run": "run",
    "aekit.run.records": "run",
    "aekit.inference": "inference",
    "aekit.inference.images": "inference",
    "aekit.analysis": "analysis",
    "aekit.analysis.latent": "analysis",
    "aekit.analysis.plots": "analysis",
    "aekit.analysis.evaluation": "analysis",
    "aekit.analysis.disentanglement": "analysis",
    "aekit.analysis.report": "analysis",
    "aekit.analysis.anomaly": "analysis",
    "aekit.analysis.series_anomaly": "analysis",
    "aekit.analysis.music_outputs": "analysis",
    "aekit.analysis.attributes": "analysis",
    "aekit.analysis.probes": "analysis",
    "aekit.analysis.likelihood": "analysis",
    "aekit.analysis.compression": "analysis",
    "aekit.analysis.clustering": "analysis",
    "aekit.analysis.clustering_dec": "analysis",
    "aekit.analysis.diagnostics": "analysis",
    "aekit.analysis.outputs": "analysis",
    "aekit.analysis.sample_quality": "analysis",
    "aekit.tasks": "tasks",
    "aekit.interfaces": "interfaces",
    "aekit.interfaces.cli": "interfaces",
    "aekit.interfaces.api": "interfaces",
    "aekit.interfaces.sklearn": "interfaces",
    "aekit.interfaces.explore": "interfaces",
    "aekit.interfaces.export": "interfaces",
    "aekit.__main__": "interfaces",
    "aekit": "interfaces",  # the package: lazy names for the facade
}


def modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for f in PACKAGE.rglob("*.py"):
        parts = list(f.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (f, is_package)
    return found


def layer_of(module: str) -> str:
    name = module
    while name:
        if name in LAYER_OF:
            return LAYER_OF[name]
        name = name.rpartition(".")[0]
    raise KeyError(module)


def imports() -> dict[str, set[str]]:
    """module -> the aekit modules it imports anywhere in its source."""
    mods = modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {m: set() for m in mods}
    for m, (f, is_package) in mods.items():
        base = m.split(".") if is_package else m.split(".")[:-1]
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level:
                    prefix = base[: len(base) - node.level + 1]
                    mod = ".".join(prefix + ([node.module] if node.module else []))
                targets = [
                    f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod
                    for a in node.names
                ]
            else:
                continue
            for t in targets:
                r = resolve(t) if t.startswith("aekit") else None
                if r and r != m:
                    edges[m].add(r)
    return edges


def test_every_module_has_a_layer():
    assert all(layer_of(m) in LAYERS for m in modules())


def may_import_interface(m: str, t: str) -> bool:
    """Only the outermost wiring imports an interface: the command line (which calls
    the Python API, the explorer and the exporter), the package's lazy names, and
    an interface's own modules."""
    return (
        m in ("aekit", "aekit.__main__")
        or m.startswith("aekit.interfaces.cli")
        or m.split(".")[:2] == t.split(".")[:2]
    )


def test_imports_point_down_only():
    bad = []
    for m, targets in imports().items():
        for t in targets:
            mine, theirs = LAYERS.index(layer_of(m)), LAYERS.index(layer_of(t))
            if theirs > mine:
                bad.append(f"{m} ({layer_of(m)}) imports {t} ({layer_of(t)})")
            elif layer_of(t) == "interfaces" and not may_import_interface(m, t):
                bad.append(f"{m} imports the interface {t}")
    assert not bad, "\n".join(sorted(bad))


def test_no_library_module_imports_the_facade():
    users = {m for m, t in imports().items() if "aekit.interfaces.api" in t}
    assert {u for u in users if layer_of(u) != "interfaces"} == set()
    assert users <= {
        "aekit",
        *(m for m in users if m.startswith("aekit.interfaces.cli")),
    }


def test_no_import_cycles():
    edges = imports()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in edges:
        if v not in index:
            visit(v)
    assert cycles == []


def test_no_module_is_over_400_lines():
    long = {
        m: n
        for m, (f, _) in modules().items()
        if (n := len(f.read_text().splitlines())) > 400
    }
    assert long == {}


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["train", "--help"], ["train", "--epochs", "x"], ["plot", "--help"]],
    ids=["help", "train-help", "bad-option", "plot-help"],
)
def test_help_and_argument_errors_import_no_torch(argv):
    code = (
        "import sys\n"
        "from aekit.interfaces.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1].startswith("NO-TORCH"), done.stdout
    if argv[-1] == "x":
        assert done.stdout.strip().endswith("2")
        assert "invalid int value" in done.stderr
