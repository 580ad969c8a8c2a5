"""The publishing ledger: one row per write to the forum, recorded before it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bridge.errors import StoreError
from bridge.store.base import StoreBase, iso

if TYPE_CHECKING:
    from bridge.drafts import Draft


class LedgerState(StrEnum):
    PENDING = "pending"  # intent recorded, outcome unknown
    DONE = "done"  # written, with the ids Discourse gave
    FAILED = "failed"  # refused by Discourse; a later run may try again
    HELD = "held"  # written into the review queue: never written again


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    kind: str
    state: LedgerState
    external_id: str | None
    title: str | None
    topic_id: int | None
    post_id: int | None
    post_number: int | None
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LedgerEntry:
        return cls(
            key=row["key"],
            kind=row["kind"],
            state=LedgerState(row["state"]),
            external_id=row["external_id"],
            title=row["title"],
            topic_id=row["topic_id"],
            post_id=row["post_id"],
            post_number=row["post_number"],
            attempts=row["attempts"] or 0,
            error=row["error"],
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
        )


class LedgerMixin(StoreBase):
    # --- publishing ledger -------------------------------------------------------------------

    def ledger_get(self, key: str) -> LedgerEntry | None:
        rows = list(
            self.db.query(
                f"select * from ledger where {self._WHERE} and key = :key",
                {**self._scope, "key": key},
            )
        )
        return LedgerEntry.from_row(rows[0]) if rows else None

    def ledger_intend(self, draft: Draft, now: datetime) -> LedgerEntry:
        """Record the intent to write `draft` (committed before the write is sent)."""
        existing = self.ledger_get(draft.key)
        with self.atomic():
            self.db.table("ledger").upsert(
                {
                    **self._scope,
                    "key": draft.key,
                    "kind": draft.kind.value,
                    "state": LedgerState.PENDING.value,
                    "external_id": (
                        draft.external_id(self.community) if draft.creates_topic else None
                    ),
                    "title": draft.title or draft.label or None,
                    "attempts": (existing.attempts if existing else 0) + 1,
                    "error": None,
                    "created_at": iso(existing.created_at if existing else now),
                    "updated_at": iso(now),
                },
                pk=("site", "community", "key"),
            )
        entry = self.ledger_get(draft.key)
        if entry is None:
            raise StoreError(f"le registre n'a pas gardé l'intention {draft.key}")
        return entry

    def ledger_done(
        self,
        key: str,
        now: datetime,
        *,
        topic_id: int | None = None,
        post_id: int | None = None,
        post_number: int | None = None,
    ) -> None:
        with self.atomic():
            self.db.table("ledger").update(
                (self.site, self.community, key),
                {
                    "state": LedgerState.DONE.value,
                    "topic_id": topic_id,
                    "post_id": post_id,
                    "post_number": post_number,
                    "error": None,
                    "updated_at": iso(now),
                },
            )

    def ledger_failed(self, key: str, error: str, now: datetime) -> None:
        """Record a refusal; later runs may try again (see the publisher's `MAX_ATTEMPTS`)."""
        self._ledger_set(key, LedgerState.FAILED, error, now)

    def ledger_held(self, key: str, error: str, now: datetime) -> None:
        """Record a post Discourse queued for approval: it is never written again."""
        self._ledger_set(key, LedgerState.HELD, error, now)

    def _ledger_set(self, key: str, state: LedgerState, error: str, now: datetime) -> None:
        values = {"state": state.value, "error": error, "updated_at": iso(now)}
        with self.atomic():
            self.db.table("ledger").update((self.site, self.community, key), values)

    def ledger_summary(self) -> dict[LedgerState, int]:
        return {
            LedgerState(row["state"]): row["n"]
            for row in self.db.query(
                f"select state, count(*) as n from ledger where {self._WHERE} group by state",
                self._scope,
            )
        }

    def ledger_entries(self, state: LedgerState | None = None) -> list[LedgerEntry]:
        where = self._WHERE + (" and state = :state" if state else "")
        return [
            LedgerEntry.from_row(row)
            for row in self.db.query(
                f"select * from ledger where {where} order by updated_at desc",
                {**self._scope, "state": LedgerState(state).value if state else None},
            )
        ]

    def ledger_done_keys(self, prefix: str) -> dict[str, datetime]:
        """Keys written for sure that start with `prefix`, with when they were confirmed."""
        return {
            r["key"]: datetime.fromisoformat(r["updated_at"])
            for r in self.db.query(
                f"select key, updated_at from ledger where {self._WHERE} and state = :done "
                "and substr(key, 1, length(:prefix)) = :prefix",
                {**self._scope, "prefix": prefix, "done": LedgerState.DONE.value},
            )
        }

    def ledger_counts(self, prefix: str) -> dict[LedgerState, int]:
        """How many entries whose key starts with `prefix` are in each state."""
        return {
            LedgerState(row["state"]): row["n"]
            for row in self.db.query(
                f"select state, count(*) as n from ledger where {self._WHERE} "
                "and substr(key, 1, length(:prefix)) = :prefix group by state",
                {**self._scope, "prefix": prefix},
            )
        }
