"""CSV tables: numeric columns, an optional header and label column, named cells."""

from __future__ import annotations

import csv
import io
import itertools
import logging
import operator
import re
from pathlib import Path

import numpy as np

from ..errors import AekitError
from .files import RawData, encode_labels

logger = logging.getLogger(__name__)

LABEL_NAMES = ("label", "labels", "class", "target", "y")  # auto-detected CSV columns
_DELIMITERS = (",", "\t", ";")
Rows = list[list[str]]  # CSV cells as read
_DECIMAL_COMMA = re.compile(r"^(\s*[-+]?\d*),(\d+(?:[eE][-+]?\d+)?\s*)$")


def read_csv(
    path: Path,
    label_column: int | str | None = None,
    columns: list[str] | tuple[str, ...] | None = None,
) -> RawData:
    """Numeric columns (or those named in `columns`), an optional header and an
    optional label column."""
    rows, lines = _csv_rows(path)
    first = [c.strip() for c in rows[0]]
    names = first if _has_header(rows) else None
    data, lines = (rows[1:], lines[1:]) if names else (rows, lines)
    if not data:
        raise AekitError(f"{path}: no data rows (only a header line)")
    label = _label_index(path, names, len(first), label_column)
    skip = set() if label is None else {label}
    if names and names[0] == "" and label != 0:
        logger.info("%s: dropping the unnamed first column (a saved index)", path)
        skip.add(0)
    wanted = columns
    columns = [j for j in range(len(first)) if j not in skip]
    if wanted is not None:
        if names is None:
            raise AekitError(f"{path}: has no header row, so columns cannot be named")
        missing = [w for w in wanted if w not in names]
        if missing or not wanted:
            what = repr(missing[0]) if missing else "(none)"
            raise AekitError(f"{path}: no column named {what}; columns: {names}")
        columns = [names.index(w) for w in wanted if names.index(w) != label]
    if not columns:
        raise AekitError(f"{path}: no feature columns besides the labels")
    raw = RawData(_numbers(path, data, lines, columns, names, label), "d", str(path))
    raw.table = True
    if names:
        raw.feature_names = tuple(names[j] for j in columns)
    if label is not None:
        for row, line in zip(data, lines, strict=True):
            if not row[label].strip():
                raise AekitError(f"{_where(path, line, label, names)}: empty label")
        raw.y, raw.classes = encode_labels(
            np.array([row[label] for row in data]), f"{path}: label column"
        )
    return raw


def _csv_rows(path: Path) -> tuple[list[list[str]], list[int]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise AekitError(f"{path}: not UTF-8 text (is it a binary file?)") from e
    except OSError as e:
        raise AekitError(f"cannot read {path}: {e.strerror or e}") from e
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows, lines = [], []
    try:
        for row in reader:
            # blank lines (and spreadsheets' trailing ",,,," lines) are skipped
            if any(row) and (row[0].strip() or any(c.strip() for c in row)):
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as e:
        raise AekitError(f"{path}: line {reader.line_num}: {e}") from e
    if not rows:
        raise AekitError(f"{path}: empty file (no rows)")
    if delimiter == ";":  # spreadsheets in many locales write "1,5;2,25"
        rows = [[_DECIMAL_COMMA.sub(r"\1.\2", c) for c in row] for row in rows]
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(rows[0]):
            raise AekitError(
                f"{path}: line {line} has {len(row)} fields but line {lines[0]} has "
                f"{len(rows[0])} (ragged rows; delimiter {delimiter!r})"
            )
    return rows, lines


def _sniff(text: str) -> str:
    """The delimiter that splits the first lines into the most, equal, fields."""
    sample = [ln for ln in itertools.islice(io.StringIO(text), 50) if ln.strip()][:20]
    if not sample:
        return ","
    counts = {d: _field_counts(sample, d) for d in _DELIMITERS}
    steady = [d for d in _DELIMITERS if len(set(counts[d])) == 1 and counts[d][0] > 1]
    pool = steady or [d for d in _DELIMITERS if counts[d][0] > 1] or [","]
    return max(pool, key=lambda d: counts[d][0])


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    """Fields per line; one per line where a field passes the csv module's size limit.

    A wide table's whole line (6,000 numbers, over 128 KiB) is one field under a
    delimiter that does not split it: that delimiter is then simply not the one.
    """
    try:
        return [len(r) for r in csv.reader(lines, delimiter=delimiter)]
    except csv.Error:
        return [1] * len(lines)


def is_number(cell: str) -> bool:
    """Whether a CSV cell parses as a number."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _has_header(rows: list[list[str]]) -> bool:
    """A header has a text cell above a number (text label columns stay data)."""
    first = [c.strip() for c in rows[0]]
    if len(rows) == 1:
        return not all(is_number(c) for c in first)
    second = rows[1]
    return any(
        a and not is_number(a) and is_number(b)
        for a, b in zip(first, second, strict=True)
    )


def _label_index(
    path: Path, names: list[str] | None, width: int, label_column: int | str | None
) -> int | None:
    if label_column is None:
        lowered = [n.lower() for n in names or []]
        found = [lowered.index(n) for n in LABEL_NAMES if n in lowered]
        if found:
            logger.info("%s: using column %r as labels", path, names[found[0]])
        return found[0] if found else None
    if isinstance(label_column, str):
        key = label_column.strip()
        exact = [j for j, n in enumerate(names or []) if n == key]
        loose = [j for j, n in enumerate(names or []) if n.lower() == key.lower()]
        if exact or loose:
            return (exact or loose)[0]
        if not key.lstrip("-").isdigit():
            if names is None:
                raise AekitError(
                    f"{path}: has no header row, so label column {key!r} cannot be "
                    "found by name; give its index (counting from 0)"
                )
            raise AekitError(f"{path}: no column named {key!r}; columns: {names}")
        label_column = int(key)
    if not isinstance(label_column, int) or isinstance(label_column, bool):
        raise AekitError(f"label column must be a name or index, not {label_column!r}")
    if not -width <= label_column < width:
        raise AekitError(
            f"{path}: label column {label_column} is out of range; the file has "
            f"{width} columns (0 to {width - 1})"
        )
    return label_column % width


def _where(path: Path, line: int, column: int, names: list[str] | None) -> str:
    col = f"{names[column]!r} (index {column}, " if names else f"{column} ("
    return f"{path}: line {line} (counting from 1), column {col}counting from 0)"


def _numbers(
    path: Path,
    data: Rows,
    lines: list[int],
    columns: list[int],
    names: list[str] | None,
    label: int | None,
) -> np.ndarray:
    pick = operator.itemgetter(*columns) if len(columns) > 1 else None
    cells = [pick(row) for row in data] if pick else [[row[columns[0]]] for row in data]
    try:
        x = np.array(cells, dtype=np.float64)
    except ValueError as e:
        _raise_bad_cell(path, data, lines, columns, names, label)
        raise AekitError(f"{path}: cannot read the numbers ({e})") from e
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        i, k = bad[0]
        cell = data[i][columns[k]].strip()
        raise AekitError(
            f"{_where(path, lines[i], columns[k], names)}: {cell!r} is NaN or "
            "infinite; fill or drop such values first"
        )
    return x


def _raise_bad_cell(
    path: Path,
    data: Rows,
    lines: list[int],
    columns: list[int],
    names: list[str] | None,
    label: int | None,
) -> None:
    """Find the first cell Python cannot read as a number and name it."""
    for row, line in zip(data, lines, strict=True):
        for j in columns:
            cell = row[j].strip()
            if is_number(cell):
                continue
            where = _where(path, line, j, names)
            if not cell:
                raise AekitError(f"{where}: empty value (missing data); fill or drop")
            column = repr(names[j]) if names else j
            hint = f" (labels? make column {column} the label column)"
            hint = "" if label is not None else hint
            raise AekitError(f"{where}: {cell!r} is not a number{hint}")
