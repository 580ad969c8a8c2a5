"""Incremental sync of the watched category into the store.

Requests are the cost (admin keys share about 60 a minute per site), so a pass reads as little as
it can:

- topics come ordered by activity; reading stops at the first one no newer than the cursor, and
  a changed topic's posts are read only after the last post already stored (20 a request);
- the group's members come newest first; reading stops at the first one already known;
- what does not move a topic up the activity order (edits, moves, likes, status changes,
  deletions, departures, anonymised accounts) is caught by the periodic sweep, which reads every
  list page, every member page, and the first posts of each toolbox entry and cartography card.

The cursor moves in the same transaction as the last rows it covers, and only once every newer
topic is saved; a pass killed at any point leaves the store consistent and the next pass finishes
the work (topics already saved compare equal and cost no post read).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bridge.catalog import refresh_entries
from bridge.discourse import Category, DiscourseClient, GroupMember, Post, TopicSummary
from bridge.errors import NotFoundError
from bridge.store import Store, iso, parse_iso
from bridge.wiring import Parts

log = logging.getLogger(__name__)

CURSOR_TOPICS = "topics_bumped_at"
CURSOR_MEMBERS = "members_added_at"
CURSOR_SWEEP = "last_sweep"


@dataclass
class SyncSummary:
    topics_seen: int = 0
    topics_saved: int = 0
    posts_saved: int = 0
    topics_deleted: int = 0
    posts_deleted: int = 0
    members_added: int = 0
    members_removed: int = 0
    accounts_scrubbed: int = 0
    swept: bool = False
    requests: int = 0
    seconds: float = 0.0
    saved_topic_ids: list[int] = field(default_factory=list)

    def describe(self) -> str:
        parts = [
            f"{self.topics_saved} sujet(s) mis à jour",
            f"{self.posts_saved} message(s)",
            f"{self.members_added} nouveau(x) membre(s)",
        ]
        if self.swept:
            parts.append(
                f"réconciliation : {self.topics_deleted} sujet(s) et {self.posts_deleted} "
                f"message(s) supprimés, {self.members_removed} départ(s), "
                f"{self.accounts_scrubbed} compte(s) effacé(s)"
            )
        return (
            f"Synchronisation : {', '.join(parts)} ; {self.requests} requête(s) "
            f"en {self.seconds:.1f} s."
        )


# Called once per topic read from the list (for a progress bar).
Progress = Callable[[TopicSummary], None]


class Mirror:
    def __init__(
        self,
        client: DiscourseClient,
        store: Store,
        *,
        category: str,
        group: str,
        deep_subcategories: tuple[str, ...] = (),
        reconcile_every: timedelta = timedelta(hours=24),
        now: Callable[[], datetime],
        on_topic: Progress | None = None,
        on_saved: Callable[[Store, list[int]], None] | None = None,
    ):
        self.client = client
        self.store = store
        self.category_ref = category
        self.group = group
        self.deep_subcategories = deep_subcategories
        self.reconcile_every = reconcile_every
        self.now = now
        self.on_topic = on_topic or (lambda topic: None)
        # Lets entries be re-parsed for the topics a pass saved, inside the same pass.
        self.on_saved = on_saved

    def sync(self, *, full: bool = False) -> SyncSummary:
        started = time.monotonic()
        before = self.client.requests_sent
        summary = SyncSummary()
        category, fresh_categories = self._category()
        last_sweep = parse_iso(self.store.get_cursor(CURSOR_SWEEP))
        # A first pass reads everything anyway: it counts as a sweep without re-reading entries.
        first = self.store.get_cursor(CURSOR_TOPICS) is None
        sweep = first or full or last_sweep is None or self.now() - last_sweep >= self.reconcile_every
        if sweep and not fresh_categories:
            category, _ = self._category(refresh=True)
        summary.swept = sweep
        self._sync_topics(category, summary, sweep=sweep)
        self._sync_members(summary, sweep=sweep)
        if sweep:
            if not first:
                self._sweep_entries(category, summary)
            with self.store.atomic():
                self.store.set_cursor(CURSOR_SWEEP, iso(self.now()) or "", self.now())
        if self.on_saved is not None and summary.saved_topic_ids:
            self.on_saved(self.store, summary.saved_topic_ids)
        summary.requests = self.client.requests_sent - before
        summary.seconds = time.monotonic() - started
        log.info(summary.describe())
        return summary

    # --- categories ------------------------------------------------------------------------------

    def _category(self, refresh: bool = False) -> tuple[Category, bool]:
        """The watched category, from the store when known (an idle pass reads nothing for it)."""
        row = None if refresh else self.store.category(self.category_ref)
        if row is not None:
            return (
                Category(
                    id=row["id"],
                    slug=row["slug"],
                    name=row["name"],
                    parent_id=row["parent_id"],
                    topic_count=row["topic_count"] or 0,
                    subcategory_ids=tuple(self.store.subcategory_ids(row["id"])),
                ),
                False,
            )
        categories = self.client.fetch_categories()
        category = self.client.resolve_category(self.category_ref, categories=categories)
        family = {category.id, *category.subcategory_ids}
        with self.store.atomic():
            self.store.save_categories(
                [c for c in categories if c.id in family or c.parent_id in family]
            )
        return category, True

    # --- topics ----------------------------------------------------------------------------------

    def _sync_topics(self, category: Category, summary: SyncSummary, *, sweep: bool) -> None:
        cursor = parse_iso(self.store.get_cursor(CURSOR_TOPICS))
        stop = None
        if cursor is not None and not sweep:
            stop = lambda t: t.bumped_at <= cursor  # noqa: E731
        newest = cursor
        seen: set[int] = set()
        held: tuple[TopicSummary, list[Post]] | None = None
        for topic in self.client.iter_category_topics(category, stop_when=stop):
            self.on_topic(topic)
            summary.topics_seen += 1
            seen.add(topic.id)
            if not topic.pinned and (newest is None or topic.bumped_at > newest):
                newest = topic.bumped_at
            change = self._read_changes(topic)
            if change is None:
                continue
            if held is not None:
                self._save(held, summary)
            held = change
        with self.store.atomic():
            if held is not None:
                self._save(held, summary)
            if newest is not None and newest != cursor:
                self.store.set_cursor(CURSOR_TOPICS, iso(newest) or "", self.now())
        if sweep:
            gone = sorted(self.store.live_topic_ids() - seen)
            if gone:
                with self.store.atomic():
                    self.store.mark_topics_deleted(gone)
                summary.topics_deleted += len(gone)

    def _read_changes(self, topic: TopicSummary) -> tuple[TopicSummary, list[Post]] | None:
        """The topic and its posts not yet stored, or None when nothing changed."""
        stored = self.store.topic_state(topic.id)
        if stored is not None and not stored["deleted"] and _same(stored, topic):
            return None
        after = 0
        if stored is not None and not stored["deleted"] and stored["max_post_number"]:
            after = int(stored["max_post_number"])
        posts: list[Post] = []
        if stored is None or topic.posts_count > int(stored["posts_count"] or 0) or after == 0:
            posts = list(
                self.client.iter_topic_posts(
                    topic.id, posts_count=topic.posts_count, after_post_number=after
                )
            )
        return topic, posts

    def _save(self, change: tuple[TopicSummary, list[Post]], summary: SyncSummary) -> None:
        topic, posts = change
        with self.store.atomic():
            self.store.save_topic(topic, posts, self.now())
            self.store.save_people(
                sorted({(p.user_id, p.username, p.name) for p in posts if p.user_id is not None})
            )
        summary.topics_saved += 1
        summary.posts_saved += len(posts)
        summary.saved_topic_ids.append(topic.id)

    # --- members ---------------------------------------------------------------------------------

    def _sync_members(self, summary: SyncSummary, *, sweep: bool) -> None:
        known = self.store.group_members(self.group)
        cursor = parse_iso(self.store.get_cursor(CURSOR_MEMBERS))
        stop = None
        if cursor is not None and not sweep:
            stop = lambda m: m.id in known and m.added_at is not None and m.added_at <= cursor  # noqa: E731
        members = list(self.client.iter_group_members(self.group, stop_when=stop))
        new = [m for m in members if m.id not in known or known[m.id] != m.username]
        newest = max((m.added_at for m in members if m.added_at), default=cursor)
        renamed = [m for m in new if m.id in known and _anonymised(m)]
        with self.store.atomic():
            for member in renamed:
                self.store.scrub_user(member.id, member.username)
            self.store.save_group_members(self.group, [m for m in new if m not in renamed])
            self.store.save_people([(m.id, m.username, m.name) for m in new if m not in renamed])
            if newest is not None and newest != cursor:
                self.store.set_cursor(CURSOR_MEMBERS, iso(newest) or "", self.now())
        summary.members_added += sum(1 for m in new if m.id not in known)
        summary.accounts_scrubbed += len(renamed)
        if sweep:
            present = {m.id for m in members}
            departed = {uid: name for uid, name in known.items() if uid not in present}
            for user_id, username in departed.items():
                self._departed(user_id, username, summary)

    def _departed(self, user_id: int, username: str, summary: SyncSummary) -> None:
        """A member who left the group; if the account is gone or anonymised, forget them."""
        try:
            user = self.client.fetch_user(username)
            erased = user.id != user_id or _anonymised(user)
            new_name = user.username if user.id == user_id else None
        except NotFoundError:
            erased, new_name = True, None
        with self.store.atomic():
            if erased:
                self.store.scrub_user(user_id, new_name)
            else:
                self.store.remove_group_members(self.group, [user_id])
        summary.members_removed += 1
        summary.accounts_scrubbed += int(erased)

    # --- sweep of edited entries -----------------------------------------------------------------

    def _sweep_entries(self, category: Category, summary: SyncSummary) -> None:
        """Re-read the first posts of toolbox entries and cards: edits don't bump a topic."""
        for topic in self._entry_topics():
            try:
                posts = self.client.fetch_first_posts(topic["id"])
            except NotFoundError:
                with self.store.atomic():
                    self.store.mark_topics_deleted([topic["id"]])
                summary.topics_deleted += 1
                continue
            last = max((p.post_number for p in posts), default=0)
            with self.store.atomic():
                self.store.save_posts(posts)
                summary.posts_deleted += self.store.mark_posts_deleted(
                    topic["id"], {p.id for p in posts}, last
                )
            summary.saved_topic_ids.append(topic["id"])

    def _entry_topics(self) -> Iterator[dict[str, object]]:
        ids = []
        for slug in self.deep_subcategories:
            row = self.store.category(slug)
            if row is not None:
                ids.append(row["id"])
        for topic in self.store.topics():
            if topic["category_id"] in ids:
                yield topic


def _same(stored: dict[str, object], topic: TopicSummary) -> bool:
    return (
        stored["bumped_at"] == iso(topic.bumped_at)
        and stored["posts_count"] == topic.posts_count
        and stored["category_id"] == topic.category_id
        and stored["title"] == topic.title
        and stored["like_count"] == topic.like_count
        and stored["reply_count"] == topic.reply_count
        and bool(stored["pinned"]) == topic.pinned
        and bool(stored["closed"]) == topic.closed
        and bool(stored["archived"]) == topic.archived
        and bool(stored["visible"]) == topic.visible
        and json.loads(str(stored["tags"] or "[]")) == list(topic.tags)
    )


def _anonymised(person: GroupMember | object) -> bool:
    username = str(getattr(person, "username", ""))
    return username.startswith("anon") and username[4:].isalnum() and any(
        ch.isdigit() for ch in username
    )


def build_mirror(parts: Parts, on_topic: Progress | None = None) -> Mirror:
    config = parts.config
    sub = config.community.subcategories
    return Mirror(
        parts.client,
        parts.store,
        category=config.community.category,
        group=config.community.group,
        deep_subcategories=(sub.toolbox, sub.cartography),
        reconcile_every=timedelta(hours=config.sync.reconcile_every_hours),
        now=parts.now,
        on_topic=on_topic,
        on_saved=lambda store, ids: refresh_entries(store, config, ids),
    )


def run_sync(parts: Parts, *, full: bool = False, on_topic: Progress | None = None) -> SyncSummary:
    """One recorded sync pass (the `bridge sync` command and the scheduled job)."""
    mirror = build_mirror(parts, on_topic)
    return parts.run_job("sync", lambda: mirror.sync(full=full))
