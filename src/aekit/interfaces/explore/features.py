"""The explorer's view of a sparse autoencoder's features: its latents by how often
they fire on the explored data, each latent's top inputs and decoder direction,
and an input steered along a latent (that latent's activation set, decoded)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...analysis.sae_features import (
    LatentFeatures,
    check_latents,
    decoder_directions,
    direction_image,
    latent_features,
    steer,
    top_weighted,
)
from .state import Explorer, _round

TOP = 12  # top inputs shown per latent
STEER_SPAN = 2.0  # the slider reaches this many times the latent's largest code


class FeatureView:
    """An SAE run's latents over an Explorer's data, computed once (streamed)."""

    def __init__(self, explorer: Explorer):
        self.explorer = e = explorer
        self.features: LatentFeatures = latent_features(
            lambda b: e._call(e.model.encode, b), e.data.x, per_latent=TOP
        )
        self.names = e.run.record["data"].get("feature_names")

    def latents(self) -> dict[str, Any]:
        """Every latent, the most frequent first: number, firing share, mean code."""
        f = self.features
        order = f.by_frequency()
        return {
            "n_inputs": f.n_inputs,
            "latents": [
                {
                    "latent": int(i),
                    "frequency": float(f"{f.frequency[i]:.5g}"),
                    "mean_activation": float(f"{f.mean_activation[i]:.5g}"),
                }
                for i in order
            ],
        }

    def latent(self, latent: int) -> dict[str, Any]:
        """One latent: its top inputs (data indices, codes, pictures or values),
        its decoder direction and the range its steering slider spans."""
        e, f = self.explorer, self.features
        check_latents([latent], f.latents)
        rows, values = f.tops(latent)
        top = [
            {"index": int(r), "activation": float(f"{v:.5g}"), **self._show(r)}
            for r, v in zip(rows, values, strict=True)
        ]
        d = decoder_directions(e.model, [latent])[0]
        if e.is_image:
            direction = e.show(torch.from_numpy(direction_image(d.numpy())))
        else:
            weights = top_weighted(d, self.names, n=min(8, d.numel()))
            direction = {
                "values": _round(d.numpy()),
                "columns": [[n, float(f"{w:.4g}")] for n, w in weights],
            }
        most = float(values[0]) if len(values) else 1.0
        return {
            "latent": latent,
            "frequency": float(f.frequency[latent]),
            "mean_activation": float(f.mean_activation[latent]),
            "top": top,
            "direction": direction,
            "range": [0.0, round(STEER_SPAN * most, 5)],
        }

    def steer(
        self, index: int, latent: int, value: float | None = None
    ) -> dict[str, Any]:
        """Data point `index` with `latent` set to `value` (None: its own
        activation): its input, the decoded result, and that latent's own
        activation on it."""
        e = self.explorer
        check_latents([latent], self.features.latents)
        code = torch.as_tensor(e.codes[index], dtype=torch.float32)
        value = float(code[latent]) if value is None else float(value)
        x_hat = e._call(lambda z: steer(e.model, z[0], latent, value)[None], code[None])
        x_hat = x_hat[0]
        changed = code.clone()
        changed[latent] = value
        return {
            "index": index,
            "latent": latent,
            "value": value,
            "activation": float(code[latent]),
            "l0": int((changed > 0).sum()),
            "input": e.show(e.data.x[index])["image" if e.is_image else "values"],
            **e.show(x_hat),
        }

    def _show(self, row: int | np.integer) -> dict[str, Any]:
        e = self.explorer
        return e.show(e.data.x[int(row)])
