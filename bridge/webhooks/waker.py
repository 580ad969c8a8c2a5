"""Turning bursts of wake-ups into single runs of a job, one at a time, on a background thread.

Discourse sends several events for one change (a new topic is `topic_created` and
`post_created`; a new member is `user_created` then `user_added_to_group`): the job runs once
the wake-ups have been quiet for `quiet` seconds, and at the latest `longest` seconds after the
first, so that a steady stream cannot put it off forever. A wake-up during a run asks for one
more run after it: the job never overlaps itself, and what changed during a run is not missed.
The job receives the reasons given to the wake-ups of its burst (event names, for example), so
that it can choose what to run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_QUIET = 2.0
DEFAULT_LONGEST = 30.0


class Waker:
    def __init__(
        self,
        job: Callable[[frozenset[str]], object],
        *,
        quiet: float = DEFAULT_QUIET,
        longest: float = DEFAULT_LONGEST,
        clock: Callable[[], float] = time.monotonic,
        name: str = "tâche",
    ):
        self.job = job
        self.quiet = quiet
        self.longest = longest
        self.clock = clock
        self.name = name
        self.runs = 0
        self._cond = threading.Condition()
        self._first: float | None = None  # first wake-up of the burst waiting for its run
        self._last: float | None = None
        self._reasons: set[str] = set()
        self._running = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- from any thread ----------------------------------------------------------------------

    def wake(self, reason: str = "") -> None:
        """Ask for a run soon; returns at once."""
        with self._cond:
            now = self.clock()
            if self._first is None:
                self._first = now
            self._last = now
            if reason:
                self._reasons.add(reason)
            self._cond.notify_all()

    def due_in(self) -> float | None:
        """Seconds until the waiting burst's run (0: now), None when nothing waits."""
        with self._cond:
            return self._due_in()

    @property
    def running(self) -> bool:
        with self._cond:
            return self._running

    def run_due(self) -> bool:
        """Run the job now if a burst is due and no run is under way; True if it ran. The
        background thread calls this; tests call it with their own clock."""
        with self._cond:
            if self._running or self._due_in() != 0:
                return False
            self._first = self._last = None
            reasons, self._reasons = frozenset(self._reasons), set()
            self._running = True
        try:
            self.job(reasons)
        except Exception:
            # One failed run must not stop the next ones; polling stays the safety net.
            log.exception("Webhooks : la tâche %s a échoué", self.name)
        finally:
            with self._cond:
                self.runs += 1
                self._running = False
                self._cond.notify_all()
        return True

    def start(self) -> Waker:
        self._thread = threading.Thread(target=self._loop, name=f"waker-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 60.0) -> bool:
        """Let a run under way finish (up to `timeout`), drop a waiting burst; True when the
        thread ended."""
        with self._cond:
            self._stopping = True
            if self._first is not None:
                log.info("Webhooks : arrêt, la tâche %s en attente est abandonnée", self.name)
            self._first = self._last = None
            self._reasons.clear()
            self._cond.notify_all()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- inside ---------------------------------------------------------------------------

    def _due_in(self) -> float | None:
        if self._first is None or self._last is None:
            return None
        deadline = min(self._last + self.quiet, self._first + self.longest)
        return max(0.0, deadline - self.clock())

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                wait = self._due_in()
                if wait != 0:
                    self._cond.wait(wait)
                    continue
            self.run_due()
