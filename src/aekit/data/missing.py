"""Missing or non-finite values in a series, filled only when the user asks.

By default a NaN, an inf or an empty cell is bad input, refused with its row and
column by the reader. `--missing interpolate` fills each channel's gaps linearly in
time (the first and last known value extend over the ends); `--missing drop` drops
every time step that holds one. Either way the reader notes what it did, and the run
records the note and the option.
"""

from __future__ import annotations

import numpy as np

from ..errors import AekitError

MISSING = ("interpolate", "drop")  # what --missing can ask for


def check_missing(missing: str | None) -> str | None:
    """The policy as given, refused in one line when it is not one of MISSING."""
    if missing is not None and missing not in MISSING:
        raise AekitError(f"missing must be one of {MISSING}, got {missing!r}")
    return missing


def fill_missing(
    values: np.ndarray, missing: str, where: str
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """(T, C) values with NaN/inf -> (filled values, the kept rows, a note or None)."""
    check_missing(missing)
    bad = ~np.isfinite(values)
    keep = np.arange(len(values))
    if not bad.any():
        return values, keep, None
    n_cells, n_rows = int(bad.sum()), int(bad.any(axis=1).sum())
    said = f"{n_cells} missing or non-finite value{'s' * (n_cells > 1)} in {n_rows} "
    said += f"time step{'s' * (n_rows > 1)}"
    if missing == "drop":
        keep = np.flatnonzero(~bad.any(axis=1))
        if len(keep) == 0:
            raise AekitError(f"{where}: every time step holds a missing value")
        return values[keep], keep, f"{said} dropped (--missing drop)"
    out = values.copy()
    steps = np.arange(len(values))
    for c in range(values.shape[1]):
        known = ~bad[:, c]
        if not known.any():
            raise AekitError(
                f"{where}: channel {c + 1} (counting from 1) holds no finite value "
                "to interpolate from"
            )
        out[~known, c] = np.interp(steps[~known], steps[known], values[known, c])
    return out, keep, f"{said} filled by linear interpolation (--missing interpolate)"
