"""Checkpoints as safetensors + JSON: loading one can never execute code.

Two kinds of file: weights alone (the best model, what every tool reads) and a
training checkpoint (weights, optimizer tensors and the loop's state in the
safetensors metadata) that resumes a run exactly. Both are written atomically.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ..data.io import atomic_path
from ..errors import AekitError

FORMAT = "aekit"


def save_weights(path: str | os.PathLike, model: nn.Module) -> Path:
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return _save(path, tensors, {"kind": "weights"})


def load_weights(path: str | os.PathLike, model: nn.Module) -> None:
    """Load weights into `model`, checking every name and shape against it."""
    tensors, _ = _load(path, "weights")
    _assign(path, model, tensors)


def save_training_state(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
) -> Path:
    """Weights, optimizer moments and the loop's own state (JSON-able) in one file."""
    tensors = {
        f"model.{k}": v.detach().cpu().contiguous()
        for k, v in model.state_dict().items()
    }
    opt = optimizer.state_dict()
    for index, slots in opt["state"].items():
        for slot, value in slots.items():
            tensors[f"optimizer.{index}.{slot}"] = (
                torch.as_tensor(value).cpu().contiguous()
            )
    meta = {
        "kind": "training",
        "state": json.dumps(state),
        "param_groups": json.dumps(opt["param_groups"]),
    }
    return _save(path, tensors, meta)


def load_training_state(
    path: str | os.PathLike, model: nn.Module, optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    tensors, meta = _load(path, "training")
    _assign(
        path, model, {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    )
    slots: dict[int, dict[str, torch.Tensor]] = {}
    try:
        for key, value in tensors.items():
            if key.startswith("optimizer."):
                _, index, slot = key.split(".", 2)
                slots.setdefault(int(index), {})[slot] = value
        groups = json.loads(meta["param_groups"])
        optimizer.load_state_dict({"state": slots, "param_groups": groups})
        _check_optimizer_shapes(optimizer)
        return json.loads(meta["state"])
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
        reason = " ".join(str(e).split())
        raise AekitError(f"{path}: training state is malformed ({reason})") from e


def update_training_state(path: str | os.PathLike, changes: dict[str, Any]) -> Path:
    """Rewrite some keys of a training checkpoint's loop state, tensors untouched."""
    tensors, meta = _load(path, "training")
    try:
        state = json.loads(meta["state"]) | changes
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise AekitError(f"{path}: training state is malformed ({e})") from e
    meta = {k: v for k, v in meta.items() if k != "format"}
    return _save(path, tensors, meta | {"state": json.dumps(state)})


def _check_optimizer_shapes(optimizer: torch.optim.Optimizer) -> None:
    # load_state_dict does not compare them; a mismatch would fail mid-training
    for param, slots in optimizer.state.items():
        for slot, value in slots.items():
            if value.ndim and value.shape != param.shape:
                raise ValueError(
                    f"optimizer slot {slot!r} has shape {tuple(value.shape)} for a "
                    f"parameter of shape {tuple(param.shape)}"
                )


def _save(
    path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict
) -> Path:
    with atomic_path(path, suffix=".safetensors") as tmp:
        try:
            save_file(tensors, str(tmp), metadata={"format": FORMAT, **meta})
        except SafetensorError as e:  # its writer reports a full disk this way
            raise _os_error(e) from e
    return Path(path)


def _os_error(e: Exception) -> OSError:
    """The OSError behind a safetensors I/O failure ("... (os error 28)")."""
    found = re.search(r"os error (\d+)", str(e))
    if found:
        number = int(found.group(1))
        return OSError(number, os.strerror(number))
    return OSError(" ".join(str(e).split()))


def check_checkpoint(path: str | os.PathLike, kind: str) -> dict[str, str]:
    """Read only the header: an aekit `kind` checkpoint ("weights" or "training")?

    Returns its metadata; raises naming the file when it is missing, damaged, of
    another format (a pickle, someone else's safetensors) or of the other kind.
    """
    path = Path(path)
    if not path.is_file():
        raise AekitError(f"{path}: no such checkpoint")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise _unreadable(path, e) from e
    if meta.get("format") != FORMAT or meta.get("kind") != kind:
        raise AekitError(
            f"{path} is a safetensors file but not an aekit {kind} checkpoint"
        )
    return meta


def _load(path: str | os.PathLike, kind: str) -> tuple[dict[str, torch.Tensor], dict]:
    path = Path(path)
    meta = check_checkpoint(path, kind)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise _unreadable(path, e) from e
    return tensors, meta


def _unreadable(path: Path, e: Exception) -> AekitError:
    reason = (str(e).splitlines() or [type(e).__name__])[0]
    return AekitError(
        f"{path} is not a readable safetensors checkpoint (corrupt, truncated or "
        f"another format; aekit never unpickles files): {reason}"
    )


def _assign(
    path: str | os.PathLike, model: nn.Module, tensors: dict[str, torch.Tensor]
) -> None:
    expected = model.state_dict()
    absent = getattr(model, "absent_state", dict)()  # state older runs lack
    tensors = {**{k: v for k, v in absent.items() if k in expected}, **tensors}
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise AekitError(
            f"{path} does not fit this model: the model expects {missing[:3]}, "
            f"which the file lacks, and not {extra[:3]}, which it holds"
        )
    for key, value in tensors.items():
        if value.shape != expected[key].shape:
            raise AekitError(
                f"{path}: tensor {key} has shape {tuple(value.shape)}, "
                f"the model expects {tuple(expected[key].shape)}"
            )
    model.load_state_dict(tensors)
