"""Attribute vectors: the mean code of the examples with an attribute minus the mean
code of those without; added to a code, the vector edits what it decodes to.

Attribute vectors in a latent space: White 2016, "Sampling Generative Networks",
https://arxiv.org/abs/1609.04468 (on CelebA's attributes, Liu et al. 2015,
https://arxiv.org/abs/1411.7766, whose `list_attr_celeba.txt` layout is read here).
Attributes come from labels (`label=7`) or from a table of binary attributes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import Dataset
from ..errors import AekitError
from ..run import Run
from .latent import decode_tensor, encode_tensor, run_data

TRUE = {"1", "+1", "true", "yes", "y", "t"}
FALSE = {"0", "-1", "false", "no", "n", "f"}
FILE_COLUMNS = {"file", "filename", "file_name", "image", "image_id", "path", "name"}
STRENGTHS = (-2.0, -1.0, 0.0, 1.0, 2.0)


@dataclass(frozen=True)
class AttributeTable:
    """Binary attributes per example, in file order, with file names when given."""

    names: tuple[str, ...]  # attribute names, one per column
    values: np.ndarray  # (N, A) bool
    files: tuple[str, ...] | None = None  # one file name per row, when given
    source: str = "attributes"  # where it was read from, for messages

    def column(self, name: str) -> np.ndarray:
        if name in self.names:
            return self.values[:, self.names.index(name)]
        folded = {n.lower(): i for i, n in enumerate(self.names)}
        if name.lower() in folded:
            return self.values[:, folded[name.lower()]]
        raise AekitError(
            f"{self.source} has no attribute {name!r}; it has "
            f"{', '.join(self.names[:12])}{' ...' if len(self.names) > 12 else ''}"
        )


def read_attribute_table(path: str | Path) -> AttributeTable:
    """A CSV (header of attribute names, an optional file-name column; values 1/0,
    1/-1, true/false or yes/no), or CelebA's `list_attr_celeba.txt`: a row count, a
    line of attribute names, then `filename v1 v2 ...` with -1/1."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise AekitError(f"no such attribute file: {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise AekitError(f"cannot read {path}: {e}") from e
    rows = [(i + 1, _split(ln)) for i, ln in enumerate(lines) if ln.strip()]
    if len(rows) < 2:
        raise AekitError(f"{path}: an attribute table needs a header and rows")
    declared = None
    if len(rows[0][1]) == 1 and rows[0][1][0].isdigit() and len(rows[1][1]) > 1:
        declared = int(rows[0][1][0])  # CelebA: the first line counts the rows
        rows = rows[1:]
    header, body = rows[0][1], rows[1:]
    if declared is not None and declared != len(body):
        raise AekitError(
            f"{path}: the first line says {declared} rows, found {len(body)}"
        )
    has_files = _has_file_column(header, body)
    names = header[1:] if has_files and len(header) == len(body[0][1]) else header
    files, values = [], []
    for line, cells in body:
        if len(cells) not in (len(names), len(names) + 1):
            raise AekitError(
                f"{path}, line {line}: {len(cells)} values for {len(names)} attributes"
            )
        if len(cells) == len(names) + 1:
            files.append(cells[0])
            cells = cells[1:]
        values.append([_flag(c, path, line) for c in cells])
    if files and len(files) != len(body):
        raise AekitError(f"{path}: some rows name a file and some do not")
    return AttributeTable(
        tuple(names), np.array(values, dtype=bool), tuple(files) or None, str(path)
    )


def _split(line: str) -> list[str]:
    sep = "," if "," in line else ";" if ";" in line else None
    return [c.strip().strip('"') for c in (line.split(sep) if sep else line.split())]


def _has_file_column(header: list[str], body: list[tuple[int, list[str]]]) -> bool:
    if len(body[0][1]) == len(header) + 1:  # CelebA: no header cell for the files
        return True
    first = body[0][1][0].lower()
    if header[0].lower() in FILE_COLUMNS:
        return True
    return first not in TRUE | FALSE and not re.fullmatch(r"[-+.\d]+", first)


def _flag(cell: str, path: Path, line: int) -> bool:
    c = cell.lower()
    if c in TRUE:
        return True
    if c in FALSE:
        return False
    raise AekitError(f"{path}, line {line}: {cell!r} is not a binary attribute value")


def source_files(source: Any) -> list[str] | None:
    """The image file names a source's examples come from, in load order."""
    from ..data.images import find_images, is_image_name

    if isinstance(source, list | tuple):
        paths = [Path(p) for p in source]
        return [p.name for p in paths] if all(map(is_image_name, paths)) else None
    if isinstance(source, str | Path) and Path(source).is_dir():
        folder = Path(source)
        return [p.relative_to(folder).as_posix() for p in find_images(folder)] or None
    return None


def attribute_mask(
    attribute: str,
    data: Dataset,
    *,
    table: AttributeTable | None = None,
    files: Sequence[str] | None = None,
) -> np.ndarray:
    """Which examples of `data` have `attribute`: `label=VALUE` (a class name or
    number), or a column of `table` matched by file name when both sides have names,
    else by order."""
    match = re.fullmatch(r"\s*label\s*=\s*(.+?)\s*", attribute)
    if match:
        return label_mask(data, match.group(1))
    if table is None:
        raise AekitError(
            f"attribute {attribute!r} needs a table of attributes (--attributes FILE); "
            "or use label=VALUE"
        )
    column = table.column(attribute)
    if table.files is not None and files is not None:
        return _by_file_name(table, column, files)
    if len(column) != len(data):
        raise AekitError(
            f"{table.source} has {len(column)} rows but the data has {len(data)} "
            "examples (and no file names to match them by)"
        )
    return column


def label_mask(data: Dataset, value: str) -> np.ndarray:
    if data.y is None:
        raise AekitError(f"{data.name} has no labels, so label={value} means nothing")
    if data.classes and value in data.classes:
        return (data.y == data.classes.index(value)).numpy()
    try:
        return (data.y == int(value)).numpy()
    except ValueError:
        known = ", ".join(data.classes or [])
        raise AekitError(
            f"{data.name} has no label {value!r}; it has {known}"
        ) from None


def _by_file_name(
    table: AttributeTable, column: np.ndarray, files: Sequence[str]
) -> np.ndarray:
    index = {f: i for i, f in enumerate(table.files or ())}
    base = {Path(f).name: i for i, f in enumerate(table.files or ())}
    rows = []
    for f in files:
        i = index.get(f, base.get(Path(f).name))
        if i is None:
            raise AekitError(f"{table.source} has no row for the file {f}")
        rows.append(i)
    return column[rows]


def mean_difference(codes: torch.Tensor, mask: np.ndarray) -> torch.Tensor:
    """Mean code where `mask` holds minus the mean code where it does not."""
    mask = torch.as_tensor(np.asarray(mask, dtype=bool))
    n_with = int(mask.sum())
    if n_with == 0 or n_with == len(mask):
        which = "no" if n_with == 0 else "every"
        raise AekitError(
            f"{which} example has the attribute; a vector needs both kinds"
        )
    z = codes.double()
    return (z[mask].mean(0) - z[~mask].mean(0)).float()


# -- API verbs -----------------------------------------------------------------------
def attribute_vector(
    run: Run | str | Path,
    attribute: str,
    *,
    data: Any = None,
    attributes: str | Path | AttributeTable | None = None,
) -> np.ndarray:
    """The attribute's vector (latent_dim,) over `data` (default: the run's own data):
    mean code with the attribute minus mean code without (a VAE's posterior means)."""
    from ..run import as_run

    run = as_run(run)
    dataset = run_data(run, data)
    table = (
        read_attribute_table(attributes)
        if isinstance(attributes, str | Path)
        else attributes
    )
    files = source_files(run.data_spec.get("source") if data is None else data)
    mask = attribute_mask(attribute, dataset, table=table, files=files)
    return mean_difference(encode_tensor(run, dataset.x), mask).numpy()


def add_vector(
    codes: Any, vector: Any, strengths: Sequence[float] = STRENGTHS
) -> np.ndarray:
    """codes (N, d) plus each strength times vector (d,): (N, len(strengths), d)."""
    z = np.asarray(codes, dtype=np.float32)
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    if z.ndim == 1:
        z = z[None]
    if z.shape[1] != len(v):
        raise AekitError(f"codes have {z.shape[1]} dimensions, the vector {len(v)}")
    s = np.asarray(strengths, dtype=np.float32).reshape(-1)
    if len(s) == 0:
        raise AekitError("give at least one strength to add the vector at")
    return z[:, None, :] + s[None, :, None] * v[None, None, :]


def edit(
    run: Run | str | Path,
    inputs: Any,
    attribute: str | Any,
    *,
    strengths: Sequence[float] = STRENGTHS,
    data: Any = None,
    attributes: str | Path | AttributeTable | None = None,
) -> np.ndarray:
    """Each input decoded with the attribute's vector added at each strength, in the
    source's units: (N, len(strengths), *sample). `attribute` is a name (see
    attribute_vector) or a vector itself; strength 0 is the plain reconstruction."""
    from ..run import as_run, load_inputs

    run = as_run(run)
    vector = (
        attribute_vector(run, attribute, data=data, attributes=attributes)
        if isinstance(attribute, str)
        else attribute
    )
    codes = encode_tensor(run, load_inputs(run, inputs).x)
    edited = torch.from_numpy(add_vector(codes.numpy(), vector, strengths))
    out = run.scaling.to_source(decode_tensor(run, edited.flatten(0, 1)))
    return out.reshape(len(codes), len(strengths), *out.shape[1:])


def latent_arithmetic(
    run: Run | str | Path, base: Any, minus: Any, plus: Any
) -> np.ndarray:
    """decode(code(base) - mean code(minus) + mean code(plus)) for each base input,
    in the source's units: the classic "smiling woman - woman + man" sum."""
    from ..run import as_run, load_inputs

    run = as_run(run)
    z = encode_tensor(run, load_inputs(run, base).x)
    shift = encode_tensor(run, load_inputs(run, plus).x).mean(0) - encode_tensor(
        run, load_inputs(run, minus).x
    ).mean(0)
    return run.scaling.to_source(decode_tensor(run, z + shift))


def redraw_as(
    run: Run | str | Path,
    inputs: Any,
    label: int | None = None,
    *,
    from_label: int | None = None,
    condition: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A conditional run's inputs encoded under their own condition and decoded
    under another (a 3 drawn as a 7 in the same style): (reconstructions, redrawn),
    each (N, *sample) in model units. The target is class `label`, or, for a run
    conditioned on CSV columns, the `condition` values ("smile=1,age=0"); the inputs'
    own labels come from their data or `from_label`, their own attribute values from
    their table's columns."""
    from ..inference import class_conditions, sample_conditions
    from ..run import as_run, load_inputs

    run = as_run(run)
    if not run.capabilities.conditional:
        raise AekitError(
            f"{run.path} is not conditional; --to-label and --to-condition need a "
            "conditional run (cvae, conv-cvae)"
        )
    data = load_inputs(run, inputs)
    n = len(data)
    if run.condition_columns is not None:
        if from_label is not None:
            raise AekitError("--from-label is for runs conditioned on labels")
        own = data.c
        target = sample_conditions(run, n, label=label, values=condition)
    else:
        if condition is not None:
            raise AekitError(
                f"{run.path} is conditioned on labels; use --to-label K, not "
                "--to-condition"
            )
        own = class_conditions(run, from_label, n) if from_label is not None else data.y
        if own is None:
            raise AekitError(
                f"{data.name} has no labels; say what the inputs are with "
                "--from-label K"
            )
        if label is None:
            raise AekitError("give the class to redraw as: --to-label K")
        target = class_conditions(run, int(label), n)
    codes = encode_tensor(run, data.x, own)
    return decode_tensor(run, codes, own).numpy(), decode_tensor(
        run, codes, target
    ).numpy()
