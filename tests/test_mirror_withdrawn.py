"""Posts withdrawn by their author and posts hidden by flags, as the mirror sees them.

On Discourse neither changes a topic's posts_count, nor its bumped_at unless the post is the
topic's last (PostDestroyer#mark_for_deletion revises it, PostRevisor bumps a last post): the
list shows nothing. Each reconciliation re-reads the topics active in the last
sync.recheck_days days; in an older topic, a withdrawal shows once Discourse deletes the post
for real (24 h later, posts_count drops) and a reconciliation follows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from test_mirror import LIST, NOW, Clock, make_parts, paths, sync, topic_id

from bridge.sandbox import Sandbox
from bridge.store import Store
from bridge.syncconfig import SyncConfig
from bridge.wiring import Parts

RECENT = "Retour sur l'atelier sur la théorie du changement"  # 4 posts, active yesterday
OLD = "Comment mesurer l'impact social d'un petit projet ?"  # 4 posts, a month old
ONE_POST_CARD = "Fiche : Réseau d'entraide de la Vallée"
RECENT_WITH_REPLY = "Financement des projets collectifs en milieu rural"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(now=clock) as sb:
        yield sb


@pytest.fixture
def parts(sandbox: Sandbox, tmp_path: Path, clock: Clock) -> Parts:
    return make_parts(sandbox, tmp_path / "bridge.db", clock)


def _row(store: Store, post_id: int) -> dict[str, object]:
    return dict(store.db["posts"].get((store.site, store.community, post_id)))


def _searched(store: Store, words: str) -> list[int]:
    return [hit.topic_id for hit in store.search(words)]


def _digest_posts(store: Store) -> set[tuple[int, int]]:
    """(topic, post number) of every post the digest would count, all time."""
    family = [10, *store.subcategory_ids(10)]
    for child in list(family[1:]):
        family += store.subcategory_ids(child)
    posts = store.activity_posts(
        family, datetime(2000, 1, 1).astimezone(), datetime(2100, 1, 1).astimezone(), leave_out=""
    )
    return {(p.topic_id, p.post_number) for p in posts}


def test_a_withdrawal_in_a_recent_topic_shows_at_the_next_reconciliation_and_so_does_taking_back(
    parts: Parts, sandbox: Sandbox, clock: Clock
) -> None:
    world, store = sandbox.world, parts.store
    tid = topic_id(world, RECENT)
    reply = world.posts_written(tid)[1]
    sync(parts, sandbox)
    assert _searched(store, "lendemain") == [tid]
    bumped, counted = world.topic(tid).bumped_at, len(world.posts_in(tid))

    clock.advance(hours=1)
    world.withdraw_post(reply.id)
    # Discourse: placeholder text, user_deleted, not deleted, no bump, same posts_count.
    assert (reply.user_deleted, reply.deleted_at, reply.raw) == (
        True,
        None,
        "(post deleted by author)",
    )
    assert (world.topic(tid).bumped_at, len(world.posts_in(tid))) == (bumped, counted)

    clock.advance(minutes=5)
    assert sync(parts, sandbox).requests == 2  # nothing in the list moved
    assert _row(store, reply.id)["deleted"] == 0

    clock.advance(minutes=5)
    summary = sync(parts, sandbox, full=True)

    assert f"/t/{tid}/posts.json" in paths(sandbox)
    row = _row(store, reply.id)
    assert (row["deleted"], row["withdrawn"], row["raw"], row["cooked"], row["username"]) == (
        1,
        1,
        None,
        None,
        None,
    )
    assert _searched(store, "lendemain") == []
    assert (tid, reply.post_number) not in _digest_posts(store)
    assert [p.id for p in store.posts_of(tid)] == [
        p.id for p in world.posts_written(tid) if p is not reply
    ]
    assert summary.topics_rechecked >= 1

    # Taken back within the 24 hours: the text and its author come back at the next one.
    clock.advance(hours=2)
    world.take_back_post(reply.id)
    sync(parts, sandbox, full=True)

    row = _row(store, reply.id)
    assert (row["deleted"], row["withdrawn"], row["username"]) == (0, 0, "audrey.demars")
    assert str(row["raw"]).startswith("Très bel atelier.")
    assert _searched(store, "lendemain") == [tid]
    assert (tid, reply.post_number) in _digest_posts(store)


def test_a_withdrawn_first_post_closes_its_topic_and_its_card_goes_at_the_next_pass(
    parts: Parts, sandbox: Sandbox, clock: Clock
) -> None:
    """The card's only post is its last: withdrawing it bumps the topic, so the very next
    pass reads it (the last stored post is read again with the new ones, in the same read)."""
    world, store = sandbox.world, parts.store
    tid = topic_id(world, ONE_POST_CARD)
    first = world.posts_written(tid)[0]
    sync(parts, sandbox)
    assert tid in {c.topic_id for c in store.cards()}
    assert tid in _searched(store, "Coaticook")

    clock.advance(hours=1)
    world.withdraw_post(first.id)
    assert world.topic(tid).closed and first.raw == "(topic deleted by author)"
    summary = sync(parts, sandbox)

    assert not summary.swept and summary.requests == 3
    assert store.topic_state(tid).closed
    assert tid not in {c.topic_id for c in store.cards()}
    assert tid not in _searched(store, "Coaticook")
    assert (_row(store, first.id)["withdrawn"], _row(store, first.id)["raw"]) == (1, None)

    clock.advance(hours=1)
    world.take_back_post(first.id)
    sync(parts, sandbox)

    assert not world.topic(tid).closed and not store.topic_state(tid).closed
    assert tid in {c.topic_id for c in store.cards()}
    assert tid in _searched(store, "Coaticook")


def test_a_withdrawal_in_an_older_topic_shows_once_discourse_deletes_the_post(
    parts: Parts, sandbox: Sandbox, clock: Clock
) -> None:
    world, store = sandbox.world, parts.store
    tid = topic_id(world, OLD)
    reply = world.posts_written(tid)[2]
    sync(parts, sandbox)
    assert tid in _searched(store, "rejoins")

    clock.advance(hours=1)
    world.withdraw_post(reply.id)
    clock.advance(hours=1)
    sync(parts, sandbox, full=True)
    # Older than sync.recheck_days: not read again, the post is still there.
    assert f"/t/{tid}/posts.json" not in paths(sandbox)
    assert _row(store, reply.id)["deleted"] == 0

    # delete_removed_posts_after (24 h) later, PostDestroyer.destroy_stubs deletes it for real:
    # posts_count drops, and the following reconciliation reads the topic again.
    clock.advance(hours=24)
    assert world.destroy_stubs() == 1 and reply.deleted_at is not None
    summary = sync(parts, sandbox, full=True)

    assert f"/t/{tid}/posts.json" in paths(sandbox)
    assert summary.posts_deleted == 1
    row = _row(store, reply.id)
    assert (row["deleted"], row["raw"], row["username"]) == (1, None, None)
    assert tid not in _searched(store, "rejoins")


def test_a_hidden_post_stays_in_the_store_out_of_what_people_read_until_unhidden(
    parts: Parts, sandbox: Sandbox, clock: Clock
) -> None:
    world, store = sandbox.world, parts.store
    tid = topic_id(world, RECENT_WITH_REPLY)
    hidden = world.posts_written(tid)[2]
    card = topic_id(world, "Collectif Jeunesse engagée")  # a card with a reply
    card_first = world.posts_written(card)[0]
    sync(parts, sandbox)
    assert _searched(store, "Granit") != [] and tid in _searched(store, "Granit")

    clock.advance(hours=1)
    bumped = world.topic(tid).bumped_at
    world.hide_post(hidden.id)
    world.hide_post(card_first.id)
    # Post#hide!: no bump, no new post; the card's topic stays listed (a reply is visible).
    assert world.topic(tid).bumped_at == bumped and world.topic(card).visible
    clock.advance(minutes=5)
    sync(parts, sandbox, full=True)

    row = _row(store, hidden.id)
    # Kept, with its text (the bridge reads as staff), flagged.
    assert (row["hidden"], row["deleted"], row["username"]) == (1, 0, "vnault")
    assert str(row["raw"]).startswith("Au Granit")
    assert tid not in _searched(store, "Granit")
    assert hidden.id not in {p.id for p in store.posts_of(tid)}
    assert (tid, hidden.post_number) not in _digest_posts(store)
    assert card not in {c.topic_id for c in store.cards()}
    assert card not in _searched(store, "Jeunesse")

    clock.advance(hours=1)
    world.unhide_post(hidden.id)
    world.unhide_post(card_first.id)
    sync(parts, sandbox, full=True)

    assert _row(store, hidden.id)["hidden"] == 0
    assert tid in _searched(store, "Granit")
    assert (tid, hidden.post_number) in _digest_posts(store)
    assert card in {c.topic_id for c in store.cards()}


def test_a_recheck_of_zero_days_reads_no_topic_whole(
    parts: Parts, sandbox: Sandbox, clock: Clock
) -> None:
    """sync.recheck_days: 0 turns the re-reading off (the sweep costs what it did before)."""
    world = sandbox.world
    sync(parts, sandbox)
    parts.config = replace(parts.config, sync=SyncConfig(recheck_days=0))
    clock.advance(hours=1)
    world.withdraw_post(world.posts_written(topic_id(world, RECENT))[1].id)

    summary = sync(parts, sandbox, full=True)

    assert summary.topics_rechecked == 0
    assert summary.entries_reread == 14


def test_a_withdrawn_last_post_shows_at_the_next_pass_and_costs_no_more_later(
    parts: Parts, sandbox: Sandbox, clock: Clock
) -> None:
    """Withdrawing a topic's last post bumps it: the next pass reads from the last stored post
    on (one read) and erases it. A reply after it is read the same way, without reading the
    whole topic again."""
    world, store = sandbox.world, parts.store
    tid = topic_id(world, RECENT)
    last = world.posts_written(tid)[-1]
    sync(parts, sandbox)

    clock.advance(hours=1)
    world.withdraw_post(last.id)
    summary = sync(parts, sandbox)

    assert paths(sandbox) == [LIST, f"/t/{tid}/posts.json", "/groups/cdp-2ise/members.json"]
    assert (summary.posts_saved, _row(store, last.id)["username"]) == (0, None)
    assert _row(store, last.id)["withdrawn"] == 1

    clock.advance(hours=1)
    world.add_reply(tid, "vnault", "Merci pour ce retour, je transmets à mon équipe.")
    summary = sync(parts, sandbox)

    assert paths(sandbox) == [LIST, f"/t/{tid}/posts.json", "/groups/cdp-2ise/members.json"]
    assert summary.posts_saved == 1
    assert [p.username for p in store.posts_of(tid)][-1] == "vnault"
