"""What `bridge status` says of the service: is it running, each job's last and next run, what
needs fixing, and the counts; and the same as JSON (`bridge status --json`, shape below).

The JSON shape is a contract for monitoring scripts (docs/service.md): keys are only ever
added, never renamed nor removed; `version` changes if that promise must be broken.

    {"version": 1, "site": str, "community": str, "timezone": str, "generated_at": time,
     "service": {"running": bool, "pid": int | null},
     "config": {"status": "ok" | "failed" | null, "at": time | null, "message": str | null},
     "jobs": {name: {"schedule": str, "registered": bool, "next_run": time | null,
                     "last_run": {"started_at", "finished_at", "status", "summary", "error"}
                                 | null,
                     "last_error": {"at": time, "error": str} | null,
                     "failures_in_a_row": int}},
     "counts": {"mirrored_topics", "entries_with_warnings", "welcomes_done",
                "welcomes_pending", "digests_published", "announcements_published": int}}

Times are ISO 8601 with the community's UTC offset (`2025-04-21T09:00:00-04:00`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bridge.jobtable import JOBS
from bridge.schedule import JOB_NAMES, next_run
from bridge.service import CONFIG_JOB, schedule_of
from bridge.store import JobRun, LedgerState, RunStatus, WelcomeState, lock_holder
from bridge.wiring import Parts
from bridge.words import RUN_WORDS, time_label

JSON_VERSION = 1


def service_data(parts: Parts, jobs: Mapping[str, object] = JOBS) -> dict[str, Any]:
    config, store = parts.config, parts.store
    tz = config.community.tz
    now = parts.now()

    def when(value: datetime | None) -> str | None:
        return value.astimezone(tz).isoformat() if value else None

    def run(value: JobRun | None) -> dict[str, Any] | None:
        if value is None:
            return None
        return {
            "started_at": when(value.started_at),
            "finished_at": when(value.finished_at),
            "status": value.status.value,
            "summary": value.summary,
            "error": value.error,
        }

    schedule = schedule_of(config)
    sync_next = next_run(schedule["sync"], _started(store.last_run("sync")), now)
    data_jobs: dict[str, Any] = {}
    for job in JOB_NAMES:
        timing, last = schedule[job], store.last_run(job)
        failed = store.last_run(job, RunStatus.FAILED)
        upcoming = sync_next if timing.after_sync else next_run(timing, _started(last), now)
        data_jobs[job] = {
            "schedule": timing.text,
            "registered": job in jobs,
            "next_run": when(upcoming) if job in jobs and timing.enabled else None,
            "last_run": run(last),
            "last_error": {"at": when(failed.started_at), "error": failed.error}
            if failed
            else None,
            "failures_in_a_row": store.failures_in_a_row(job),
        }
    pid = lock_holder(config.store_path, "service")
    cfg = store.last_run(CONFIG_JOB)
    # Counted by member, not by post: one collective welcome greets a whole wave.
    welcomes = Counter(row.state for row in store.welcome_rows().values())
    return {
        "version": JSON_VERSION,
        "site": config.site,
        "community": config.community.category,
        "timezone": config.community.timezone,
        "generated_at": when(now),
        "service": {"running": pid is not None, "pid": pid or None},
        "config": {
            "status": cfg.status.value if cfg else None,
            "at": when(cfg.started_at) if cfg else None,
            "message": (cfg.error or cfg.summary) if cfg else None,
        },
        "jobs": data_jobs,
        "counts": {
            "mirrored_topics": store.counts().topics,
            "entries_with_warnings": sum(1 for e in store.cards() if e.warnings)
            + sum(1 for e in store.toolbox_entries() if e.warnings),
            "welcomes_done": welcomes[WelcomeState.WELCOMED],
            "welcomes_pending": welcomes[WelcomeState.HELD] + welcomes[WelcomeState.PLANNED],
            "digests_published": store.ledger_counts("digest:").get(LedgerState.DONE, 0),
            "announcements_published": store.ledger_counts("announce:").get(LedgerState.DONE, 0),
        },
    }


def _started(run: JobRun | None) -> datetime | None:
    return run.started_at if run else None


def service_lines(parts: Parts, jobs: Mapping[str, object] = JOBS) -> list[str]:
    """The service's part of `bridge status`, in French, times labelled with their zone."""
    data = service_data(parts, jobs)
    tz = parts.config.community.tz

    def local(value: str | None) -> str:
        return time_label(datetime.fromisoformat(value), tz) if value else "—"

    service = data["service"]
    lines = [
        "",
        "Service (bridge run) : "
        + (f"en marche (processus {service['pid']})" if service["running"] else "arrêté"),
        "Tâches planifiées :",
    ]
    loud: list[str] = []
    config = data["config"]
    if config["status"] == RunStatus.FAILED.value:
        loud.append(f"  configuration ({local(config['at'])}) : {config['message']}")
    for job, info in data["jobs"].items():
        last = info["last_run"]
        if not info["registered"]:
            lines.append(f"  {job:<9} {info['schedule']} — pas encore disponible dans ce service")
            continue
        state = RUN_WORDS[RunStatus(last["status"])] if last else "jamais lancée"
        upcoming = local(info["next_run"]) if info["next_run"] else info["schedule"]
        lines.append(
            f"  {job:<9} {info['schedule']:<22} dernière : "
            f"{local(last['started_at']) if last else '—'} {state} ; prochaine : {upcoming}"
        )
        if last and last["status"] == RunStatus.FAILED.value:
            loud.append(
                f"  {job} ({info['failures_in_a_row']} échec(s) de suite) : {last['error']}"
            )
    if loud:
        lines += ["", "À CORRIGER :", *loud]
    c = data["counts"]
    lines += [
        "",
        f"Compteurs : {c['mirrored_topics']} sujet(s) suivis, {c['entries_with_warnings']} "
        f"entrée(s) avec avertissements, accueils {c['welcomes_done']} faits et "
        f"{c['welcomes_pending']} en attente, {c['digests_published']} résumé(s) et "
        f"{c['announcements_published']} annonce(s) publiés.",
    ]
    return lines
