"""The layers of docs/ARCHITECTURE.md, as each package declares them (`LAYER = ...`,
read from the source), enforced over every import (deferred too)."""

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


def modules(package: Path = PACKAGE) -> dict[str, tuple[Path, bool]]:
    found = {}
    for f in package.rglob("*.py"):
        parts = list(f.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (f, is_package)
    return found


def declared_layer(path: Path) -> str | None:
    """The module-level `LAYER = "..."` of a source file, read without importing."""
    for node in ast.parse(path.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["LAYER"]
            and isinstance(node.value, ast.Constant)
        ):
            return node.value.value
    return None


def declarations(package: Path = PACKAGE) -> dict[str, str]:
    """module -> the layer it declares, for every module that declares one."""
    return {
        m: layer
        for m, (f, _) in modules(package).items()
        if (layer := declared_layer(f)) is not None
    }


def undeclared(package: Path = PACKAGE) -> list[str]:
    """The packages and modules at the package root that declare no layer."""
    declared = declarations(package)
    top = {m for m in modules(package) if m.count(".") <= 1}
    return sorted(top - set(declared))


def layer_of(module: str, declared: dict[str, str] | None = None) -> str:
    """A module's own declaration, else that of the nearest package holding it (the
    package root's own declaration covers only itself: each layer says its own)."""
    declared = declarations() if declared is None else declared
    name = module
    while name and (name == module or "." in name):
        if name in declared:
            return declared[name]
        name = name.rpartition(".")[0]
    raise KeyError(f"{module} declares no LAYER and no package above it does")


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


def test_every_layer_package_and_root_module_declares_its_layer():
    """The map lives in the packages: each package and module at the package root
    says which layer it is, so a new one without a declaration fails here."""
    assert undeclared() == []
    declared = declarations()
    assert sorted(set(declared.values()) - set(LAYERS)) == []
    packages = {
        declared[m] for m, (_, pkg) in modules().items() if pkg and m.count(".") == 1
    }
    assert packages == set(LAYERS) - {"base"}  # one package per layer, base aside


def test_a_module_never_declares_a_layer_above_its_package():
    """A module may sit below its folder's layer (a base helper), never above it."""
    declared = declarations()
    bad = []
    for m, layer in declared.items():
        holder = m.rpartition(".")[0]
        if holder.startswith("aekit.") or (holder == "aekit" and m.count(".") > 1):
            above = layer_of(holder, declared)
            if LAYERS.index(layer) > LAYERS.index(above):
                bad.append(f"{m} declares {layer}, above its package's {above}")
    assert bad == []


def test_every_module_has_a_layer():
    declared = declarations()
    assert all(layer_of(m, declared) in LAYERS for m in modules())


def test_a_new_package_without_a_declaration_is_found(tmp_path):
    """The check bites: a tree with a new package that says nothing fails it, and
    its modules have no layer; one nested in a declared package inherits its."""
    root = tmp_path / "aekit"
    (root / "models" / "newfamily").mkdir(parents=True)
    (root / "extras").mkdir()
    (root / "__init__.py").write_text('LAYER = "interfaces"\n')
    (root / "models" / "__init__.py").write_text('"""Models."""\nLAYER = "models"\n')
    (root / "models" / "newfamily" / "__init__.py").write_text('"""A family."""\n')
    (root / "extras" / "__init__.py").write_text('"""No LAYER here."""\n')
    (root / "extras" / "tool.py").write_text("x = 1\n")
    assert undeclared(root) == ["aekit.extras"]
    declared = declarations(root)
    assert layer_of("aekit.models.newfamily", declared) == "models"
    with pytest.raises(KeyError, match="declares no LAYER"):
        layer_of("aekit.extras.tool", declared)


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
    d = declarations()
    for m, targets in imports().items():
        for t in targets:
            mine, theirs = LAYERS.index(layer_of(m, d)), LAYERS.index(layer_of(t, d))
            if theirs > mine:
                bad.append(f"{m} ({layer_of(m, d)}) imports {t} ({layer_of(t, d)})")
            elif layer_of(t, d) == "interfaces" and not may_import_interface(m, t):
                bad.append(f"{m} imports the interface {t}")
    assert not bad, "\n".join(sorted(bad))


def test_no_library_module_imports_the_facade():
    users = {m for m, t in imports().items() if "aekit.interfaces.api" in t}
    d = declarations()
    assert {u for u in users if layer_of(u, d) != "interfaces"} == set()
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
