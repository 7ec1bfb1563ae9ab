"""Where an SAE's activations come from: a layer of an aekit run's network (by its
name in `named_modules()`), of a TorchScript file, or a named tensor of an ONNX
file, read from data batch by batch (aekit.data.activations)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data.activations import Read
from ..errors import AekitError

NAMES_SHOWN = 6  # valid layer names a refusal lists


class _Reached(Exception):
    """Raised by the hook once the layer has run: the rest of the forward pass is
    not needed for its activations."""


@dataclass
class LayerSource:
    """A network and one of its layers: `read` gives that layer's activations of
    inputs in the network's units; `module` and `layer_module` are set for torch
    networks (whose forward pass can be spliced, aekit.analysis.sae_downstream)."""

    kind: str  # "run", "torchscript" or "onnx"
    path: Path
    layer: str
    read: Read
    module: nn.Module | None = None
    layer_module: nn.Module | None = None
    run: Any = None  # the aekit Run, for kind "run"

    forward: Callable[..., torch.Tensor] | None = None  # (x, replace) -> output
    flatten: bool = False  # the network takes the data's samples flattened

    def record(self) -> dict[str, Any]:
        return {"of": str(self.path), "kind": self.kind, "layer": self.layer}


def open_layer(of: str | Path, layer: str) -> LayerSource:
    """The network at `of` (a run directory, a .pt/.pth TorchScript file or an
    .onnx file) and a reader of its layer `layer`; a bad name is refused in one
    line that lists a few valid ones."""
    path = Path(of).expanduser().resolve()
    if path.is_dir():
        from .record import load_run

        run = load_run(path)
        model = run.model.eval()
        return _torch_source("run", path, layer, model, model, run)
    if not path.is_file():
        raise AekitError(f"--activations-of {of}: no such run directory or file")
    if path.suffix.lower() == ".onnx":
        return _onnx_source(path, layer)
    try:
        module = torch.jit.load(str(path), map_location="cpu").eval()
    except (RuntimeError, ValueError) as e:
        raise AekitError(
            f"{path}: not a TorchScript file (torch.jit.save), nor an aekit run or "
            f"an .onnx file ({str(e).splitlines()[0][:80]})"
        ) from e
    return _torch_source("torchscript", path, layer, module, module, None)


def _refuse(layer: str, names: list[str], path: Path) -> AekitError:
    shown = ", ".join(names[:NAMES_SHOWN]) + (", ..." if len(names) > 6 else "")
    return AekitError(f"{path} has no layer {layer!r}; its layers include {shown}")


def _torch_source(
    kind: str, path: Path, layer: str, module: nn.Module, root: nn.Module, run: Any
) -> LayerSource:
    modules = dict(root.named_modules())
    names = [n for n in modules if n]
    if layer not in names:
        raise _refuse(layer, names, path)
    target = modules[layer]
    if kind == "run":
        read, forward = _hooked(module, target), _spliced_by_hook(module, target)
    else:
        read, forward = _scripted(module, layer, path)
    return LayerSource(kind, path, layer, read, module, target, run, forward)


def _hooked(model: nn.Module, target: nn.Module) -> Read:
    """A forward hook keeps the layer's output and ends the forward pass there."""

    def read(x: torch.Tensor) -> torch.Tensor:
        kept: list[torch.Tensor] = []

        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            kept.append(output[0] if isinstance(output, tuple) else output)
            raise _Reached

        handle = target.register_forward_hook(hook)
        try:
            with torch.no_grad():
                model(x)
        except _Reached:
            pass
        finally:
            handle.remove()
        if not kept:
            raise AekitError("the layer did not run in the model's forward pass")
        return kept[0].reshape(len(x), -1)

    return read


def _spliced_by_hook(model: nn.Module, target: nn.Module) -> Callable[..., Any]:
    """The model's whole forward pass, the layer's output replaced by
    replace(output) (a forward hook's return value takes its place)."""

    def forward(x: torch.Tensor, replace: Callable[..., torch.Tensor]) -> Any:
        def hook(_module: nn.Module, _inputs: Any, output: Any) -> Any:
            return replace(output)

        handle = target.register_forward_hook(hook)
        try:
            with torch.no_grad():
                return model(x)
        finally:
            handle.remove()

    return forward


def _scripted(module: Any, layer: str, path: Path) -> tuple[Read, Any]:
    """TorchScript modules take no hooks, so the layer is reached by running the
    children of nn.Sequential containers in order up to it; a layer inside any
    other container is refused (export the network to ONNX to read it)."""
    steps: list[tuple[list[Any], int]] = []  # (the container's children, stop at)
    node, parts = module, layer.split(".")
    for part in parts:
        if getattr(node, "original_name", type(node).__name__) != "Sequential":
            raise AekitError(
                f"{path}: TorchScript layers are read through nn.Sequential "
                f"containers only, and {layer!r} is inside a "
                f"{getattr(node, 'original_name', type(node).__name__)}; export the "
                "network to ONNX and name its tensor instead"
            )
        children = [m for _, m in node.named_children()]
        names = [n for n, _ in node.named_children()]
        steps.append((children, names.index(part)))
        node = children[names.index(part)]

    def read(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            for children, stop in steps:
                for child in children[:stop]:
                    x = child(x)
            return node(x).reshape(len(x), -1)

    def forward(x: torch.Tensor, replace: Callable[..., torch.Tensor]) -> Any:
        with torch.no_grad():
            for children, stop in steps:
                for child in children[:stop]:
                    x = child(x)
            x = replace(node(x))
            for children, stop in reversed(steps):  # the rest, innermost first
                for child in children[stop + 1 :]:
                    x = child(x)
            return x

    return read, forward


def _onnx_source(path: Path, layer: str) -> LayerSource:
    """onnxruntime with the named intermediate tensor added to the outputs."""
    try:
        import onnx
        import onnxruntime
    except ImportError as e:
        raise AekitError(
            "reading activations from ONNX needs onnx and onnxruntime: "
            "pip install 'aekit[export]'"
        ) from e
    try:
        graph_model = onnx.load(str(path))
    except Exception as e:  # onnx raises its own DecodeError and others
        raise AekitError(f"{path}: not a readable ONNX file ({e})") from e
    graph = graph_model.graph
    names = [o for node in graph.node for o in node.output if o]
    if layer not in names:
        raise _refuse(layer, names, path)
    if layer not in [o.name for o in graph.output]:
        graph.output.append(onnx.ValueInfoProto(name=layer))
    session = onnxruntime.InferenceSession(
        graph_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feed = session.get_inputs()[0].name

    def read(x: torch.Tensor) -> torch.Tensor:
        (out,) = session.run([layer], {feed: x.detach().cpu().numpy()})
        return torch.from_numpy(out).reshape(len(x), -1)

    return LayerSource("onnx", path, layer, read)


def fitted_reader(source: LayerSource, inputs: Any) -> Read:
    """The source's reader for these inputs: as aekit shapes them, or flattened for
    a network that takes vectors (an image set read by an MLP's TorchScript or
    ONNX file); one line when neither runs."""
    if source.kind == "run":
        return source.read
    probe = inputs.x[:2]
    errors = []
    for flat in (False, True):
        x = probe.flatten(1) if flat else probe
        try:
            source.read(x)
        except Exception as e:  # TorchScript and onnxruntime raise their own
            errors.append(str(e).strip().splitlines()[0][:120] if str(e) else repr(e))
            continue
        if not flat:
            return source.read
        source.flatten = True
        return lambda x: source.read(x.flatten(1))
    raise AekitError(
        f"{source.path} does not run on inputs of shape {tuple(probe.shape[1:])} "
        f"nor flattened: {errors[-1]}"
    )
