"""The latent-space explorer: one local web page over a trained run.

`aekit explore RUN` encodes a data set and serves, on 127.0.0.1, a page with the
codes as a scatter coloured by label (2-D codes as they are, larger codes in their
PCA plane), a cursor whose position decodes live, per-dimension sliders, a point's
input and reconstruction, the interpolation strip between two points, and a pad to
draw or upload an image and see its code and reconstruction. The server is FastAPI
and uvicorn (`pip install 'aekit[explore]'`); the page is plain HTML and JS.
"""

from __future__ import annotations

from .state import MAX_POINTS, Explorer, Plane, load_explorer

__all__ = ["MAX_POINTS", "Explorer", "Plane", "load_explorer"]
