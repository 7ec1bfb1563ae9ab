"""Checkpoints as safetensors + JSON: loading one can never execute code.

Two kinds of file: weights alone (the best model, what every tool reads) and a
training checkpoint (weights, optimizer tensors and the loop's state in the
safetensors metadata) that resumes a run exactly. Both are written atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .errors import AekitError
from .io import atomic_path

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
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, slot = key.split(".", 2)
            slots.setdefault(int(index), {})[slot] = value
    try:
        groups = json.loads(meta["param_groups"])
        optimizer.load_state_dict({"state": slots, "param_groups": groups})
        return json.loads(meta["state"])
    except (KeyError, ValueError, json.JSONDecodeError) as e:
        raise AekitError(f"{path}: training state is malformed ({e})") from e


def _save(
    path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict
) -> Path:
    with atomic_path(path, suffix=".safetensors") as tmp:
        save_file(tensors, str(tmp), metadata={"format": FORMAT, **meta})
    return Path(path)


def _load(path: str | os.PathLike, kind: str) -> tuple[dict[str, torch.Tensor], dict]:
    path = Path(path)
    if not path.is_file():
        raise AekitError(f"{path}: no such checkpoint")
    try:
        tensors = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise AekitError(
            f"{path} is not a readable safetensors checkpoint (corrupt, truncated or "
            f"another format; aekit never unpickles files): {str(e).splitlines()[0]}"
        ) from e
    if meta.get("format") != FORMAT or meta.get("kind") != kind:
        raise AekitError(
            f"{path} is a safetensors file but not an aekit {kind} checkpoint"
        )
    return tensors, meta


def _assign(
    path: str | os.PathLike, model: nn.Module, tensors: dict[str, torch.Tensor]
) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise AekitError(
            f"{path} does not fit this model: missing {missing[:3]}, "
            f"unexpected {extra[:3]}"
        )
    for key, value in tensors.items():
        if value.shape != expected[key].shape:
            raise AekitError(
                f"{path}: tensor {key} has shape {tuple(value.shape)}, "
                f"the model expects {tuple(expected[key].shape)}"
            )
    model.load_state_dict(tensors)
