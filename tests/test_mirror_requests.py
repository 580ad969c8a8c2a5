"""What a sync pass costs in requests, on a synthetic world of 200 topics (`build_world`).

The site's budget (about 60 requests a minute, shared) is the real limit, so requests are the
cost. Counted by the sandbox, which records every request it receives, and cross-checked with the
client's own counter. The full benchmark (2,000 topics, 20,000 posts) is `benchmarks/bench_sync.py`.

What is counted against the lower bound of a first pass: the list pages and the post reads. The
pass also reads the categories once and every page of the group's members (50 a page): these
are counted separately, and exactly.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from storerows import count_rows

from bridge.demo import demo_config
from bridge.discourse import DiscourseClient
from bridge.mirror import SyncSummary
from bridge.runs import run_sync
from bridge.sandbox import Sandbox, World, build_world
from bridge.wiring import Parts

# Every test here syncs a world of 200 topics and thousands of posts: a benchmark in all but name.
pytestmark = pytest.mark.slow

NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)
WATCHED_ID = 10
TOPICS_PER_PAGE, POSTS_PER_READ, MEMBERS_PER_PAGE = 30, 20, 50
RECHECK_DAYS = 14  # sync.recheck_days, by default


class Clock:
    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta: float) -> datetime:
        self.value += timedelta(**delta)
        return self.value


class Site:
    """A sandboxed big world, the bridge's parts on it, and the request log."""

    def __init__(self, sandbox: Sandbox, parts: Parts, clock: Clock) -> None:
        self.sandbox = sandbox
        self.world: World = sandbox.world
        self.parts = parts
        self.clock = clock

    def sync(self, *, full: bool = False) -> SyncSummary:
        self.sandbox.reset_requests()
        summary = run_sync(self.parts, full=full)
        assert summary.requests == len(self.sandbox.requests)
        return summary

    def kinds(self) -> Counter[str]:
        """Requests of the last pass by kind: categories, list, posts, members, topic, user."""
        return self.sandbox.request_kinds()

    def listed(self) -> list[Any]:
        """The watched category's list, by the sandbox's rules (see test_mirror.listed)."""
        world = self.world
        with world.lock:
            family = world.descendant_ids(WATCHED_ID)
            hidden = {
                c.topic_id for c in world.categories.values() if c.id != WATCHED_ID and c.topic_id
            }
            return [
                t
                for t in world.topics.values()
                if t.category_id in family
                and t.deleted_at is None
                and not t.is_private_message
                and t.id not in hidden
            ]

    def floated(self) -> int:
        """Pinned topics listed first, out of activity order (the category's own pins)."""
        return sum(1 for t in self.listed() if t.pinned and t.category_id == WATCHED_ID)

    def lower_bound(self) -> int:
        """ceil(T/30) list pages + the sum over topics of ceil(posts/20) post reads."""
        topics = self.listed()
        return math.ceil(len(topics) / TOPICS_PER_PAGE) + sum(
            math.ceil(len(self.world.posts_in(t.id)) / POSTS_PER_READ) for t in topics
        )

    def member_pages(self) -> int:
        return math.ceil(len(self.world.group("cdp-2ise").members) / MEMBERS_PER_PAGE)

    def entries(self, *, old_only: bool = False) -> int:
        """Listed toolbox entries and cartography cards (not recent ones, with `old_only`)."""
        ids = {self.world.category("boite-a-outils").id, self.world.category("cartographie").id}
        recent = {t.id for t in self.recent()} if old_only else set()
        return sum(1 for t in self.listed() if t.category_id in ids and t.id not in recent)

    def recent(self) -> list[Any]:
        """Listed topics active in the last sync.recheck_days (14): a sweep reads them whole."""
        since = self.clock() - timedelta(days=RECHECK_DAYS)
        return [t for t in self.listed() if max(t.bumped_at, t.last_posted_at) >= since]

    def recheck_reads(self) -> int:
        """Reads of the recent topics: ceil(n/20) each, n counting the small actions."""
        return sum(
            math.ceil(len(self.world.posts_in(t.id)) / POSTS_PER_READ) for t in self.recent()
        )

    def unseen_authors(self) -> set[str]:
        """Authors of listed posts who are not members and whose name a sweep with nothing to
        do does not see (not a listed topic's last poster, not among the first 20 posts of an
        entry, not in a recent topic): one profile read each."""
        world = self.world
        recent = {t.id for t in self.recent()}
        with world.lock:
            members = {m.user.id for m in world.group("cdp-2ise").members.values()}
            ids = {world.category("boite-a-outils").id, world.category("cartographie").id}
            posts = {t.id: (t, world.posts_written(t.id)) for t in self.listed()}
            authors = {
                p.user.username for _, ps in posts.values() for p in ps if p.user.id not in members
            }
            last = {ps[-1].user.username for _, ps in posts.values() if ps}
            seen = {
                p.user.username for t, ps in posts.values() if t.category_id in ids for p in ps[:20]
            }
            reread = {p.user.username for t, ps in posts.values() if t.id in recent for p in ps}
            return authors - last - seen - reread

    def sweep_cost(self, *, missing_topics: int = 0, missing_members: int = 0) -> Counter[str]:
        """The README's cost of a sweep: categories, every list page, every member page, the
        recent topics read whole, one read per other entry or card; one read per topic missing
        from the list, one profile per member missing from the member pages and per unseen
        author who is not a member."""
        cost = Counter(
            {
                # The category by id and its subcategories (/c/{id}/show.json, then
                # /categories.json?parent_category_id): a paged /categories.json can't hide it.
                "categories": 2,
                "list": math.ceil(len(self.listed()) / TOPICS_PER_PAGE),
                "members": self.member_pages(),
                "posts": self.recheck_reads() + self.entries(old_only=True),
                "topic": missing_topics,
                "user": missing_members + len(self.unseen_authors()),
            }
        )
        return +cost  # without the zeros

    def bump(self, topics: list[Any]) -> None:
        for topic in topics:
            self.clock.advance(seconds=30)
            self.world.add_reply(
                topic.id, "membre0001", f"Une réponse de plus au sujet {topic.id}, pour le compte."
            )


@pytest.fixture(params=[(200, 2_000), (200, 6_000)], ids=["200-topics-2000-posts", "200-6000"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    topics, posts = request.param
    clock = Clock(NOW)
    with Sandbox(build_world(NOW, topics=topics, posts=posts), now=clock) as sandbox:
        config = demo_config(sandbox.url, sandbox.api_username, sandbox.api_key, tmp_path / "b.db")
        client = DiscourseClient(
            sandbox.url,
            sandbox.api_username,
            sandbox.api_key,
            requests_per_minute=0,
            sleep=lambda seconds: None,
        )
        yield Site(sandbox, Parts.build(config, now=clock, client=client), clock)


def test_first_sync_is_within_5_percent_of_the_lower_bound(site):
    summary = site.sync()

    kinds = site.kinds()
    bound = site.lower_bound()
    assert kinds["list"] + kinds["posts"] <= 1.05 * bound
    assert kinds["list"] == math.ceil(len(site.listed()) / TOPICS_PER_PAGE)
    assert (kinds["categories"], kinds["members"], kinds["other"]) == (2, site.member_pages(), 0)
    assert summary.requests == kinds["list"] + kinds["posts"] + 2 + site.member_pages()
    assert count_rows(site.parts.store, "topics") == len(site.listed())
    assert count_rows(site.parts.store, "posts") == sum(
        len(site.world.posts_in(t.id)) for t in site.listed()
    )


def test_an_idle_sync_costs_the_first_list_page_and_the_newest_members(site):
    site.sync()
    site.clock.advance(hours=1)

    summary = site.sync()

    assert summary.requests <= 2
    assert site.kinds() == Counter({"list": 1, "members": 1})


@pytest.mark.parametrize("k", [1, 7, 29, 45])
def test_a_sync_after_k_bumped_topics(site, k):
    site.sync()
    site.clock.advance(hours=1)
    # Any topics, old ones included; the pinned ones come first whatever happens.
    bumped = random.Random(k).sample(site.listed(), k)
    site.bump(bumped)

    summary = site.sync()

    assert summary.requests <= k + math.ceil((k + site.floated()) / TOPICS_PER_PAGE) + 2
    assert site.kinds()["posts"] == k
    for topic in bumped:
        stored = site.parts.store.posts_of(topic.id)
        assert [p.id for p in stored] == [p.id for p in site.world.posts_written(topic.id)]


def test_a_changed_pinned_topic_costs_its_post_read(site):
    site.sync()
    site.clock.advance(hours=1)
    pinned = next(t for t in site.listed() if t.pinned and t.category_id == WATCHED_ID)
    newly = min(site.listed(), key=lambda t: t.bumped_at)  # the oldest topic, last page
    site.bump([pinned])
    site.world.move_topic(newly.id, WATCHED_ID)
    site.world.set_status(newly.id, "pinned", True)

    summary = site.sync()

    # Both now float at the top of the first page: one post read for the reply, and one for
    # the small action pinning wrote (posts_count grew: a post the mirror must look at).
    # (Or one read in all when the oldest topic is the pinned one.)
    changed = len({pinned.id, newly.id})
    assert summary.requests == 2 + changed and site.kinds()["posts"] == changed
    store = site.parts.store
    assert [p.id for p in store.posts_of(pinned.id)] == [
        p.id for p in site.world.posts_written(pinned.id)
    ]
    assert store.topic_state(newly.id).pinned == 1
    assert store.topic_state(newly.id).category_id == WATCHED_ID


def test_changes_that_do_not_bump_an_old_topic_wait_for_the_sweep(site):
    site.sync()
    site.clock.advance(hours=1)
    old = sorted(site.listed(), key=lambda t: t.bumped_at)[:3]
    was = old[0].category_id
    site.world.move_topic(old[0].id, "discussions" if was != 15 else "annonces")
    site.world.set_status(old[1].id, "closed", True)
    site.world.like(site.world.posts_in(old[2].id)[0].id, 3)

    assert site.sync().requests == 2
    store = site.parts.store
    assert store.topic_state(old[0].id).category_id == was
    assert store.topic_state(old[1].id).closed == 0

    site.clock.advance(days=1)
    summary = site.sync()

    assert summary.swept
    assert store.topic_state(old[0].id).category_id != was
    assert store.topic_state(old[0].id).category_id == site.world.topic(old[0].id).category_id
    assert store.topic_state(old[1].id).closed == 1
    assert store.topic_state(old[2].id).like_count == sum(
        p.like_count for p in site.world.posts_in(old[2].id)
    )


def _mirrored(site: Site) -> None:
    """What a facilitator would check: every listed topic and its posts, every member."""
    store, world = site.parts.store, site.world
    assert {t.id for t in store.topics()} == {t.id for t in site.listed()}
    for topic in site.listed():
        assert [p.id for p in store.posts_of(topic.id)] == [
            p.id for p in world.posts_written(topic.id)
        ]
    assert set(store.group_members("cdp-2ise")) == set(world.group("cdp-2ise").members)


def test_a_sweep_with_nothing_changed_costs_what_the_readme_says(site):
    site.sync()
    store = site.parts.store
    entries = count_rows(store, "toolbox_entries") + count_rows(store, "cartography_cards")
    assert entries == site.entries() > 0
    site.clock.advance(days=1)

    summary = site.sync()

    # Categories, every list page, every member page, the topics active in the last 14 days
    # read whole, one read per other toolbox entry or card, and no confirmation read: nothing
    # is missing from the lists.
    assert summary.swept
    assert site.unseen_authors() == set()  # every author is a member, or a listed last poster
    assert (
        site.kinds()
        == site.sweep_cost()
        == Counter(
            {
                # The category by id and its subcategories (/c/{id}/show.json, then
                # /categories.json?parent_category_id): a paged /categories.json can't hide it.
                "categories": 2,
                "list": math.ceil(len(site.listed()) / TOPICS_PER_PAGE),
                "members": site.member_pages(),
                "posts": site.recheck_reads() + site.entries(old_only=True),
            }
        )
    )
    assert (summary.topics_deleted, summary.members_removed, summary.accounts_scrubbed) == (0, 0, 0)
    _mirrored(site)


def test_a_sweep_reads_what_is_missing_from_the_lists_once(site):
    """A deleted topic, a member who left, an author who is not a member: one read each."""
    site.sync()
    world = site.world
    discussions = [
        t
        for t in sorted(site.listed(), key=lambda t: t.bumped_at)
        if t.category_id == world.category("discussions").id
    ]
    gone, discussion = discussions[:2]
    leaving = next(iter(world.group("cdp-2ise").members.values())).user
    site.clock.advance(hours=1)
    # A reply by someone who is not a member, then one by a member: the list names the member.
    site.clock.advance(seconds=30)
    world.add_reply(discussion.id, "lbeaulieu", "Je passe donner un coup de main au projet.")
    site.bump([discussion])
    site.sync()
    world.delete_topic(gone.id)
    world.remove_member(leaving.username)
    # Past sync.recheck_days: the discussion is not read whole (which would show the author).
    site.clock.advance(days=RECHECK_DAYS + 1)

    summary = site.sync()

    assert site.unseen_authors() == {"lbeaulieu"}
    assert site.kinds() == site.sweep_cost(missing_topics=1, missing_members=1)
    assert (summary.topics_deleted, summary.members_removed, summary.accounts_scrubbed) == (1, 1, 0)
    _mirrored(site)
