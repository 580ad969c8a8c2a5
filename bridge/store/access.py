"""Everything the store holds about one person, for their access request
(`bridge export member`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.models import topic_url
from bridge.store.deletion import _name_in_text
from bridge.store.forget import Person
from bridge.store.forum import ForumMixin, StoredPost
from bridge.store.ledger import LedgerEntry, LedgerMixin
from bridge.store.welcome import WelcomeMixin, WelcomeRow
from bridge.welcome.people import KEY_PREFIX, person_key


@dataclass(frozen=True)
class MemberRecord:
    person: Person
    profile: dict[str, Any] | None
    memberships: list[dict[str, Any]]
    posts: list[tuple[StoredPost, str]]  # with its address on the forum
    entries: list[dict[str, Any]]
    mentions: list[str]  # addresses of others' posts that name them
    welcome: WelcomeRow | None
    ledger: list[LedgerEntry]


class AccessMixin(ForumMixin, LedgerMixin, WelcomeMixin):
    def member_record(self, person: Person, now: datetime) -> MemberRecord:
        params = {**self._scope, "u": person.user_id}
        profiles = list(
            self.db.query(
                "select username, name, created_at, bio, location, website from users "
                f"where {self._WHERE} and id = :u",
                params,
            )
        )
        memberships = list(
            self.db.query(
                "select group_name, username, name, added_at from group_members "
                f"where {self._WHERE} and user_id = :u order by group_name",
                params,
            )
        )
        slugs = {
            r["id"]: r["slug"] or ""
            for r in self.db.query(f"select id, slug from topics where {self._WHERE}", self._scope)
        }

        def address(topic_id: int, number: int) -> str:
            return f"{topic_url(self.site, slugs.get(topic_id, ''), topic_id)}/{number}"

        posts = [
            StoredPost.from_row(r)
            for r in self.db.query(
                f"select * from posts where {self._WHERE} and user_id = :u order by created_at, id",
                params,
            )
        ]
        names = {f"a{i}": u for i, u in enumerate(person.usernames)}
        marks = ", ".join(f":{k}" for k in names) or "null"
        entries = [
            {"type": kind, **r}
            for table, kind in (("toolbox_entries", "outil"), ("cartography_cards", "fiche"))
            for r in self.db.query(
                f"select title, url, created_at from [{table}] where {self._WHERE} "
                f"and author in ({marks}) order by created_at",
                {**self._scope, **names},
            )
        ]
        mentions: list[str] = []
        for username in person.usernames:
            pattern = _name_in_text(username)
            for r in self.db.query(
                f"select topic_id, post_number, raw from posts where {self._WHERE} "
                "and user_id is not :u and deleted = 0 and raw like :like order by id",
                {**params, "like": f"%{username}%"},
            ):
                if pattern.search(r["raw"] or ""):
                    mentions.append(address(r["topic_id"], r["post_number"]))
        welcome = None
        ledger: list[LedgerEntry] = []
        if person.user_id is not None:
            key = person_key(self.welcome_secret(now), person.user_id)
            welcome = self.welcome_rows().get(key)
            ledger = [e for e in self.ledger_entries() if e.key.startswith(f"{KEY_PREFIX}{key}:")]
        return MemberRecord(
            person=person,
            profile=profiles[0] if profiles else None,
            memberships=memberships,
            posts=[(p, address(p.topic_id, p.post_number)) for p in posts],
            entries=entries,
            mentions=sorted(set(mentions)),
            welcome=welcome,
            ledger=ledger,
        )
