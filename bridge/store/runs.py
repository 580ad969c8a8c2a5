"""Job runs: when each job last ran, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bridge.store.base import StoreBase, iso, parse_iso


@dataclass(frozen=True)
class JobRun:
    id: int
    job: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    summary: str | None
    error: str | None


class RunsMixin(StoreBase):
    # --- job runs ----------------------------------------------------------------------------

    def run_started(self, job: str, now: datetime) -> int:
        with self.atomic():
            table = self.db.table("job_runs")
            table.insert(
                {**self._scope, "job": job, "started_at": iso(now), "status": "running"}
            )
            assert table.last_pk is not None
            return int(table.last_pk)

    def run_finished(
        self, run_id: int, now: datetime, status: str, summary: str = "", error: str = ""
    ) -> None:
        with self.atomic():
            self.db.table("job_runs").update(
                run_id,
                {
                    "finished_at": iso(now),
                    "status": status,
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
        return [
            JobRun(
                id=r["id"],
                job=r["job"],
                started_at=datetime.fromisoformat(r["started_at"]),
                finished_at=parse_iso(r["finished_at"]),
                status=r["status"],
                summary=r["summary"],
                error=r["error"],
            )
            for r in rows
        ]
