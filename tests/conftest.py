"""Shared test set-up."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """`aekit.interfaces.cli.main` sets torch's thread count for its process, as a
    command should; in-process CLI tests must not change it for the tests after them."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def attribute_csv(tmp_path):
    """Five features that depend on two attribute columns, size (0 or 1) and tint."""
    rng = np.random.default_rng(0)
    n = 120
    size, tint = rng.integers(0, 2, n), rng.uniform(-1, 1, n)
    x = rng.normal(size=(n, 5)) + size[:, None] * 2 + tint[:, None]
    path = tmp_path / "table.csv"
    header = "f0,f1,size,f2,f3,tint,f4\n"
    rows = [
        f"{a:.4f},{b:.4f},{s},{c:.4f},{d:.4f},{t:.4f},{e:.4f}"
        for (a, b, c, d, e), s, t in zip(x, size, tint, strict=True)
    ]
    path.write_text(header + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="session")
def cvae_run(tmp_path_factory):
    """A conditional VAE trained on the digits' labels (read-only: share it)."""
    import aekit

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs") / "cvae"
    aekit.train(
        "digits",
        "cvae",
        out=out,
        epochs=6,
        latent_dim=4,
        hidden=(128,),
        lr=3e-3,
        pictures=False,
        report=False,
    )
    torch.set_num_threads(threads)
    return out
