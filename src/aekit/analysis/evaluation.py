"""Evaluation of a run (`aekit evaluate`): how good it is, in numbers, beside baselines.

The evaluation data (the run's own validation split by default) is streamed in
batches and only sums are kept, so reconstructions of a large data set never sit in
memory: reconstruction errors overall and per class, PCA with the same number of
components fitted on the run's training split, a VAE's ELBO terms, active units and
importance-weighted NLL (aekit.analysis.likelihood), codes against PCA codes and
raw inputs (aekit.analysis.probes), the code as a compressed file
(aekit.analysis.compression), denoising,
anomaly scores ranked against known anomalies (aekit.analysis.anomaly), and the Mutual
Information Gap of the codes against known factors (aekit.analysis.disentanglement).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import Dataset
from ..data.activations import ActivationDataset
from ..errors import AekitError
from ..inference import BATCH, data_conditions
from ..inference.distributions import posterior_of_run
from ..run import Run, run_splits  # noqa: F401  (aekit.analysis.evaluation.run_splits)
from ..training.noise import Noise
from . import anomaly, compression, likelihood, metrics, probes
from .disentanglement import factors_of, mutual_information_gap
from .music_midi import is_music_run
from .sae_metrics import is_sae, sparsity_metrics
from .series_anomaly import step_ranking

ACTIVATION_TRAIN_ROWS = 20_000  # training rows of a network's activations baselines see

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage, done, total)


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
    all). `samples` scores the run's samples (aekit.analysis.sample_quality).
    `factors` (a CSV with a column per factor, a row per evaluated input, or an array)
    scores the codes' disentanglement by MIG; without it the data's labels are the one
    factor.
    Runs of other tasks are scored by their task (aekit.tasks.evaluate).
    """
    from ..run import as_run

    run = as_run(run)
    if not run.capabilities.has_code:
        raise AekitError(
            f"{run.path} is a {run.task} run: its task scores it "
            "(aekit.evaluate, or the CLI's `aekit evaluate`)"
        )
    if options:
        raise AekitError(f"unknown evaluation option(s): {', '.join(sorted(options))}")
    train, test, described = _evaluation_data(run, data)
    acts = test if isinstance(test, ActivationDataset) else None
    if acts is not None:  # computed once, the codes' size or less
        train = None if train is None else train.load(ACTIVATION_TRAIN_ROWS, seed)
        test = acts.load()
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
    if posterior_of_run(run).is_distribution:
        report["vae"] = stream.vae_report(k=k, nll_examples=nll_examples, seed=seed)
    prior_fit = getattr(run.model, "prior_fit", None)  # models outside aekit: none
    fit = prior_fit(torch.cat(stream.codes), seed=seed) if prior_fit else None
    if fit is not None:  # the family's own measure of its codes against its prior
        report["prior_fit"] = fit
    if probe and _two_classes(train) and _two_classes(test):
        report["codes"] = stream.probe_report(seed=seed)
    if compress:
        report["compression"] = stream.compression_report()
    if samples and run.capabilities.sampler is not None:
        from .sample_quality import sample_quality

        report["samples"] = sample_quality(run, train, test, seed=seed)
    if is_music_run(run):  # MusicVAE's note accuracy, samples, interpolations
        from .music_metrics import music_report

        report["music"] = music_report(run, train, test, seed=seed)
        report["note_accuracy"] = report["music"]["note_accuracy"]
    if truth is not None:
        scores = np.concatenate(stream.scores)
        report["anomaly"] = anomaly.ranking_report(scores, *truth)
    if test.series is not None:  # a series with step labels: rank its steps
        steps = step_ranking(test, np.concatenate(stream.scores))
        if steps is not None:
            report["anomaly_steps"] = steps
    if is_sae(run.model):  # L0, FVU, dead and dense latents, densities
        from ..inference import decode

        codes = torch.cat(stream.codes)
        report["sparsity"] = sparsity_metrics(codes, test.x, decode(run, codes))
        if acts is not None:  # the SAE spliced into the network it read
            from .sae_downstream import loss_recovered

            report["sparsity"]["downstream"] = loss_recovered(run, acts)
    known = factors_of(factors, test)
    if known is not None:
        codes = torch.cat(stream.codes).numpy()
        report["disentanglement"] = mutual_information_gap(codes, known[0])
        report["disentanglement"]["factors"] = known[1]
    return report


def _evaluation_data(
    run: Run, data: Any
) -> tuple[Dataset | None, Dataset, dict[str, Any]]:
    from ..run import load_inputs

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
        # an overcomplete code (an SAE's dictionary) makes PCA exact: no baseline
        overcomplete = self.model.latent_dim >= test.x[0].numel()
        fit = train is not None and not overcomplete
        self.pca = _fit_pca(train, self.model.latent_dim, seed) if fit else None
        self.sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.codes: list[torch.Tensor] = []
        self.scores: list[np.ndarray] = []
        self.latents = likelihood.LatentStats()
        self.noise = (
            Noise.parse(run.train_config.noise) if run.train_config.noise else None
        )
        self.generator = torch.Generator().manual_seed(seed)
        self.c = data_conditions(run, test)
        self.train_codes = (
            _encode(self.model, train.x, data_conditions(run, train)) if train else None
        )
        self.codec = None
        if compress:
            lo, hi = compression.code_range(
                self.train_codes if train else _encode(self.model, test.x, self.c)
            )
            attributes = 0 if self.c is None or self.c.ndim == 1 else self.c.shape[1]
            self.codec = compression.CompressionAccumulator(
                self.model,
                lo,
                hi,
                classes=run.n_classes if self.c is not None and not attributes else 0,
                attributes=attributes,
            )

    def consume(self, progress: Progress | None) -> None:
        n = len(self.test)
        for i in range(0, n, BATCH):
            y = None if self.test.y is None else self.test.y[i : i + BATCH].numpy()
            c = None if self.c is None else self.c[i : i + BATCH]
            self.update(self.test.x[i : i + BATCH], y, c)
            if progress:
                progress("reconstruct", min(i + BATCH, n), n)

    def update(
        self, x: torch.Tensor, y: np.ndarray | None, c: torch.Tensor | None = None
    ) -> None:
        """One batch; `c`, its conditions, is given to conditional models only."""
        given = () if c is None else (c,)
        with torch.no_grad():
            x_hat, z = self.model(x, *given), self.model.encode(x, *given)
        terms = self._reconstruction_terms(x, x_hat)
        if posterior_of_run(self.run).is_distribution:
            recon, kl, mu, logvar = likelihood.elbo_terms(
                self.model, x, generator=self.generator, c=c
            )
            terms["elbo_recon"], terms["elbo_kl"] = recon.numpy(), kl.numpy()
            self.latents.update(mu, logvar)
        if self.noise is not None:
            bounds = (0.0, 1.0) if self.unit else None
            noisy = self.noise(x, bounds=bounds, generator=self.generator)
            with torch.no_grad():
                denoised = self.model(noisy, *given)
            terms["noisy_mse"] = metrics.mse(x, noisy, reduction="none")
            terms["denoised_mse"] = metrics.mse(x, denoised, reduction="none")
        self._add(terms, y)
        self.codes.append(z)
        self.scores.append(terms["mse"])
        if self.codec is not None:
            self.codec.update(x, z, c)

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
        index = torch.as_tensor(index)
        x, c = self.test.x[index], None if self.c is None else self.c[index]
        estimate = likelihood.importance_weighted_nll(
            self.model, x, k=k, seed=seed, c=c
        )
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
        if self.pca is not None:  # none beside an overcomplete code (an SAE)
            pca = self.pca
            reps["pca"] = (pca.transform(flat_train), pca.transform(flat_test))
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


def _encode(model: Any, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
    from ..inference import batched

    return batched(model.encode, x, c)


def _two_classes(data: Any) -> bool:
    """Labels with two classes or more: what a probe needs (a series' window labels
    are often all normal in the training split)."""
    return data is not None and data.y is not None and len(np.unique(data.y)) > 1
