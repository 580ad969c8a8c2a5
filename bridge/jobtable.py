"""The jobs `bridge run` knows, by name: one line each.

Each entry is a callable taking the job's `Parts` (the same arguments as the `run_*` runners
of `bridge/runs.py`, with what the service wants bound) and returning a summary that can
`describe()` itself (and says whether it is `ok`). A name in `schedule.JOB_NAMES` without an
entry here is skipped by the service (with a debug log) until it is registered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from bridge.runs import run_announce, run_digest, run_sync
from bridge.welcome.run import run_welcome

if TYPE_CHECKING:
    from bridge.wiring import Parts, Summary

log = logging.getLogger("bridge.service")

JobRunner = Callable[["Parts"], "Summary"]


def _say(line: str) -> None:
    # What a command prints for people; the service logs one line per run instead.
    log.debug("%s", line)


def _warn(line: str) -> None:
    log.warning("%s", line)


JOBS: dict[str, JobRunner] = {
    "sync": run_sync,
    "announce": partial(run_announce, echo=_say, warn=_warn),
    # Monday's digest needs a fresh mirror: a sync pass first.
    "digest": partial(run_digest, sync_first=True, echo=_say),
    # Right after each sync (schedule.welcome: après sync), so no mirror pass of its own.
    "welcome": partial(run_welcome, echo=_say),
}
