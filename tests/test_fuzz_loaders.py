"""Every loader under hypothesis: bad input gets one clear error in bounded memory.

Each generated file either loads or raises one AekitError line naming it; NumPy's
allocations are watched with tracemalloc, and the files whose headers claim
gigabytes are also loaded in a child process whose address space is capped, which
catches the allocations of Pillow and zlib that tracemalloc cannot see.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from numpy.lib import format as npy_format
from PIL import Image

from aekit.data import Dataset, load_dataset
from aekit.errors import AekitError

FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
MEMORY = 32 * 2**20  # far below what any header here claims; far above the files
IDX_DTYPES = [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]


def load_or_refuse(path: Path, **options) -> Dataset | None:
    """Load `path`: a Dataset, or None after a clean one-line AekitError naming it.

    NumPy's allocations stay under MEMORY (tracemalloc sees them).
    """
    tracemalloc.start()
    try:
        try:
            return load_dataset(path, **options)
        except AekitError as e:
            message = str(e)
            assert "\n" not in message and str(path) in message, message
            return None
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            assert peak < MEMORY, f"{peak / 2**20:.0f} MiB allocated for {path}"
    finally:
        tracemalloc.stop()


def refuses(path: Path, match: str | None = None, **options) -> str:
    """The message of the AekitError loading `path` must raise."""
    assert load_or_refuse(path, **options) is None, f"{path} loaded"
    with pytest.raises(AekitError, match=match) as info:
        load_dataset(path, **options)
    return str(info.value)


# -- IDX -------------------------------------------------------------------------
def idx_header(code: int, dims: list[int]) -> bytes:
    return struct.pack(f">BBBB{len(dims)}I", 0, 0, code, len(dims), *dims)


@FUZZ
@given(
    magic=st.binary(min_size=0, max_size=4),
    body=st.binary(max_size=64),
    gz=st.booleans(),
)
def test_idx_wrong_magic(tmp_path, magic, body, gz):
    data = magic + body
    assume(len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_DTYPES)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(gzip.compress(data) if gz else data)
    refuses(path)


@FUZZ
@given(
    code=st.sampled_from(IDX_DTYPES),
    dims=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4),
    body=st.binary(max_size=256),
    gz=st.booleans(),
)
def test_idx_headers_claiming_anything(tmp_path, code, dims, body, gz):
    """Dimensions up to 2^32 each (exabytes in all) against a body of <= 256 bytes."""
    data = idx_header(code, dims) + body
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(gzip.compress(data) if gz else data)
    loaded = load_or_refuse(path)
    if loaded is not None:  # only when the header told the truth
        itemsize = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}[code]
        assert np.prod(dims) * itemsize <= len(body)


@FUZZ
@given(cut=st.floats(0, 0.99), flips=st.lists(st.integers(0, 10**6), max_size=3))
@example(cut=0.5, flips=[107])  # inflates to plausible bytes; only the CRC can tell
def test_idx_broken_gzip(tmp_path, cut, flips):
    good = np.arange(3 * 5 * 4, dtype=np.uint8).reshape(3, 5, 4)
    data = bytearray(gzip.compress(idx_header(0x08, [3, 5, 4]) + good.tobytes()))
    for position in flips:
        data[10 + position % (len(data) - 10)] ^= 0xFF  # past the gzip magic
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(bytes(data[: int(cut * len(data))]))
    refuses(path)


# -- .npy and .npz ---------------------------------------------------------------
NPY_DTYPES = ["<u1", "<i2", "<f4", ">f8", "<c8", "<U3", "|b1", "<M8[s]"]


def npy_bytes(shape: tuple[int, ...], dtype: str, body: bytes, v2: bool) -> bytes:
    buf = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    if v2:
        npy_format.write_array_header_2_0(buf, header)
    else:
        npy_format.write_array_header_1_0(buf, header)
    return buf.getvalue() + body


SHAPES = st.lists(st.integers(0, 2**40), min_size=0, max_size=4).map(tuple)


@FUZZ
@given(
    shape=SHAPES,
    dtype=st.sampled_from(NPY_DTYPES),
    body=st.binary(max_size=256),
    v2=st.booleans(),
)
def test_npy_headers_claiming_anything(tmp_path, shape, dtype, body, v2):
    path = tmp_path / "data.npy"
    path.write_bytes(npy_bytes(shape, dtype, body, v2))
    load_or_refuse(path)


@FUZZ
@given(
    shape=SHAPES,
    body=st.binary(max_size=64),
    compress=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
    name=st.sampled_from(["x.npy", "x", "y.npy", "X.npy"]),
)
def test_npz_members_claiming_anything(tmp_path, shape, body, compress, name):
    path = tmp_path / "data.npz"
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        z.writestr(name, npy_bytes(shape, "<f4", body, False))
    load_or_refuse(path)


@FUZZ
@given(
    arrays=st.dictionaries(
        st.sampled_from(["x", "y", "z", "labels", "X"]),
        st.sampled_from(
            [
                np.zeros((4, 3)),
                np.zeros(4),
                np.zeros((2, 2, 2, 2, 2)),
                np.array(["a", "b", "a", "b"]),
                np.array([b"\xff", b"a", b"b", b"c"]),
                np.zeros((0, 3)),
                np.float64(1.0),
            ]
        ),
        max_size=3,
    ),
    raw_member=st.booleans(),
)
def test_npz_without_the_expected_arrays(tmp_path, arrays, raw_member):
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    if raw_member:  # a member that is not an array at all
        with zipfile.ZipFile(path, "a") as z:
            z.writestr("x" if "x" not in arrays else "y", b"just some bytes")
    loaded = load_or_refuse(path)
    if "x" not in arrays and not raw_member:
        assert loaded is None
        assert "no array named 'x'" in refuses(path)


def test_npz_missing_x_lists_what_is_there(tmp_path):
    np.savez(tmp_path / "d.npz", images=np.zeros((4, 3)), labels=np.zeros(4))
    message = refuses(tmp_path / "d.npz", "no array named 'x'")
    assert "'images'" in message and "'labels'" in message


# -- CSV -------------------------------------------------------------------------
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.text(alphabet="ab ,;\t\"'\n\\-+.eE0", max_size=6),
    st.sampled_from(["", "nan", "NaN", "inf", "-Infinity", "1e999", "1,5", "\x00"]),
)


@FUZZ
@given(rows=st.lists(st.lists(CELLS, min_size=1, max_size=5), min_size=1, max_size=6))
def test_csv_of_anything(tmp_path, rows):
    path = tmp_path / "table.csv"
    path.write_text("\n".join(",".join(row) for row in rows), encoding="utf-8")
    loaded = load_or_refuse(path)
    if loaded is not None:
        assert np.isfinite(loaded.x.numpy()).all()


@FUZZ
@given(
    n=st.integers(2, 8),
    d=st.integers(1, 4),
    data=st.data(),
    bad=st.sampled_from(["nan", "inf", "-inf", "NaN", "1e999", "seven", ""]),
)
def test_csv_bad_cell_is_named_by_line_and_column(tmp_path, n, d, data, bad):
    assume(bad or d > 1)  # one empty cell alone on a line is a blank line
    i = data.draw(st.integers(1, n - 1))  # row 0 decides whether there is a header
    j = data.draw(st.integers(0, d - 1))
    cells = np.arange(n * d, dtype=float).reshape(n, d).astype(str).tolist()
    cells[i][j] = bad
    path = tmp_path / "table.csv"
    header = ",".join(f"f{k}" for k in range(d))
    path.write_text("\n".join([header, *(",".join(r) for r in cells)]) + "\n")
    message = refuses(path)
    assert f"line {i + 2} " in message and f"'f{j}' (index {j}," in message


@FUZZ
@given(
    widths=st.lists(st.integers(1, 5), min_size=2, max_size=6).filter(
        lambda w: len(set(w)) > 1
    )
)
def test_csv_ragged_rows_are_named(tmp_path, widths):
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(",".join(["1"] * w) for w in widths) + "\n")
    first_odd = next(k for k, w in enumerate(widths) if w != widths[0])
    assert f"line {first_odd + 1} has {widths[first_odd]} fields" in refuses(path)


# -- NaN and inf in any array source are named by file and row --------------------
@FUZZ
@given(
    n=st.integers(2, 12),
    d=st.integers(1, 5),
    data=st.data(),
    value=st.sampled_from([np.nan, np.inf, -np.inf]),
    kind=st.sampled_from(["npy", "npz", "idx", "idx.gz"]),
)
def test_nan_or_inf_rejected_naming_file_and_row(tmp_path, n, d, data, value, kind):
    row = data.draw(st.integers(0, n - 1))
    a = np.arange(n * d * 2, dtype=np.float32).reshape(n, d, 2)
    a[row, data.draw(st.integers(0, d - 1)), 1] = value
    if kind == "npy":
        path = tmp_path / "data.npy"
        np.save(path, a.reshape(n, -1))
    elif kind == "npz":
        path = tmp_path / "data.npz"
        np.savez(path, x=a.reshape(n, -1))
    else:
        path = tmp_path / f"train-images-idx3-ubyte{'.gz' if 'gz' in kind else ''}"
        raw = idx_header(0x0D, [n, d, 2]) + a.astype(">f4").tobytes()
        path.write_bytes(gzip.compress(raw) if "gz" in kind else raw)
    message = refuses(path, "NaN or inf")
    assert message.startswith(f"{path}: sample {row} (row {row},")


def test_values_beyond_float32_are_named(tmp_path):
    a = np.ones((5, 3))
    a[3, 1] = 1e300
    np.save(tmp_path / "big.npy", a)
    assert "sample 3 (row 3" in refuses(tmp_path / "big.npy", "float32 range")


# -- images ----------------------------------------------------------------------
def image_bytes(fmt: str) -> bytes:
    buf = io.BytesIO()
    a = np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5
    Image.fromarray(a).save(buf, format=fmt)
    return buf.getvalue()


FORMATS = {"PNG": ".png", "JPEG": ".jpg", "BMP": ".bmp", "GIF": ".gif", "TIFF": ".tif"}


@FUZZ
@given(
    fmt=st.sampled_from(sorted(FORMATS)),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
)
def test_damaged_images(tmp_path, fmt, cut, flips):
    data = bytearray(image_bytes(fmt))
    for position, value in flips:
        data[position % len(data)] = value
    path = tmp_path / f"image{FORMATS[fmt]}"
    path.write_bytes(bytes(data[: max(1, int(cut * len(data)))]))
    load_or_refuse(path)


@FUZZ
@given(junk=st.binary(max_size=200), suffix=st.sampled_from(sorted(FORMATS.values())))
def test_files_that_are_not_images_in_a_folder(tmp_path, junk, suffix):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "cats").mkdir()
    (folder / "cats" / "good.png").write_bytes(image_bytes("PNG"))
    bad = folder / "cats" / f"bad{suffix}"
    bad.write_bytes(junk)
    try:
        load_dataset(folder)
    except AekitError as e:
        assert str(e).startswith(f"{bad}: not a readable image"), str(e)


def test_float_image_with_nan_is_refused(tmp_path):
    a = np.ones((4, 4), dtype=np.float32)
    a[2, 1] = np.nan
    path = tmp_path / "scan.tif"
    Image.fromarray(a).save(path)  # a 32-bit float ("F") image
    refuses(path, "NaN")


# -- headers that claim gigabytes, in a process that cannot have them -------------
def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(100)))
        + chunk(b"IEND", b"")
    )


CHILD = r"""
import json, resource, sys
from aekit.data import load_dataset
from aekit.errors import AekitError

def vm_bytes():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize"))

cap = vm_bytes() + 1024 * 2**20  # 1 GiB more than the loaded libraries take
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
for path in json.loads(sys.argv[1]):
    try:
        load_dataset(path)
        print("loaded", path)
    except AekitError as e:
        print("refused", path, str(e).replace("\n", " "))
    except BaseException as e:
        print("CRASH", path, type(e).__name__, e)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
def test_giant_headers_in_a_capped_address_space(tmp_path):
    files = {
        "train-images-idx3-ubyte": idx_header(0x08, [60_000, 2**16, 2**16]),
        "t10k-images-idx3-ubyte.gz": gzip.compress(idx_header(0x0E, [2**31, 2**20])),
        "big.npy": npy_bytes((2**20, 2**20), "<f8", bytes(64), False),
        "huge.png": _png_claiming(9_000, 9_000),  # 81 Mpx: below Pillow's limit
        "bomb.png": _png_claiming(100_000, 100_000),
    }
    for compress in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        path = tmp_path / f"big-{compress}.npz"
        with zipfile.ZipFile(path, "w", compression=compress) as z:
            z.writestr("x.npy", npy_bytes((2**16, 2**16), "<f8", bytes(64), False))
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = sorted(str(p) for p in tmp_path.iterdir())
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(paths)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr
    lines = child.stdout.splitlines()
    assert len(lines) == len(paths), child.stdout + child.stderr
    assert all(line.startswith("refused ") for line in lines), child.stdout
