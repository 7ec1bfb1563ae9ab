"""Shared test set-up."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    """`aekit.cli.main` sets torch's thread count for its process, as a command
    should; in-process CLI tests must not change it for the tests after them."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
