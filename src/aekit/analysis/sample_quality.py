"""One sample-quality number for every run that samples: the Fréchet distance between
its samples and held-out data in the features of a small classifier trained on the
run's real training data (the FID of Heusel et al. 2017, "GANs Trained by a Two
Time-Scale Update Rule Converge to a Local Nash Equilibrium",
https://arxiv.org/abs/1706.08500, with a task-sized network in place of Inception).

Protocol (`aekit evaluate`, the "samples" section):

1. The classifier: an MLP on the flattened input, D -> 256 -> 128 -> classes, ReLU,
   trained with Adam (lr 1e-3, batch 128) for CLASSIFIER_EPOCHS epochs on the run's
   training split and its labels, seeded; cached in RUN/sample_quality/ as
   classifier.safetensors (with classifier.json saying what it was trained on).
   Its features are the 128 activations of the last hidden layer.
2. n = min(N_SAMPLES, held-out size) samples from the run's own sampler (seed 0),
   and n held-out examples (the run's validation split, or --data), seeded.
3. frechet = ||mu_s - mu_h||^2 + Tr(S_s + S_h - 2 (S_s S_h)^(1/2)) of the two
   feature sets; `frechet_train` is the same between n training examples and the
   held-out ones: the floor that finite samples leave (0 is out of reach).
4. Conditional runs: n samples drawn for each label in turn; `label_accuracy` is
   the share the classifier assigns to the label they were drawn for (beside the
   classifier's own accuracy on the held-out data). Runs conditioned on CSV
   columns sample under the column values of n held-out rows.

Lower frechet is better; the numbers compare runs on the same data only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import inference
from ..data import Dataset
from ..data.io import write_json
from ..errors import AekitError
from ..run import Run
from ..training.checkpoint import load_weights, save_weights

log = logging.getLogger(__name__)

CLASSIFIER_EPOCHS = 5
HIDDEN = (256, 128)
N_SAMPLES = 2000
FOLDER = "sample_quality"


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets a (N, F), b (M, F)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets of shapes {a.shape} and {b.shape} differ")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Fréchet distance needs two or more rows per set")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr((S_a S_b)^(1/2)) = sum of sqrt of the eigenvalues of S_a^(1/2) S_b S_a^(1/2)
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    cross = float(np.sqrt(np.clip(middle, 0, None)).sum())
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b))
    return max(0.0, value - 2.0 * cross)


class FeatureClassifier(nn.Module):
    """Flattened input -> HIDDEN (ReLU) -> class logits; features: the last hidden."""

    def __init__(self, input_dim: int, n_classes: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(input_dim, HIDDEN[0]),
            nn.ReLU(),
            nn.Linear(HIDDEN[0], HIDDEN[1]),
            nn.ReLU(),
        )
        self.head = nn.Linear(HIDDEN[1], n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def train_classifier(
    data: Dataset, n_classes: int, *, epochs: int = CLASSIFIER_EPOCHS, seed: int = 0
) -> FeatureClassifier:
    """The feature classifier fitted to labelled `data`, seeded."""
    if data.y is None:
        raise AekitError(f"{data.name} has no labels to train a classifier on")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = FeatureClassifier(int(np.prod(data.sample_shape)), n_classes)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            for index in torch.randperm(len(data), generator=g).split(128):
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(data.x[index]), data.y[index])
                loss.backward()
                optimizer.step()
    return model.eval()


def classifier_for(run: Run, train: Dataset, *, seed: int = 0) -> FeatureClassifier:
    """The run's cached classifier, trained on `train` first if there is none (or
    the cached one was trained on other data or settings)."""
    n_classes = int(train.y.max()) + 1
    n_classes = max(n_classes, len(run.classes or ()))
    settings = {
        "input_dim": int(np.prod(train.sample_shape)),
        "n_classes": n_classes,
        "hidden": list(HIDDEN),
        "epochs": CLASSIFIER_EPOCHS,
        "seed": seed,
        "n_train": len(train),
    }
    folder = run.path / FOLDER
    weights, record = folder / "classifier.safetensors", folder / "classifier.json"
    model = FeatureClassifier(settings["input_dim"], n_classes)
    if weights.is_file() and record.is_file():
        try:
            if json.loads(record.read_text()) == settings:
                load_weights(weights, model)
                return model.eval()
        except (OSError, ValueError) as e:  # a damaged cache is trained again
            log.warning("training the classifier again: %s", e)
    model = train_classifier(train, n_classes, seed=seed)
    folder.mkdir(exist_ok=True)
    save_weights(weights, model)
    write_json(record, settings)
    return model


def sample_quality(
    run: Run, train: Dataset | None, test: Dataset, *, seed: int = 0
) -> dict[str, Any]:
    """The "samples" section of `aekit evaluate` (see the module's protocol), or
    {"skipped": why} when the run cannot be scored."""
    caps = run.capabilities
    if caps.sampler is None:
        return {"skipped": f"a {run.model_name} run does not sample"}
    if train is None or train.y is None or test.y is None:
        return {"skipped": "no labelled training data to train the classifier on"}
    try:
        samples, asked = _draw(run, min(N_SAMPLES, len(test)), seed, test)
    except AekitError as e:  # a learned prior not fitted yet
        return {"skipped": str(e)}
    classifier = classifier_for(run, train, seed=seed)
    n = len(samples)
    held = test.x[_pick(len(test), n, seed)]
    reference = train.x[_pick(len(train), n, seed + 1)]
    with torch.no_grad():
        f_samples = inference.batched(classifier.features, samples).numpy()
        f_held = inference.batched(classifier.features, held).numpy()
        f_train = inference.batched(classifier.features, reference).numpy()
        accuracy = _accuracy(classifier, test.x, test.y)
    out: dict[str, Any] = {
        "metric": "Fréchet distance in the features of a classifier trained on "
        "the run's training split (aekit.analysis.sample_quality)",
        "n": n,
        "frechet": frechet_distance(f_samples, f_held),
        "frechet_train": frechet_distance(f_train, f_held),
        "classifier_accuracy": accuracy,
    }
    if asked is not None:
        out["label_accuracy"] = _accuracy(classifier, samples, asked)
    return out


def _draw(
    run: Run, n: int, seed: int, test: Dataset
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """n samples (model units) and, for a run conditioned on labels, the labels
    asked for (every class in turn). A run conditioned on CSV columns samples under
    the attribute values of n held-out rows, so the samples answer the held-out
    data's conditions."""
    if run.condition_columns is not None and test.c is not None:
        c = test.c[_pick(len(test), n, seed + 2)]
        return inference.sample(run, len(c), seed=seed, c=c), None
    c = inference.class_conditions(run, None, n)
    return inference.sample(run, n, seed=seed, c=c), c


def _pick(n: int, k: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[: min(k, n)]


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        predicted = inference.batched(model, x).argmax(1)
    return float((predicted == y.long()).float().mean())
