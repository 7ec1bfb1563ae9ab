"""ONNX export of a run: encoder, decoder and the whole autoencoder, dynamic batch size.

Each graph is captured with `torch.export` in strict mode (TorchDynamo), which keeps
the batch size symbolic where the models read it with `len(x)`; the non-strict and
TorchScript paths bake the example's batch size into reshapes. The ONNX graph is then
built by `torch.onnx.export` from the exported program, which needs `onnxscript`.
Everything works in model units; `aekit-onnx.json` holds the scaling back to the
source's units, the shapes and the names. A max-unpool decoder needs the encoder's
pooling switches: `decoder.onnx` takes codes alone and so uses the bed-of-nails
fallback (as `aekit decode` does), while `autoencoder.onnx` keeps the switches.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.io import write_bytes, write_json
from ..errors import AekitError
from ..inference.distributions import posterior_of_run
from ..run import Run

log = logging.getLogger(__name__)

METADATA = "aekit-onnx.json"
TOLERANCE = 1e-4  # largest |ONNX Runtime - PyTorch| accepted by the check after export


class _Call(nn.Module):
    """One method of a model as a module's forward, for torch.export; a conditional
    model's graphs take the condition `c` as their second input."""

    def __init__(self, model: nn.Module, method: str):
        super().__init__()
        self.model, self.method = model, method

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return getattr(self.model, self.method)(*inputs)


def export_onnx(
    run: Run | str | Path,
    out: str | Path,
    *,
    opset: int | None = None,
    verify: bool = True,
) -> dict[str, Any]:
    """Write RUN's encoder.onnx, decoder.onnx, autoencoder.onnx and aekit-onnx.json.

    Image-to-image runs (no vector code) get model.onnx alone. With `verify` (and
    onnxruntime installed) each graph is run on a random batch and compared with
    PyTorch; the largest difference is recorded and above 1e-4 raises. Returns what
    aekit-onnx.json holds.
    """
    from ..run import as_run

    _require("onnx", "onnxscript")
    run = as_run(run)
    out = Path(out)
    model = run.model.cpu().eval()
    shape, graphs = run.sample_shape, {}
    every = {
        "encoder": ("encode", "x", shape, "z"),
        "decoder": ("decode", "z", (model.latent_dim,), "x_hat"),
        "autoencoder": ("forward", "x", shape, "x_hat"),
        "model": ("forward", "x", shape, "y"),
    }
    graphs = {name: every[name] for name in run.capabilities.exports}
    if not graphs:
        raise AekitError(f"a {run.model_name} run has no part to export to ONNX")
    meta = _metadata(run)
    for name, (method, in_name, in_shape, out_name) in graphs.items():
        module = _Call(model, method)
        names = [in_name, "c"] if run.capabilities.conditional else [in_name]
        example = _examples(run, in_name, in_shape, 2)
        proto = _to_onnx(module, names, out_name, example, opset)
        path = write_bytes(out / f"{name}.onnx", proto.SerializeToString())
        entry = {"file": path.name, "input": in_name, "output": out_name}
        if len(names) > 1:
            entry["condition"] = "c"
        entry["opset"] = next(o.version for o in proto.opset_import if not o.domain)
        if verify:
            entry["max_abs_diff"] = _verify(
                path, module, _examples(run, in_name, in_shape, 5)
            )
        meta["graphs"][name] = entry
        log.info("wrote %s", path)
    write_json(out / METADATA, meta)
    return meta


def _require(*modules: str) -> None:
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise AekitError(
            f"ONNX export needs {', '.join(missing)}: pip install 'aekit[export]'"
        )


def _examples(
    run: Run, name: str, shape: tuple[int, ...], n: int
) -> tuple[torch.Tensor, ...]:
    """A seeded batch in model units (codes and real data standard normal, unit data
    uniform in [0, 1]) and, for a conditional run, class labels for it."""
    g = torch.Generator().manual_seed(n)
    if name != "z" and run.scaling.domain == "unit":
        x = torch.rand(n, *shape, generator=g)
    else:
        x = torch.randn(n, *shape, generator=g)
    if not run.capabilities.conditional:
        return (x,)
    n_classes = max(run.n_classes, 1)
    return x, torch.arange(n) % n_classes


def _to_onnx(
    module: nn.Module,
    in_names: list[str],
    out_name: str,
    inputs: tuple[torch.Tensor, ...],
    opset: int | None,
) -> Any:
    batch = torch.export.Dim("batch")
    with _quiet():
        try:
            program = torch.export.export(
                module,
                inputs,
                dynamic_shapes=(tuple({0: batch} for _ in inputs),),
                strict=True,
            )
            onnx_program = torch.onnx.export(
                program,
                f=None,
                input_names=in_names,
                output_names=[out_name],
                opset_version=opset,
                external_data=False,
                verbose=False,
            )
            proto = onnx_program.model_proto
        except Exception as e:  # the exporter raises many types; all mean "cannot"
            first = (str(e).strip().splitlines() or [""])[0]
            raise AekitError(
                f"cannot export {type(module.model).__name__}.{module.method} to "
                f"ONNX: {type(e).__name__}: {first}"
            ) from e
    _name_batch_axis(proto)
    import onnx

    onnx.checker.check_model(proto)
    return proto


def _name_batch_axis(proto: Any) -> None:
    """The exporter names the symbolic batch axis s0, s1...; call it "batch"."""
    symbol = proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    if not symbol:
        raise AekitError("the exported graph has a fixed batch size")
    for value in [*proto.graph.input, *proto.graph.output, *proto.graph.value_info]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param == symbol:
                dim.dim_param = "batch"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter logs and warns about torchvision ops, deprecations and attribute
    types on every call; the library never prints, and failures raise anyway."""
    names = ("torch.onnx", "torch.export", "onnxscript", "onnx_ir")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.CRITICAL)  # failures become one AekitError
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _verify(
    path: Path, module: Callable, inputs: tuple[torch.Tensor, ...]
) -> float | None:
    try:
        import onnxruntime as ort
    except ImportError:
        log.info("onnxruntime is not installed; %s was not checked", path)
        return None
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {
        i.name: t.numpy() for i, t in zip(session.get_inputs(), inputs, strict=True)
    }
    got = session.run(None, feed)[0]
    with torch.no_grad():
        want = module(*inputs).numpy()
    diff = float(np.max(np.abs(got - want)))
    if not diff <= TOLERANCE:
        raise AekitError(f"{path}: ONNX Runtime differs from PyTorch by {diff:.3g}")
    return diff


def _metadata(run: Run) -> dict[str, Any]:
    from ..version import __version__

    notes = ["inputs and outputs are in model units; see scaling"]
    if posterior_of_run(run).is_distribution:
        notes.append("the encoder gives the posterior mean")
    config = run.record["model"]["config"]
    if config.get("upsample") == "max-unpool":
        notes.append(
            "decoder.onnx takes codes alone, so it unpools to bed-of-nails positions; "
            "autoencoder.onnx unpools with the encoder's switches"
        )
    return {
        "format": "aekit-onnx",
        "run": str(run.path),
        "model": run.model_name,
        "sample_shape": list(run.sample_shape),
        "latent_dim": getattr(run.model.config, "latent_dim", None),
        "scaling": run.scaling.to_dict(),
        "scaling_formula": "source = model * scale + offset",
        "versions": {"aekit": __version__, "torch": torch.__version__},
        "notes": notes,
        "graphs": {},
    }
