"""The run report: one self-contained report.html (pictures embedded as base64 PNG,
inline CSS, no scripts, no external URLs) that opens offline."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..data.io import write_text
from ..errors import AekitError
from ..run import Run
from .report_html import figure_html as _figure
from .sae_metrics import is_sae

log = logging.getLogger(__name__)

REPORT = "report.html"
PICTURE_ROWS = 5_000  # rows of a streamed data set the pictures draw from
HEADLINE = ("val_mse", "val_psnr", "mse_ratio_to_pca", "best_epoch", "epochs_run")
CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1180px; margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.7em; margin-bottom: 0.1em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ddd; margin-top: 2em; }
.sub { color: #666; margin-top: 0; }
.warn { color: #8a4b00; background: #fff4e0; padding: 6px 10px; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8em; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.5em 1em; }
.card b { display: block; font-size: 1.3em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border-bottom: 1px solid #eee; padding: 0.2em 1em 0.2em 0; text-align: left;
         vertical-align: top; }
th { color: #555; font-weight: 600; }
code { font-size: 0.92em; }
.cols { display: flex; flex-wrap: wrap; gap: 2em; }
figure { margin: 1em 0 2em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; margin-top: 0.3em; }
.missing { color: #a33; }
"""


def write_report(
    run: Run | str | Path,
    *,
    data: Any = None,
    out: str | Path | None = None,
    kinds: tuple[str, ...] | None = None,
    compare: tuple[Any, ...] = (),
    latents: tuple[int, ...] = (),
    **options: Any,
) -> Path:
    """Draw every picture that suits the run (on `data`, default the run's held-out
    split) and write them with its configuration and metrics into one HTML file
    (default RUN/report.html). Options: the picture options of `aekit.plot`; for a
    sparse autoencoder, `compare` runs for the L0-FVU curve and `latents` to show
    beside the leading ones (aekit.analysis.sae_report)."""
    from ..run import as_run, in_memory
    from .plots.compose import figure_png
    from .plots.pictures import PICTURES, applicable, picture_data

    run = as_run(run)
    if not run.capabilities.has_code:
        raise AekitError(
            f"{run.path} is a {run.task} run: its task draws its report "
            "(aekit.tasks.TASKS[task].write_report; the CLI's `aekit report` does)"
        )
    shown = fit = None
    sections = []
    if compare or latents or is_sae(run.model):  # refused at once for other runs
        from .sae_features import check_sae
        from .sae_report import sae_section

        check_sae(run)
        shown, fit = picture_data(run, data)  # streamed through, when streamed
        more = {"compare": compare, "latents": latents, "data": data}
        sections.append(sae_section(run, shown, **more))
    if shown is not None:  # the pictures draw from rows in memory
        shown, fit = (in_memory(d, PICTURE_ROWS) for d in (shown, fit))
    pngs: dict[str, bytes | str] = {}
    for kind in kinds or tuple(PICTURES):
        if not applicable(run, kind):
            continue
        try:
            if PICTURES[kind].uses_data and shown is None:
                held = picture_data(run, data)
                shown, fit = (in_memory(d, PICTURE_ROWS) for d in held)
            fig = _draw(run, kind, shown, fit, options)
            pngs[kind] = figure_png(fig)
        except AekitError as e:  # one picture failing leaves the rest of the report
            log.warning("report: no %s picture: %s", kind, e)
            pngs[kind] = str(e)
    path = Path(out) if out else run.path / REPORT
    return write_html(run, pngs, path, sections=sections)


def _draw(run: Run, kind: str, shown: Any, fit: Any, options: dict[str, Any]) -> Any:
    import dataclasses

    from .plots.pictures import PICTURES, picture_options

    o = dataclasses.replace(picture_options(options), fit=fit)
    return PICTURES[kind].draw(run, shown, o)


TASK_CAPTIONS = {
    "predictions": "Held-out patches: the input, the model's prediction and the truth.",
    "class_iou": "Intersection over union of each class on the held-out patches.",
}


def _chosen(chosen: Mapping[str, Any]) -> list[str]:
    """What aekit chose for the run, and why, as report lines."""
    lines = []
    if "model" in chosen:
        m = chosen["model"]
        lines.append(f"model {m['name']} (chosen: {m['reason']})")
    if "budget" in chosen:
        lines.append(f"budget: {chosen['budget']}")
    lines += [f"series: {note}" for note in chosen.get("series", [])]
    return [f'<p class="sub">{html.escape(line)}</p>' for line in lines]


def write_html(
    run: Run, pngs: Mapping[str, bytes | str], out: Path, *, sections: Any = ()
) -> Path:
    """report.html from PNG bytes per picture kind (a string: why it is missing)
    and `sections` of HTML placed before the metrics."""
    return write_text(out, render_html(run, pngs, sections=sections))


def render_html(
    run: Run, pngs: Mapping[str, bytes | str], *, sections: Any = ()
) -> str:
    from .plots.pictures import PICTURES

    record = run.record
    name = html.escape(run.path.name)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>aekit report: {name}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{name}</h1>",
        f'<p class="sub">{html.escape(_summary(run))}</p>',
        *_chosen(record.get("data", {}).get("chosen") or {}),
        *(
            f'<p class="warn"><b>Warning:</b> {html.escape(w)}</p>'
            for w in run.metrics.get("warnings", [])
        ),
        _cards(run.metrics),
        "<h2>Run configuration</h2>",
        '<div class="cols">',
        _table("model", record["model"].get("config", {})),
        _table("training", record.get("training", {})),
        "</div>",
        "<h2>Data</h2>",
        _table("", _data_rows(record.get("data", {}))),
        "<h2>Training curves</h2>",
        _figure("history", pngs.get("history"), PICTURES["history"].description),
        "<h2>Pictures</h2>",
    ]
    order = [k for k in PICTURES if k in pngs] + [k for k in pngs if k not in PICTURES]
    for kind in order:
        png = pngs[kind]
        if kind != "history":
            caption = (
                PICTURES[kind].description
                if kind in PICTURES
                else TASK_CAPTIONS.get(kind, "")
            )
            parts += [f"<h3>{html.escape(kind)}</h3>", _figure(kind, png, caption)]
    parts += [
        *sections,
        "<h2>Metrics</h2>",
        _table("", run.metrics) if run.metrics else "<p>no metrics recorded</p>",
        "<h2>Versions</h2>",
        _table("", record.get("versions", {})),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _summary(run: Run) -> str:
    created = run.record.get("created", "")
    code = (
        f"{run.model.latent_dim}-D code"
        if run.capabilities.has_code
        else f"{run.task}, no code"
    )
    return (
        f"{run.model_name}, {code}, "
        f"{sum(p.numel() for p in run.model.parameters()):,} parameters; "
        f"trained on {run.data_spec.get('name')} {created}; {run.path}"
    )


def _cards(metrics: Mapping[str, Any]) -> str:
    cards = [
        f'<div class="card">{html.escape(k)}<b>{_fmt(metrics[k])}</b></div>'
        for k in HEADLINE
        if metrics.get(k) is not None
    ]
    return f'<div class="cards">{"".join(cards)}</div>' if cards else ""


def _data_rows(data: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("name", "source", "options", "sample_shape", "n_train", "n_val")
    rows = {k: data[k] for k in keys if k in data}
    if data.get("classes"):
        rows["classes"] = ", ".join(map(str, data["classes"]))
    if "scaling" in data:
        rows["scaling"] = data["scaling"]
    return rows


def _table(caption: str, rows: Mapping[str, Any]) -> str:
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{_fmt(v)}</td></tr>"
        for k, v in rows.items()
    )
    head = f"<caption><b>{html.escape(caption)}</b></caption>" if caption else ""
    return f"<table>{head}{body}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    if isinstance(value, dict | list | tuple):
        text = json.dumps(value, default=str)
        text = text if len(text) <= 300 else text[:300] + "…"
        return f"<code>{html.escape(text)}</code>"
    return html.escape(str(value))
