"""Incremental sync of the watched category into the store.

Requests are the cost (admin keys share about 60 a minute per site), so a pass reads as little as
it can:

- topics come ordered by activity; reading stops at the first one no newer than the cursor (the
  rest of that list page, already fetched, is compared for free), and a changed topic's posts
  are read only after the last post already stored (20 a request);
- the group's members come newest first; reading stops at the first one already known;
- what does not move a topic up the activity order (edits, moves, likes, status changes,
  deletions, departures, deleted or anonymised accounts) is caught by the periodic sweep
  (`bridge/sweep.py`), which reads the categories, every list page, every member page, the
  whole of each topic that lost posts, and what `sweep.py` says.

Deleted posts and topics keep their ids and numbers, not their text or their author's name; an
erased account's name is rewritten where others mentioned it; the search index is compacted
after anything was erased, so that no page of the file keeps the words.

Every topic is saved with its posts, its entry and its search document in one transaction; the
cursor moves in the same transaction as the last rows it covers, and only once every newer
topic is saved. A pass killed at any point leaves the store consistent and the next pass
finishes the work (topics already saved compare equal and cost no post read).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bridge.discourse import (
    Category,
    DiscourseClient,
    GroupMember,
    Post,
    TopicSummary,
)
from bridge.errors import BridgeError, MalformedAnswer
from bridge.store import Store, StoredCategory, StoredTopic, iso, parse_iso
from bridge.sweep import WHOLE_TOPIC, OnSaved, Sweeps, anonymised

log = logging.getLogger(__name__)

CURSOR_TOPICS = "topics_bumped_at"
CURSOR_MEMBERS = "members_added_at"
CURSOR_SWEEP = "last_sweep"
CURSOR_CATEGORY = "category_id"


@dataclass
class SyncSummary:
    topics_seen: int = 0
    topics_saved: int = 0
    posts_saved: int = 0
    topics_deleted: int = 0
    posts_deleted: int = 0
    topics_rechecked: int = 0
    entries_reread: int = 0
    members_added: int = 0
    members_removed: int = 0
    accounts_scrubbed: int = 0
    swept: bool = False
    requests: int = 0
    seconds: float = 0.0
    saved_topic_ids: list[int] = field(default_factory=list)
    # One line per item (a topic's posts, a profile) whose answer was unreadable: skipped.
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        parts = [
            f"{self.topics_saved} sujet(s) mis à jour",
            f"{self.posts_saved} message(s)",
            f"{self.members_added} nouveau(x) membre(s)",
        ]
        if self.swept:
            parts.append(
                f"réconciliation : {self.topics_rechecked} sujet(s) récent(s) relu(s), "
                f"{self.entries_reread} fiche(s) relue(s), "
                f"{self.topics_deleted} sujet(s) et {self.posts_deleted} message(s) supprimés, "
                f"{self.members_removed} départ(s), {self.accounts_scrubbed} compte(s) effacé(s)"
            )
        text = (
            f"Synchronisation : {', '.join(parts)} ; {self.requests} requête(s) "
            f"en {self.seconds:.1f} s."
        )
        if self.failures:
            text += f" {len(self.failures)} élément(s) illisible(s), laissé(s) pour la prochaine "
            text += "passe : " + " ; ".join(self.failures)
        return text


# Called once per topic read from the list (for a progress bar).
Progress = Callable[[TopicSummary], None]


@dataclass(frozen=True)
class _Change:
    """A topic to save, with the posts read for it."""

    topic: TopicSummary
    posts: list[Post]
    # The posts were read from the first one to the last: any other stored post is gone.
    whole: bool
    # How many of `posts` were stored already (the last one, read again with the new).
    reread: int = 0


class Mirror(Sweeps):
    """One community's mirror: incremental passes, and the sweep when it is due."""

    def __init__(
        self,
        client: DiscourseClient,
        store: Store,
        *,
        category: str,
        group: str,
        deep_subcategories: tuple[str, ...] = (),
        reconcile_every: timedelta = timedelta(hours=24),
        recheck: timedelta = timedelta(days=14),
        now: Callable[[], datetime],
        on_topic: Progress | None = None,
        on_start: Callable[[int | None], None] | None = None,
        on_saved: OnSaved | None = None,
    ):
        self.client = client
        self.store = store
        self.category_ref = category
        self.group = group
        self.deep_subcategories = deep_subcategories
        self.reconcile_every = reconcile_every
        self.recheck = recheck
        self.now = now
        self.on_topic = on_topic or (lambda topic: None)
        # Told how many topics a pass will list, when it reads them all (for a progress bar).
        self.on_start = on_start or (lambda total: None)
        self.on_saved = on_saved
        # The pass state `Sweeps` describes; each pass starts it anew.
        self._read_from_start = set()
        self._seen_people = {}
        self._listed_posters = set()
        self._scrubbed = set()
        self._erased = False

    def sweep_due(self) -> bool:
        last_sweep = parse_iso(self.store.get_cursor(CURSOR_SWEEP))
        return last_sweep is None or self.now() - last_sweep >= self.reconcile_every

    def sync(self, *, full: bool = False) -> SyncSummary:
        """One pass; `full` forces the reconciliation sweep (the first pass is always one)."""
        started = time.monotonic()
        before = self.client.requests_sent
        summary = SyncSummary()
        sweep = full or self.sweep_due()
        summary.swept = sweep
        self._read_from_start = set()
        self._seen_people = {}
        self._listed_posters = set()
        self._scrubbed = set()
        self._erased = False
        category = self._category(refresh=sweep)
        self.on_start(self._family_topic_count(category) if sweep else None)
        self._sync_topics(category, summary, sweep=sweep)
        self._sync_members(summary, sweep=sweep)
        if sweep:
            self._recheck_recent(summary)
            self._sweep_entries(summary)
            self._sweep_authors(summary)
        if sweep or self._erased:
            with self.store.atomic():
                if sweep:
                    # Deleted rows an older version left with their text are emptied now.
                    self._erased |= self.store.erase_deleted() > 0
                    self.store.forget_absent_people(self.group)
                if self._erased:
                    self.store.compact_search_index()
                if sweep:
                    self.store.set_cursor(CURSOR_SWEEP, iso(self.now()) or "", self.now())
        summary.requests = self.client.requests_sent - before
        summary.seconds = time.monotonic() - started
        log.info(summary.describe())
        return summary

    # --- categories ------------------------------------------------------------------------------

    def _family_topic_count(self, category: Category) -> int:
        """Roughly how many topics the category and its subcategories list."""
        ids = {category.id, *category.subcategory_ids}
        stored = (self.store.category(i) for i in ids)
        return sum(c.topic_count for c in stored if c is not None)

    def _category(self, *, refresh: bool) -> Category:
        """The watched category: read from Discourse by a sweep (its family, two reads on most
        sites: they also find new subcategories and renamed slugs), else from the store (an
        idle pass reads nothing for it). Once known, it is found again by id, so a renamed
        slug never breaks a pass."""
        known = self.store.get_cursor(CURSOR_CATEGORY)
        ref = known or self.category_ref.rstrip("/").rsplit("/", 1)[-1]
        stored = self.store.category(ref)
        if stored is not None and not refresh:
            return self._stored_category(stored.id)
        family = self.client.fetch_category_family(
            stored.id if stored is not None else self.category_ref
        )
        with self.store.atomic():
            # Its ancestors too: their slugs make the canonical path of its list.
            self.store.save_categories(family)
            self.store.set_cursor(CURSOR_CATEGORY, str(family[0].id), self.now())
        return family[0]

    def _stored_category(self, category_id: int) -> Category:
        """A stored category, with the slug path its stored ancestors give."""
        chain: list[StoredCategory] = []
        current = self.store.category(category_id)
        while current is not None and len(chain) < 4:
            chain.insert(0, current)
            current = self.store.category(current.parent_id) if current.parent_id else None
        stored = chain[-1]
        return Category(
            id=stored.id,
            slug=stored.slug,
            name=stored.name,
            parent_id=stored.parent_id,
            topic_count=stored.topic_count,
            subcategory_ids=tuple(self.store.subcategory_ids(stored.id)),
            slug_path=tuple(c.slug or f"{c.id}-category" for c in chain),
        )

    # --- topics ----------------------------------------------------------------------------------

    def _sync_topics(self, category: Category, summary: SyncSummary, *, sweep: bool) -> None:
        cursor = parse_iso(self.store.get_cursor(CURSOR_TOPICS))
        stop_at = None if sweep else cursor
        newest = cursor
        seen: set[int] = set()
        held: _Change | None = None
        # The oldest activity of a topic skipped for an unreadable answer: the cursor stays
        # below it, so that the next pass reads that topic again.
        skipped: datetime | None = None
        try:
            for topic in self._listing(category, stop_at):
                self.on_topic(topic)
                summary.topics_seen += 1
                seen.add(topic.id)
                if topic.last_poster_username:
                    self._listed_posters.add(topic.last_poster_username)
                if newest is None or topic.bumped_at > newest:
                    newest = topic.bumped_at
                try:
                    change = self._read_changes(topic)
                except MalformedAnswer as exc:
                    self._unreadable(summary, f"sujet {topic.id} « {topic.title} »", exc)
                    skipped = min(skipped or topic.bumped_at, topic.bumped_at)
                    continue
                if change is not None:
                    if held is not None:
                        self._save(held, summary)
                    held = change
        except BridgeError:
            # Discourse failed mid-list: keep what was read; the cursor stays where it was.
            if held is not None:
                self._save(held, summary)
            raise
        if skipped is not None and newest is not None:
            newest = min(newest, skipped - timedelta(microseconds=1))
        with self.store.atomic():
            if held is not None:
                self._save(held, summary)
            if newest is not None and newest != cursor:
                self.store.set_cursor(CURSOR_TOPICS, iso(newest) or "", self.now())
        if sweep:
            # Deleted, moved out of the category, made private; or slid onto a page already
            # read while the list was read.
            missing = sorted(self.store.live_topic_ids() - seen)
            if missing:
                self._confirm_missing(category, missing, summary)

    def _listing(self, category: Category, stop_at: datetime | None) -> Iterator[TopicSummary]:
        """The category's list, page by page, down to the page holding the first topic no newer
        than `stop_at` (all of the list when `stop_at` is None).

        That page is yielded to its end: it is fetched already, so comparing the rest of it costs
        nothing. The next page is older still, so reading stops on purpose at the page boundary,
        without asking for it.
        """
        # Pinned topics come first, out of activity order; pinned ones further down (pinned in
        # a subcategory) are in order.
        in_order = False
        for page in self.client.iter_category_pages(category):
            reached = False
            for topic in page:
                in_order = in_order or not topic.pinned
                if stop_at is not None and in_order and topic.bumped_at <= stop_at:
                    reached = True
                yield topic
            if reached:
                return

    def _read_changes(self, topic: TopicSummary) -> _Change | None:
        """The topic and its posts not yet stored, or None when nothing changed."""
        stored = self.store.topic_state(topic.id)
        if stored is not None and not stored.deleted and _same(stored, topic):
            return None
        if stored is None or stored.deleted or not stored.max_post_number:
            return _Change(topic, self._read_posts(topic), whole=True)
        stored_count = stored.posts_count
        last = stored.max_post_number
        posts: list[Post] = []
        if stored.bumped_at != topic.bumped_at or topic.posts_count > stored_count:
            # From the last stored post on, in the same read: a bump without a new post is an
            # edit of the last post (PostRevisor#bump_topic), its author withdrawing it too.
            posts = list(self.client.iter_topic_posts(topic.id, after_post_number=last - 1))
        # A withdrawn post after `last` is no new one: stored already, as deleted.
        fresh = sum(1 for p in posts if p.post_number > last and not p.withdrawn)
        # Fewer posts than the stored ones plus the new: some were deleted (small actions,
        # which the mirror skips, can only make the count larger). Read the topic again.
        if topic.posts_count < stored_count + fresh:
            return _Change(topic, self._read_posts(topic), whole=True)
        return _Change(topic, posts, whole=False, reread=len(posts) - fresh)

    def _read_posts(self, topic: TopicSummary) -> list[Post]:
        self._read_from_start.add(topic.id)
        return list(self.client.iter_topic_posts(topic.id, posts_count=topic.posts_count))

    def _save(self, change: _Change, summary: SyncSummary) -> None:
        topic, posts = change.topic, change.posts
        with self.store.atomic():
            self.store.save_topic(topic, posts, self.now())
            if change.whole:
                deleted = self.store.mark_posts_deleted(
                    topic.id, {p.id for p in posts}, WHOLE_TOPIC
                )
                summary.posts_deleted += deleted
                self._erased |= deleted > 0
            # A withdrawn post comes as deleted with its placeholder and author: emptied now.
            self._erased |= self.store.erase_deleted([topic.id]) > 0
            self.store.save_people(_people(posts))
            self._saved([topic.id])
        self._seen(posts)
        summary.topics_saved += 1
        summary.posts_saved += len(posts) - change.reread
        summary.saved_topic_ids.append(topic.id)

    # --- members ---------------------------------------------------------------------------------

    def _sync_members(self, summary: SyncSummary, *, sweep: bool) -> None:
        known = self.store.group_members(self.group)
        cursor = parse_iso(self.store.get_cursor(CURSOR_MEMBERS))
        stop = None
        if cursor is not None and not sweep:

            def stop(m: GroupMember) -> bool:
                return m.id in known and m.added_at is not None and m.added_at <= cursor

        members = list(self.client.iter_group_members(self.group, stop_when=stop))
        newest = max((m.added_at for m in members if m.added_at), default=cursor)
        if cursor is not None and newest is not None:
            newest = max(newest, cursor)
        fresh = []
        with self.store.atomic():
            for member in members:
                self._seen_people[member.id] = (member.username, member.name)
                if member.id in known and known[member.id] != member.username:
                    # Renamed, or anonymised: the old name goes from every row that holds it.
                    self._scrub(
                        member.id, member.username, summary, erased=anonymised(member.username)
                    )
                if not anonymised(member.username):  # else no longer someone to reach
                    fresh.append(member)
            # Saved again even when known: a member who left and came back has a new date.
            self.store.save_group_members(self.group, fresh)
            self.store.save_people([(m.id, m.username, m.name) for m in fresh])
            if newest is not None and newest != cursor:
                self.store.set_cursor(CURSOR_MEMBERS, iso(newest) or "", self.now())
        # Counted from the store: a member on the forget list was not saved.
        summary.members_added += len(self.store.group_members(self.group).keys() - known.keys())
        if sweep:
            present = {m.id for m in members}
            for user_id, username in known.items():
                if user_id not in present:
                    self._departed(user_id, username, summary)


def _same(stored: StoredTopic, topic: TopicSummary) -> bool:
    return (
        stored.bumped_at == topic.bumped_at
        and stored.posts_count == topic.posts_count
        and stored.category_id == topic.category_id
        and stored.title == topic.title
        and stored.like_count == topic.like_count
        and stored.reply_count == topic.reply_count
        and stored.pinned == topic.pinned
        and stored.closed == topic.closed
        and stored.archived == topic.archived
        and stored.visible == topic.visible
        and stored.tags == topic.tags
    )


def _people(posts: Iterable[Post]) -> Sequence[tuple[int, str, str | None]]:
    """The authors of these posts, anonymised accounts left out (they are no one)."""
    return sorted(
        {
            (p.user_id, p.username, p.name)
            for p in posts
            if p.user_id is not None and p.username and not anonymised(p.username)
        }
    )
