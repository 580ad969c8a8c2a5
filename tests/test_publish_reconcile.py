"""Reconciling a pending edit: Discourse keeps an edit's raw as PostRevisor#cleanup_whitespaces
leaves it (odd spaces made plain, trailing whitespace cut), so an edit already made is found
made in that form and not sent again. HTTP mocked with `responses`; the store in memory."""

from __future__ import annotations

import copy

import responses
from stubs import answer
from test_publish import (
    FIRST_POST_ID,
    NOW,
    TOPIC,
    TOPIC_ID,
    Outcome,
    Publisher,
    client,
    load,
    methods,
    mocked,
    publish_done,
    publisher,
    recorder,
)

from bridge.drafts import Draft, DraftKind
from bridge.store import Store

__all__ = ["client", "mocked", "publisher", "recorder"]  # fixtures

EDIT = Draft(
    key="announce:webinaire-2025-05-15:changement-1",
    kind=DraftKind.EDIT,
    # French typography: a narrow no-break space before the colon.
    raw="Le webinaire est déplacé\u202f: le 22 mai, à 12\u00a0h.\n",
    edit_reason="Nouvelle date",
    parent_key=TOPIC.key,
)


def as_discourse_keeps(raw: str) -> str:
    """lib/post_revisor.rb, PostRevisor#cleanup_whitespaces: TextCleaner.normalize_whitespaces
    (odd spaces become plain ones), then `.rstrip`."""
    for space in "\u00a0\u202f":
        raw = raw.replace(space, " ")
    return raw.rstrip()


def test_a_pending_edit_discourse_already_made_is_recovered_without_writing_again(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    publish_done(store, TOPIC, TOPIC_ID, FIRST_POST_ID, 1)
    store.ledger_intend(EDIT, NOW)
    post = copy.deepcopy(load("post.json"))
    post.update(
        id=FIRST_POST_ID,
        topic_id=TOPIC_ID,
        post_number=1,
        raw=as_discourse_keeps(EDIT.raw_with_marker(store.community)),
    )
    answer(mocked, "GET", f"/posts/{FIRST_POST_ID}.json", post)

    assert publisher.publish_one(EDIT) == Outcome(EDIT, "recovered", TOPIC_ID, FIRST_POST_ID)
    assert methods(mocked) == [f"GET /posts/{FIRST_POST_ID}.json"]
