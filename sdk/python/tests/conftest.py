"""Shared fixtures: the seed tools' fake backends."""

from __future__ import annotations

import pytest

from tests import seed_tools


@pytest.fixture(autouse=True)
def _reset_seed_backends() -> None:
    seed_tools.DB.reset()
    seed_tools.SENTIMENT.scores = [0.1, 0.8, 0.1]
