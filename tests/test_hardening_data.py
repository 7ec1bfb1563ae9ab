"""Audit 13, data: wide tables, cut IDX headers, long doubles, names with newlines."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from aekit.data import Scaling, load_dataset, open_stream
from aekit.errors import AekitError, show_path


def _idx_header() -> bytes:
    return struct.pack(">IIII", 0x00000803, 10, 28, 28)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_csv_wider_than_the_csv_field_limit_loads(tmp_path, delimiter):
    # 6,000 columns of 25 characters: each line is far over the csv module's
    # 128 KiB field limit, which a delimiter that does not split it would hit
    a = np.random.default_rng(0).random((4, 6000))
    path = tmp_path / "wide.csv"
    np.savetxt(path, a, delimiter=delimiter, fmt="%.18e")
    assert len(path.read_text().splitlines()[0]) > 131072
    data = load_dataset(path)
    assert tuple(data.x.shape) == (4, 6000)
    back = data.scaling.to_source(data.x)
    np.testing.assert_allclose(back, a, rtol=1e-5, atol=1e-6)


def test_a_wide_csv_with_a_header_and_labels_loads(tmp_path):
    a = np.random.default_rng(1).random((3, 6001))
    header = ",".join(f"feature_{j}" for j in range(6001)) + ",label"
    rows = [",".join(f"{v:.17e}" for v in row) + f",{i % 2}" for i, row in enumerate(a)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    data = load_dataset(path)
    assert tuple(data.x.shape) == (3, 6001)
    assert data.y.tolist() == [0, 1, 0]


@pytest.mark.parametrize("cut", [2, 4, 6, 8, 12, 14])
@pytest.mark.parametrize("gz", [False, True])
def test_an_idx_file_with_a_cut_header_is_refused(tmp_path, cut, gz):
    path = tmp_path / "train-images-idx3-ubyte"
    head = _idx_header()[:cut]
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(head))
    else:
        path.write_bytes(head)
    with pytest.raises(AekitError, match="truncated|not an IDX") as e:
        load_dataset(path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("cut", [6, 8, 12, 14])
def test_streaming_an_idx_file_with_a_cut_header_is_refused(tmp_path, cut):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(_idx_header()[:cut])
    with pytest.raises(AekitError, match=r"truncated IDX header \(\d+ of 16 bytes\)"):
        open_stream(path)


def test_long_double_arrays_are_refused_clearly(tmp_path):
    path = tmp_path / "ld.npy"
    np.save(path, np.ones((4, 3), dtype=np.longdouble))
    if np.dtype(np.longdouble).itemsize <= 8:
        pytest.skip("long double is float64 on this platform")
    with pytest.raises(AekitError, match="long double.*float64 or float32"):
        load_dataset(path)
    with pytest.raises(AekitError, match="long double.*float64 or float32"):
        open_stream(path)


def test_a_newline_in_an_image_name_stays_on_one_line(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("L", (4, 4)).save(folder / "good.png")
    (folder / "bad\nerror: injected line.png").write_bytes(b"not an image at all")
    with pytest.raises(AekitError) as e:
        load_dataset(folder)
    message = str(e.value)
    assert "\n" not in message and "\r" not in message
    assert "bad\\nerror: injected line.png" in message


def test_show_path_escapes_control_characters_only():
    assert show_path("data/é b.png") == "data/é b.png"
    assert show_path("a\nb.png") == "'a\\nb.png'"
    assert show_path("a\x1b[31mb") == "'a\\x1b[31mb'"
    assert show_path("a\u2028b") == "'a\\u2028b'"


def test_aekit_errors_are_always_one_line():
    e = AekitError("x.png: bad\r\n\x1b[2Jfake second line")
    assert str(e) == "x.png: bad\\r\\n\\x1b[2Jfake second line"
    assert str(AekitError("plain")) == "plain"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_scalings_with_non_finite_numbers_are_refused(value):
    with pytest.raises(AekitError, match="non-finite"):
        Scaling.from_dict(
            {"offset": [0.0, value], "scale": 1.0, "domain": "real", "layout": "d"}
        )
    with pytest.raises(AekitError, match="non-finite"):
        Scaling.from_dict(
            {"offset": 0.0, "scale": value, "domain": "unit", "layout": "hw"}
        )
