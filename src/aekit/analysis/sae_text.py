"""An SAE's sparsity metrics (aekit.analysis.sae_metrics) as text; no numpy, so the
CLI prints them without loading torch."""

from __future__ import annotations

from typing import Any

DENSE = 0.1  # a latent active on more than this fraction of inputs counts as dense


def sae_line(m: dict[str, Any]) -> str:
    """The sparsity metrics in one line, as train and evaluate print them."""
    return (
        f"sparse code: L0 {m['l0']:.2f} of {m['latents']} latents, FVU "
        f"{m['fvu']:.4f}, dead {100 * m['dead_fraction']:.1f}%, dense (>"
        f"{DENSE:.0%} of inputs) {100 * m['dense_fraction']:.1f}%"
    )


def sparsity_lines(s: dict[str, Any]) -> list[str]:
    """The sparsity metrics and the density histogram as `aekit evaluate` prints."""
    h = s["density_histogram"]
    edges, counts = h["log10_edges"], h["counts"]
    bars = [f"  {h['dead']:>6} dead (never active)"]
    bars += [
        f"  {n:>6} active on 1e{lo:g}..1e{hi:g} of inputs"
        for lo, hi, n in zip(edges, edges[1:], counts, strict=False)
        if n
    ]
    head = "feature density (latents by the share of inputs they fire on):"
    return [sae_line(s), *downstream_lines(s.get("downstream")), head, *bars]


def downstream_lines(d: dict[str, Any] | None) -> list[str]:
    """The loss recovered when the SAE's reconstruction replaces the layer."""
    if d is None:
        return []
    if "note" in d:
        return [d["note"]]
    share = d["loss_recovered"]
    told = "n/a (zero ablation costs nothing)" if share is None else f"{share:.3f}"
    return [
        f"loss recovered {told}: {d['loss']} clean {d['l_clean']:.4g}, with the "
        f"SAE {d['l_sae']:.4g}, layer zero-ablated {d['l_zero']:.4g} "
        f"({d['rows']} inputs)"
    ]
