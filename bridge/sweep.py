"""The reconciliation's reads: what does not move a topic up the activity order.

Edits, moves, likes, status changes, deletions, departures, deleted or anonymised accounts are
caught here, by a periodic sweep that `Mirror` runs: one read of each topic missing from the
list, every post of the topics active in the last `sync.recheck_days` days (withdrawn and hidden
posts show nowhere else), the first posts of each other toolbox entry and cartography card, one
profile per member missing from the member pages, and one profile per person named in the store
who is not a member and whose name the pass did not see. Missing from a list is not proof of
anything (lists come by offset, and an entry can slide onto a page already read): erasing is for
what Discourse confirms.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bridge.discourse import POSTS_PER_CHUNK, Category, DiscourseClient, Post
from bridge.errors import AuthError, MalformedAnswer, NotFoundError
from bridge.store import Store

if TYPE_CHECKING:
    from bridge.mirror import SyncSummary

log = logging.getLogger(__name__)

# Discourse's UserAnonymizer renames an account "anon" + 8 hexadecimal characters.
_ANONYMOUS = re.compile(r"anon[0-9a-f]{8}")
# Mark missing posts deleted whatever their number: the whole topic was read.
WHOLE_TOPIC = 2**31

# Called inside the transaction that saved these topics (to re-parse their entries).
OnSaved = Callable[[Store, list[int]], object]


class Sweeps:
    """The sweep's reads and the pass state they share with `Mirror` (which sets it up)."""

    client: DiscourseClient
    store: Store
    group: str
    # The subcategories whose first posts are re-read by the sweep (toolbox, cartography).
    deep_subcategories: tuple[str, ...]
    # How far back the sweep re-reads whole topics (sync.recheck_days).
    recheck: timedelta
    now: Callable[[], datetime]
    on_saved: OnSaved | None
    # Topics whose first posts were read in this pass (the sweep need not re-read them).
    _read_from_start: set[int]
    # People whose current name this pass saw: user id -> (username, name).
    _seen_people: dict[int, tuple[str, str | None]]
    # The last posters the list names: their accounts exist under these names.
    _listed_posters: set[str]
    # Accounts found deleted or anonymised in this pass (each counted once).
    _scrubbed: set[int]
    # Something was deleted or scrubbed: the search index is to be compacted.
    _erased: bool

    def _family_ids(self, category: Category) -> set[int]:
        """The watched category and its subcategories, at any depth (as stored by the sweep)."""
        found: set[int] = set()
        todo = [category.id, *category.subcategory_ids]
        while todo:
            category_id = todo.pop()
            if category_id not in found:
                found.add(category_id)
                todo.extend(self.store.subcategory_ids(category_id))
        return found

    # --- topics missing from the list ----------------------------------------------------------

    def _confirm_missing(
        self, category: Category, topic_ids: list[int], summary: SyncSummary
    ) -> None:
        """One read per topic missing from the list: gone, or kept with what its page says."""
        family = self._family_ids(category)
        for topic_id in topic_ids:
            try:
                detail = self.client.fetch_topic(topic_id)
            except NotFoundError:
                detail = None
            except MalformedAnswer as exc:
                self._unreadable(summary, f"sujet {topic_id}", exc)
                continue
            except AuthError as exc:
                if exc.on_write:
                    raise
                detail = None  # the key reads the category but not this topic: made private
            with self.store.atomic():
                if detail is None or detail.deleted or detail.category_id not in family:
                    self.store.mark_topics_deleted([topic_id])
                    self.store.erase_deleted([topic_id])
                    summary.topics_deleted += 1
                    self._erased = True
                else:
                    self.store.update_topic(detail)
                    self._saved([topic_id])

    # --- members missing from the member pages ----------------------------------------------

    def _departed(self, user_id: int, username: str, summary: SyncSummary) -> None:
        """A member missing from the member pages: still in the group (they slid onto a page
        already read), gone from it, or their account deleted or anonymised (forgotten)."""
        try:
            user = self.client.fetch_user(username)
        except NotFoundError:
            user = None
        except MalformedAnswer as exc:
            self._unreadable(summary, f"profil de {username}", exc)
            return
        same = user is not None and user.id == user_id
        new_name = user.username if user is not None and same else None
        if user is not None and same:
            self._seen_people[user_id] = (user.username, user.name)
            groups = {g.lower() for g in user.groups}
            if not anonymised(user.username) and self.group.lower() in groups:
                return
        erased = new_name is None or anonymised(new_name)
        with self.store.atomic():
            if erased:
                self._scrub(user_id, new_name, summary, erased=True)
            else:
                self.store.remove_group_members(self.group, [user_id])
        summary.members_removed += 1

    # --- recent topics, read again whole --------------------------------------------------------

    def _recheck_recent(self, summary: SyncSummary) -> None:
        """Re-read every post of the topics active in the last `recheck` (sync.recheck_days):
        a post its author withdraws (PostDestroyer#mark_for_deletion), a post hidden by flags
        (Post#hide!), and their undoing change neither posts_count nor, but for the last
        post, bumped_at, so nothing in the list shows them. Withdrawn posts are kept as deleted
        (emptied); hidden ones keep their text, flagged, out of what people read."""
        if self.recheck <= timedelta(0):
            return
        since = self.now() - self.recheck
        for topic in self.store.topics():
            active = max(topic.bumped_at, topic.last_posted_at or topic.bumped_at)
            if active < since or topic.id in self._read_from_start:
                continue
            self._read_from_start.add(topic.id)
            try:
                posts = list(self.client.iter_topic_posts(topic.id, posts_count=topic.posts_count))
            except NotFoundError:
                self._gone(topic.id, summary)
                continue
            summary.topics_rechecked += 1
            with self.store.atomic():
                self.store.save_posts(posts)
                ids = {p.id for p in posts}
                deleted = self.store.mark_posts_deleted(topic.id, ids, WHOLE_TOPIC)
                summary.posts_deleted += deleted
                self._erased |= self.store.erase_deleted([topic.id]) > 0 or deleted > 0
                self._saved([topic.id])
            self._seen(posts)

    def _gone(self, topic_id: int, summary: SyncSummary) -> None:
        with self.store.atomic():
            self.store.mark_topics_deleted([topic_id])
            self.store.erase_deleted([topic_id])
        summary.topics_deleted += 1
        self._erased = True

    # --- sweep of edited entries -----------------------------------------------------------------

    def _sweep_entries(self, summary: SyncSummary) -> None:
        """Re-read the first posts of toolbox entries and cards: edits don't bump a topic."""
        for topic_id, posts_count in self._entry_topics():
            if topic_id in self._read_from_start:
                continue
            try:
                posts = self.client.fetch_first_posts(topic_id)
            except MalformedAnswer as exc:
                self._unreadable(summary, f"sujet {topic_id}", exc)
                continue
            except NotFoundError:
                self._gone(topic_id, summary)
                continue
            summary.entries_reread += 1
            # The first chunk is the whole topic when the topic fits in one.
            last = max((p.post_number for p in posts), default=0)
            up_to = WHOLE_TOPIC if posts_count <= POSTS_PER_CHUNK else last
            with self.store.atomic():
                self.store.save_posts(posts)
                deleted = self.store.mark_posts_deleted(topic_id, {p.id for p in posts}, up_to)
                summary.posts_deleted += deleted
                self._erased |= deleted > 0
                self._erased |= self.store.erase_deleted([topic_id]) > 0
                self._saved([topic_id])
            self._seen(posts)

    # --- authors who are not members ------------------------------------------------------------

    def _sweep_authors(self, summary: SyncSummary) -> None:
        """People the store names who are not members (authors of live posts, and those whose
        posts all went since the last sweep) are in no list the sweep reads: confirm each one
        whose current name this pass did not see (on a post read, as a member, or as a listed
        topic's last poster) with one profile read. A deleted account answers 404; an
        anonymised one no longer answers to its old name."""
        members = self.store.group_members(self.group)
        for user_id, names in sorted(self.store.authors().items()):
            if user_id in members or user_id in self._scrubbed:
                continue  # the member pages tell about members
            names = [n for n in names if not anonymised(n)]
            if not names:
                continue
            current = self._seen_people.get(user_id)
            if current is None and len(names) == 1 and names[0] in self._listed_posters:
                continue  # a last poster in the list: the account has that name
            if current is None:
                try:
                    user = self.client.fetch_user(names[0])
                except NotFoundError:
                    user = None
                except MalformedAnswer as exc:
                    self._unreadable(summary, f"profil de {names[0]}", exc)
                    continue
                if user is not None and user.id == user_id:
                    current = (user.username, user.name)
                    self._seen_people[user_id] = current
            if current is not None and {n.lower() for n in names} == {current[0].lower()}:
                continue
            erased = current is None or anonymised(current[0])
            with self.store.atomic():
                self._scrub(user_id, current[0] if current else None, summary, erased=erased)
                if current is not None and not erased:  # renamed: known under the new name
                    self.store.save_people([(user_id, *current)])

    def _entry_topics(self) -> list[tuple[int, int]]:
        stored = (self.store.category(slug) for slug in self.deep_subcategories)
        ids = [c.id for c in stored if c is not None]
        return [(topic.id, topic.posts_count) for topic in self.store.topics(ids)]

    # --- shared with the pass ---------------------------------------------------------------

    def _unreadable(self, summary: SyncSummary, item: str, exc: MalformedAnswer) -> None:
        """An item whose answer was unreadable: said, skipped (nothing written from it)."""
        line = f"{item} : {exc}"
        log.error("%s", line)
        summary.failures.append(line)

    def _saved(self, topic_ids: list[int]) -> None:
        if self.on_saved is not None and topic_ids:
            self.on_saved(self.store, topic_ids)

    def _seen(self, posts: Iterable[Post]) -> None:
        for post in posts:
            if post.user_id is not None and post.username:
                self._seen_people[post.user_id] = (post.username, post.name)

    def _scrub(
        self, user_id: int, new_username: str | None, summary: SyncSummary, *, erased: bool
    ) -> None:
        """The account's old names out of the store (inside a transaction); `erased`: deleted
        or anonymised, rather than renamed."""
        self._saved(self.store.scrub_user(user_id, new_username))
        self._erased = True
        if erased and user_id not in self._scrubbed:
            self._scrubbed.add(user_id)
            summary.accounts_scrubbed += 1


def anonymised(username: str) -> bool:
    return _ANONYMOUS.fullmatch(username) is not None
