"""`bridge run`: every job on its schedule, in one long-running process.

APScheduler 3.x in-process (`BlockingScheduler`, no broker), one worker thread: jobs never run
at the same time, and the store's `jobs` lock makes a command run by hand wait its turn. Each
APScheduler job coalesces missed runs, never runs twice at once (`max_instances=1`) and may be
late by its grace period (`misfire_grace_time`). Every run builds its parts afresh, so the
job files and templates are read at each run; `config.yaml` is read again on SIGHUP.

At start-up, a job whose time passed while the service was down (the store records every run)
runs once if still within its grace period; so does a job the previous process died in the
middle of (kill -9, power cut: its run has no recorded end), and the sync when a job that
follows it was left behind. SIGTERM or Ctrl-C: no new request or draft starts,
the write in flight finishes and is recorded, then the process exits 0. A failing job is
logged, recorded and retried at its next time; repeated failures pause it for longer and
longer (10 minutes, doubling, at most 6 hours).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bridge.config import Config, load_config
from bridge.drafts import Draft
from bridge.errors import BridgeError, ConfigError, Stopping
from bridge.jobtable import JOBS, JobRunner
from bridge.publish import Gate
from bridge.runs import run_sync
from bridge.schedule import DEFAULTS, JOB_NAMES, Schedule, Timing, missed_run, parse_timing
from bridge.store import JobRun, RunStatus, StoreBusy, file_lock
from bridge.webhooks.standalone import NEEDS_FULL_PASS, open_endpoint, require_webhooks
from bridge.wiring import Parts, utc_now
from bridge.words import delay_words, time_label

log = logging.getLogger("bridge.service")

BACKOFF_STEP = timedelta(minutes=10)
BACKOFF_MAX = timedelta(hours=6)
# The test hook (docs/service.md): `BRIDGE_TEST_HOOK=pause:before_write` makes the service
# say « test-hook: before_write KEY » on stderr at that step and wait for a line on stdin.
ENV_TEST_HOOK = "BRIDGE_TEST_HOOK"
CONFIG_JOB = "config"  # the job name under which start-ups and reloads are recorded


class AlreadyRunning(BridgeError):
    """Another `bridge run` holds this store."""


def schedule_of(config: Config) -> Schedule:
    """The configured schedule, or the defaults for a config built without one (the demo)."""
    if config.schedule.timings:
        return config.schedule
    tz = config.community.tz
    return Schedule({job: parse_timing(job, DEFAULTS[job], tz) for job in JOB_NAMES})


def fresh_trigger(timing: Timing, last_started: datetime | None, now: datetime) -> BaseTrigger:
    """The trigger to schedule: an interval counts from the job's last run, not from start-up."""
    trigger = timing.trigger
    if trigger is None:
        raise ValueError(f"{timing.text} : aucun horaire à planifier (après sync, ou jamais)")
    if isinstance(trigger, IntervalTrigger):
        anchor = last_started + trigger.interval if last_started else now + trigger.interval
        return IntervalTrigger(seconds=trigger.interval.total_seconds(), start_date=anchor)
    return trigger


def owed_at_start(schedule: Schedule, last: Mapping[str, JobRun | None]) -> set[str]:
    """The jobs a dead service left unfinished, to run at once at start-up.

    Only at start-up: the service lock is then ours, so a run without a recorded end was cut
    short, not running; left to its next time, a killed Monday digest would wait a week. A
    job that follows the sync is owed through the sync: when its own run was cut short, or when
    a sync (the digest's own, say) ran after it and the process died before its turn came.
    """
    cut = {job for job, run in last.items() if run is not None and run.status is RunStatus.RUNNING}
    owed = {job for job in cut if not schedule[job].after_sync}
    sync = last.get("sync")
    for job in schedule.after_sync():
        run = last.get(job)
        behind = sync is not None and (run is None or run.started_at < sync.started_at)
        if job in cut or behind:
            owed.add("sync")
    return owed


class _Scheduler(BlockingScheduler):  # type: ignore[misc]
    """Handles the signals' requests in the scheduler's own loop, never inside a handler."""

    def __init__(self, service: Service, **options: Any) -> None:
        super().__init__(**options)
        self.service = service

    def _process_jobs(self) -> float | None:
        if self.service.stop_asked:
            log.info("arrêt : la tâche en cours finit, aucune autre ne commence")
            self.shutdown(wait=True)
            return None
        if self.service.reload_asked:
            self.service.reload_asked = False
            self.service.reload()
        wait: float | None = super()._process_jobs()
        return wait


class Service:
    def __init__(
        self,
        config: Config,
        config_path: Path | None = None,
        *,
        now: Callable[[], datetime] = utc_now,
        jobs: Mapping[str, JobRunner] = JOBS,
        on_step: Callable[[str, Draft], None] | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path or config.source
        self.now = now
        self.jobs = jobs
        self.on_step = on_step
        self.stopping = threading.Event()
        self.gate = Gate(self.stopping.is_set)
        self.stop_asked = False
        self.reload_asked = False
        self.failures: dict[str, int] = {}
        self.resume_at: dict[str, datetime] = {}
        # The scheduler's thread and the webhooks' thread both count failures and pauses.
        self._counts = threading.Lock()
        self.scheduler = _Scheduler(
            self,
            timezone=config.community.tz,
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )

    # --- parts and the shutdown gate ---------------------------------------------------------

    def parts(self, config: Config | None = None) -> Parts:
        parts = Parts.build(config or self.config, now=self.now)
        parts.gate = self.gate
        parts.on_step = self.on_step
        return parts

    # --- scheduling --------------------------------------------------------------------------

    def install(self, starting: bool = False) -> list[str]:
        """(Re)schedule every registered job from the config; say what is planned. `starting`:
        the service's start-up, when a job left unfinished by a dead process is owed."""
        schedule = schedule_of(self.config)
        now = self.now()
        with self.parts() as parts:
            last = {job: parts.store.last_run(job) for job in JOB_NAMES}
        owed = owed_at_start(schedule, last) if starting else set()
        lines = []
        for job in JOB_NAMES:
            timing = schedule[job]
            if self.scheduler.get_job(job) is not None:
                self.scheduler.remove_job(job)
            if job not in self.jobs:
                log.debug("%s : aucune tâche enregistrée sous ce nom, ignorée", job)
                continue
            if not timing.enabled:
                lines.append(f"{job} : jamais")
                continue
            if timing.after_sync:
                lines.append(f"{job} : après chaque sync")
                continue
            previous = last[job]
            started = previous.started_at if previous else None
            missed = missed_run(timing, started, now)
            grace = timing.grace or timedelta(seconds=1)
            options: dict[str, Any] = {}
            if missed is not None:
                options["next_run_time"] = now
                if previous is None:
                    log.info("%s : jamais lancée, exécution au démarrage", job)
                else:
                    when = time_label(missed, self.config.community.tz)
                    log.info("%s : l'exécution du %s a été manquée, faite au démarrage", job, when)
            elif job in owed:
                options["next_run_time"] = now
                log.info("%s : laissée inachevée par l'arrêt précédent, reprise au démarrage", job)
            self.scheduler.add_job(
                self.run,
                fresh_trigger(timing, started, now),
                args=[job],
                id=job,
                name=job,
                misfire_grace_time=max(1, int(grace.total_seconds())),
                coalesce=True,
                max_instances=1,
                replace_existing=True,
                **options,
            )
            lines.append(f"{job} : {timing.text}")
        return lines

    def run(self, job: str, full: bool = False) -> None:
        """One scheduled run of `job` (and, for sync, the jobs that follow it); `full` makes
        the sync a full reconciliation (webhooks that announce a deletion or a departure)."""
        if self.stopping.is_set():
            return
        now = self.now()
        with self._counts:
            resume, failures = self.resume_at.get(job), self.failures.get(job, 0)
        if resume is not None and now < resume:
            when = time_label(resume, self.config.community.tz)
            log.info("%s : en pause après %d échecs, reprise vers %s", job, failures, when)
            return
        config = self.config
        try:
            with self.parts(config) as parts:
                # The whole pass holds the store: a command by hand waits for all of it.
                with parts.store.exclusive("jobs", wait=parts.job_wait):
                    self._one(parts, job, full=full)
                    if job == "sync":
                        for after in schedule_of(config).after_sync():
                            if after not in self.jobs:
                                log.debug("%s : aucune tâche enregistrée sous ce nom", after)
                            elif not self.stopping.is_set():
                                self._one(parts, after)
        except Stopping:
            log.info("%s : interrompue par l'arrêt du service", job)
        except StoreBusy as exc:
            log.warning("%s : pas lancée, %s", job, exc)
        except BridgeError as exc:
            self._failed(job, str(exc))

    def _one(self, parts: Parts, job: str, *, full: bool = False) -> None:
        started = time.monotonic()
        runner = partial(run_sync, full=True) if full and job == "sync" else self.jobs[job]
        try:
            summary = runner(parts)
        except Stopping:
            raise
        except BridgeError as exc:
            self._failed(job, str(exc))
            return
        except Exception as exc:  # a bug: logged with its traceback, the service goes on
            log.exception("%s : erreur inattendue", job)
            self._failed(job, f"erreur inattendue ({type(exc).__name__})")
            return
        took = time.monotonic() - started
        if getattr(summary, "ok", True):
            log.info("%s : %s (%.1f s)", job, summary.describe(), took)
            with self._counts:
                self.failures.pop(job, None)
                self.resume_at.pop(job, None)
        else:
            self._failed(job, f"{summary.describe()} ({took:.1f} s)")

    def _failed(self, job: str, reason: str) -> None:
        log.error("%s : échec : %s", job, reason)
        with self._counts:
            count = self.failures[job] = self.failures.get(job, 0) + 1
            pause = min(BACKOFF_STEP * 2 ** (count - 2), BACKOFF_MAX) if count >= 2 else None
            if pause is not None:
                self.resume_at[job] = self.now() + pause
        if pause is not None:
            log.warning("%s : %d échecs de suite, pause de %s", job, count, delay_words(pause))

    def on_events(self, events: frozenset[str]) -> None:
        """A burst of webhook events: a sync now, and the jobs after it (the welcome). It runs
        on the waker's thread, which runs one burst at a time, and `run` takes the store's
        `jobs` lock, so it never runs beside a scheduled job: it waits for it."""
        if self.stopping.is_set() or "sync" not in self.jobs:
            return
        log.info("webhooks : %s, synchronisation tout de suite", ", ".join(sorted(events)))
        self.run("sync", full=bool(events & NEEDS_FULL_PASS))

    # --- signals -----------------------------------------------------------------------------

    def ask_stop(self, *_: object) -> None:
        self.stopping.set()
        self.stop_asked = True
        log.warning("arrêt demandé")
        self._wake()

    def ask_reload(self, *_: object) -> None:
        self.reload_asked = True
        self._wake()

    def _wake(self) -> None:
        # Not in the handler itself: it may have interrupted the thread that holds the
        # scheduler's event lock.
        if self.scheduler.running:
            threading.Thread(target=self.scheduler.wakeup, daemon=True).start()

    def reload(self) -> bool:
        """Read config.yaml again; a broken one is refused and the running one kept."""
        try:
            if self.config_path is None:
                raise ConfigError("aucun fichier de configuration à relire")
            new = load_config(self.config_path)
            if new.store_path != self.config.store_path:
                raise ConfigError(
                    f"{self.config_path} : store.path ne change pas sans redémarrer le service"
                )
        except ConfigError as exc:
            message = f"nouvelle configuration refusée, la précédente reste en service : {exc}"
            log.error("%s", message)
            self.record_config(RunStatus.FAILED, message)
            return False
        self.config = new
        planned = self.install()
        self.record_config(RunStatus.OK, "configuration relue : " + "; ".join(planned))
        log.info("configuration relue")
        return True

    def record_config(self, status: RunStatus, text: str) -> None:
        with self.parts() as parts:
            run_id = parts.store.run_started(CONFIG_JOB, self.now())
            failed = status is RunStatus.FAILED
            parts.store.run_finished(
                run_id,
                self.now(),
                status,
                summary="" if failed else text,
                error=text if failed else "",
            )

    # --- the process -------------------------------------------------------------------------

    def serve(self) -> int:
        """Run until SIGTERM or Ctrl-C; a second service on the same store refuses to start."""
        store_path = self.config.store_path
        if self.config.webhooks:
            require_webhooks(self.config)  # a missing secret is said before anything starts
        self.parts().close()  # creates the store (and its folder) if need be
        try:
            with file_lock(store_path, "service", wait=0):
                planned = self.install(starting=True)
                self.record_config(RunStatus.OK, "service démarré : " + "; ".join(planned))
                signal.signal(signal.SIGTERM, self.ask_stop)
                signal.signal(signal.SIGINT, self.ask_stop)
                signal.signal(signal.SIGHUP, self.ask_reload)
                log.warning("service démarré (%s) : %s", store_path, "; ".join(planned))
                # Webhooks only wake the sync sooner; the schedule stays the safety net. A
                # change of the `webhooks:` section needs a restart, not a reload.
                listening = (
                    open_endpoint(self.config, self.on_events) if self.config.webhooks else None
                )
                if listening:
                    log.warning("webhooks : en écoute sur %s", listening.url)
                try:
                    self.scheduler.start()
                finally:
                    if listening:
                        listening.close()
        except StoreBusy:
            raise AlreadyRunning(
                f"un autre « bridge run » utilise déjà {store_path} : un seul service par base "
                "(voir bridge status)"
            ) from None
        log.warning("service arrêté")
        return 0


def hook_from_env() -> Callable[[str, Draft], None] | None:
    """The documented test hook: pause at a publisher step until stdin gives a line."""
    value = os.environ.get(ENV_TEST_HOOK, "")
    if not value.startswith("pause:"):
        return None
    wanted = value.removeprefix("pause:")

    def pause(step: str, draft: Draft) -> None:
        if step == wanted:
            print(f"test-hook: {step} {draft.key}", file=sys.stderr, flush=True)
            sys.stdin.readline()

    return pause
