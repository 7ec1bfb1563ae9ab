"""UCR/UEA time-series classification archive files (.ts): one labelled series a line.

Format (sktime's): `@` header lines (@problemName, @univariate, @dimensions,
@equalLength, @seriesLength, @classLabel true|false [labels...], @timeStamps), then
@data and one instance a line: comma-separated values per dimension, ':' between
dimensions, the class label last. Only equal-length series without time stamps are
read; '?' (missing) is refused, naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AekitError
from .csvfile import is_number


@dataclass(frozen=True, eq=False)
class TsInstance:
    """One line after @data: a (L, C) series and its class."""

    values: np.ndarray  # (L, C) float64
    name: str  # file, line and instance, for messages
    label: str | None  # None when @classLabel is false


def read_ts(path: Path) -> list[TsInstance]:
    """Every instance of a .ts file as a (L, C) series labelled with its class."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise AekitError(f"{path}: not UTF-8 text (is it a binary file?)") from e
    except OSError as e:
        raise AekitError(f"cannot read {path}: {e.strerror or e}") from e
    header: dict[str, list[str]] = {}
    out: list[TsInstance] = []
    in_data = False
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise AekitError(
                    f"{path}: line {number}: expected an @ header line or @data, "
                    f"got {line[:40]!r}"
                )
            key, *words = line[1:].split()
            header[key.lower()] = words
            in_data = key.lower() == "data"
            if in_data:
                _check_header(path, header)
            continue
        out.append(_instance(path, number, line, header, len(out)))
    if not in_data:
        raise AekitError(f"{path}: no @data line (is it a UCR/UEA .ts file?)")
    if not out:
        raise AekitError(f"{path}: no series after @data")
    _check_lengths(path, out)
    return out


def _flag(header: dict[str, list[str]], key: str) -> bool | None:
    words = header.get(key.lower())
    return None if not words else words[0].lower() == "true"


def _check_header(path: Path, header: dict[str, list[str]]) -> None:
    if _flag(header, "timeStamps"):
        raise AekitError(f"{path}: time-stamped .ts files are not supported")
    if _flag(header, "targetLabel"):
        raise AekitError(
            f"{path}: regression .ts files (@targetLabel true) are not supported"
        )
    if _flag(header, "equalLength") is False:
        raise AekitError(
            f"{path}: @equalLength false: series of unequal length are not "
            "supported; resample or pad them to one length first"
        )


def _instance(
    path: Path, number: int, line: str, header: dict[str, list[str]], i: int
) -> TsInstance:
    where = f"{path}: line {number}"
    fields = line.split(":")
    label = None
    if _flag(header, "classLabel"):
        if len(fields) < 2:
            raise AekitError(f"{where}: no class label after the values")
        label = fields.pop().strip()
        allowed = header["classlabel"][1:]
        if allowed and label not in allowed:
            raise AekitError(
                f"{where}: class {label!r} is not among @classLabel {allowed}"
            )
    dims = header.get("dimensions")
    if dims and dims[0].isdigit() and len(fields) != int(dims[0]):
        raise AekitError(
            f"{where}: {len(fields)} dimension(s) but @dimensions says {dims[0]}"
        )
    rows = []
    for d, field in enumerate(fields, start=1):
        cells = [c.strip() for c in field.split(",")]
        if "?" in cells:
            raise AekitError(
                f"{where}: dimension {d} has a missing value '?'; fill or drop "
                "such series first"
            )
        try:
            rows.append(np.array(cells, dtype=np.float64))
        except ValueError:
            bad = next(c for c in cells if not is_number(c))
            raise AekitError(
                f"{where}: dimension {d}: {bad!r} is not a number"
            ) from None
        if not np.all(np.isfinite(rows[-1])):
            raise AekitError(f"{where}: dimension {d} holds NaN or inf")
    lengths = {len(r) for r in rows}
    if len(lengths) > 1:
        raise AekitError(
            f"{where}: dimensions of unequal length ({sorted(lengths)} steps)"
        )
    return TsInstance(np.stack(rows, axis=1), f"{where} (instance {i + 1})", label)


def _check_lengths(path: Path, series: list[TsInstance]) -> None:
    first = series[0]
    for s in series[1:]:
        if (
            len(s.values) != len(first.values)
            or s.values.shape[1] != (first.values.shape[1])
        ):
            raise AekitError(
                f"{s.name}: {len(s.values)} steps x {s.values.shape[1]} dimension(s) "
                f"but {first.name} has {len(first.values)} x {first.values.shape[1]}; "
                "unequal-length series are not supported"
            )
