"""Where an SAE's dead latents on an MLP layer come from: the layer's active units
and rank, and each SAE run's dead fraction on all 1,797 digits beside the 180
validation rows `aekit train` scores (BENCHMARKS.md, dead latents at the defaults).

    python benchmarks/sae_dead_layer.py MLP_RUN SAE_RUN [SAE_RUN ...]

(the runs as benchmarks/sae_defaults.py --data mlp-layer leaves them; the
activations rescaled to E||a|| = sqrt(D) as aekit.data.activations does).
"""

from __future__ import annotations

import sys

import torch

from aekit.data import load_dataset
from aekit.run.record import load_run


def main() -> None:
    torch.set_num_threads(1)
    mlp = load_run(sys.argv[1]).model.eval()
    x = load_dataset("digits").x
    got: dict[str, torch.Tensor] = {}
    layer = dict(mlp.named_modules())["body.encoder.1"]
    layer.register_forward_hook(lambda m, i, o: got.__setitem__("a", o.detach()))
    with torch.no_grad():
        mlp(x)
    a = got["a"].reshape(len(x), -1)
    a = a / (a.norm(dim=1).mean() / a.shape[1] ** 0.5)
    s = torch.linalg.svdvals(a - a.mean(0))
    v = (s**2).cumsum(0) / (s**2).sum()
    print(
        f"rows {len(a)} units {a.shape[1]} active {int((a > 0).any(0).sum())} "
        f"rank90 {int((v < 0.9).sum()) + 1} rank99 {int((v < 0.99).sum()) + 1}"
    )
    for run in sys.argv[2:]:
        sae = load_run(run).model.eval()
        with torch.no_grad():
            codes = sae.encode(a)
        dead_all = float(((codes > 0).sum(0) == 0).float().mean())
        dead_180 = float(((codes[-180:] > 0).sum(0) == 0).float().mean())
        print(f"{run}: dead on all rows {dead_all:.3f}, on the last 180 {dead_180:.3f}")


if __name__ == "__main__":
    main()
