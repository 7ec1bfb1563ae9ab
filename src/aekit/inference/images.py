"""Fully convolutional inference on whole images of any size, in batches.

Each image is padded at the bottom and right to the network's multiple (one halving
per pooling) by mirroring its own border, which the network has seen more of than
zeros or copies, and the output is cropped back. Images of one size share batches;
a batch holds at most MAX_PIXELS pixels, so one huge photo runs alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

MAX_PIXELS = 2**22  # about 4 megapixels per forward pass


def pad_for(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """(B, C, H, W) -> padded to multiples of `multiple`; mirror where it fits."""
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def predict_whole(
    model: nn.Module,
    images: Sequence[torch.Tensor],
    *,
    max_pixels: int = MAX_PIXELS,
) -> list[torch.Tensor]:
    """Model outputs (C_out, H, W) for (C_in, H, W) inputs, in input order, on the CPU.

    Runs on the device the model's parameters are on, in eval mode, without grad.
    """
    multiple = int(getattr(model, "multiple", 1))
    device = next(model.parameters()).device
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, image in enumerate(images):
        by_size.setdefault(tuple(image.shape[-2:]), []).append(i)
    outputs: list[torch.Tensor | None] = [None] * len(images)
    model.eval()
    with torch.no_grad():
        for (h, w), indices in by_size.items():
            batch = max(1, max_pixels // (h * w))
            for start in range(0, len(indices), batch):
                chunk = indices[start : start + batch]
                x = torch.stack([images[i] for i in chunk]).to(device)
                y = model(pad_for(x, multiple))[:, :, :h, :w].float().cpu()
                for i, out in zip(chunk, y, strict=True):
                    outputs[i] = out
    return outputs  # type: ignore[return-value]
