"""Creating a run directory safely: never over anything that is not an aekit run,
and a replaced run (--force) kept aside until its successor has a checkpoint."""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..data.io import is_temp_name, remove_stale_temps
from ..errors import AekitError
from .record import read_run_config

log = logging.getLogger(__name__)

ASIDE = ".aekit-replaced-"  # prefix of a replaced run kept beside the new one
_HELD: dict[Path, int] = {}  # run directories this process writes: their locked fds


def default_run_dir(model: str, data_name: str) -> Path:
    """runs/MODEL-DATA, numbered so that no earlier run is reused."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(data_name).stem or "data").strip("-")
    base = out = Path("runs") / f"{model}-{stem or 'data'}"
    n = 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def check_run_dir(out: Path, overwrite: bool) -> bool:
    """Whether `out` holds a run that --force will replace; refuses what it must not
    touch. Reads only: a refused command changes nothing on disk."""
    if out.exists() and not out.is_dir():
        raise AekitError(f"{out} is a file, not a directory; choose another --out")
    # a directory holding only what a killed run was writing counts as empty
    if not out.exists() or all(is_temp_name(p.name) for p in out.iterdir()):
        return False
    try:
        read_run_config(out)  # the marker: a config.json that aekit wrote
    except AekitError:
        raise AekitError(
            f"{out} exists and is not an aekit run; choose another --out"
        ) from None
    if not overwrite:
        raise AekitError(
            f"{out} already holds a run; continue it with --resume {out}, "
            "or replace it with --force"
        )
    return True


def create_run_dir(out: Path, overwrite: bool) -> Path | None:
    """Make `out` ready for a new run. A run it held (with `overwrite`) is moved
    aside and its path returned: `discard_replaced` deletes it once the new run has
    a checkpoint, `restore_replaced` puts it back if the new run never got one."""
    key = out.resolve()
    ours = key in _HELD
    # the folder there now is locked before anything moves: --force never takes
    # a run from under another process that is still writing it
    old = _HELD.pop(key) if ours else _lock(out) if out.is_dir() else None
    try:
        replaced = _replace(out, overwrite, old)
    except BaseException:
        if ours:
            _HELD[key] = old  # type: ignore[assignment]
        elif old is not None:
            os.close(old)
        raise
    return replaced


def _replace(out: Path, overwrite: bool, old: int | None) -> Path | None:
    """create_run_dir's work, `old` the lock on the folder already at `out`: it
    moves aside with a replaced run, or stays this process's lock on `out`."""
    replaced = None
    if check_run_dir(out, overwrite):
        replaced = out.with_name(f"{ASIDE}{out.name}")
        try:
            if replaced.exists():  # left by an earlier replacement that crashed
                shutil.rmtree(replaced)
            out.rename(replaced)
        except OSError as e:
            raise AekitError(f"cannot replace {out} (--force): {_reason(e)}") from e
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        restore_replaced(out, replaced)
        raise AekitError(f"cannot create the run directory {out}: {_reason(e)}") from e
    if replaced is None and old is not None:
        _HELD[out.resolve()] = old  # the same folder: its lock is already taken
    else:
        try:
            _claim(out)
        except AekitError:
            restore_replaced(out, replaced) if replaced is not None else None
            raise
        if old is not None:
            os.close(old)  # the replaced run's lock: it is aside now
    remove_stale_temps(out)
    return replaced


def _claim(out: Path) -> None:
    """Lock `out` for this process (flock on the directory, released when the
    process ends or release_run_dir is called): a second `aekit train` into the
    same --out at the same time is refused instead of mixing two runs' files."""
    key = out.resolve()
    if key in _HELD:
        return
    fd = _lock(out)
    if fd is not None:
        _HELD[key] = fd


def _lock(out: Path) -> int | None:
    """An exclusive flock on the directory `out` (its fd), or AekitError when
    another process holds it; None where there is no flock (Windows)."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): the checks are all there is
        return None
    try:
        fd = os.open(out, os.O_RDONLY)
    except OSError as e:
        raise AekitError(f"cannot open the run directory {out}: {_reason(e)}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise AekitError(
            f"{out} is being written by another aekit process; wait for it or "
            "choose another --out"
        ) from None
    return fd


def release_run_dir(out: Path) -> None:
    """Give up this process's lock on a run directory (training has finished)."""
    fd = _HELD.pop(Path(out).resolve(), None)
    if fd is not None:
        os.close(fd)


def discard_replaced(replaced: Path | None) -> None:
    """Delete the run that --force replaced (the new one has a checkpoint now)."""
    if replaced is None or not replaced.exists():
        return
    try:
        shutil.rmtree(replaced)
    except OSError as e:
        log.warning("could not delete the replaced run %s: %s", replaced, _reason(e))


def restore_replaced(out: Path, replaced: Path | None) -> None:
    """Put a replaced run back where it was (the new one never checkpointed)."""
    if replaced is None or not replaced.exists():
        return
    try:
        if out.exists():
            shutil.rmtree(out)
        replaced.rename(out)
    except OSError as e:
        log.warning("the replaced run is kept in %s (%s)", replaced, _reason(e))


def seeded(seed: int, build: Callable[[], Any]) -> Any:
    """Initial weights drawn from the run's seed: the same seed, the same run."""
    with torch.random.fork_rng(devices=[]):  # the caller's random state is kept
        torch.manual_seed(seed)
        return build()


def _reason(e: OSError) -> str:
    return str(e.strerror or e)
