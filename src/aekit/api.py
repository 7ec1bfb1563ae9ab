"""The Python API: the same verbs as the CLI, on run directories and arrays."""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import distributed
from .checkpoint import check_checkpoint
from .data import DATASETS, Dataset, StreamDataset, load_dataset
from .data.arrayfile import should_stream
from .errors import AekitError
from .io import is_temp_name, remove_stale_temps, write_json
from .models import MODELS, Model, build_model
from .noise import Noise
from .run import Run, build_run_model, load_run, read_run_config, write_run_config
from .trainer import CHECKPOINT, Progress, TrainConfig, fit

log = logging.getLogger(__name__)

# api.train's data options -> load_dataset's keywords ("channels" is the conv widths)
DATA_OPTIONS = {
    "image_size": "image_size",
    "image_channels": "channels",
    "label_column": "label_column",
    "split": "split",
    "stream": "stream",
}
TRAIN_OPTIONS = tuple(f.name for f in dataclasses.fields(TrainConfig))
BATCH = 512  # inference batch size
OUTPUT_ROWS = 5_000  # rows of a streamed data set that metrics and pictures use


def train(
    data: str | Path | Dataset | np.ndarray = "mnist-5k",
    model: str | None = None,
    *,
    task: str = "reconstruct",
    out: str | Path | None = None,
    resume: str | Path | None = None,
    overwrite: bool = False,
    pictures: bool = True,
    report: bool = True,
    progress: Progress | None = None,
    **options: Any,
) -> Run:
    """Train a registered model on a data source; returns the run read back.

    `options` mixes model options (latent_dim, hidden, upsample, sparsity, beta, ...),
    training options (the TrainConfig fields: epochs, lr, noise, ...) and data options
    (image_size, image_channels, label_column, split, stream). `resume` continues
    a run directory.
    `task` "colorize" or "segment" trains an image-to-image model instead (see
    aekit.tasks; model default "unet").
    """
    if resume is not None:
        return _resume(Path(resume), options, progress, pictures, report)
    if task != "reconstruct":  # colorize, segment: an image-to-image model (unet, ...)
        from .tasks import train_task

        return train_task(
            task,
            data,
            model,
            out=out,
            overwrite=overwrite,
            pictures=pictures,
            progress=progress,
            **options,
        )
    model = model or "mlp"
    data_opts = {
        DATA_OPTIONS[k]: options.pop(k)
        for k in list(DATA_OPTIONS)
        if options.get(k) is not None
    }
    train_opts = {k: options.pop(k) for k in TRAIN_OPTIONS if k in options}
    config = TrainConfig(**train_opts)
    dataset, spec = _dataset(data, data_opts)
    net = _seeded(
        config.seed,
        lambda: build_model(
            model, dataset.sample_shape, **_model_defaults(model, dataset, options)
        ),
    )
    train_set, val_set = dataset.split(config.val_fraction, seed=config.seed)
    # under torchrun rank 0 makes the run directory and the others learn its name
    out = distributed.on_main(
        lambda: _new_run_dir(out, model, dataset, overwrite), config.device
    )
    if distributed.main_process():
        write_run_config(
            out,
            model_name=model,
            model=net,
            data=dataset,
            data_spec=spec,
            train_config=config,
            n_train=len(train_set),
            n_val=len(val_set),
        )
    history = fit(net, train_set, val_set, config, out=out, progress=progress)
    return _finish(out, train_set, val_set, history, pictures, report)


def _resume(
    path: Path,
    options: dict[str, Any],
    progress: Progress | None,
    pictures: bool,
    report: bool = True,
) -> Run:
    record = read_run_config(path)
    allowed = {"epochs", "patience"}
    if set(options) - allowed:
        raise AekitError(
            f"a resumed run keeps its settings; only {sorted(allowed)} may change"
        )
    spec = record["data"]
    if spec.get("source") is None:
        raise AekitError(
            f"{path} was trained on in-memory data, which cannot be reloaded"
        )
    try:
        config = dataclasses.replace(TrainConfig(**record["training"]), **options)
    except (TypeError, ValueError) as e:  # AekitError is a ValueError
        raise AekitError(f"{path / 'config.json'}: training section: {e}") from e
    checkpoint = path / CHECKPOINT
    # killed before the first epoch completed: start again, the same run
    restart = not checkpoint.exists() and not (path / "metrics.json").exists()
    if not checkpoint.exists() and not restart:
        raise AekitError(f"nothing to resume: no {CHECKPOINT} in {path}")
    if not restart:
        check_checkpoint(checkpoint, "training")  # blame a bad file before config
    main = distributed.main_process()
    for stale in remove_stale_temps(path) if main else []:  # a killed run's files
        log.info("removed %s, left by an interrupted run", stale)
    if record.get("task", "reconstruct") != "reconstruct":
        from .tasks import resume_task

        return resume_task(path, record, config, progress, pictures, restart=restart)
    dataset, _ = _dataset(spec["source"], spec.get("options", {}))
    train_set, val_set = dataset.split(config.val_fraction, seed=config.seed)
    model = _seeded(  # fit() fills it from the checkpoint, unless it restarts
        config.seed, lambda: build_run_model(record, path, weights=checkpoint)
    )
    record["training"] = dataclasses.asdict(config)
    if main:
        write_json(path / "config.json", record)
    history = fit(
        model,
        train_set,
        val_set,
        config,
        out=path,
        resume=not restart,
        progress=progress,
    )
    return _finish(path, train_set, val_set, history, pictures, report)


def _finish(
    out: Path,
    train_set: Dataset,
    val_set: Dataset,
    history: Any,
    pictures: bool,
    report: bool = True,
) -> Run:
    from .outputs import write_outputs

    if not history.rows:
        raise AekitError(
            "training stopped before the first epoch completed; nothing saved"
        )
    run = load_run(out)
    run.history = history
    if not distributed.main_process():
        return run  # rank 0 writes the outputs
    if isinstance(train_set, StreamDataset):  # metrics and pictures from samples
        train_set, val_set = train_set.load(OUTPUT_ROWS), val_set.load(OUTPUT_ROWS)
    write_outputs(run, train_set, val_set, history, pictures=pictures, report=report)
    return run


def _dataset(data: Any, options: dict[str, Any]) -> tuple[Dataset, dict[str, Any]]:
    if isinstance(data, Dataset):
        return data, {"source": None, "options": {}}
    if isinstance(data, np.ndarray | torch.Tensor):
        from .data.files import dataset_from_array

        return dataset_from_array(np.asarray(data), name="array"), {
            "source": None,
            "options": {},
        }
    source = [str(p) for p in data] if isinstance(data, list | tuple) else str(data)
    return load_dataset(source, **options), {"source": source, "options": options}


def _model_defaults(
    model: str, data: Dataset, options: dict[str, Any]
) -> dict[str, Any]:
    """Fill what the data decides: the output activation and the VAE's likelihood."""
    options = {k: v for k, v in options.items() if v is not None}
    unit = data.scaling.domain == "unit"
    options.setdefault("output", "sigmoid" if unit else "identity")
    if MODELS.get(model) and "likelihood" in {
        f.name for f in dataclasses.fields(MODELS[model].config)
    }:
        if options.get("likelihood", "auto") == "auto":
            options["likelihood"] = "bernoulli" if unit else "gaussian"
    return options


def _new_run_dir(
    out: str | Path | None, model: str, data: Dataset, overwrite: bool
) -> Path:
    if out is None:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(data.name).stem or "data").strip(
            "-"
        )
        base, out, n = Path("runs") / f"{model}-{stem}", None, 1
        out = base
        while out.exists():
            n += 1
            out = base.with_name(f"{base.name}-{n}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AekitError(f"{out} is a file, not a directory; choose another --out")
    # a directory holding only what a killed run was writing counts as empty
    if out.exists() and any(not is_temp_name(p.name) for p in out.iterdir()):
        if not (out / "config.json").is_file():
            raise AekitError(
                f"{out} exists and is not an aekit run; choose another --out"
            )
        if not overwrite:
            raise AekitError(
                f"{out} already holds a run; continue it with --resume {out}, "
                "or replace it with --force"
            )
        try:
            shutil.rmtree(out)
        except OSError as e:
            reason = e.strerror or e
            raise AekitError(f"cannot replace {out} (--force): {reason}") from e
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        reason = e.strerror or e
        raise AekitError(f"cannot create the run directory {out}: {reason}") from e
    remove_stale_temps(out)
    return out


def _seeded(seed: int, build: Callable[[], Model]) -> Model:
    """Initial weights drawn from the run's seed: the same seed, the same run."""
    with torch.random.fork_rng(devices=[]):  # the caller's random state is kept
        torch.manual_seed(seed)
        return build()


# -- using a trained run --------------------------------------------------------------
def as_run(run: Run | str | Path) -> Run:
    return run if isinstance(run, Run) else load_run(run)


def load_inputs(run: Run, inputs: Any) -> Dataset:
    """Inputs in source units (a source, paths or an array) -> a model-ready Dataset."""
    if isinstance(inputs, Dataset):
        data = inputs
    elif isinstance(inputs, np.ndarray | torch.Tensor):
        x = run.scaling.from_source(np.asarray(inputs, dtype=np.float32))
        data = Dataset(x, scaling=run.scaling, name="array")
    else:
        shape = run.sample_shape
        image = (
            {"image_size": tuple(shape[1:]), "channels": shape[0]}
            if len(shape) == 3
            else {}
        )
        source = (
            [str(p) for p in inputs]
            if isinstance(inputs, list | tuple)
            else str(inputs)
        )
        if isinstance(source, str) and should_stream(source):  # larger than memory
            data = load_dataset(source, scaling=run.scaling, stream=True)
        else:
            data = load_dataset(source, scaling=run.scaling, **image)
    if data.sample_shape != run.sample_shape:
        raise AekitError(
            f"{data.name}: samples have shape {data.sample_shape}, but {run.path} was "
            f"trained on {run.sample_shape}"
        )
    return data


def batched(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([fn(x[i : i + BATCH]) for i in range(0, len(x), BATCH)])


def reconstruct(run: Run | str | Path, inputs: Any) -> np.ndarray:
    """Reconstructions of `inputs`, one row per input, in the source's units."""
    run = as_run(run)
    return run.scaling.to_source(batched(run.model, load_inputs(run, inputs).x))


def denoise(
    run: Run | str | Path, inputs: Any, *, add_noise: str | None = None, seed: int = 0
) -> np.ndarray:
    """Denoised `inputs` in source units; `add_noise` corrupts them first (demos)."""
    run = as_run(run)
    x = load_inputs(run, inputs).x
    if add_noise:
        bounds = (0.0, 1.0) if run.scaling.domain == "unit" else None
        x = Noise.parse(add_noise)(
            x, bounds=bounds, generator=torch.Generator().manual_seed(seed)
        )
    return run.scaling.to_source(batched(run.model, x))


def encode(run: Run | str | Path, inputs: Any) -> np.ndarray:
    """Codes (N, latent_dim) of `inputs`; a VAE gives its posterior means."""
    run = as_run(run)
    data = load_inputs(run, inputs)
    if isinstance(data, StreamDataset):  # larger than memory: codes fill one array
        return data.map(run.model.encode, BATCH)
    return batched(run.model.encode, data.x).numpy()


def decode(run: Run | str | Path, codes: Any) -> np.ndarray:
    """Decoded codes (N, latent_dim) -> data in the source's units."""
    run = as_run(run)
    z = torch.as_tensor(np.asarray(codes, dtype=np.float32))
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 or z.shape[1] != run.model.latent_dim:
        raise AekitError(
            f"codes must have shape (N, {run.model.latent_dim}), got {tuple(z.shape)}"
        )
    from .data import check_finite

    check_finite(z, "codes")
    return run.scaling.to_source(batched(run.model.decode, z))


def sample(run: Run | str | Path, n: int = 64, *, seed: int = 0) -> np.ndarray:
    """n new examples in the source's units: a VAE decodes its prior; a plain
    autoencoder decodes draws from a Gaussian fitted to its training codes."""
    run = as_run(run)
    if n < 1:
        raise AekitError(f"the number of samples must be positive, got {n}")
    return run.scaling.to_source(sample_model_units(run, n, seed=seed))


def sample_model_units(run: Run, n: int, *, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    d = run.model.latent_dim
    eps = torch.randn(n, d, generator=g)
    if not run.is_variational:
        from .outputs import read_code_stats

        mean, cov = read_code_stats(run)
        eps = mean + eps @ torch.linalg.cholesky(cov).T
    return batched(run.model.decode, eps)


def info(run: Run | str | Path) -> dict[str, Any]:
    """What a run is: model, size, data, training, and its metrics."""
    run = as_run(run)
    n_params = sum(p.numel() for p in run.model.parameters())
    task = run.record.get("task", "reconstruct")
    return {
        "path": str(run.path),
        "model": run.model_name,
        "task": task,
        "parameters": n_params,
        # image-to-image models (tasks) have no vector code
        "latent_dim": run.model.latent_dim if task == "reconstruct" else None,
        "model_config": run.record["model"]["config"],
        "data": {k: v for k, v in run.data_spec.items() if k != "scaling"},
        "training": run.record["training"],
        "metrics": run.metrics,
        "versions": run.record.get("versions", {}),
        "files": sorted(
            p.name for p in run.path.iterdir() if not p.name.startswith(".")
        ),
    }


def datasets() -> dict[str, str]:
    """Built-in data set names and what each is."""
    return {name: entry.description for name, entry in DATASETS.items()}


def count_parameters(model: Model) -> int:
    return sum(p.numel() for p in model.parameters())
