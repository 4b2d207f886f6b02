"""Shared fixtures: the fake pctx endpoint and the seed tools' fake backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests import seed_tools
from tests.fakepctx import FakePctx


@pytest.fixture
async def fake() -> AsyncIterator[FakePctx]:
    async with FakePctx() as server:
        yield server


@pytest.fixture(autouse=True)
def _reset_seed_backends() -> None:
    seed_tools.DB.reset()
    seed_tools.SENTIMENT.scores = [0.1, 0.8, 0.1]
