"""Shared fixtures: a fixed clock, an in-memory store, paths to shared material."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.store import Store

ROOT = Path(__file__).resolve().parents[1]
# In CI the repository is cloned next to a copy of shared/.
SHARED = ROOT.parent / "shared"

NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)  # a Monday, 9 h in Sherbrooke


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def store() -> Store:
    return Store.memory(
        site="https://passerelles.encommun.io", community="innovation-sociale-estrie"
    )
