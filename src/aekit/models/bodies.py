"""Encoder/decoder bodies shared by the autoencoder and the VAE.

A body maps an input to a flat feature vector `h` of size `features` and back; the
model puts its own head on top (a code layer for an AE, mean and log-variance for a
VAE). The convolutional body upsamples in any of the five ways the lectures teach:
transposed convolution, nearest or bilinear upsampling followed by a convolution,
bed-of-nails unpooling, and max-unpooling with the encoder's pooling switches
(Noh et al. 2015, "Learning Deconvolution Network for Semantic Segmentation",
https://arxiv.org/abs/1505.04366; Zeiler & Fergus 2014 for the switches).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AekitError
from .configs import TRANSPOSE, UPSAMPLE_MODES, transpose_output_padding
from .decoder_start import MeanOutput
from .layers import activation, mlp, norm_layer, tied_mirror

Switches = list[torch.Tensor] | None  # max-pool indices, outermost level first


class MLPBody(nn.Module):
    """Flatten -> D -> hidden[0] -> ... -> hidden[-1], and the mirror image back."""

    def __init__(
        self,
        input_shape: Sequence[int],
        hidden: Sequence[int],
        act: str,
        *,
        tied: bool = False,
    ):
        super().__init__()
        self.input_shape = tuple(input_shape)
        d = math.prod(self.input_shape)
        self.features = hidden[-1] if hidden else d
        self.encoder = (
            mlp([d, *hidden], act, act_last=True) if hidden else nn.Identity()
        )
        # the decoder head (latent -> features) is linear, so the body starts with act
        back = [*reversed(hidden), d]
        if tied and hidden:  # each decoder layer: an encoder weight, transposed
            self.decoder = tied_mirror(self.encoder, act)
        elif hidden:
            self.decoder = nn.Sequential(
                activation(act), mlp(back, act, act_last=False)
            )
        else:
            self.decoder = nn.Identity()

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, Switches]:
        return self.encoder(x.flatten(1)), None  # (B, F)

    def decode(self, h: torch.Tensor, switches: Switches = None) -> torch.Tensor:
        return self.decoder(h).view(h.shape[0], *self.input_shape)  # (B, *input_shape)


def bed_of_nails(x: torch.Tensor) -> torch.Tensor:
    """Each value goes to the top-left of its 2x2 cell; the other three are zero."""
    b, c, h, w = x.shape
    out = x.new_zeros(b, c, 2 * h, 2 * w)
    out[:, :, ::2, ::2] = x
    return out


class Up(nn.Module):
    """Double the spatial size by one of UPSAMPLE_MODES, c_in -> c_out channels."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        mode: str,
        norm: str = "none",
        transpose: tuple[int, int, int] = TRANSPOSE,
    ):
        super().__init__()
        self.mode = mode
        if mode == "transpose":
            kernel, stride, padding = transpose
            self.conv = nn.ConvTranspose2d(
                c_in,
                c_out,
                kernel_size=kernel,
                stride=stride,
                padding=padding,
                output_padding=transpose_output_padding(kernel, stride, padding),
            )
        else:
            self.conv = nn.Conv2d(c_in, c_out, kernel_size=3, padding=1)
        self.norm = norm_layer(norm, c_out)

    def forward(
        self, x: torch.Tensor, switch: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.mode in ("nearest", "bilinear"):
            x = F.interpolate(x, scale_factor=2, mode=self.mode)
        elif self.mode == "max-unpool" and switch is not None:
            x = F.max_unpool2d(x, switch, kernel_size=2)
        elif self.mode in ("bed-of-nails", "max-unpool"):
            # max-unpool without switches (decoding a code that came from no input,
            # e.g. a sample) falls back to the fixed bed-of-nails position
            x = bed_of_nails(x)
        return self.norm(self.conv(x))


class ConvBody(nn.Module):
    """[conv3x3 -> norm -> act -> maxpool2] per width in `channels`, flattened;
    mirrored back. `norm` "none" is the body of runs made before norms existed.

    Any image size works: the input is zero-padded to a multiple of 2**depth and the
    output cropped back, so odd sizes (28 -> 7 -> 28, 25 -> 32 -> 25) round-trip.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        channels: Sequence[int],
        act: str,
        upsample: str,
        norm: str = "none",
        *,
        transpose: tuple[int, int, int] = TRANSPOSE,
        mean_output: bool = False,
    ):
        super().__init__()
        if len(input_shape) != 3:
            raise AekitError(
                f"a convolutional model needs images (C, H, W), got sample shape "
                f"{tuple(input_shape)}; use an MLP model for vectors"
            )
        if upsample not in UPSAMPLE_MODES:
            raise AekitError(
                f"unknown upsampling {upsample!r}; "
                f"choose from {', '.join(UPSAMPLE_MODES)}"
            )
        c, h, w = self.input_shape = tuple(int(s) for s in input_shape)
        depth, m = len(channels), 2 ** len(channels)
        self.padded = (math.ceil(h / m) * m, math.ceil(w / m) * m)
        self.grid = (channels[-1], self.padded[0] // m, self.padded[1] // m)
        self.features = math.prod(self.grid)
        self.keep_switches = upsample == "max-unpool"

        widths = [c, *channels]
        self.down = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(widths[i], widths[i + 1], 3, padding=1),
                *([norm_layer(norm, widths[i + 1])] if norm != "none" else []),
                activation(act),
            )  # without a norm the keys stay those of old checkpoints
            for i in range(depth)
        )
        last = max(
            channels[0] // 2, 8
        )  # full resolution is the costliest: keep it thin
        outs = [
            last,
            *channels[:-1],
        ]  # up block i undoes down block i: channels[i] -> outs[i]
        self.up = nn.ModuleList(
            Up(channels[i], outs[i], upsample, norm, transpose) for i in range(depth)
        )
        self.act = activation(act)
        self.head_out = nn.Conv2d(last, c, kernel_size=3, padding=1)
        # a per-pixel output bias (aekit.models.decoder_start); absent in old runs
        self.mean_output = MeanOutput(self.input_shape) if mean_output else None

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, Switches]:
        h, w = self.input_shape[1:]
        x = F.pad(x, (0, self.padded[1] - w, 0, self.padded[0] - h))
        switches = []
        for block in self.down:
            x = block(x)
            if self.keep_switches:
                x, idx = F.max_pool2d(x, 2, return_indices=True)
                switches.append(idx)
            else:
                x = F.max_pool2d(x, 2)
        return x.flatten(1), (switches if self.keep_switches else None)  # (B, F)

    def decode(self, h: torch.Tensor, switches: Switches = None) -> torch.Tensor:
        x = self.act(h).view(h.shape[0], *self.grid)  # (B, C_last, h, w)
        for i in reversed(range(len(self.up))):
            x = self.up[i](x, None if switches is None else switches[i])
            x = self.act(x)
        x = self.head_out(x)  # (B, C, H_padded, W_padded)
        x = x[:, :, : self.input_shape[1], : self.input_shape[2]]
        return x if self.mean_output is None else self.mean_output(x)


def make_body(
    body: str,
    input_shape: Sequence[int],
    *,
    hidden: Sequence[int],
    channels: Sequence[int],
    act: str,
    upsample: str,
    norm: str = "none",
    tied: bool = False,
    transpose: tuple[int, int, int] = TRANSPOSE,
    mean_output: bool = False,
) -> MLPBody | ConvBody:
    if body == "mlp":
        return MLPBody(input_shape, hidden, act, tied=tied)
    if body == "conv":
        return ConvBody(
            input_shape,
            channels,
            act,
            upsample,
            norm,
            transpose=transpose,
            mean_output=mean_output,
        )
    raise AekitError(f"unknown body {body!r}; choose 'mlp' or 'conv'")
