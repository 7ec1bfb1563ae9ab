"""Uncompressed arrays on disk (.npy, raw IDX, safetensors): their layout, and rows
read by position.

Rows are read with explicit reads into small buffers, never memory-mapped: resident
pages of a map count towards the process's RSS.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AekitError
from .files import RawData, check_dtype_width, infer_layout
from .memory import memory_at_hand

CHUNK_BYTES = 1 << 22  # rows read together: 4 MiB
STREAM_BYTES = 1 << 30  # inputs to encode over 1 GiB as float32 are read in chunks
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4"}
_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}
_ST_DTYPES |= {"I16": "<i2", "I8": "i1", "U8": "u1"}
ST_HEADER_MAX = 1 << 27  # a safetensors header larger than this is refused
ACTIVATIONS = "activations"  # the tensor read from a safetensors file of several


@dataclass(frozen=True)
class ArrayFile:
    """An uncompressed array on disk: `shape` (N, ...) of `dtype` from byte `offset`."""

    path: Path
    offset: int
    dtype: np.dtype  # as stored, possibly big-endian (IDX)
    shape: tuple[int, ...]

    @property
    def row_bytes(self) -> int:
        return math.prod(self.shape[1:]) * self.dtype.itemsize

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows [start, stop) in native byte order, shape (stop - start, ...)."""
        buffer = bytearray((stop - start) * self.row_bytes)
        with open(self.path, "rb", buffering=0) as f:
            f.seek(self.offset + start * self.row_bytes)
            view = memoryview(buffer)
            while view:
                got = f.readinto(view)
                if not got:
                    raise AekitError(f"{self.path}: truncated while reading rows")
                view = view[got:]
        a = np.frombuffer(buffer, self.dtype).reshape(stop - start, *self.shape[1:])
        return a.astype(self.dtype.newbyteorder("="), copy=False)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Rows in any order; near neighbours are read together, a chunk at most."""
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        out = np.empty((len(rows), *self.shape[1:]), self.dtype.newbyteorder("="))
        per_chunk = max(1, CHUNK_BYTES // max(1, self.row_bytes))
        gap = max(1, per_chunk // 64)  # rows this close are read with what lies between
        for group in np.split(
            np.arange(len(rows)), np.flatnonzero(np.diff(ordered) > gap) + 1
        ):
            span = ordered[group] - ordered[group[0]]
            for piece in np.split(
                group, np.flatnonzero(np.diff(span // per_chunk)) + 1
            ):
                first, last = int(ordered[piece[0]]), int(ordered[piece[-1]])
                out[order[piece]] = self.read(first, last + 1)[ordered[piece] - first]
        return out


def array_file(path: Path) -> ArrayFile:
    """The layout of an .npy file or a raw (not gzipped) IDX file."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
            f.seek(0)
            if path.suffix.lower() == ".safetensors":
                found = _safetensors_layout(f, path)
            elif head == b"\x93NUMPY":
                fmt = np.lib.format
                major, _ = fmt.read_magic(f)
                read = (
                    fmt.read_array_header_1_0
                    if major == 1
                    else fmt.read_array_header_2_0
                )
                shape, fortran, dtype = read(f)
                found = ArrayFile(path, f.tell(), dtype, tuple(shape))
                if fortran and len(shape) > 1:
                    raise AekitError(f"{path}: Fortran-ordered; save it C-ordered")
            elif head[:2] == b"\x1f\x8b":
                raise AekitError(
                    f"{path}: gzip-compressed, so it cannot be read in chunks; "
                    "decompress it first (gunzip -k)"
                )
            else:
                found = _idx_layout(f, path)
            size = os.fstat(f.fileno()).st_size
    except OSError as e:
        raise AekitError(f"cannot read {path}: {e.strerror or e}") from e
    except AekitError:
        raise
    except ValueError as e:  # numpy's header parser
        raise AekitError(f"{path}: not a readable .npy file ({e})") from e
    if found.dtype.hasobject or found.dtype.kind not in "iufb":
        raise AekitError(f"{path}: values must be numbers, not {found.dtype}")
    check_dtype_width(found.dtype, str(path))
    if len(found.shape) < 2 or 0 in found.shape:
        raise AekitError(f"{path}: expected samples (N, ...), got shape {found.shape}")
    if found.offset + found.shape[0] * found.row_bytes > size:
        raise AekitError(
            f"{path}: truncated: the header claims more data than it holds"
        )
    return found


def _safetensors_layout(f, path: Path) -> ArrayFile:
    """One tensor of a safetensors file: the only one, or the one named
    `activations` (an 8-byte little-endian header size, a JSON header, the data)."""
    raw = f.read(8)
    size = struct.unpack("<Q", raw)[0] if len(raw) == 8 else -1
    if not 2 <= size <= ST_HEADER_MAX:
        raise AekitError(f"{path}: not a safetensors file (bad header size)")
    try:
        header = json.loads(f.read(size))
    except (UnicodeDecodeError, ValueError) as e:
        raise AekitError(f"{path}: not a safetensors file ({e})") from e
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    if not isinstance(header, dict) or not tensors:
        raise AekitError(f"{path}: a safetensors file with no tensor")
    name = next(iter(tensors)) if len(tensors) == 1 else ACTIVATIONS
    if name not in tensors:
        raise AekitError(
            f"{path}: {len(tensors)} tensors and none named {ACTIVATIONS!r} "
            f"({', '.join(sorted(tensors))})"
        )
    try:
        entry = tensors[name]
        dtype, shape = entry["dtype"], tuple(int(n) for n in entry["shape"])
        start = int(entry["data_offsets"][0])
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise AekitError(f"{path}: a malformed safetensors entry {name!r}") from e
    if dtype not in _ST_DTYPES:
        raise AekitError(
            f"{path}: tensor {name!r} is {dtype}; aekit reads "
            f"{', '.join(_ST_DTYPES)} (convert bfloat16 to float32 first)"
        )
    return ArrayFile(path, 8 + size + start, np.dtype(_ST_DTYPES[dtype]), shape)


def read_safetensors(path: Path) -> RawData:
    """The samples of a safetensors file, read whole (the layout is _safetensors')."""
    file = array_file(path)
    x = file.read(0, file.shape[0])
    return RawData(x, infer_layout(x.shape, str(path)), str(path))


def _idx_layout(f, path: Path) -> ArrayFile:
    head = f.read(4)
    if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in _IDX_DTYPES:
        raise AekitError(
            f"{path}: neither an .npy nor a raw IDX file; streaming reads those two"
        )
    size = f.read(4 * head[3])
    if len(size) < 4 * head[3]:
        raise AekitError(
            f"{path}: truncated IDX header ({4 + len(size)} of {4 + 4 * head[3]} bytes)"
        )
    dims = struct.unpack(f">{head[3]}I", size)
    return ArrayFile(path, 4 + 4 * head[3], np.dtype(_IDX_DTYPES[head[2]]), dims)


def should_stream(source: str | os.PathLike) -> bool:
    """True for one .npy or raw IDX file that, as float32, would take more than a
    quarter of the memory at hand (or more than STREAM_BYTES): read it in chunks."""
    path = Path(source)
    try:
        file = array_file(path) if path.is_file() else None
    except AekitError:
        return False
    if file is None:
        return False
    as_float32 = file.shape[0] * file.row_bytes // file.dtype.itemsize * 4
    return as_float32 > min(STREAM_BYTES, memory_at_hand() // 4)
