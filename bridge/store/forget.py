"""Forgetting one person at their request (`bridge forget`), and what to tell them first
(`bridge export member`: everything the store holds about them).

Forgetting removes their profile and memberships, takes their name off their posts, entries and
topics, rewrites mentions of them by others and their full name wherever it is written, and puts
them on the forget list (`forgotten`), which keeps them forgotten at the next syncs. Their posts'
text stays: it is the community's conversation, still public on the forum.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from bridge.errors import UsageError
from bridge.store.base import iso, parse_iso
from bridge.store.deletion import DeletionMixin, _name_in_text
from bridge.store.forgotten import (
    FORGOTTEN_NAME,
    forget_list_changed,
    full_name,
    name_key,
)
from bridge.store.welcome import WelcomeMixin
from bridge.welcome.people import person_key

# Where the bridge's own words may carry a name (a welcome's title, a run's summary or error).
_OWN_WORDS = {"ledger": ("title", "error"), "job_runs": ("summary", "error")}


@dataclass(frozen=True)
class Person:
    """Someone the store names: their user id (None if only a name is left) and every
    username and full name it holds for them."""

    user_id: int | None
    usernames: tuple[str, ...]
    names: tuple[str, ...] = ()


@dataclass
class ForgetCounts:
    """What forgetting removed, by kind; `topic_ids`: whose entries and search documents are
    to be rebuilt."""

    profile: int = 0
    memberships: int = 0
    posts: int = 0
    topics: int = 0
    entries: int = 0
    mentions: int = 0
    full_names: int = 0
    own_words: int = 0
    topic_ids: list[int] = field(default_factory=list)


def _word(text: str) -> re.Pattern[str]:
    """`text` as a whole word or name (never inside a longer username or address)."""
    return re.compile(rf"(?<![\w.@/-]){re.escape(text)}(?![\w-]|\.\w)", re.IGNORECASE)


class ForgetMixin(DeletionMixin, WelcomeMixin):
    # --- finding someone ---------------------------------------------------------------------

    def find_person(self, who: str) -> Person | None:
        """The person a username names (any case), or a user id when no username matches."""
        params = {**self._scope, "n": who.strip().lstrip("@"), "id": -1}
        ids = self._ids_named(params)
        if not ids and who.strip().isdigit():
            ids = [int(who.strip())]
        if len(ids) > 1:  # two accounts held this name in turn
            numbers = ", ".join(f"n° {i}" for i in sorted(ids))
            raise UsageError(f"« {who} » a nommé plusieurs comptes ({numbers}) : donnez le numéro")
        user_id = ids[0] if ids else None
        params["id"] = user_id if user_id is not None else -1
        usernames = [
            r["username"]
            for r in self.db.query(
                f"select username from users where {self._WHERE} and (id = :id) "
                f"union select username from group_members where {self._WHERE} and user_id = :id "
                f"union select username from posts where {self._WHERE} and user_id = :id "
                f"union select last_poster_username from topics where {self._WHERE} "
                "and lower(last_poster_username) = lower(:n)",
                params,
            )
            if r["username"] and r["username"] != FORGOTTEN_NAME
        ]
        if user_id is None and not usernames:
            return None
        names = [
            r["name"]
            for r in self.db.query(
                f"select name from users where {self._WHERE} and id = :id "
                f"union select name from group_members where {self._WHERE} and user_id = :id",
                params,
            )
            if r["name"]
        ]
        return Person(user_id, tuple(sorted(set(usernames))), tuple(sorted(set(names))))

    def _ids_named(self, params: dict[str, object]) -> list[int]:
        return [
            r["id"]
            for r in self.db.query(
                f"select id from users where {self._WHERE} and lower(username) = lower(:n) "
                f"union select user_id from group_members where {self._WHERE} "
                "and lower(username) = lower(:n) "
                f"union select user_id from posts where {self._WHERE} "
                "and lower(username) = lower(:n) and user_id is not null",
                params,
            )
            if r["id"] is not None
        ]

    def forgotten_on(self, who: str) -> datetime | None:
        """When the person this username (or user id) names was forgotten, if they were."""
        rows = list(
            self.db.query(f"select secret from welcome_secrets where {self._WHERE}", self._scope)
        )
        if not rows:
            return None  # nobody was ever forgotten: the list is keyed by this secret
        secret = bytes.fromhex(rows[0]["secret"])
        keys = {name_key(secret, who.strip().lstrip("@"))}
        if who.strip().isdigit():
            keys.add(person_key(secret, int(who.strip())))
        for row in self.db.query(
            f"select person, names, forgotten_at from forgotten_people where {self._WHERE}",
            self._scope,
        ):
            if keys & {row["person"], *json.loads(row["names"] or "[]")}:
                return parse_iso(row["forgotten_at"])
        return None

    # --- forgetting --------------------------------------------------------------------------

    def forget_person(self, person: Person, now: datetime) -> ForgetCounts:
        """Remove the person's data (inside one transaction) and put them on the forget list.
        Their search documents are then to be rebuilt (`topic_ids`), the index compacted and
        the free pages purged (`purge_free_pages`)."""
        counts = ForgetCounts()
        secret = self.welcome_secret(now)
        with self.atomic():
            counts.profile, counts.memberships, counts.posts = (
                self._count("users", "id = :u", person.user_id),
                self._count("group_members", "user_id = :u", person.user_id),
                self._count("posts", "user_id = :u", person.user_id),
            )
            for username in person.usernames:
                counts.topics += self._count("topics", "last_poster_username = :u", username)
                counts.mentions += self._mentions(username, person.user_id)
                for table in ("toolbox_entries", "cartography_cards"):
                    counts.entries += self._count(table, "author = :u", username)
            touched = set(self._topics_of(person.user_id))
            touched |= set(self._rename_everywhere(person, counts))
            if person.user_id is not None:
                touched |= set(self.scrub_user(person.user_id, FORGOTTEN_NAME))
                self.db.execute(
                    f"update posts set user_id = null where {self._WHERE} and user_id = :u",
                    {**self._scope, "u": person.user_id},
                )
            self.db.table("forgotten_people").upsert(
                {
                    **self._scope,
                    "person": person_key(secret, person.user_id)
                    if person.user_id is not None
                    else f"nom:{name_key(secret, person.usernames[0])}",
                    "names": json.dumps(sorted({name_key(secret, u) for u in person.usernames})),
                    "forgotten_at": iso(now),
                },
                pk=("site", "community", "person"),
            )
            forget_list_changed(self)
        counts.topic_ids = sorted(touched)
        return counts

    def _count(self, table: str, where: str, value: object) -> int:
        if value is None:
            return 0
        row = self.db.execute(
            f"select count(*) from [{table}] where {self._WHERE} and {where}",
            {**self._scope, "u": value},
        ).fetchone()
        return int(row[0])

    def _topics_of(self, user_id: int | None) -> list[int]:
        return [
            r["topic_id"]
            for r in self.db.query(
                f"select distinct topic_id from posts where {self._WHERE} and user_id = :u",
                {**self._scope, "u": user_id},
            )
        ]

    def _mentions(self, username: str, user_id: int | None) -> int:
        pattern = _name_in_text(username)
        return sum(
            1
            for r in self.db.query(
                f"select raw, cooked from posts where {self._WHERE} and user_id is not :u "
                "and (raw like :like or cooked like :like)",
                {**self._scope, "u": user_id, "like": f"%{username}%"},
            )
            if pattern.search(r["raw"] or "") or pattern.search(r["cooked"] or "")
        )

    def _rename_everywhere(self, person: Person, counts: ForgetCounts) -> list[int]:
        """The names scrub_user does not reach: mentions when only a name is left, the full
        name in any text, and usernames in the bridge's own words. Return the topics touched."""
        touched: set[int] = set()
        if person.user_id is None:
            touched |= set(self._rewrite_name(set(person.usernames), FORGOTTEN_NAME))
            for username in person.usernames:
                params = {**self._scope, "old": username, "n": FORGOTTEN_NAME}
                self.db.execute(
                    "update topics set last_poster_username = :n "
                    f"where {self._WHERE} and last_poster_username = :old",
                    params,
                )
        full = [n for n in person.names if full_name(n) is not None]
        for name in full:
            pattern = _word(name)
            changed = self._rewrite_posts(name, partial(pattern.sub, FORGOTTEN_NAME))
            touched.update(changed)
            counts.full_names += len(changed)
            for row in self.db.query(
                f"select rowid as rid, id, title from topics where {self._WHERE} "
                "and title like :like",
                {**self._scope, "like": f"%{name}%"},
            ):
                title = pattern.sub(FORGOTTEN_NAME, row["title"])
                self._set("topics", row["rid"], {"title": title, "slug": ""})
                touched.add(row["id"])
                counts.full_names += 1
        words = [_word(w) for w in (*person.usernames, *full)]
        for row in self.db.query(
            "select t.rowid as rid, t.id, t.title from topics t join ledger l "
            "on l.site = t.site and l.community = t.community and l.topic_id = t.id "
            "where t.site = :site and t.community = :community and l.key like 'welcome:%'",
            self._scope,
        ):
            # A welcome topic's title names its member by username, as the ledger's does; its
            # slug, made from the title, too (Discourse finds a topic by id without it).
            title = row["title"]
            for pattern in words:
                title = pattern.sub(FORGOTTEN_NAME, title) if title else title
            if title != row["title"]:
                self._set("topics", row["rid"], {"title": title, "slug": ""})
                touched.add(row["id"])
                counts.own_words += 1
        for table, columns in _OWN_WORDS.items():
            for row in self.db.query(
                f"select rowid as rid, * from [{table}] where {self._WHERE}", self._scope
            ):
                values = {}
                for column in columns:
                    text = row[column]
                    for pattern in words:
                        text = pattern.sub(FORGOTTEN_NAME, text) if text else text
                    if text != row[column]:
                        values[column] = text
                if values:
                    self._set(table, row["rid"], values)
                    counts.own_words += 1
        return sorted(touched)

    def _set(self, table: str, rowid: int, values: dict[str, str]) -> None:
        columns = ", ".join(f"[{c}] = :{c}" for c in values)
        self.db.execute(
            f"update [{table}] set {columns} where rowid = :rid", {**values, "rid": rowid}
        )

    def purge_free_pages(self) -> bool:
        """Rewrite the file without its free pages and empty the write-ahead log, so that no
        byte of what was removed is left on disk; False if another process kept the log busy
        (it is emptied when that process closes the store)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")
        busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy is None or not busy[0]
