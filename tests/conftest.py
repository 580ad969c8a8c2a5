"""Shared fixtures: a fixed clock, an in-memory store, paths to shared material."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from reliability import REPORT_PATH, Case, table
from sandboxcli import Clock

from bridge.sandbox import Sandbox, seed_world
from bridge.store import Store

ROOT = Path(__file__).resolve().parents[1]
# In CI the repository is cloned next to a copy of shared/.
SHARED = ROOT.parent / "shared"

NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)  # a Monday, 9 h in Sherbrooke


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> Clock:
    """The injected clock, at the test module's `T0`: tests move it, never sleep."""
    return Clock(request.module.T0)


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    """The seed world at the clock's start, served on loopback, on the injected clock."""
    with Sandbox(seed_world(clock.now), now=clock) as sb:
        yield sb


@pytest.fixture
def store() -> Store:
    return Store.memory(
        site="https://passerelles.encommun.io", community="innovation-sociale-estrie"
    )


# --- the reliability report (tests/reliability.py) ------------------------------------------------

_case_results: dict[str, str] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    params = getattr(getattr(item, "callspec", None), "params", {})
    found = [value for value in params.values() if isinstance(value, Case)]
    if not found or (report.when != "call" and report.passed):
        return
    for case in found:
        if report.failed:
            _case_results[case.id] = "échoué"
        elif report.skipped:
            _case_results.setdefault(case.id, "sauté")
        else:
            _case_results.setdefault(case.id, "réussi")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _case_results:
        return
    path = ROOT / REPORT_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Rapport de fiabilité\n\nCas du catalogue (tests/reliability.py) et ce qu'en a vu "
        "cette exécution des tests.\n\n" + table(_case_results),
        encoding="utf-8",
    )
