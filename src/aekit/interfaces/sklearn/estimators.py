"""scikit-learn estimators: an autoencoder as a transformer and as an outlier detector.

`AutoencoderTransformer` is a non-linear drop-in for `PCA`: `transform` gives codes,
`inverse_transform` decodes them. `AutoencoderOutlierDetector` scores each sample by
its reconstruction error, with the threshold set from `contamination` as in
scikit-learn's `IsolationForest` (the score's `contamination` quantile on the
training data).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, OutlierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ...errors import AekitError
from .base import _AutoencoderBase, _validate


class AutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, _AutoencoderBase
):
    """A non-linear PCA: `transform` encodes to `n_components` codes and
    `inverse_transform` decodes them back to the input's units. A VAE gives its
    posterior means.

    `score(X)` is the negative mean squared reconstruction error in the input's units
    (higher is better, as GridSearchCV expects).
    """

    def fit(self, X: Any, y: Any = None) -> AutoencoderTransformer:
        self._fit(X)
        self._n_features_out = int(self.n_components)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = _validate(self, X, reset=False)
        codes = self._model_call("encode", self._standardise(X))
        return codes.astype(X.dtype if X.dtype == np.float32 else np.float64)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Codes (n_samples, n_components) -> data in the input's units."""
        from sklearn.utils import check_array

        check_is_fitted(self)
        z = check_array(X, dtype=(np.float64, np.float32))
        if z.shape[1] != self.n_components:
            raise AekitError(
                f"codes have {z.shape[1]} columns; this model's code size is "
                f"{self.n_components}"
            )
        x = self._model_call("decode", z.astype(np.float64))
        out = x.astype(np.float64) * self.scale_ + self.mean_
        return out.astype(z.dtype if z.dtype == np.float32 else np.float64)

    def score(self, X: Any, y: Any = None) -> float:
        """Negative mean squared reconstruction error, in the input's units."""
        check_is_fitted(self)
        X = _validate(self, X, reset=False)
        x_hat = self.inverse_transform(self.transform(X)).astype(np.float64)
        return -float(np.mean((X.astype(np.float64) - x_hat) ** 2))

    def __sklearn_tags__(self) -> Any:  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"preserves_dtype": [np.float64, np.float32]}


class AutoencoderOutlierDetector(OutlierMixin, _AutoencoderBase):
    """Outliers are what the autoencoder reconstructs badly.

    Two sign conventions, one per library this class stands in for:

    - scikit-learn's (methods): `score_samples` is the negative mean squared
      reconstruction error per sample (standardised units; lower is more abnormal),
      `decision_function` is that minus `offset_` (negative = outlier), and `predict`
      gives -1 where it is negative (outliers), +1 elsewhere.
    - pyod's (attributes after `fit`, so code written for pyod detectors reads
      them): `decision_scores_` is the training data's reconstruction error (higher
      is more abnormal), `threshold_` is the error above which a sample is called
      an outlier, and `labels_` is 1 for the training outliers, 0 for inliers.

    `offset_` is the `contamination` quantile of the training scores, so about that
    share of the training data is called outlying; `threshold_` is `-offset_`, and
    `labels_ == 1` exactly where `predict` gives -1 on the training data.
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        contamination: float = 0.1,
        model: str = "mlp",
        hidden: tuple[int, ...] = (64,),
        activation: str = "relu",
        epochs: int = 50,
        batch_size: int = 64,
        learning_rate: float = 2e-3,
        random_state: int | np.random.RandomState | None = None,
        device: str = "cpu",
        n_jobs: int | None = None,
    ):
        super().__init__(
            n_components,
            model=model,
            hidden=hidden,
            activation=activation,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            random_state=random_state,
            device=device,
            n_jobs=n_jobs,
        )
        self.contamination = contamination

    def fit(self, X: Any, y: Any = None) -> AutoencoderOutlierDetector:
        c = self.contamination
        if not isinstance(c, float | int | np.number) or not 0 < c <= 0.5:
            raise AekitError(f"contamination must be in (0, 0.5], got {c!r}")
        self._fit(X)
        train_scores = -self._squared_errors(X)
        self.offset_ = float(np.percentile(train_scores, 100.0 * c))
        # pyod's names and sign: higher is more abnormal, 1 marks an outlier
        self.decision_scores_ = -train_scores
        self.threshold_ = -self.offset_
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        return self

    def score_samples(self, X: Any) -> np.ndarray:
        """Negative reconstruction error per sample: the lower, the more abnormal."""
        return -self._squared_errors(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """Negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """+1 for inliers, -1 for outliers."""
        return np.where(self.decision_function(X) < 0, -1, 1)
