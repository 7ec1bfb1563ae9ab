"""MNIST-format IDX files (MNIST, Fashion-MNIST, KMNIST, EMNIST), raw or gzipped."""

from __future__ import annotations

import gzip
import logging
import math
import os
import re
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import AekitError, show_path
from .files import RawData

logger = logging.getLogger(__name__)

IMAGES_MAGIC = 0x00000803  # 3 dimensions of unsigned bytes
LABELS_MAGIC = 0x00000801
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_NAME = re.compile(r"[-.]idx\d[-.]ubyte(\.gz)?$", re.IGNORECASE)
_IMAGES_NAME = re.compile(r"[-.]idx3[-.]ubyte(\.gz)?$", re.IGNORECASE)
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
SPLITS = ("train", "test", "all")


def is_idx_name(path: Path) -> bool:
    return bool(_NAME.search(path.name))


def sniff_idx(path: Path) -> bool:
    """True when the file (gzipped or not) starts with an IDX magic number."""
    try:
        with _open(path) as f:
            head = f.read(4)
    except (OSError, EOFError, zlib.error, AekitError):
        return False
    return len(head) == 4 and head[:2] == b"\0\0" and head[2] in _DTYPES and head[3] > 0


def read_idx(path: Path) -> np.ndarray:
    """Any IDX array, checked against the header before the data is read."""
    try:
        with _open(path) as f:
            head = _read_exact(f, 4, path)
            magic = struct.unpack(">I", head)[0]
            if head[:2] != b"\0\0" or head[2] not in _DTYPES or head[3] == 0:
                raise AekitError(
                    f"{path}: not an IDX file (magic number 0x{magic:08X}; expected "
                    f"0x{IMAGES_MAGIC:08X} for images, 0x{LABELS_MAGIC:08X} for labels)"
                )
            dims = struct.unpack(f">{head[3]}I", _read_exact(f, 4 * head[3], path))
            dtype = np.dtype(_DTYPES[head[2]])
            if 0 in dims:
                raise AekitError(f"{path}: holds no data (header shape {dims})")
            data = _read_payload(f, path, math.prod(dims) * dtype.itemsize, dims)
    except (OSError, EOFError, zlib.error) as e:  # only gzip decoding raises these
        reason = " ".join(str(e).split())
        raise AekitError(f"{path}: broken or truncated gzip file ({reason})") from e
    a = np.frombuffer(data, dtype).reshape(dims)
    return a.astype(dtype.newbyteorder("="), copy=False)


def _open(path: Path) -> BinaryIO:
    """Gzip is told by its magic bytes: browsers may unpack a .gz and keep the name."""
    try:
        with open(path, "rb") as f:
            gz = f.read(2) == _GZIP_MAGIC
        return gzip.open(path, "rb") if gz else open(path, "rb")
    except OSError as e:
        raise AekitError(f"cannot read {path}: {e.strerror or e}") from e


def _read_exact(f: BinaryIO, n: int, path: Path) -> bytes:
    data = f.read(n)
    if len(data) < n:
        raise AekitError(f"{path}: truncated IDX header ({len(data)} of {n} bytes)")
    return data


def _read_payload(f: BinaryIO, path: Path, expected: int, dims: tuple) -> bytearray:
    if isinstance(f, gzip.GzipFile):
        data = _read_capped(f, expected)  # never more than the header claims
        # gzip checks its CRC only at the end: a damaged stream can inflate to
        # plausible bytes, so read on (and discard) to the end to have it checked
        have = len(data) + _drain(f)
    else:
        have = os.fstat(f.fileno()).st_size - f.tell()
        data = bytearray(expected if have >= expected else 0)  # size checked first
        f.readinto(data)
    if have < expected:
        raise AekitError(
            f"{path}: truncated: header claims {expected} bytes of data "
            f"(shape {dims}) but the file holds {have}"
        )
    if have > expected:
        logger.warning(
            "%s: ignoring data after the %d bytes the header claims", path, expected
        )
    del data[expected:]
    return data


def _drain(f: gzip.GzipFile) -> int:
    n = 0
    while chunk := f.read(_CHUNK):
        n += len(chunk)
    return n


def _read_capped(f: gzip.GzipFile, cap: int) -> bytearray:
    out = bytearray()
    while len(out) < cap:
        chunk = f.read(min(_CHUNK, cap - len(out)))
        if not chunk:
            break
        out += chunk
    return out


# -- images with their labels ----------------------------------------------------
def read_idx_images(path: Path, split: str = "train") -> RawData:
    """An images file, or a folder of them, with labels from the matching files."""
    if split not in SPLITS:
        raise AekitError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if not path.is_dir():
        return _read_images_file(path)
    files = pick_split(find_idx_images(path), split, path)
    parts = [_read_images_file(p) for p in files]
    if len(parts) == 1:
        return parts[0]
    if len({p.a.shape[1:] for p in parts}) > 1:
        shapes = ", ".join(f"{show_path(p.name)} {p.a.shape[1:]}" for p in parts)
        raise AekitError(f"{path}: image files differ in size: {shapes}")
    labelled = all(p.y is not None for p in parts)
    return RawData(
        np.concatenate([p.a for p in parts]),
        "hw",
        str(path),
        y=np.concatenate([p.y for p in parts]) if labelled else None,
    )


def _read_images_file(path: Path) -> RawData:
    a = read_idx(path)
    if a.ndim == 1:
        raise AekitError(f"{path}: a labels file (1-D); load the images file instead")
    if a.ndim != 3:
        raise AekitError(f"{path}: expected images (N, rows, cols), not {a.shape}")
    if "emnist" in path.name.lower():
        logger.info("%s: transposing EMNIST images (stored column by column)", path)
        a = np.ascontiguousarray(a.transpose(0, 2, 1))
    raw = RawData(a, "hw", str(path))
    labels = labels_for(path)
    if labels is not None:
        y = read_idx(labels)
        if y.ndim != 1 or y.dtype.kind not in "iu":
            raise AekitError(f"{labels}: expected 1-D integer labels, got {y.shape}")
        if len(y) != len(a):
            raise AekitError(f"{labels}: {len(y)} labels for {len(a)} images in {path}")
        raw.y = y.astype(np.int64)
    return raw


def labels_for(images: Path) -> Path | None:
    """The labels file beside an images file: ...-labels-idx1-ubyte[.gz]."""
    if "images" not in images.name.lower():
        return None
    stem = re.sub(r"\.gz$", "", images.name, flags=re.IGNORECASE)
    stem = re.sub("images", "labels", stem, flags=re.IGNORECASE)
    stem = re.sub("idx3", "idx1", stem, flags=re.IGNORECASE)
    for name in (stem, stem + ".gz"):
        if (images.parent / name).is_file():
            return images.parent / name
    return None


def find_idx_images(folder: Path) -> list[Path]:
    """Images files below `folder`; of a file kept both raw and gzipped, the raw one."""
    found = sorted(p for p in folder.rglob("*") if _IMAGES_NAME.search(p.name))
    kept = set(found)
    return [
        p
        for p in found
        if p.is_file() and not (p.suffix.lower() == ".gz" and p.with_suffix("") in kept)
    ]


def pick_split(files: list[Path], split: str, folder: Path) -> list[Path]:
    if len(files) <= 1:
        if not files:
            raise AekitError(f"{folder}: no IDX images files (*-images-idx3-ubyte)")
        return files
    train = [p for p in files if "train" in p.name.lower()]
    test = [p for p in files if re.search("t10k|test", p.name, re.IGNORECASE)]
    if split == "all":
        return train + [p for p in files if p not in train]
    chosen = train if split == "train" else test
    if len(chosen) != 1:
        listed = ", ".join(show_path(p.name) for p in (chosen or files))
        raise AekitError(
            f"{folder}: {len(chosen)} IDX images files for split {split!r} ({listed}); "
            "give one file or a folder holding one data set"
        )
    return chosen
