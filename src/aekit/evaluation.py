"""Evaluation of a run (`aekit evaluate`): how good it is, in numbers, beside baselines.

The evaluation data (the run's own validation split by default) is streamed in
batches and only sums are kept, so reconstructions of a large data set never sit in
memory: reconstruction errors overall and per class, PCA with the same number of
components fitted on the run's training split, a VAE's ELBO terms, active units and
importance-weighted NLL (aekit.likelihood), codes against PCA codes and raw inputs
(aekit.probes), the code as a compressed file (aekit.compression), denoising,
anomaly scores ranked against known anomalies (aekit.anomaly), and the Mutual
Information Gap of the codes against known factors (`mutual_information_gap`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import anomaly, compression, likelihood, metrics, probes
from .data import Dataset
from .errors import AekitError
from .inference import BATCH
from .noise import Noise
from .run import Run, run_splits  # noqa: F401  (aekit.evaluation.run_splits)
from .series_anomaly import step_ranking

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)
MIG_BINS = 20  # equal-width bins per code dimension (Chen et al.'s estimator)


def evaluate(
    run: Run | str | Path,
    data: Any = None,
    *,
    normal_classes: str | list[int] | None = None,
    anomaly_labels: str | Path | np.ndarray | None = None,
    k: int = 1000,
    nll_examples: int = 1000,
    probe: bool = True,
    compress: bool = True,
    samples: bool = True,
    seed: int = 0,
    factors: str | Path | np.ndarray | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Every figure of the issue's evaluation suite for a run, as a JSON-able dict.

    `data` defaults to the run's validation split; any source is loaded with the
    run's scaling. `nll_examples` caps the examples the NLL is estimated on (0 for
    all). `samples` scores the run's samples (aekit.sample_quality). `factors` (a
    CSV with a column per factor, a row per evaluated input, or an array) scores the
    codes' disentanglement by MIG; without it the data's labels are the one factor.
    Runs of other tasks go to aekit.tasks.evaluate_task(run, data, **options).
    """
    from .run import as_run

    run = as_run(run)
    if run.task != "reconstruct":  # colorize, segment: scored by their task
        from .tasks import evaluate_task

        return evaluate_task(run, data, **options)
    if options:
        raise AekitError(f"unknown evaluation option(s): {', '.join(sorted(options))}")
    train, test, described = _evaluation_data(run, data)
    truth = None
    if normal_classes is not None or anomaly_labels is not None:
        truth = anomaly.anomaly_truth(test, normal_classes, anomaly_labels)
    report: dict[str, Any] = {
        "run": str(run.path),
        "model": run.model_name,
        "latent_dim": run.model.latent_dim,
        "data": {**described, "n": len(test), "n_train": len(train) if train else None},
    }
    stream = Stream(run, train, test, seed=seed, compress=compress)
    stream.consume(progress)
    report.update(stream.report())
    if run.is_variational:
        report["vae"] = stream.vae_report(k=k, nll_examples=nll_examples, seed=seed)
    if probe and train is not None and train.y is not None and test.y is not None:
        report["codes"] = stream.probe_report(seed=seed)
    if compress:
        report["compression"] = stream.compression_report()
    if samples and run.capabilities.sampler is not None:
        from .sample_quality import sample_quality

        report["samples"] = sample_quality(run, train, test, seed=seed)
    if truth is not None:
        scores = np.concatenate(stream.scores)
        report["anomaly"] = anomaly.ranking_report(scores, *truth)
    if test.series is not None:  # a series with step labels: rank its steps
        steps = step_ranking(test, np.concatenate(stream.scores))
        if steps is not None:
            report["anomaly_steps"] = steps
    known = _factors(factors, test)
    if known is not None:
        codes = torch.cat(stream.codes).numpy()
        report["disentanglement"] = mutual_information_gap(codes, known[0])
        report["disentanglement"]["factors"] = known[1]
    return report


def mutual_information_gap(
    codes: Any, factors: Any, *, bins: int = MIG_BINS
) -> dict[str, Any]:
    """MIG of Chen et al. 2018 (https://arxiv.org/abs/1802.04942, section 5): for
    each factor v_k, the gap between the two code dimensions sharing the most
    information with it, over its entropy, I(z_a; v_k) - I(z_b; v_k) / H(v_k),
    averaged over factors. Codes (N, d) are binned into `bins` equal-width bins per
    dimension; factors (N, K) are discrete values (N,) or (N, K). In [0, 1]: 1 when
    each factor lives in one dimension alone."""
    from sklearn.metrics import mutual_info_score

    z = np.asarray(codes, dtype=np.float64)
    v = np.asarray(factors)
    v = v.reshape(len(v), -1) if v.ndim != 2 else v
    if z.ndim != 2 or len(z) != len(v) or len(z) < 2:
        raise ValueError(
            f"codes {z.shape} and factors {v.shape} must be (N, d) and (N, K), N >= 2"
        )
    if z.shape[1] < 2:
        raise ValueError("MIG needs codes of two dimensions or more")
    binned = [_bin(z[:, j], bins) for j in range(z.shape[1])]
    gaps, per_factor = [], []
    for k in range(v.shape[1]):
        values = np.unique(v[:, k], return_inverse=True)[1]
        entropy = mutual_info_score(values, values)
        if entropy <= 0:
            raise ValueError(f"factor {k} takes one value only: it has no entropy")
        mi = np.array([mutual_info_score(values, b) for b in binned])
        top = np.sort(mi)[::-1]
        gaps.append(float((top[0] - top[1]) / entropy))
        per_factor.append(
            {
                "gap": float(gaps[-1]),
                "dimension": int(np.argmax(mi)),
                "entropy": entropy,
            }
        )
    return {"mig": float(np.mean(gaps)), "bins": bins, "per_factor": per_factor}


def _bin(values: np.ndarray, bins: int) -> np.ndarray:
    edges = np.histogram_bin_edges(values, bins=bins)
    return np.digitize(values, edges[1:-1])


def _factors(factors: Any, test: Dataset) -> tuple[np.ndarray, str] | None:
    """(factor values (N, K), where they came from), or None when there are none."""
    if factors is None:
        if test.y is None:
            return None
        return test.y.numpy()[:, None], "the data's labels"
    if isinstance(factors, str | Path):
        path = Path(factors)
        if not path.is_file():
            raise AekitError(f"no such factors file: {path}")
        try:
            table = np.genfromtxt(path, delimiter=",", names=None, dtype=np.float64)
        except ValueError as e:
            raise AekitError(f"{path}: not a table of numbers ({e})") from None
        if table.ndim >= 1 and np.isnan(table.reshape(len(table), -1)[0]).all():
            table = table[1:]  # a header row
        values, name = table.reshape(len(table), -1), str(path)
    else:
        values, name = np.asarray(factors).reshape(len(factors), -1), "array"
    if len(values) != len(test) or not np.isfinite(values).all():
        raise AekitError(
            f"{name}: {len(values)} rows of factors for {len(test)} evaluated inputs "
            "(one finite row per input)"
        )
    return values, name


def _evaluation_data(
    run: Run, data: Any
) -> tuple[Dataset | None, Dataset, dict[str, Any]]:
    from .run import load_inputs

    if data is None:
        train, val = run_splits(run)
        share = run.train_config.val_fraction
        return (
            train,
            val,
            {
                "source": run.data_spec.get("source"),
                "split": f"validation ({share:g} of the source, seed "
                f"{run.train_config.seed}), as in training",
            },
        )
    test = load_inputs(run, data)
    try:
        train, _ = run_splits(run)
    except AekitError as e:  # baselines need the training split; the rest does not
        log.warning("no PCA baseline or probes: %s", e)
        train = None
    source = data if isinstance(data, str | Path) else getattr(data, "name", "array")
    return train, test, {"source": str(source), "split": "all of it (--data)"}


class Stream:
    """One pass over the evaluation data in batches, keeping sums and codes only."""

    def __init__(
        self,
        run: Run,
        train: Dataset | None,
        test: Dataset,
        *,
        seed: int,
        compress: bool = True,
    ):
        self.run, self.train, self.test, self.seed = run, train, test, seed
        self.model = run.model
        self.unit = run.scaling.domain == "unit"
        self.pca = _fit_pca(train, self.model.latent_dim, seed) if train else None
        self.sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.codes: list[torch.Tensor] = []
        self.scores: list[np.ndarray] = []
        self.latents = likelihood.LatentStats()
        self.noise = (
            Noise.parse(run.train_config.noise) if run.train_config.noise else None
        )
        self.generator = torch.Generator().manual_seed(seed)
        self.train_codes = _encode(self.model, train.x) if train else None
        self.codec = None
        if compress:
            lo, hi = compression.code_range(
                self.train_codes if train else _encode(self.model, test.x)
            )
            self.codec = compression.CompressionAccumulator(self.model, lo, hi)

    def consume(self, progress: Progress | None) -> None:
        n = len(self.test)
        for i in range(0, n, BATCH):
            y = None if self.test.y is None else self.test.y[i : i + BATCH].numpy()
            self.update(self.test.x[i : i + BATCH], y)
            if progress:
                progress("reconstruct", min(i + BATCH, n), n)

    def update(self, x: torch.Tensor, y: np.ndarray | None) -> None:
        with torch.no_grad():
            x_hat, z = self.model(x), self.model.encode(x)
        terms = self._reconstruction_terms(x, x_hat)
        if self.run.is_variational:
            recon, kl, mu, logvar = likelihood.elbo_terms(
                self.model, x, generator=self.generator
            )
            terms["elbo_recon"], terms["elbo_kl"] = recon.numpy(), kl.numpy()
            self.latents.update(mu, logvar)
        if self.noise is not None:
            bounds = (0.0, 1.0) if self.unit else None
            noisy = self.noise(x, bounds=bounds, generator=self.generator)
            with torch.no_grad():
                denoised = self.model(noisy)
            terms["noisy_mse"] = metrics.mse(x, noisy, reduction="none")
            terms["denoised_mse"] = metrics.mse(x, denoised, reduction="none")
        self._add(terms, y)
        self.codes.append(z)
        self.scores.append(terms["mse"])
        if self.codec is not None:
            self.codec.update(x, z)

    def _reconstruction_terms(
        self, x: torch.Tensor, x_hat: torch.Tensor
    ) -> dict[str, np.ndarray]:
        terms = {"mse": metrics.mse(x, x_hat, reduction="none")}
        terms["mae"] = metrics.mae(x, x_hat, reduction="none")
        if self.unit:
            terms["bce"] = metrics.bce(x, x_hat.clamp(0, 1), reduction="none")
            if x.ndim == 4 and min(x.shape[2:]) >= 7:
                terms["ssim"] = metrics.ssim(x, x_hat, reduction="none")
        if self.pca is not None:
            flat = x.reshape(len(x), -1).numpy()
            back = self.pca.inverse_transform(self.pca.transform(flat))
            terms["pca_mse"] = metrics.mse(flat, back, reduction="none")
        return terms

    def _add(self, terms: dict[str, np.ndarray], y: np.ndarray | None) -> None:
        for name, values in terms.items():
            self.sums["all"][name] += float(np.sum(values))
            if y is not None:
                for label in np.unique(y):
                    self.sums[str(label)][name] += float(np.sum(values[y == label]))
        self.sums["all"]["n"] += len(terms["mse"])
        if y is not None:
            for label, count in zip(*np.unique(y, return_counts=True), strict=True):
                self.sums[str(label)]["n"] += int(count)

    def _means(self, group: str) -> dict[str, float]:
        s = self.sums[group]
        return {k: v / s["n"] for k, v in s.items() if k != "n"}

    def _reconstruction(self, group: str) -> dict[str, Any]:
        m = self._means(group)
        row: dict[str, Any] = {"n": int(self.sums[group]["n"])}
        row |= {k: m[k] for k in ("mse", "mae", "bce") if k in m}
        if self.unit:
            row["psnr"] = metrics.psnr_from_mse(m["mse"])
        if "ssim" in m:
            row["ssim"] = m["ssim"]
        return row

    def report(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "reconstruction": {"overall": self._reconstruction("all")}
        }
        if self.test.y is not None:
            out["reconstruction"]["per_class"] = {
                self.test.label_name(int(g)): self._reconstruction(g)
                for g in sorted((g for g in self.sums if g != "all"), key=int)
            }
        overall = self._means("all")
        if self.pca is not None:
            pca = overall["pca_mse"]
            out["baseline"] = {
                "pca_components": int(self.pca.n_components_),
                "pca_fitted_on": f"{len(self.train)} training examples",
                "model_mse": overall["mse"],
                "pca_mse": pca,
                "mse_ratio": overall["mse"] / pca if pca > 0 else None,
            }
            if self.unit:
                out["baseline"]["model_psnr"] = metrics.psnr_from_mse(overall["mse"])
                out["baseline"]["pca_psnr"] = metrics.psnr_from_mse(pca)
        if self.noise is not None:
            out["denoising"] = _denoising(str(self.noise), overall, self.unit)
        return out

    def vae_report(self, *, k: int, nll_examples: int, seed: int) -> dict[str, Any]:
        m = self._means("all")
        n = len(self.test)
        index = probes.capped(n, nll_examples if nll_examples > 0 else n, seed=seed)
        x = self.test.x[torch.as_tensor(index)]
        estimate = likelihood.importance_weighted_nll(self.model, x, k=k, seed=seed)
        return {
            "elbo": -(m["elbo_recon"] + m["elbo_kl"]),
            "recon": m["elbo_recon"],
            "kl": m["elbo_kl"],
            "nll": estimate.to_dict(),
            "nll_convention": likelihood.likelihood_convention(self.model, x),
            **self.latents.summary(),
        }

    def probe_report(self, *, seed: int) -> dict[str, Any]:
        flat_train = self.train.x.reshape(len(self.train), -1).numpy()
        flat_test = self.test.x.reshape(len(self.test), -1).numpy()
        reps = {"model": (self.train_codes.numpy(), torch.cat(self.codes).numpy())}
        reps["pca"] = (self.pca.transform(flat_train), self.pca.transform(flat_test))
        reps["raw"] = (flat_train, flat_test)
        return probes.compare_representations(
            reps, self.train.y.numpy(), self.test.y.numpy(), seed=seed
        )

    def compression_report(self) -> dict[str, Any]:
        shape, d = tuple(self.test.sample_shape), self.model.latent_dim
        out = self.codec.summary(shape, d, domain=self.run.scaling.domain)
        if self.unit and len(shape) == 3 and shape[0] in (1, 3):
            index = probes.capped(
                len(self.test), compression.JPEG_IMAGES, seed=self.seed
            )
            curve = compression.jpeg_curve(self.test.x[torch.as_tensor(index)])
            for precision in compression.PRECISIONS:
                bpp = out[precision]["bits_per_pixel"]
                out[precision]["jpeg"] = compression.nearest_jpeg(curve, bpp)
            out["jpeg_curve"] = curve
        return out


def _denoising(noise: str, means: dict[str, float], unit: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"noise": noise}
    out |= {"noisy_mse": means["noisy_mse"], "denoised_mse": means["denoised_mse"]}
    if unit:
        out["noisy_psnr"] = metrics.psnr_from_mse(means["noisy_mse"])
        out["denoised_psnr"] = metrics.psnr_from_mse(means["denoised_mse"])
    return out


def _fit_pca(train: Dataset, n_components: int, seed: int) -> Any:
    from sklearn.decomposition import PCA

    flat = train.x.reshape(len(train), -1).numpy()
    k = min(n_components, *flat.shape)
    return PCA(n_components=k, random_state=seed).fit(flat)


def _encode(model: Any, x: torch.Tensor) -> torch.Tensor:
    from .inference import batched

    return batched(model.encode, x)
