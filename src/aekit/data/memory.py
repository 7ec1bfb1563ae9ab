"""Running out of memory: the memory at hand, and one clear error when an allocation
fails (torch, NumPy and Python each say it their own way).

In the data layer because reading data is the first thing that can need more memory
than there is (aekit.data.arrayfile streams a file larger than a quarter of it);
the model build, sampling and the pictures guard their allocations with the same
`allocation_guard`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

import torch

from ..errors import AekitError

_OOM_TEXT = (
    "not enough memory",
    "can't allocate memory",
    "cannot allocate memory",
    "out of memory",
    "std::bad_alloc",
    "invalid buffer size",
)


def is_allocation_failure(e: BaseException) -> bool:
    """True for the ways torch, NumPy and Python say an allocation failed."""
    if isinstance(e, MemoryError):
        return True
    if isinstance(e, (RuntimeError, ValueError)):
        text = str(e).lower()
        return any(t in text for t in _OOM_TEXT) or "defaultcpuallocator" in text
    return False


def memory_at_hand() -> int:
    """Free physical memory, or the process's data limit (RLIMIT_DATA) if lower."""
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        free = 1 << 62
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_DATA)[0]
        if limit != resource.RLIM_INFINITY:
            free = min(free, limit)
    except (ImportError, ValueError, OSError):
        pass
    return free


@contextlib.contextmanager
def allocation_guard(what: str, nbytes: int | None = None) -> Iterator[None]:
    """Turn a failed allocation inside the block into one clear AekitError.

    `what` completes "not enough memory to ...", e.g. "build the model";
    `nbytes`, when the caller can estimate it, is shown as the size needed.
    Any other error passes through unchanged. An estimate beyond the memory at
    hand is refused before anything is allocated (an allocation the kernel grants
    lazily could otherwise end the process instead of failing).
    """
    if nbytes is not None and nbytes > memory_at_hand():
        raise AekitError(f"not enough memory to {what} (needs ~{format_bytes(nbytes)})")
    try:
        yield
    except AekitError:
        raise
    except (MemoryError, RuntimeError, ValueError) as e:
        if not is_allocation_failure(e):
            raise
        if isinstance(e, torch.cuda.OutOfMemoryError):
            where = " on the GPU"
        else:
            where = ""
        raise AekitError(
            f"not enough memory{where} to {what}{_needs(nbytes, e)}"
        ) from e


def _needs(nbytes: int | None, e: BaseException) -> str:
    """ " (needs ~X GiB)" from the caller's estimate, else from the error's text:
    torch's CPU allocator gives bytes, CUDA and NumPy a size with its unit."""
    text = str(e)
    if nbytes is None and (found := re.search(r"allocate (\d+) bytes", text)):
        nbytes = int(found.group(1))
    if nbytes is not None:
        return f" (needs ~{format_bytes(nbytes)})"
    sized = re.search(r"allocate ([\d.]+) ?([KMGTPE]i?B)", text)
    return f" (needs ~{sized.group(1).rstrip('.')} {sized.group(2)})" if sized else ""


def format_bytes(n: int) -> str:
    """1536 -> "1.5 KiB", 3 * 2**30 -> "3.0 GiB"."""
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:,.0f} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"
