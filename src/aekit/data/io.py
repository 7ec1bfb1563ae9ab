"""Atomic file writes: a crash never leaves a half-written file behind.

Every file aekit writes goes to a temporary file in the same directory first and
is then renamed over the target with os.replace, which is atomic on POSIX and
Windows. A reader sees either the old file or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import functools
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import AekitError

LAYER = "base"  # below every layer: any layer may import it


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` on success.

    On any exception the temporary file is removed and `path` is untouched.
    `suffix` keeps an extension on the temporary name for writers that look at it.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=directory
        )
        os.fchmod(fd, _file_mode())  # mkstemp makes 0600; files should be 0644-ish
        os.close(fd)
    except OSError as e:
        raise AekitError(f"cannot write to {directory}: {_reason(e)}") from e
    tmp = Path(tmp_name)
    try:
        yield tmp
        _fsync(tmp)
        # a writer may have replaced the file (safetensors' save_file makes a new
        # one, 0600): every file aekit writes gets the umask's mode
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise AekitError(f"cannot write {path}: {_reason(e)}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_csv(
    path: str | os.PathLike,
    rows: Sequence[Mapping[str, Any]],
    fieldnames: Sequence[str],
) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fieldnames), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_text(path, buf.getvalue())


def write_npy(path: str | os.PathLike, array: Any) -> Path:
    import numpy as np

    with atomic_path(path, suffix=".npy") as tmp, open(tmp, "wb") as f:
        np.save(f, np.asarray(array), allow_pickle=False)
    return Path(path)


def save_figure(fig: Any, path: str | os.PathLike, *, dpi: int = 100) -> Path:
    """Save a matplotlib Figure atomically and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        with atomic_path(path, suffix=path.suffix) as tmp:
            fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png")
    finally:
        plt.close(fig)
    return path


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise AekitError(f"{path}: no such file") from e
    except UnicodeDecodeError as e:
        raise AekitError(f"{path} is not valid JSON (not UTF-8 text)") from e
    except OSError as e:
        raise AekitError(f"cannot read {path}: {_reason(e)}") from e
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise AekitError(
            f"{path} is not valid JSON ({e.msg} at line {e.lineno})"
        ) from e
    except RecursionError as e:  # "[[[[...": deeper than the parser can recurse
        raise AekitError(f"{path} is not usable JSON (nested too deeply)") from e
    except (ValueError, TypeError, MemoryError) as e:  # e.g. an int of 5,000 digits
        reason = " ".join(str(e).split()) or type(e).__name__
        raise AekitError(f"{path} is not usable JSON ({reason})") from e


def _file_mode() -> int:
    """What open() would give a new file: 0666 less the umask (0644 under 022)."""
    return 0o666 & ~_umask()


@functools.cache
def _umask() -> int:
    mask = os.umask(0)  # the only way to read it; set straight back
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    # A failed fsync (a full disk noticed late, an I/O error) means the bytes may
    # not be on disk, and renaming would replace a good file with a bad one; only
    # file systems that cannot sync at all are let through.
    with open(path, "rb") as f:
        try:
            os.fsync(f.fileno())
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise


def remove_stale_temps(directory: str | os.PathLike) -> list[Path]:
    """Delete the temporary files a killed aekit left in `directory`; returns them.

    Only names atomic_path makes (".NAME.XXXXXXXX[.suffix].tmp") are touched.
    """
    removed = []
    with contextlib.suppress(OSError):
        for entry in Path(directory).iterdir():
            if is_temp_name(entry.name) and entry.is_file():
                entry.unlink(missing_ok=True)
                removed.append(entry)
    return removed


def is_temp_name(name: str) -> bool:
    """True for the names atomic_path gives its temporary files."""
    return bool(_TEMP_NAME.match(name))


_TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}(\.[^.]+)*\.tmp$")


def _reason(e: OSError) -> str:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on device (or over quota)"
    if e.errno == errno.EFBIG:
        return "file too large (a file size limit was reached)"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied (read-only or not writable)"
    if e.errno in (errno.ENOTDIR, errno.EEXIST):
        return "a part of the path is a file, not a directory"
    if e.errno is None and "written" in str(e):  # NumPy's short write, errno lost
        return f"short write, the disk may be full ({e})"
    return e.strerror or str(e)
