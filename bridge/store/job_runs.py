"""Job runs: when each job last ran, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bridge.errors import StoreError
from bridge.store.base import StoreBase, iso, parse_iso

# How long the record of a job's run is kept (the README's « Données personnelles » says so).
RUNS_KEPT_DAYS = 365


class RunStatus(StrEnum):
    RUNNING = "running"  # or interrupted: nothing recorded its end
    OK = "ok"
    FAILED = "failed"


@dataclass(frozen=True)
class JobRun:
    id: int
    job: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    summary: str | None
    error: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> JobRun:
        return cls(
            id=row["id"],
            job=row["job"],
            started_at=datetime.fromisoformat(row["started_at"]),
            finished_at=parse_iso(row["finished_at"]),
            status=RunStatus(row["status"]),
            summary=row["summary"],
            error=row["error"],
        )


class JobRunsMixin(StoreBase):
    # --- job runs ----------------------------------------------------------------------------

    def run_started(self, job: str, now: datetime) -> int:
        with self.atomic():
            table = self.db.table("job_runs")
            table.insert(
                {
                    **self._scope,
                    "job": job,
                    "started_at": iso(now),
                    "status": RunStatus.RUNNING.value,
                }
            )
            if table.last_pk is None:
                raise StoreError(f"le début de la tâche {job} n'a pas été enregistré")
            self._forget_old_runs(now)
            return int(table.last_pk)

    def _forget_old_runs(self, now: datetime) -> None:
        """Runs older than `RUNS_KEPT_DAYS` go (an error may quote a name), except each job's
        last success, which `bridge status` and the schedule still read."""
        self.db.execute(
            f"delete from job_runs where {self._WHERE} and started_at < :before and id not in "
            f"(select max(id) from job_runs where {self._WHERE} and status = :ok group by job)",
            {**self._scope, "before": iso(now - timedelta(days=RUNS_KEPT_DAYS)), "ok": "ok"},
        )

    def run_finished(
        self,
        run_id: int,
        now: datetime,
        status: RunStatus,
        summary: str = "",
        error: str = "",
    ) -> None:
        with self.atomic():
            self.db.table("job_runs").update(
                run_id,
                {
                    "finished_at": iso(now),
                    "status": RunStatus(status).value,
                    "summary": summary or None,
                    "error": error or None,
                },
            )

    def last_runs(self) -> list[JobRun]:
        """The latest run of each job."""
        rows = self.db.query(
            f"select * from job_runs where {self._WHERE} and id in "
            f"(select max(id) from job_runs where {self._WHERE} group by job) order by job",
            self._scope,
        )
        return [JobRun.from_row(r) for r in rows]

    def last_success(self, job: str) -> JobRun | None:
        """The latest run of `job` that ended well (the digest's freshness test for `sync`)."""
        return self.last_run(job, RunStatus.OK)

    def last_run(self, job: str, status: RunStatus | None = None) -> JobRun | None:
        """The latest run of `job` (that ended with `status`, if given)."""
        rows = list(
            self.db.query(
                f"select * from job_runs where {self._WHERE} and job = :job "
                + ("and status = :status " if status else "")
                + "order by started_at desc, id desc limit 1",
                {**self._scope, "job": job, "status": RunStatus(status).value if status else None},
            )
        )
        return JobRun.from_row(rows[0]) if rows else None

    def failures_in_a_row(self, job: str) -> int:
        """How many of the latest runs of `job` failed, back to its last good one."""
        last_ok = self.last_success(job)
        rows = self.db.query(
            f"select count(*) as n from job_runs where {self._WHERE} and job = :job "
            "and status = :failed and started_at > :since",
            {
                **self._scope,
                "job": job,
                "failed": RunStatus.FAILED.value,
                "since": iso(last_ok.started_at) if last_ok else "",
            },
        )
        return int(next(iter(rows))["n"])
