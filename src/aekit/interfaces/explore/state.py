"""What the explorer serves, computed from a run: the encoded data and its plane.

Codes of size 2 are plotted as they are. Larger codes are shown in the plane of
their first two principal components (centred codes, SVD), and a point (u, v) of
that plane decodes as mean + u * pc1 + v * pc2. A 1-D code is plotted against a
fixed jitter, which decoding ignores. Everything here is plain numpy and torch;
the web layer (server.py) validates requests before they reach it.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...data import Dataset
from ...errors import AekitError
from ...inference import batched, data_conditions
from ...inference.distributions import posterior_of_run, prior_kind, walks_prior
from ...run import Run, as_run, run_data

MAX_POINTS = 5000  # points on the map by default; a seeded subset of larger data


@dataclass
class Plane:
    """A 2-D view of the codes: plane (u, v) <-> code z = mean + (u, v) @ axes."""

    mean: np.ndarray  # (d,)
    axes: np.ndarray  # (2, d); a 1-D code has one real axis and a zero row
    names: tuple[str, str]
    description: str  # what the page says the plane is
    explained: list[float] | None = None  # PCA: share of variance per axis

    @classmethod
    def fit(cls, codes: np.ndarray) -> Plane:
        d = codes.shape[1]
        if d == 1:
            text = (
                "the 1-D codes across, spread up and down by a jitter decoding ignores"
            )
            return cls(np.zeros(1), np.array([[1.0], [0.0]]), ("z1", "jitter"), text)
        if d == 2:
            return cls(np.zeros(2), np.eye(2), ("z1", "z2"), "the 2-D codes")
        mean = codes.mean(0)
        _, s, vt = np.linalg.svd(codes - mean, full_matrices=False)
        var = s**2
        ratio = (var[:2] / var.sum()).tolist() if var.sum() > 0 else [0.0, 0.0]
        names = (f"PC1 ({ratio[0]:.0%})", f"PC2 ({ratio[1]:.0%})")
        text = f"the PCA plane of the {d}-D codes ({sum(ratio):.0%} of their variance)"
        return cls(mean, vt[:2], names, text, ratio)

    def project(self, codes: np.ndarray) -> np.ndarray:
        return (codes - self.mean) @ self.axes.T  # (N, 2)

    def code(self, point: tuple[float, float]) -> np.ndarray:
        return self.mean + np.asarray(point) @ self.axes  # (d,)


class Explorer:
    """A run, the data it shows and the plane of its codes; thread-safe calls."""

    def __init__(self, run: Run, data: Dataset, *, max_points: int = MAX_POINTS):
        if len(run.sample_shape) not in (1, 3):
            raise AekitError(f"cannot explore samples of shape {run.sample_shape}")
        self.run, self.model = run, run.model.cpu().eval()
        self.lock = threading.Lock()  # one model call at a time: 2 cores, no gain
        if len(data) > max_points:
            keep = np.random.default_rng(0).choice(len(data), max_points, False)
            data = data.subset(torch.as_tensor(np.sort(keep)))
        self.data = data
        # a conditional run encodes each point under its own label and decodes
        # under the class the page selects (default the first)
        self.conditional = run.capabilities.conditional
        self.conditions = data_conditions(run, data)
        codes = self._call(self.model.encode, data.x, self.conditions)
        self.codes = codes.numpy().astype(np.float64)
        self.plane = Plane.fit(self.codes)
        self.points = self.plane.project(self.codes)
        if (
            self.codes.shape[1] == 1
        ):  # spread a 1-D code out so points can be told apart
            jitter = np.random.default_rng(1).uniform(-1, 1, len(self.points))
            self.points[:, 1] = jitter * max(np.ptp(self.points[:, 0]), 1e-6) / 4

    # -- what the page asks for ------------------------------------------------
    @property
    def is_image(self) -> bool:
        return len(self.run.sample_shape) == 3

    @property
    def dark_background(self) -> bool:
        """Whether the images are light on dark (MNIST), judged by their top rows."""
        return self.is_image and float(self.data.x[:, :, 0, :].mean()) < 0.5

    @property
    def n_classes(self) -> int:
        run = self.run
        return len(run.classes or ()) or int(run.data_spec.get("n_classes") or 0)

    @property
    def is_sae(self) -> bool:
        return getattr(self.model, "name", "") == "sae"

    @property
    def latent_dim(self) -> int:
        return int(self.codes.shape[1])

    def info(self) -> dict[str, Any]:
        run = self.run
        columns = run.condition_columns
        lo, hi = self.codes.min(0), self.codes.max(0)
        pad = np.maximum((hi - lo) * 0.1, 0.1)
        return {
            "run": run.path.name,
            "model": run.model_name,
            "variational": walks_prior(run),
            "posterior": posterior_of_run(run).kind,
            "prior": prior_kind(run),
            "latent_dim": self.latent_dim,
            "sae": self.is_sae,  # a sparse autoencoder: the page shows its features
            "sample_shape": list(run.sample_shape),
            "kind": "image" if self.is_image else "vector",
            "domain": run.scaling.domain,
            "dark_background": self.dark_background,
            "n_points": len(self.points),
            "data": self.data.name,
            "classes": list(self.data.classes) if self.data.classes else None,
            "conditional": self.conditional,
            "n_classes": self.n_classes if self.conditional else None,
            # a run conditioned on CSV columns: their names and the data's means,
            # the values the page starts from
            "condition_columns": list(columns) if columns else None,
            "condition_means": (
                _round(self.conditions.float().mean(0).numpy()) if columns else None
            ),
            "plane": {
                "axes": list(self.plane.names),
                "description": self.plane.description,
                "explained": self.plane.explained,
                "extent": _extent(self.points),
            },
            "slider_range": np.stack([lo - pad, hi + pad], 1).round(4).tolist(),
        }

    def scatter(self) -> dict[str, Any]:
        y = self.data.y
        return {
            "points": self.points.round(5).tolist(),
            "labels": None if y is None else y.tolist(),
        }

    def decode(
        self, code: np.ndarray, label: int | None = None, values: Any = None
    ) -> dict[str, Any]:
        z = torch.as_tensor(code, dtype=torch.float32)[None]
        c = self.class_condition(label, 1, values)
        x_hat = self._call(self.model.decode, z, c)[0]
        return {"code": _round(code), "point": self._point(code), **self.show(x_hat)}

    def decode_point(
        self, point: tuple[float, float], label: int | None = None, values: Any = None
    ) -> dict[str, Any]:
        return self.decode(self.plane.code(point), label, values)

    def class_condition(
        self, label: int | None, n: int, values: Any = None
    ) -> torch.Tensor | None:
        """n copies of the condition a conditional run decodes under: class `label`
        (default 0), or, conditioned on CSV columns, their `values` (default the
        explored data's means); None for other runs. What does not fit is refused."""
        if not self.conditional:
            if label is not None or values is not None:
                raise AekitError(
                    f"{self.run.path} is not conditional; send no label or condition"
                )
            return None
        from ...inference import class_conditions, sample_conditions

        if self.run.condition_columns is None:
            if values is not None:
                raise AekitError(
                    f"{self.run.path} is conditioned on labels; send a label"
                )
            return class_conditions(self.run, 0 if label is None else int(label), n)
        if values is None and label is None:
            values = self.conditions.float().mean(0).tolist()
        return sample_conditions(self.run, n, label=label, values=values)

    def item(self, index: int) -> dict[str, Any]:
        """A data point: its input, its reconstruction, code, place and label."""
        x = self.data.x[index]
        c = None if self.conditions is None else self.conditions[index : index + 1]
        out = self.encode_input(x, c)
        out["point"] = self.points[index].round(5).tolist()  # keeps a 1-D jitter
        y = self.data.y
        out["label"] = None if y is None else self.data.label_name(int(y[index]))
        out["index"] = index
        return out

    def encode_input(
        self, x: torch.Tensor, c: torch.Tensor | None = None
    ) -> dict[str, Any]:
        """One input in model units -> its code, place, and reconstruction; a
        conditional run takes the input's class `c` (default the first class)."""
        if self.conditional and c is None:
            c = self.class_condition(None, 1)
        code = self._call(self.model.encode, x[None], c)[0].numpy().astype(np.float64)
        x_hat = self._call(self.model, x[None], c)[0]  # forward: max-unpool switches
        return {
            "code": _round(code),
            "point": self._point(code),
            "input": self.show(x)["image" if self.is_image else "values"],
            **self.show(x_hat),
        }

    def interpolate(self, a: int, b: int, steps: int) -> dict[str, Any]:
        """Decoded codes on the straight line from point a's code to point b's."""
        t = np.linspace(0.0, 1.0, steps)[:, None]
        codes = (1 - t) * self.codes[a] + t * self.codes[b]  # (steps, d)
        c = None  # a conditional run draws the whole strip as point a's class
        if self.conditions is not None:
            c = self.conditions[a : a + 1].expand(steps, *self.conditions.shape[1:])
        x_hat = self._call(self.model.decode, torch.as_tensor(codes).float(), c)
        return {
            "points": self.plane.project(codes).round(5).tolist(),
            "frames": [self.show(x) for x in x_hat],
        }

    # -- helpers ---------------------------------------------------------------
    def show(self, x: torch.Tensor) -> dict[str, Any]:
        """One sample in model units -> a PNG data URL (images) or values (vectors)."""
        if self.is_image:
            from ...data.pixels import png_bytes

            data = base64.b64encode(png_bytes(x.numpy())).decode("ascii")
            return {"image": "data:image/png;base64," + data}
        source = self.run.scaling.to_source(x[None])[0]
        return {"values": _round(x.numpy()), "source": _round(source)}

    def _point(self, code: np.ndarray) -> list[float]:
        return self.plane.project(code[None])[0].round(5).tolist()

    def _call(
        self, fn: Any, x: torch.Tensor, c: torch.Tensor | None = None
    ) -> torch.Tensor:

        with self.lock, torch.inference_mode():
            if threading.current_thread() is not threading.main_thread():
                # a request: one sample, where more threads only wait for each
                # other. The thread count is per OS thread, so the server's setting
                # never reaches its worker threads: measured 28 ms -> 4.6 ms p50 per
                # decode on 2 busy cores (BENCHMARKS.md, explorer under load)
                torch.set_num_threads(1)
            return batched(fn, x, c)


def _extent(points: np.ndarray) -> list[float]:
    """[u_min, u_max, v_min, v_max] with a margin, never empty."""
    lo, hi = points.min(0), points.max(0)
    pad = np.maximum((hi - lo) * 0.08, 1e-3)
    return [float(lo[0] - pad[0]), float(hi[0] + pad[0])] + [
        float(lo[1] - pad[1]),
        float(hi[1] + pad[1]),
    ]


def _round(a: np.ndarray) -> list[float | None]:
    """Five significant digits for JSON; a non-finite value (overflow) is null."""
    values = np.asarray(a, dtype=np.float64).ravel()
    return [float(f"{v:.5g}") if np.isfinite(v) else None for v in values]


def load_explorer(
    run: Run | str | Path, data: Any = None, *, max_points: int = MAX_POINTS
) -> Explorer:
    """An Explorer over `data` (any source; default: the data the run trained on)."""
    run = as_run(run)
    if not run.capabilities.has_code:
        raise AekitError(
            f"{run.path} is a {run.model_name!r} image-to-image run: it has no vector "
            "code to explore"
        )
    if run.capabilities.codes != "continuous":
        raise AekitError(
            f"{run.path} is a {run.model_name!r} run: its codes are discrete, and the "
            "explorer moves through a continuous code space"
        )
    dataset = run_data(run, data)
    if max_points < 1:
        raise AekitError(f"max points must be positive, got {max_points}")
    return Explorer(run, dataset, max_points=max_points)
