"""The forget list: people forgotten at their request, kept forgotten when the mirror reads
their posts again.

A forgotten person is named only by keyed hashes under the welcome's secret: `person` (the
welcome's own key of their user id, so the welcome still knows them and never welcomes them
twice) and one hash per username they were known by (to recognise their name where others
mention them). Without the secret the list says nothing of who is on it.

Every save of the forum's rows passes through `_masked_*`: a forgotten author's posts are kept
under `FORGOTTEN_NAME`, without user id; their profile and membership are not kept at all;
mentions of them in others' posts are rewritten before they reach the file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bridge.store.base import StoreBase
from bridge.welcome.people import person_key

if TYPE_CHECKING:
    from bridge.models import GroupMember, Post, TopicSummary

# What a forgotten person's name becomes. It holds a space, so it is never a username: neither
# Discourse nor anyone reading it can take it for a mention of somebody.
FORGOTTEN_NAME = "membre retiré"

# A name where a post names someone: a mention, a profile link, a quote (the forms
# `deletion._name_in_text` rewrites for one known name).
_NAMED = re.compile(r"(?:(?<![\w@/.-])(@)|(/u/)|(data-username=\")|(\[quote=\"?))([\w.-]*\w)")


# A username as a bare word (letters, digits, `_`, `.`, `-`, as Discourse allows).
_WORD = re.compile(r"(?<![\w.@/-])[\w.-]*\w")


def full_name(text: str) -> re.Pattern[str] | None:
    """A full name as a whole (never inside a longer name or address); None for a one-word
    name (« Marie »), which would take others' words with it."""
    if len(text.split()) < 2:
        return None
    return re.compile(rf"(?<![\w.@/-]){re.escape(text)}(?![\w-]|\.\w)", re.IGNORECASE)


def name_key(secret: bytes, username: str) -> str:
    """The keyed hash of a username, case folded (Discourse's usernames ignore case)."""
    return hmac.new(secret, b"name:" + username.casefold().encode(), hashlib.sha256).hexdigest()[
        :16
    ]


def replace_named(match: re.Match[str], new: str) -> str:
    """The rewritten form of a mention, profile link or quote: `@` goes with a name that is not
    a username (Discourse would link `@membre` to someone called membre)."""
    prefix = next(g for g in match.groups()[:4] if g is not None)
    return new if prefix == "@" and " " in new else prefix + new


@dataclass(frozen=True)
class ForgetList:
    secret: bytes
    persons: frozenset[str]
    names: frozenset[str]

    def has_user(self, user_id: int | None) -> bool:
        return user_id is not None and person_key(self.secret, user_id) in self.persons

    def has_name(self, username: str | None) -> bool:
        return bool(username) and name_key(self.secret, username or "") in self.names

    def text(self, text: str) -> str:
        def named(match: re.Match[str]) -> str:
            if self.has_name(match.group(5)):
                return replace_named(match, FORGOTTEN_NAME)
            return match.group(0)

        return _NAMED.sub(named, text) if text else text

    def words(self, text: str) -> str:
        """`text` with every word that is a forgotten username replaced (the bridge's own
        welcome titles name their member bare, « Bienvenue à marie.t … »)."""

        def named(match: re.Match[str]) -> str:
            return FORGOTTEN_NAME if self.has_name(match.group(0)) else match.group(0)

        return _WORD.sub(named, text) if text else text


_UNREAD = object()


def forget_list_changed(store: StoreBase) -> None:
    """Drop a store's copy of the forget list: the next save reads it again."""
    store.__dict__.pop("_forget_list", None)


class ForgetListMixin(StoreBase):
    def forget_list(self) -> ForgetList | None:
        """The forget list, or None when nobody is on it (no mask to apply).

        Read once per store: every save of a sync asks for it (a topic, its posts, its title).
        Only `bridge forget` changes it, through this store (`forget_person` drops the copy:
        `forget_list_changed`),
        and it holds the `jobs` lock, so no job's store is open across a change.
        """
        cached = self.__dict__.get("_forget_list", _UNREAD)
        if cached is _UNREAD:
            cached = self.__dict__["_forget_list"] = self._read_forget_list()
        return cached  # type: ignore[return-value]

    def _read_forget_list(self) -> ForgetList | None:
        rows = list(
            self.db.query(
                "select f.person, f.names, s.secret from forgotten_people f "
                "join welcome_secrets s on s.site = f.site and s.community = f.community "
                "where f.site = :site and f.community = :community",
                self._scope,
            )
        )
        if not rows:
            return None
        return ForgetList(
            secret=bytes.fromhex(rows[0]["secret"]),
            persons=frozenset(r["person"] for r in rows),
            names=frozenset(n for r in rows for n in json.loads(r["names"] or "[]")),
        )

    def _masked_posts(self, posts: Sequence[Post]) -> Sequence[Post]:
        forgotten = self.forget_list()
        if forgotten is None:
            return posts
        masked = []
        for post in posts:
            post = replace(post, raw=forgotten.text(post.raw), cooked=forgotten.text(post.cooked))
            if forgotten.has_user(post.user_id) or forgotten.has_name(post.username):
                # Their full name, as the forum gives it with the post, out of their own text.
                name = full_name(post.name or "")
                if name is not None:
                    post = replace(
                        post,
                        raw=name.sub(FORGOTTEN_NAME, post.raw),
                        cooked=name.sub(FORGOTTEN_NAME, post.cooked),
                    )
                post = replace(post, username=FORGOTTEN_NAME, user_id=None, name=None)
            masked.append(post)
        return masked

    def _masked_topic(self, topic: TopicSummary) -> TopicSummary:
        forgotten = self.forget_list()
        if forgotten is None:
            return topic
        title = self._masked_title(topic.id, topic.title)
        if title != topic.title:
            # The slug is made from the title: Discourse finds the topic by id without it.
            topic = replace(topic, title=title, slug="")
        if not forgotten.has_name(topic.last_poster_username):
            return topic
        return replace(topic, last_poster_username=FORGOTTEN_NAME)

    def _masked_title(self, topic_id: int, title: str) -> str:
        """A title as the forum gives it; a welcome the bridge wrote names its member bare."""
        forgotten = self.forget_list()
        if forgotten is None:
            return title
        welcome = self.db.execute(
            f"select 1 from ledger where {self._WHERE} and topic_id = :t "
            "and key like 'welcome:%' limit 1",
            {**self._scope, "t": topic_id},
        ).fetchone()
        if welcome is None:
            return title
        return forgotten.words(title)

    def _masked_members(self, members: Sequence[GroupMember]) -> Sequence[GroupMember]:
        forgotten = self.forget_list()
        if forgotten is None:
            return members
        return [m for m in members if not forgotten.has_user(m.id)]

    def _masked_people(
        self, people: Sequence[tuple[int, str, str | None]]
    ) -> Sequence[tuple[int, str, str | None]]:
        forgotten = self.forget_list()
        if forgotten is None:
            return people
        return [p for p in people if not forgotten.has_user(p[0])]
