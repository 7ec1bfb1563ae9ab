"""What a conditional model is conditioned on: the labels, or named CSV columns.

`--condition label` (the default) conditions on the source's class labels (IDX
labels, sub-folder names, a CSV label column). `--condition COL1,COL2` takes those
columns of a CSV table as attribute vectors (`Dataset.c`, in the file's own units)
and removes them from the features; the run records the columns (config.json, data
section, "condition"), so reloading the run or reading new tables of the same
layout splits them off again.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset, Scaling
from ..errors import AekitError

LABEL = "label"


def parse_condition(condition: Any) -> str | list[str]:
    """None / "label" -> "label"; "a,b" or ["a", "b"] -> ["a", "b"]."""
    if condition is None:
        return LABEL
    if isinstance(condition, str):
        if condition.strip().lower() == LABEL:
            return LABEL
        condition = condition.split(",")
    columns = [str(c).strip() for c in condition]
    if not columns or not all(columns):
        raise AekitError(
            f"--condition takes 'label' or column names COL1,COL2, got {condition!r}"
        )
    if len(set(columns)) != len(columns):
        raise AekitError(f"--condition names a column twice: {','.join(columns)}")
    return columns


def load_with_attributes(
    source: Any,
    columns: list[str],
    *,
    scaling: Scaling | None = None,
    label_column: int | str | None = None,
    name: str | None = None,
) -> Dataset:
    """A CSV table whose `columns` become the attribute conditions `c` (N, K)."""
    from ..data.csvfile import _csv_rows, _has_header, _label_index, read_csv
    from ..data.files import finish

    if isinstance(source, list | tuple) or Path(str(source)).suffix.lower() not in (
        ".csv",
        ".tsv",
    ):
        raise AekitError(
            f"--condition {','.join(columns)} names CSV columns, but {source} is not "
            "a .csv or .tsv table; use --condition label"
        )
    path = Path(str(source))
    if not path.is_file():
        raise AekitError(f"no such file: {path}")
    raw = read_csv(path, label_column)
    rows, _ = _csv_rows(path)
    if not _has_header(rows):
        raise AekitError(f"{path}: has no header row to find {columns[0]!r} in")
    header = [c.strip() for c in rows[0]]
    label = _label_index(path, header, len(header), label_column)
    skip = set() if label is None else {label}
    if header[0] == "" and label != 0:
        skip.add(0)
    features = [n for j, n in enumerate(header) if j not in skip]
    missing = [c for c in columns if c not in features]
    if missing:
        raise AekitError(
            f"{path}: no feature column named {missing[0]!r} to condition on; "
            f"columns: {', '.join(features)}"
        )
    index = [features.index(c) for c in columns]
    attributes = raw.a[:, index].astype(np.float32)
    raw.a = np.delete(raw.a, index, axis=1)
    if raw.feature_names:
        raw.feature_names = tuple(
            n for j, n in enumerate(raw.feature_names) if j not in set(index)
        )
    if raw.a.shape[1] == 0:
        raise AekitError(f"{path}: no feature columns left besides the conditions")
    dataset = finish(raw, scaling, name)
    return dataclasses.replace(dataset, c=attributes)


def condition_options(model: str, data: Any, given: Any) -> dict[str, Any]:
    """The options a conditional model takes from its data (classes, attribute
    width); refuses a condition that is missing or given to a model without one."""
    from ..models import spec_of

    spec = spec_of(model)
    fields = {f.name for f in dataclasses.fields(spec.config)}
    if not spec.capabilities.conditional:
        if given is not None and parse_condition(given) != LABEL:
            raise AekitError(
                f"--condition applies to conditional models; {model!r} is not one"
            )
        return {}
    c = getattr(data, "c", None)
    if c is not None:
        return (
            {"attributes": int(c.shape[1]), "classes": 0}
            if "attributes" in (fields)
            else {}
        )
    n = n_classes(data)
    if n is None:
        raise AekitError(
            f"model {model!r} is conditional, but {data.name} has no labels; give "
            "labelled data or --condition COL1,COL2 (CSV columns)"
        )
    return {"classes": n} if "classes" in fields else {}


def n_classes(data: Any) -> int | None:
    """How many classes a condition on the labels can take (ids 0..n-1)."""
    if getattr(data, "classes", None):
        return len(data.classes)
    y = getattr(data, "y", None)
    return int(y.max()) + 1 if y is not None and len(y) else None
