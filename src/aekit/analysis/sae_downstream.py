"""Downstream loss recovered by an SAE on a network's activations: its reconstruction
spliced into the network's forward pass at that layer (a forward hook; TorchScript
through its Sequential containers), scored against the clean pass and a
zero-ablated one: (L_zero - L_sae) / (L_zero - L_clean), as in Gao et al. 2024
(https://arxiv.org/abs/2406.04093) and Rajamanoharan et al. 2024."""

from __future__ import annotations

from typing import Any

import torch

from ..data.activations import ActivationDataset
from ..run.activations import fitted_reader, open_layer

ROWS = 5_000  # inputs the losses are averaged over
BATCH = 512
ONNX_NOTE = (
    "loss recovered: not computed for an ONNX network (its graph is not spliced "
    "here; read the layer from an aekit run or a TorchScript file for it)"
)


def loss_recovered(run: Any, data: ActivationDataset) -> dict[str, Any]:
    """L_clean, L_sae, L_zero and the fraction of the loss the SAE recovers, on up
    to ROWS of `data`'s inputs. L is the network's own reconstruction loss (MSE to
    its input) for an aekit run, else the mean squared distance of the network's
    output from its clean output."""
    spec = run.data_spec["activations"]
    source = open_layer(spec["of"], spec["layer"])
    if source.forward is None:
        return {"note": ONNX_NOTE}
    fitted_reader(source, data.inputs)  # whether it takes the samples flattened
    own = source.run is not None
    sae, scaling = run.model.eval(), run.scaling
    sums = {"clean": 0.0, "sae": 0.0, "zero": 0.0}
    n = min(len(data), ROWS)
    for start in range(0, n, BATCH):
        x = data.inputs.x[start : min(start + BATCH, n)]
        x = x.flatten(1) if source.flatten else x
        clean = source.forward(x, lambda h: h)

        def spliced(h: torch.Tensor) -> torch.Tensor:
            a = scaling.from_source(h.reshape(len(h), -1).float().numpy())
            with torch.no_grad():
                back = scaling.to_source(sae(a))
            return torch.from_numpy(back).reshape(h.shape).to(h.dtype)

        outputs = {
            "clean": clean,
            "sae": source.forward(x, spliced),
            "zero": source.forward(x, torch.zeros_like),
        }
        reference = x if own else clean
        for key, out in outputs.items():
            error = (out.reshape(len(x), -1) - reference.reshape(len(x), -1)).pow(2)
            sums[key] += float(error.mean(1).sum())
    losses = {k: v / n for k, v in sums.items()}
    gap = losses["zero"] - losses["clean"]
    recovered = (losses["zero"] - losses["sae"]) / gap if gap > 0 else None
    return {
        "loss": "the run's reconstruction MSE"
        if own
        else "MSE of the output from the clean output",
        "ablation": "zero",
        "rows": n,
        "l_clean": losses["clean"],
        "l_sae": losses["sae"],
        "l_zero": losses["zero"],
        "loss_recovered": recovered,
    }
