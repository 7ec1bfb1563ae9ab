"""The attribute-edit picture: inputs moved along a vector of the latent space."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from ...run import Run
from .. import latent
from .kinds import _strips, run_label


def edits(
    run: Run,
    x: torch.Tensor,
    vector: torch.Tensor,
    strengths: list[float],
    *,
    attribute: str,
    names: list[str] | None = None,
) -> Figure:
    """One strip per input (model units): the input, then its code plus each strength
    times the attribute vector, decoded."""
    z = latent.encode_tensor(run, x)
    s = torch.tensor(strengths, dtype=torch.float32)
    codes = z[:, None, :] + s[None, :, None] * vector.float()[None, None, :]
    out = latent.decode_tensor(run, codes.flatten(0, 1))
    out = out.reshape(len(x), len(strengths), *out.shape[1:])
    images = run.input_kind in ("image", "sequence")
    strips = [
        torch.cat([x[i : i + 1], out[i]]) if images else out[i] for i in range(len(x))
    ]
    return _strips(
        run,
        strips,
        names or [f"input {i + 1}" for i in range(len(x))],
        title=f"{run_label(run)}\nedited along the {attribute!r} vector "
        f"(|v| = {vector.norm():.3g}); strength 0 is the reconstruction",
        column_labels=["input", *[f"{v:+g}" for v in strengths]],
        row_label="strength",
    )
