"""The sandbox's withdrawn and hidden posts as Discourse serves them (sandbox/moderation.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_sandbox import NOW, Clock, call

from bridge.sandbox import Sandbox, seed_world
from bridge.sandbox.moderation import HIDDEN_COOKED


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def sb(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(seed_world(NOW), now=clock) as sandbox:
        yield sandbox


DISCUSSION = "Financement des projets collectifs en milieu rural"
ONE_POST = "Guide d'animation d'un forum citoyen"


def _posts(sb: Sandbox, topic_id: int, as_user: str | None = None) -> list[dict[str, object]]:
    path = f"/t/{topic_id}/posts.json?include_raw=1"
    posts: list[dict[str, object]] = call(sb, "GET", path, as_user=as_user).json()["post_stream"][
        "posts"
    ]
    return posts


def test_a_withdrawn_post_is_served_with_its_placeholder_and_user_deleted(
    sb: Sandbox, clock: Clock
) -> None:
    topic = sb.world.find_topic_by_title(DISCUSSION)
    assert topic is not None
    reply = sb.world.posts_written(topic.id)[1]
    before = call(sb, "GET", f"/t/{topic.id}.json").json()
    bumped = topic.bumped_at
    clock.advance(hours=1)

    sb.world.withdraw_post(reply.id)

    after = call(sb, "GET", f"/t/{topic.id}.json").json()
    served = next(p for p in _posts(sb, topic.id) if p["id"] == reply.id)
    assert (served["user_deleted"], served["deleted_at"], served["raw"], served["version"]) == (
        True,
        None,
        "(post deleted by author)",
        2,
    )
    # Neither posts_count nor the bump moves: it is not the last post.
    assert after["posts_count"] == before["posts_count"]
    assert topic.bumped_at == bumped and not after["closed"]


def test_taking_back_restores_the_text_and_a_withdrawn_first_post_reopens_its_topic(
    sb: Sandbox, clock: Clock
) -> None:
    topic = sb.world.find_topic_by_title(ONE_POST)
    assert topic is not None
    first = sb.world.posts_written(topic.id)[0]
    text, bumped = first.raw, topic.bumped_at
    clock.advance(hours=1)

    sb.world.withdraw_post(first.id)
    assert topic.closed and first.raw == "(topic deleted by author)"
    assert topic.bumped_at > bumped  # its last post, revised: PostRevisor bumps
    # Closed by update_column: no small action.
    assert [p.post_type for p in sb.world.posts_in(topic.id)] == [1]

    clock.advance(hours=1)
    sb.world.take_back_post(first.id)
    assert not topic.closed and not first.user_deleted and first.raw == text


def test_withdrawn_posts_are_deleted_for_real_after_delete_removed_posts_after(
    sb: Sandbox, clock: Clock
) -> None:
    topic = sb.world.find_topic_by_title(DISCUSSION)
    assert topic is not None
    reply = sb.world.posts_written(topic.id)[1]
    counted = call(sb, "GET", f"/t/{topic.id}.json").json()["posts_count"]
    sb.world.withdraw_post(reply.id)
    clock.advance(hours=23)
    assert sb.world.destroy_stubs() == 0
    clock.advance(hours=2)
    assert sb.world.destroy_stubs() == 1
    assert call(sb, "GET", f"/t/{topic.id}.json").json()["posts_count"] == counted - 1


def test_with_delete_removed_posts_after_at_zero_a_withdrawal_deletes_at_once(
    sb: Sandbox,
) -> None:
    """The setting's other position (SiteSetting.delete_removed_posts_after 0)."""
    sb.world.delete_removed_posts_after = 0
    topic = sb.world.find_topic_by_title(DISCUSSION)
    assert topic is not None
    reply = sb.world.posts_written(topic.id)[1]
    sb.world.withdraw_post(reply.id)
    assert reply.deleted_at is not None and not reply.user_deleted


def test_a_hidden_post_is_served_whole_to_staff_and_replaced_for_members(sb: Sandbox) -> None:
    topic = sb.world.find_topic_by_title(DISCUSSION)
    assert topic is not None
    post = sb.world.posts_written(topic.id)[2]
    counted = call(sb, "GET", f"/t/{topic.id}.json").json()["posts_count"]

    sb.world.hide_post(post.id)

    staff = next(p for p in _posts(sb, topic.id) if p["id"] == post.id)
    assert (staff["hidden"], staff["cooked"], staff["raw"]) == (True, post.cooked, post.raw)
    assert "cooked_hidden" not in staff
    member = next(p for p in _posts(sb, topic.id, as_user="mgagnon") if p["id"] == post.id)
    assert (member["hidden"], member["cooked"], member["cooked_hidden"]) == (
        True,
        HIDDEN_COOKED,
        True,
    )
    assert "raw" not in member
    assert call(sb, "GET", f"/t/{topic.id}.json").json()["posts_count"] == counted

    sb.world.unhide_post(post.id)
    member = next(p for p in _posts(sb, topic.id, as_user="mgagnon") if p["id"] == post.id)
    assert (member["hidden"], member["cooked"]) == (False, post.cooked)


def test_hiding_a_topics_only_post_unlists_it_with_a_small_action(sb: Sandbox) -> None:
    topic = sb.world.find_topic_by_title(ONE_POST)
    assert topic is not None
    first = sb.world.posts_written(topic.id)[0]

    sb.world.hide_post(first.id)
    assert not topic.visible
    assert [p.action_code for p in sb.world.posts_in(topic.id)] == [None, "visible.disabled"]

    sb.world.unhide_post(first.id)
    assert topic.visible
    assert [p.action_code for p in sb.world.posts_in(topic.id)][-1] == "visible.enabled"


def test_anonymising_an_account_rewrites_its_mentions_and_quotes(sb: Sandbox) -> None:
    """UserAnonymizer renames through UsernameChanger, whose job rewrites others' posts."""
    topic = sb.world.find_topic_by_title(DISCUSSION)
    assert topic is not None
    post_id = sb.world.add_reply(
        topic.id,
        "mgagnon",
        '[quote="vnault, post:3, topic:11"]\nAu Granit\n[/quote]\n\nMerci @vnault et @vnaultx !',
    )

    anonymous = sb.world.anonymize_user("vnault").username

    raw = sb.world.posts[post_id].raw
    assert raw.startswith(f'[quote="{anonymous}, post:3, topic:11"]')
    assert raw.endswith(f"Merci @{anonymous} et @vnaultx !")
    assert f"@{anonymous}" in sb.world.posts[post_id].cooked
