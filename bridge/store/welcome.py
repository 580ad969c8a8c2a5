"""The welcome's memory: the community's secret and one row per member it has seen join.

A member is named here only by `person`, a keyed hash of their user id (`bridge.welcome.people`):
the rows survive `bridge forget` and say nothing of who they are without the secret.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bridge.store.activity import GroupJoin
from bridge.store.base import StoreBase, iso, parse_iso


class WelcomeState(StrEnum):
    KNOWN = "known"  # in the group at the very first pass: never welcomed
    HELD = "held"  # new, waiting for the wave to calm down
    SKIPPED = "skipped"  # never welcomed: a bot, the bridge, a suspended or staged account…
    PLANNED = "planned"  # named in `step_key`, which may or may not be on the forum yet
    WELCOMED = "welcomed"


class FollowUp(StrEnum):
    SENT = "sent"
    NOT_NEEDED = "not_needed"  # they took part before it was due
    LEFT = "left"  # no longer in the group when it was due
    NONE = "none"  # follow_up_days: 0
    GIVEN_UP = "given_up"  # refused by Discourse until the publisher gave up: never sent


@dataclass(frozen=True)
class WelcomeRow:
    person: str
    joined_at: datetime
    state: WelcomeState
    updated_at: datetime
    reason: str | None = None
    step_key: str | None = None
    welcomed_at: datetime | None = None
    follow_up: FollowUp | None = None

    def but(self, **changes: Any) -> WelcomeRow:
        return replace(self, **changes)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WelcomeRow:
        return cls(
            person=row["person"],
            joined_at=datetime.fromisoformat(row["joined_at"]),
            state=WelcomeState(row["state"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            reason=row["reason"],
            step_key=row["step_key"],
            welcomed_at=parse_iso(row["welcomed_at"]),
            follow_up=FollowUp(row["follow_up"]) if row["follow_up"] else None,
        )


class WelcomeMixin(StoreBase):
    def welcome_secret(self, now: datetime) -> bytes:
        """The community's secret for the welcome's keyed hashes, made on first use."""
        with self.atomic():
            self.db.table("welcome_secrets").insert(
                {
                    **self._scope,
                    "secret": secrets.token_hex(32),
                    "created_at": iso(now),
                    "baseline_at": None,
                },
                pk=("site", "community"),
                ignore=True,
            )
        row = next(
            self.db.query(f"select secret from welcome_secrets where {self._WHERE}", self._scope)
        )
        return bytes.fromhex(row["secret"])

    def welcome_baseline_at(self) -> datetime | None:
        """When the first pass recorded who was already in the group (None: not yet)."""
        rows = list(
            self.db.query(
                f"select baseline_at from welcome_secrets where {self._WHERE}", self._scope
            )
        )
        return parse_iso(rows[0]["baseline_at"]) if rows else None

    def welcome_rows(self) -> dict[str, WelcomeRow]:
        return {
            r["person"]: WelcomeRow.from_row(r)
            for r in self.db.query(
                f"select * from welcome_members where {self._WHERE}", self._scope
            )
        }

    def save_welcome_rows(
        self, rows: Sequence[WelcomeRow], *, baseline_at: datetime | None = None
    ) -> None:
        """Record these rows at once (and, on the first pass, that the baseline is taken)."""
        with self.atomic():
            self.db.table("welcome_members").upsert_all(
                (
                    {
                        **self._scope,
                        "person": r.person,
                        "joined_at": iso(r.joined_at),
                        "state": r.state.value,
                        "reason": r.reason,
                        "step_key": r.step_key,
                        "welcomed_at": iso(r.welcomed_at),
                        "follow_up": r.follow_up.value if r.follow_up else None,
                        "updated_at": iso(r.updated_at),
                    }
                    for r in rows
                ),
                pk=("site", "community", "person"),
            )
            if baseline_at is not None:
                self.db.execute(
                    f"update welcome_secrets set baseline_at = :at where {self._WHERE}",
                    {**self._scope, "at": iso(baseline_at)},
                )

    def group_roster(self, group: str) -> list[GroupJoin]:
        """Every stored member of `group`, with the date they joined, oldest first."""
        rows = self.db.query(
            "select user_id, username, name, added_at from group_members "
            f"where {self._WHERE} and group_name = :g and added_at is not null "
            "order by added_at, user_id",
            {**self._scope, "g": group},
        )
        return [
            GroupJoin(r["user_id"], r["username"], r["name"], datetime.fromisoformat(r["added_at"]))
            for r in rows
        ]
