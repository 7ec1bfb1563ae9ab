"""What aekit's scikit-learn estimators share: validation, threads, training.

The estimators themselves are in aekit.interfaces.sklearn.estimators and
aekit.interfaces.sklearn.cluster.

All standardise each column inside (the scaling is stored), train
an aekit model through `aekit.training.loop.fit`, and follow scikit-learn's conventions:
`__init__` only stores parameters, learned state ends in `_`, `fit` returns self.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ...data import Dataset
from ...errors import AekitError
from ...models import MODELS
from ...training.hardware import usable_cores

MAX_VAL = 512  # samples scored each epoch, for the logged validation loss only


def vector_models() -> tuple[str, ...]:
    """Registered autoencoders that take vectors (tables), need no condition and
    have the MLP body the estimators' `hidden` and `activation` shape (not `sae`,
    a dictionary without hidden layers)."""
    return tuple(
        name
        for name, spec in MODELS.items()
        if "vector" in spec.capabilities.inputs
        and spec.capabilities.has_code
        and not spec.capabilities.conditional
        and {"hidden", "activation"}
        <= {f.name for f in dataclasses.fields(spec.config)}
    )


def _validate(est: BaseEstimator, X: Any, *, reset: bool) -> np.ndarray:
    """sklearn's validate_data (>= 1.6) or the older estimator method."""
    try:
        from sklearn.utils.validation import validate_data
    except ImportError:  # scikit-learn < 1.6
        return est._validate_data(X, reset=reset, dtype=(np.float64, np.float32))
    return validate_data(est, X, reset=reset, dtype=(np.float64, np.float32))


@contextlib.contextmanager
def _torch_threads(n_jobs: int | None) -> Iterator[None]:
    """torch's intra-op threads for the duration; None is 1, as scikit-learn reads it.

    Small tables train in tiny batches, where more threads only spin: on two busy
    cores, 30 epochs on 600 digits took 50 s with two threads and 2.5 s with one.
    """
    from joblib import effective_n_jobs

    before = torch.get_num_threads()
    torch.set_num_threads(min(max(1, effective_n_jobs(n_jobs)), usable_cores()))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _RefusesTorchNames(type(BaseEstimator)):  # type: ignore[misc]
    """The estimators' metaclass: `latent_dim=` (aekit's torch-side name for the code
    size) is refused in one line naming scikit-learn's `n_components`, where
    `__init__` alone would give Python's bare TypeError.

    The check sits in the metaclass's `__call__` so that `__init__` keeps only real
    parameters, as scikit-learn requires. A custom `__call__` (or `__new__`) would
    make `inspect.signature(cls)` read `(*args, **kwargs)`, which scikit-learn's
    check_do_not_raise_errors_in_init_or_set_params uses to build its calls, so
    `__signature__` gives it `__init__`'s parameters back."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if "latent_dim" in kwargs:
            raise AekitError(
                f"{cls.__name__} takes n_components (scikit-learn's name for the code "
                f"size), not latent_dim: {cls.__name__}("
                f"n_components={kwargs['latent_dim']!r}, ...)"
            )
        return super().__call__(*args, **kwargs)

    @property
    def __signature__(cls) -> inspect.Signature:
        init = inspect.signature(cls.__init__)  # type: ignore[misc]
        return init.replace(parameters=list(init.parameters.values())[1:])


class _AutoencoderBase(BaseEstimator, metaclass=_RefusesTorchNames):
    """What the estimators share: parameters, scaling, training, reconstruction."""

    _code_size_name = "n_components"  # the parameter that holds the code size

    def __init__(
        self,
        n_components: int = 2,
        *,
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
        self.n_components = n_components  # the code size
        self.model = model  # "mlp" or "vae"
        self.hidden = hidden  # encoder widths, mirrored in the decoder; () is shallow
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.device = device
        self.n_jobs = n_jobs  # torch threads; None is 1, -1 all cores

    # -- training --------------------------------------------------------------
    def _fit(self, X: Any) -> None:
        """Validate, standardise and train."""
        X = _validate(self, X, reset=True)
        self._check_params()
        self.mean_ = X.mean(axis=0, dtype=np.float64)
        scale = X.std(axis=0, dtype=np.float64)
        self.scale_ = np.where(scale > 1e-12 * (1 + np.abs(self.mean_)), scale, 1.0)
        x = self._standardise(X)
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        self.model_ = self._train(x, seed)

    def _check_params(self) -> None:
        kinds = vector_models()
        if self.model not in kinds:
            raise AekitError(f"model must be one of {kinds}, got {self.model!r}")
        for name in (self._code_size_name, "epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise AekitError(f"{name} must be a positive integer, got {value!r}")

    def _train(self, x: np.ndarray, seed: int) -> Any:
        from ...models import build_model
        from ...training.loop import TrainConfig, fit

        # every family with a likelihood option gets the Gaussian one: a table's
        # columns are standardised, not in [0, 1] (vae, vae-gan, beta-tc-vae alike)
        fields = {f.name for f in dataclasses.fields(MODELS[self.model].config)}
        options = {"likelihood": "gaussian"} if "likelihood" in fields else {}
        with torch.random.fork_rng():  # seeded weights, the caller's RNG untouched
            torch.manual_seed(seed)
            net = build_model(
                self.model,
                (x.shape[1],),
                latent_dim=int(getattr(self, self._code_size_name)),
                hidden=tuple(self.hidden),
                activation=self.activation,
                output="identity",
                **options,
            )
        config = TrainConfig(
            epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            lr=float(self.learning_rate),
            seed=seed,
            patience=0,  # a fixed number of epochs, as MLPRegressor by default
            device=self.device,
        )
        data = Dataset(torch.from_numpy(x.astype(np.float32)))
        with _torch_threads(self.n_jobs):
            fit(net, data, data.subset(slice(0, MAX_VAL)), config)
        # inference in float64: float32 matmuls round differently with the batch
        # size, and scikit-learn wants a sample's output not to depend on its batch
        return net.cpu().double().eval()

    # -- using the model -------------------------------------------------------
    def _standardise(self, X: np.ndarray) -> np.ndarray:
        return (X.astype(np.float64) - self.mean_) / self.scale_

    def _model_call(self, fn_name: str, a: np.ndarray) -> np.ndarray:
        from ...inference import batched

        with _torch_threads(self.n_jobs):
            x = torch.from_numpy(a)
            return batched(getattr(self.model_, fn_name), x).numpy()

    def _squared_errors(self, X: Any) -> np.ndarray:
        """Per-sample mean squared reconstruction error, in standardised units."""
        check_is_fitted(self)
        x = self._standardise(_validate(self, X, reset=False))
        x_hat = self._model_call("forward", x)
        return np.mean((x_hat.astype(np.float64) - x) ** 2, axis=1)
