"""Pieces of the self-contained report page: a picture embedded as a base64 PNG."""

from __future__ import annotations

import base64
import html


def figure_html(kind: str, png: bytes | str | None, caption: str) -> str:
    """A <figure> holding the PNG bytes inline; a string says why it is missing."""
    if png is None:
        return ""
    if isinstance(png, str):
        return f'<p class="missing">not drawn: {html.escape(png)}</p>'
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="{html.escape(kind)}"><img alt="{html.escape(kind)}" '
        f'src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )
