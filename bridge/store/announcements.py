"""The committee's announcements as last read from the job files, and as last published."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.store.base import StoreBase, iso, parse_iso


@dataclass(frozen=True)
class StoredAnnouncement:
    """One occurrence of an announcement job. Once published, the fields are what the forum
    shows (updated after each successful edit); before that, what the job file says."""

    job: str
    occurrence: str  # "" for a one-off activity, the local date for a recurring one
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    link: str | None
    registration_url: str | None
    cancelled: bool
    topic_key: str
    published_hash: str | None
    published_starts_at: datetime | None
    # The announcement's topic on the forum, once published (from the ledger).
    topic_id: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StoredAnnouncement:
        return cls(
            job=row["job"],
            occurrence=row["occurrence"],
            kind=row["kind"],
            title=row["title"],
            starts_at=datetime.fromisoformat(row["starts_at"]),
            ends_at=datetime.fromisoformat(row["ends_at"]),
            place=row["place"],
            link=row["link"],
            registration_url=row["registration_url"],
            cancelled=bool(row["cancelled"]),
            topic_key=row["topic_key"],
            published_hash=row["published_hash"],
            published_starts_at=parse_iso(row["published_starts_at"]),
            topic_id=row.get("topic_id"),
        )


@dataclass(frozen=True)
class AnnouncementFields:
    """One occurrence as the job file says it (what `save_announcements` records)."""

    job: str
    occurrence: str
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    link: str | None
    registration_url: str | None
    cancelled: bool
    topic_key: str
    source: str | None = None


class AnnouncementsMixin(StoreBase):
    # --- announcements ------------------------------------------------------------------------
    # The committee's announcements (jobs/*.yaml), one row per occurrence. Rows not yet published
    # follow the job file; published rows keep what the forum shows until an edit goes out.

    _ANNOUNCEMENT_FIELDS = (
        "kind",
        "title",
        "starts_at",
        "ends_at",
        "place",
        "link",
        "registration_url",
    )

    def save_announcements(self, occurrences: Sequence[AnnouncementFields], now: datetime) -> None:
        """Record occurrences read from job files; published ones keep the forum's fields."""
        published = {
            (a.job, a.occurrence) for a in self.announcements() if a.published_hash is not None
        }
        with self.atomic():
            for occ in occurrences:
                record = {
                    **self._scope,
                    "job": occ.job,
                    "occurrence": occ.occurrence,
                    "cancelled": int(occ.cancelled),
                    "topic_key": occ.topic_key,
                    "source": occ.source,
                    "updated_at": iso(now),
                }
                if (occ.job, occ.occurrence) not in published:
                    record.update(self._announcement_fields(occ))
                self.db.table("announcements").upsert(
                    record, pk=("site", "community", "job", "occurrence")
                )

    def record_announcement(
        self,
        job: str,
        occurrence: str,
        now: datetime,
        *,
        fields: AnnouncementFields | None = None,
        published_hash: str | None = None,
        published_starts_at: datetime | None = None,
    ) -> None:
        """Record what the forum now shows of an occurrence (after a publication or an edit)."""
        update: dict[str, Any] = {"updated_at": iso(now)}
        if fields is not None:
            update.update(self._announcement_fields(fields))
        if published_hash is not None:
            update["published_hash"] = published_hash
        if published_starts_at is not None:
            update["published_starts_at"] = iso(published_starts_at)
        with self.atomic():
            self.db.execute(
                "update announcements set "
                + ", ".join(f"[{k}] = :{k}" for k in update)
                + f" where {self._WHERE} and job = :job and occurrence = :occurrence",
                {**self._scope, **update, "job": job, "occurrence": occurrence},
            )

    def announcements(self, jobs: Sequence[str] | None = None) -> list[StoredAnnouncement]:
        """The stored occurrences, of the given jobs or all, in order of start."""
        rows = self.db.query(
            f"select * from announcements where {self._WHERE} order by starts_at, job",
            self._scope,
        )
        found = [StoredAnnouncement.from_row(r) for r in rows]
        return found if jobs is None else [a for a in found if a.job in jobs]

    def upcoming_announcements(
        self, now: datetime, *, limit: int | None = None
    ) -> list[StoredAnnouncement]:
        """Published, not cancelled and not over at `now`, soonest first, with their topic id:
        what the digest and the welcome show."""
        rows = self.db.query(
            "select a.*, l.topic_id as topic_id from announcements a left join ledger l "
            "on l.site = a.site and l.community = a.community and l.key = a.topic_key "
            "and l.state = 'done' "
            "where a.site = :site and a.community = :community and a.cancelled = 0 "
            "and a.published_hash is not null and a.ends_at > :now "
            "order by a.starts_at, a.job" + (" limit :limit" if limit is not None else ""),
            {**self._scope, "now": iso(now), "limit": limit},
        )
        return [StoredAnnouncement.from_row(r) for r in rows]

    def _announcement_fields(self, occ: AnnouncementFields) -> dict[str, Any]:
        values = {k: getattr(occ, k) for k in self._ANNOUNCEMENT_FIELDS}
        values["starts_at"], values["ends_at"] = iso(occ.starts_at), iso(occ.ends_at)
        return values
