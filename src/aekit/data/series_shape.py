"""How a series file is read by default: its time column, its channels, its window.

A CSV is a series (not a table) when it has a time column (a name such as time, date
or year whose values never go back, or date strings), a per-step anomaly column, or
a single numeric column. Time columns, found by name, by type (dates) or as strictly
increasing, equally spaced numbers, are the index, never a channel. The default
window is the series' dominant period, found as the TSB-AD benchmark does (Liu &
Paparrizos, NeurIPS 2024: the lag of the highest autocorrelation peak within 3-300
steps, 125 when there is none), capped so
that every series yields enough windows; the stride keeps the number of windows
within a budget, down to one step on short series.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .csvfile import _has_header, _sniff, is_number

TIME_NAMES = (  # columns that index time, compared case-blind
    "time",
    "timestamp",
    "date",
    "datetime",
    "year",
    "month",
    "day",
    "hour",
    "t",
    "step",
    "ds",
    "period",
)
INDEX_NAMES = ("", "index", "idx", "row", "unnamed: 0")  # a saved row index
ANOMALY_NAMES = ("is_anomaly", "anomaly")  # per-step labels that mark a series
_DATE = re.compile(r"^\s*\d{1,4}([-/.:T ]\d{1,4}){1,6}(\.\d+)?\s*(Z|[+-]\d\d:?\d\d)?$")

PERIOD_RANGE = (3, 300)  # TSB-AD's clip for the autocorrelation period
PERIOD_FALLBACK = 125  # TSB-AD's window when no period is found
MIN_WINDOWS = 32  # a default window leaves at least this many per series
MAX_WINDOWS = 20_000  # the default stride keeps a data set within this many
MIN_WINDOW = 8


def is_date(cell: str) -> bool:
    """Whether a text cell reads as a date or time (2024-01-31, 31/01/2024 12:00)."""
    return bool(_DATE.match(cell)) and not is_number(cell)


def time_columns(
    names: Sequence[str] | None, data: Sequence[Sequence[str]]
) -> list[int]:
    """Columns that index time: by name (and never going back), by type (dates), or
    numbers that rise by the same step every row. An unnamed first column too."""
    width = len(data[0]) if data else 0
    found = []
    for j in range(width):
        name = (names[j].strip().lower() if names else None) or ""
        cells = [row[j].strip() for row in data]
        if names and j == 0 and name in INDEX_NAMES:
            found.append(j)
        elif cells and all(is_date(c) for c in cells[: min(len(cells), 200)]):
            found.append(j)
        elif name in TIME_NAMES and not all(is_number(c) for c in cells):
            found.append(j)  # time stamps in a format of their own
        elif all(is_number(c) for c in cells):
            v = np.array(cells, dtype=np.float64)
            steadily_rising = len(v) > 2 and _equally_spaced(v)
            named = name in TIME_NAMES and len(v) > 1 and bool(np.all(np.diff(v) >= 0))
            if named or steadily_rising:
                found.append(j)
    return found


def _equally_spaced(v: np.ndarray) -> bool:
    d = np.diff(v)
    return bool(d[0] > 0 and np.allclose(d, d[0], rtol=1e-6, atol=0))


def looks_like_series(
    names: Sequence[str] | None, data: Sequence[Sequence[str]]
) -> bool:
    """Whether a CSV's first rows read as one series rather than a table of samples:
    a named or dated time column, a per-step anomaly column, or a single channel."""
    lowered = [n.strip().lower() for n in names or []]
    if any(n in ANOMALY_NAMES for n in lowered):
        return True
    times = time_columns(names, data)
    named = [j for j in times if lowered and lowered[j] in TIME_NAMES]
    dated = [j for j in times if data and is_date(data[0][j].strip())]
    if named or dated:
        return True
    numeric = [
        j
        for j in range(len(data[0]))
        if j not in times and all(is_number(row[j]) for row in data[:50])
    ]
    return len(numeric) == 1 and len(data) >= 2 * MIN_WINDOW


def csv_reads_as_series(path: Path, rows: int = 500) -> bool:
    """Whether a CSV file's first rows read as a series (looks_like_series)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            head = list(itertools.islice(f, rows + 1))
    except (OSError, UnicodeDecodeError):
        return False  # the table reader says what is wrong with it
    text = "".join(head)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff(text)
    table = [
        r for r in csv.reader(head, delimiter=delimiter) if any(c.strip() for c in r)
    ]
    if len(table) < 2 or len({len(r) for r in table}) > 1:
        return False
    names = [c.strip() for c in table[0]] if _has_header(table) else None
    data = table[1:] if names else table
    return looks_like_series(names, data)


def dominant_period(values: np.ndarray, max_steps: int = 20_000) -> int | None:
    """The lag (in steps) of the highest local maximum of the autocorrelation of a
    (T,) or (T, C) series within PERIOD_RANGE, or None when it has none there."""
    x = np.asarray(values, dtype=np.float64)
    x = x.reshape(len(x), -1)[:max_steps]
    x = x - x.mean(0)
    scale = x.std(0)
    x = x[:, scale > 0] / scale[scale > 0]
    lo, hi = PERIOD_RANGE
    if x.shape[1] == 0 or len(x) < 2 * lo:
        return None
    n = len(x)
    spectrum = np.fft.rfft(x, n=2 * n, axis=0)
    acf = np.fft.irfft(np.abs(spectrum) ** 2, axis=0)[: min(n, hi + 2)].mean(1)
    acf = acf / acf[0]
    lags = np.arange(1, len(acf) - 1)
    peaks = lags[(acf[lags] > acf[lags - 1]) & (acf[lags] > acf[lags + 1])]
    peaks = peaks[(peaks >= lo) & (peaks <= hi) & (acf[peaks] > 0)]
    if not len(peaks):
        return None
    return int(peaks[np.argmax(acf[peaks])])


def default_window(series: Sequence[np.ndarray]) -> tuple[int, str]:
    """A window for (T, C) series and the reason: the dominant period of the longest,
    capped so that the shortest yields at least MIN_WINDOWS windows at stride 1."""
    longest = max(series, key=len)
    period = dominant_period(longest)
    window = period or PERIOD_FALLBACK
    why = (
        f"the dominant period ({period} steps, from the autocorrelation)"
        if period
        else f"no period found (autocorrelation), so {PERIOD_FALLBACK} steps"
    )
    shortest = min(len(s) for s in series)
    cap = max(2, min(shortest // 2, shortest - MIN_WINDOWS + 1))
    if window > cap:
        window = max(min(MIN_WINDOW, shortest), cap)
        why += f", cut to {window} so that the series gives enough windows"
    return window, why


def default_stride(lengths: Sequence[int], window: int) -> int:
    """One step, or as many as keep the windows of all series within MAX_WINDOWS."""
    steps = sum(max(0, n - window + 1) for n in lengths)
    return int(min(window, max(1, math.ceil(steps / MAX_WINDOWS))))
