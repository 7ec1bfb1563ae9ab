"""Features a person can read from a sparse autoencoder (Bricken et al. 2023,
"Towards Monosemanticity", https://transformer-circuits.pub/2023/monosemantic-features):
for each latent, the inputs that activate it most and how often it fires, kept as
a running top-k over streamed batches (never every code at once), and its decoder
direction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import AekitError

PER_LATENT = 16  # top inputs kept per latent
LEADING = 16  # latents shown when none are asked for
BATCH = 1024  # rows encoded at a time


@dataclass(frozen=True)
class LatentFeatures:
    """What a pass over N inputs learnt about each of n latents."""

    frequency: np.ndarray  # (n,) share of the inputs each latent fires on (code > 0)
    mean_activation: np.ndarray  # (n,) mean code where it fires; 0 if it never does
    top_values: np.ndarray  # (n, k) each latent's largest codes, descending; 0: none
    top_index: np.ndarray  # (n, k) the rows they came from; -1 where fewer fired
    n_inputs: int

    @property
    def latents(self) -> int:
        return len(self.frequency)

    def by_frequency(self) -> np.ndarray:
        """Every latent, the most often active first (ties: the larger mean code)."""
        return np.lexsort((-self.mean_activation, -self.frequency))

    def leading(self, n: int = LEADING, extra: Sequence[int] = ()) -> list[int]:
        """The n most frequent latents that fire, then `extra` (asked for by index,
        checked) that are not among them."""
        check_latents(extra, self.latents)
        fired = [int(i) for i in self.by_frequency() if self.frequency[i] > 0][:n]
        return fired + [int(i) for i in dict.fromkeys(extra) if int(i) not in fired]

    def tops(self, latent: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, codes) of the inputs that activate `latent` most, only those where
        it fires."""
        keep = self.top_index[latent] >= 0
        return self.top_index[latent][keep], self.top_values[latent][keep]


def check_latents(latents: Sequence[int], n: int) -> None:
    for i in latents:
        if not isinstance(i, int | np.integer) or not 0 <= int(i) < n:
            raise AekitError(f"no latent {i}: the dictionary has latents 0 to {n - 1}")


def latent_features(
    encode: Callable[[torch.Tensor], torch.Tensor],
    x: Any,
    *,
    per_latent: int = PER_LATENT,
    batch_size: int = BATCH,
) -> LatentFeatures:
    """Stream x (anything sliced by rows into tensors: a tensor, a Dataset's or a
    StreamDataset's x) through `encode` (a batch -> (B, n) non-negative codes) in
    batches, keeping each latent's `per_latent` largest codes, their rows, and how
    often and how strongly it fires."""
    if per_latent < 1 or batch_size < 1:
        raise AekitError("per_latent and batch_size must be positive")
    n_inputs = len(x)
    if n_inputs == 0:
        raise AekitError("no inputs to find the latents' top inputs in")
    top_v = top_i = fires = sums = None
    with torch.inference_mode():
        for start in range(0, n_inputs, batch_size):
            codes = encode(x[start : start + batch_size]).float()  # (B, n)
            codes = codes.reshape(len(codes), -1)
            if top_v is None:
                n = codes.shape[1]
                top_v = torch.zeros(n, 0)
                top_i = torch.zeros(n, 0, dtype=torch.long)
                fires = torch.zeros(n, dtype=torch.float64)
                sums = torch.zeros(n, dtype=torch.float64)
            # the batch's own top k per latent first (rows of a contiguous (n, B)
            # are 3x faster to rank than its columns), then merged with the kept
            by_latent = codes.t().contiguous()
            batch_sums = by_latent.sum(1)  # (n,) finite iff every code is
            if not torch.isfinite(batch_sums).all():
                raise AekitError(f"non-finite codes in rows {start} onwards")
            batch_v, batch_i = by_latent.topk(min(per_latent, len(codes)), dim=1)
            values = torch.cat([top_v, batch_v], dim=1)  # (n, <= 2k)
            index = torch.cat([top_i, batch_i + start], dim=1)
            top_v, pick = values.topk(min(per_latent, values.shape[1]), dim=1)
            top_i = index.gather(1, pick)
            # per batch in float32 (exact counts up to 2^24 rows), kept in float64;
            # a bool -> int64 sum is 4x slower than this
            fires += (by_latent > 0).float().sum(1).double()
            sums += batch_sums.double()
    assert top_v is not None and top_i is not None and fires is not None
    assert sums is not None
    top_i = torch.where(top_v > 0, top_i, -1)
    top_v = top_v.clamp_min(0)
    if top_v.shape[1] < per_latent:  # fewer inputs than asked: pad
        pad = per_latent - top_v.shape[1]
        top_v = torch.nn.functional.pad(top_v, (0, pad))
        top_i = torch.nn.functional.pad(top_i, (0, pad), value=-1)
    return LatentFeatures(
        frequency=(fires / n_inputs).numpy(),
        mean_activation=(sums / fires.clamp_min(1)).numpy(),
        top_values=top_v.numpy(),
        top_index=top_i.numpy(),
        n_inputs=n_inputs,
    )


def run_features(
    run: Any, x: Any, *, per_latent: int = PER_LATENT, batch_size: int = BATCH
) -> LatentFeatures:
    """latent_features of an SAE run's model over inputs x (model units)."""
    check_sae(run)
    model = run.model.eval()
    device = next(model.parameters()).device
    return latent_features(
        lambda b: model.encode(b.to(device)).cpu(),
        x,
        per_latent=per_latent,
        batch_size=batch_size,
    )


def check_sae(run: Any) -> None:
    if getattr(run.model, "name", "") != "sae":
        raise AekitError(
            f"{run.path} is a {run.model_name} run, not a sparse autoencoder "
            "(--model sae): it has no dictionary of latents"
        )


def decoder_directions(model: Any, latents: Sequence[int]) -> torch.Tensor:
    """(m, *sample shape): the unit-norm decoder directions of `latents`; one unit
    of a latent adds its direction / input_scale to the reconstruction (the SAE's
    units back to the data's)."""
    rows = model.directions().detach().cpu()  # (n, D)
    check_latents(latents, len(rows))
    picked = rows[torch.as_tensor(list(latents), dtype=torch.long)]
    return picked.reshape(len(picked), *model.config.input_shape)


def top_weighted(
    direction: np.ndarray | torch.Tensor, names: Sequence[str] | None, n: int = 5
) -> list[tuple[str, float]]:
    """A vector direction's n largest weights by magnitude, as (column, weight)."""
    w = np.asarray(direction, dtype=np.float64).ravel()
    names = list(names) if names else [f"x{j}" for j in range(len(w))]
    order = np.argsort(-np.abs(w), kind="stable")[:n]
    return [(str(names[j]), float(w[j])) for j in order]


def direction_image(direction: torch.Tensor | np.ndarray) -> np.ndarray:
    """A (C, H, W) direction mapped to [0, 1] with 0 at 0.5 (symmetric in its
    largest magnitude), so that its sign reads as lighter or darker than grey."""
    d = np.asarray(direction, dtype=np.float64)
    scale = float(np.abs(d).max()) or 1.0
    return (0.5 + 0.5 * d / scale).astype(np.float32)


def steer(model: Any, code: torch.Tensor, latent: int, value: float) -> torch.Tensor:
    """Decode `code` (n,) with `latent` set to `value`: the input moved along the
    latent's decoder direction by the change in its activation (over the SAE's
    input_scale: the output is in the data's units)."""
    check_latents([latent], code.shape[-1])
    if not np.isfinite(value):
        raise AekitError(f"the latent's value must be finite, got {value}")
    z = code.detach().clone().float().reshape(1, -1)
    z[0, latent] = float(value)
    with torch.inference_mode():
        return model.decode(z)[0]
