"""Batched inference over a loaded run: encode, decode, reconstruct and sample.

One batch policy for every command and picture (BATCH rows at a time, no
gradients), and one sampler chosen by the model's declared capabilities: a prior
(VAEs), a Gaussian fitted to the training codes (plain autoencoders), or a learned
prior fitted as a second stage of the run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..data import check_finite
from ..data.memory import allocation_guard
from ..errors import AekitError
from ..run import Run

log = logging.getLogger(__name__)

BATCH = 512  # rows per forward pass: large enough to be fast, small enough for RAM


def batched(
    fn: Callable[..., torch.Tensor],
    x: torch.Tensor,
    c: torch.Tensor | None = None,
    *,
    batch_size: int = BATCH,
) -> torch.Tensor:
    """fn over rows of x (and their conditions c), BATCH at a time, no gradients."""
    parts = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            args = (x[i : i + batch_size],)
            if c is not None:
                args += (c[i : i + batch_size],)
            parts.append(fn(*args))
    if not parts:
        raise AekitError("no inputs to run the model on")
    return torch.cat(parts)


def encode(run: Run, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
    """Codes (N, latent) of model-ready inputs; a VAE gives its posterior means."""
    return batched(run.model.encode, x, _condition(run, c, len(x)))


def decode(run: Run, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
    """Decoded codes in model units, (N, *sample_shape)."""
    z = torch.as_tensor(z, dtype=torch.float32)
    return batched(run.model.decode, z, _condition(run, c, len(z)))


def reconstruct(
    run: Run, x: torch.Tensor, c: torch.Tensor | None = None
) -> torch.Tensor:
    """The model's output for each input, in model units."""
    return batched(run.model, x, _condition(run, c, len(x)))


def check_codes(run: Run, codes: Any) -> torch.Tensor:
    """Codes from a user (a file, a list) as a checked (N, latent) float tensor."""
    try:
        z = torch.as_tensor(np.asarray(codes, dtype=np.float32))
    except (TypeError, ValueError) as e:
        raise AekitError(f"codes must be numbers: {e}") from e
    if z.ndim == 1 and len(z):
        z = z[None]
    d = run.model.latent_dim
    if z.ndim != 2 or z.shape[1] != d or len(z) == 0:
        raise AekitError(
            f"codes must have shape (N, {d}) with N >= 1, got {tuple(z.shape)}"
        )
    check_finite(z, "codes")
    return z


def draw_codes(
    run: Run, n: int, *, seed: int = 0, c: torch.Tensor | None = None
) -> torch.Tensor:
    """n codes from the run's sampler: its prior, the fitted Gaussian or a learned
    prior over codes, as the model's registry entry declares."""
    from .distributions import prior_of

    if run.capabilities.sampler is None:
        raise AekitError(f"{run.path}: a {run.model_name} run does not sample")
    g = torch.Generator().manual_seed(seed)
    return prior_of(run).sample(n, c, generator=g)


def sample(
    run: Run,
    n: int,
    *,
    seed: int = 0,
    c: torch.Tensor | None = None,
    key_shift: int = 0,
) -> torch.Tensor:
    """n new examples in model units, decoded from `draw_codes`; a music-vae run
    told key shifts writes them `key_shift` semitones from the corpus' keys."""
    if n < 1:
        raise AekitError(f"the number of samples must be positive, got {n}")
    if key_shift and getattr(run.model, "keys", None) is None:
        raise AekitError(f"a {run.model_name} run takes no key shift (music-vae does)")
    size = n * math.prod(run.sample_shape) * 4
    with allocation_guard(f"sample {n} examples", nbytes=size):
        c = _condition(run, c, n, sampling=True)
        z = draw_codes(run, n, seed=seed, c=c)
        if getattr(run.model, "autoregressive", False):  # each step drawn in turn
            g = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                return batched(
                    lambda zz: run.model.draw(zz, generator=g, key_shift=key_shift), z
                )
        return decode(run, z, c)


def sample_conditions(
    run: Run, n: int, *, label: int | None = None, values: Any = None
) -> torch.Tensor | None:
    """The conditions of n samples: a class (`label`, else every class in turn) for
    a run conditioned on labels, the column `values` for one conditioned on CSV
    columns ("smile=1,age=0.3"), None for other runs."""
    size = n * math.prod(run.sample_shape) * 4  # the samples these conditions give
    with allocation_guard(f"sample {n} examples", nbytes=size):
        return _sample_conditions(run, n, label, values)


def _sample_conditions(
    run: Run, n: int, label: int | None, values: Any
) -> torch.Tensor | None:
    columns = run.condition_columns
    if values is not None and (columns is None or label is not None):
        raise AekitError(
            f"{run.path} is not conditioned on CSV columns; --condition values do "
            "not apply" + ("" if columns is None else " beside --label")
        )
    if columns is None:
        return class_conditions(run, label, n)
    if label is not None:
        raise AekitError(
            f"{run.path} is conditioned on the columns {','.join(columns)}, not on "
            f"labels; give --condition {_example(columns)}"
        )
    if values is None:
        raise AekitError(
            f"{run.path} is conditioned on the columns {','.join(columns)}; give "
            f"their values: --condition {_example(columns)}"
        )
    row = condition_values(values, columns)
    return torch.as_tensor(row, dtype=torch.float32).expand(n, -1).clone()


def condition_values(values: Any, columns: tuple[str, ...]) -> list[float]:
    """One value per condition column, in the columns' order, from "a=1,b=0.5", a
    {name: value} mapping, or a list of values in the columns' order."""
    if isinstance(values, str):
        pairs = [p.strip() for p in values.split(",") if p.strip()]
        if pairs and all("=" in p for p in pairs):
            values = dict(p.split("=", 1) for p in pairs)
        else:
            values = pairs
    if isinstance(values, dict):
        named = {str(k).strip(): v for k, v in values.items()}
        unknown = sorted(set(named) - set(columns))
        missing = [c for c in columns if c not in named]
        if unknown or missing:
            what = f"unknown column {unknown[0]!r}" if unknown else f"no {missing[0]!r}"
            raise AekitError(
                f"--condition: {what}; give every condition column once: "
                f"{_example(columns)}"
            )
        values = [named[c] for c in columns]
    try:
        row = [float(v) for v in values]
    except (TypeError, ValueError):
        raise AekitError(
            f"--condition takes numbers, as {_example(columns)}; got {values!r}"
        ) from None
    if len(row) != len(columns):
        raise AekitError(
            f"--condition: {len(row)} value(s) for {len(columns)} condition "
            f"column(s) ({','.join(columns)})"
        )
    if not all(math.isfinite(v) for v in row):
        raise AekitError("--condition values must be finite numbers")
    return row


def _example(columns: tuple[str, ...]) -> str:
    return ",".join(f"{c}=V" for c in columns)


def class_conditions(run: Run, label: int | None, n: int) -> torch.Tensor | None:
    """The conditions of n samples of a conditional run: `label` for all, or every
    class in turn when no label is asked for. None for other runs."""
    if not run.capabilities.conditional:
        if label is not None:
            raise AekitError(f"{run.path} is not conditional; --label does not apply")
        return None
    classes = run.classes or ()
    n_classes = run.n_classes
    if n_classes < 1:
        raise AekitError(f"{run.path} records no classes to condition on")
    if label is None:
        log.info("no label asked for: drawing every class in turn")
        return torch.arange(n) % n_classes
    if not 0 <= label < n_classes:
        names = f" ({', '.join(classes)})" if classes else ""
        raise AekitError(
            f"label {label} is outside the run's classes 0..{n_classes - 1}{names}"
        )
    return torch.full((n,), int(label), dtype=torch.long)


def data_conditions(run: Run, data: Any) -> torch.Tensor | None:
    """What a conditional run's model is given for each input of a Dataset (its
    condition columns, else its labels); None for other runs."""
    if not run.capabilities.conditional:
        return None
    if data.condition is None:
        raise AekitError(
            f"{run.path} is conditional: {data.name} needs its labels (or the run's "
            "condition columns) to give each input its condition"
        )
    return data.condition


def _condition(
    run: Run, c: torch.Tensor | None, n: int, *, sampling: bool = False
) -> torch.Tensor | None:
    """The condition a model call needs: required by conditional runs, else None."""
    if not run.capabilities.conditional:
        return None
    if c is None:
        if sampling:
            return sample_conditions(run, n)
        raise AekitError(
            f"{run.path} is conditional: give each input its label (data with labels)"
        )
    if len(c) != n:
        raise AekitError(f"{len(c)} conditions for {n} inputs")
    return c


def posterior_stats(
    run: Run, x: torch.Tensor, c: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The posterior q(z|x) of each input: (mu, logvar), each (N, latent)."""
    _check_posterior(run)
    c = _condition(run, c, len(x))
    parts = [
        torch.stack(run.model.encode_distribution(*args)) for args in _rows(x, c, BATCH)
    ]
    stats = torch.cat(parts, dim=1)
    return stats[0], stats[1]


def reconstruct_samples(
    run: Run, x: torch.Tensor, n: int, c: torch.Tensor | None = None, *, seed: int = 0
) -> torch.Tensor:
    """n reconstructions per input, each decoded from its own draw z ~ q(z|x):
    (inputs, n, *sample_shape) in model units."""
    if n < 1:
        raise AekitError(f"the number of samples must be positive, got {n}")
    size = len(x) * n * math.prod(run.sample_shape) * 4
    what = f"draw {n} reconstructions of {len(x)} inputs"
    with allocation_guard(what, nbytes=size):
        mu, logvar = posterior_stats(run, x, c)
        c = _condition(run, c, len(x))
        g = torch.Generator().manual_seed(seed)
        eps = torch.randn(len(x), n, mu.shape[1], generator=g)
        z = mu[:, None] + torch.exp(0.5 * logvar)[:, None] * eps
        z = z.reshape(-1, mu.shape[1])
        cc = None if c is None else torch.as_tensor(c).repeat_interleave(n, 0)
        return decode(run, z, cc).reshape(len(x), n, *x.shape[1:])


def _check_posterior(run: Run) -> None:
    from .distributions import posterior_of_run

    if not posterior_of_run(run).is_distribution:
        raise AekitError(
            f"{run.path}: a {run.model_name} model has no posterior distribution; "
            "--stats and --samples need a VAE"
        )


def _rows(x: torch.Tensor, c: torch.Tensor | None, size: int):
    with torch.no_grad():
        for i in range(0, len(x), size):
            yield (x[i : i + size],) + (() if c is None else (c[i : i + size],))
