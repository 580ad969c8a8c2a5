"""bridge.publish: what each kind of Draft sends, the ledger around each write, and reconciling.

HTTP is mocked with `responses` (every registered answer must be used); the store is in memory.
Crashes are simulated by leaving a ledger entry "pending", as a process dying mid-write would.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from stubs import answer

from bridge.discourse import DiscourseClient
from bridge.drafts import Draft, DraftKind
from bridge.publish import MAX_ATTEMPTS, Outcome, Publisher, describe
from bridge.store import LedgerEntry, Store

FIXTURES = Path(__file__).parent / "fixtures" / "discourse"
SITE = "https://passerelles.encommun.io"
USERNAME = "animation-2ise"
KEY = "c0ffee5ecret4a9b2d7e1f3c5a6b8d0e"
JSON = "application/json; charset=utf-8"
CATEGORIES = {"bienvenue": 14, "annonces": 15}
NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)

TOPIC = Draft(
    key="announce:webinaire-2025-05-15",
    kind=DraftKind.TOPIC,
    title="Webinaire « Mesurer l'impact social » — 15 mai 2025",
    raw="Bonjour à toutes et à tous !\n\nLe prochain webinaire porte sur la mesure d'impact.\n",
    category="annonces",
    tags=("webinaire", "cdp-2ise"),
    label="annonce du webinaire",
)
REPLY = Draft(
    key="announce:webinaire-2025-05-15:rappel-1j",
    kind=DraftKind.REPLY,
    raw="Rappel : le webinaire a lieu demain à 12 h.",
    parent_key=TOPIC.key,
)
TOPIC_ID, FIRST_POST_ID = 135, 1351


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def created(post_id: int, topic_id: int, post_number: int) -> dict[str, Any]:
    """Discourse's answer to POST /posts.json (a trimmed real one, with these ids)."""
    body = load("post_created.json")
    body.update(id=post_id, topic_id=topic_id, post_number=post_number)
    return body


def form(expected: dict[str, list[str]]) -> Callable[[Any], tuple[bool, str]]:
    """Matches a form body exactly, repeated keys (tags[]) included."""

    def match(request: Any) -> tuple[bool, str]:
        sent = parse_qs(request.body or "", keep_blank_values=True)
        return sent == expected, f"form {sent} is not {expected}"

    return match


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(recorder: Recorder) -> DiscourseClient:
    return DiscourseClient(
        SITE, USERNAME, KEY, requests_per_minute=0, sleep=recorder.sleep, clock=lambda: 0.0
    )


@pytest.fixture
def publisher(client: DiscourseClient, store: Store) -> Publisher:
    return make_publisher(client, store)


def make_publisher(client: DiscourseClient, store: Store, **options: Any) -> Publisher:
    return Publisher(
        client, store, resolve_category=CATEGORIES.__getitem__, now=lambda: NOW, **options
    )


def methods(rsps: responses.RequestsMock) -> list[str]:
    return [f"{c.request.method} {c.request.path_url.split('?')[0]}" for c in rsps.calls]


def entry(
    draft: Draft,
    store: Store,
    *,
    state: str,
    topic_id: int | None = None,
    post_id: int | None = None,
    post_number: int | None = None,
    attempts: int = 1,
    error: str | None = None,
    at: datetime = NOW,
) -> LedgerEntry:
    return LedgerEntry(
        key=draft.key,
        kind=draft.kind.value,
        state=state,
        external_id=draft.external_id(store.community) if draft.creates_topic else None,
        title=draft.title or draft.label or None,
        topic_id=topic_id,
        post_id=post_id,
        post_number=post_number,
        attempts=attempts,
        error=error,
        created_at=NOW,
        updated_at=at,
    )


def publish_done(
    store: Store, draft: Draft, topic_id: int, post_id: int | None, number: int
) -> None:
    """The ledger as an earlier run leaves it after publishing `draft`."""
    store.ledger_intend(draft, NOW)
    store.ledger_done(draft.key, NOW, topic_id=topic_id, post_id=post_id, post_number=number)


def topic_form(store: Store, draft: Draft = TOPIC) -> dict[str, list[str]]:
    return {
        "title": [draft.title or ""],
        "raw": [draft.raw],
        "category": [str(CATEGORIES[draft.category or ""])],
        "tags[][name]": list(draft.tags),
        "external_id": [draft.external_id(store.community)],
    }


# --- writing each kind of draft ---------------------------------------------------------------


def test_topic_sends_its_form_and_records_done(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store, recorder: Recorder
) -> None:
    answer(
        mocked,
        "POST",
        "/posts.json",
        created(FIRST_POST_ID, TOPIC_ID, 1),
        match=(form(topic_form(store)),),
    )

    outcome = publisher.publish_one(TOPIC)

    assert outcome == Outcome(TOPIC, "published", TOPIC_ID, FIRST_POST_ID)
    assert store.ledger_get(TOPIC.key) == entry(
        TOPIC, store, state="done", topic_id=TOPIC_ID, post_id=FIRST_POST_ID, post_number=1
    )
    # What Discourse accepts as an external_id: letters, digits, _ and -, 50 at most.
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,50}", TOPIC.external_id(store.community))
    assert recorder.sleeps == []


def test_topic_without_tags_sends_no_tags(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    draft = Draft(
        key="welcome:user:1234",
        kind=DraftKind.TOPIC,
        title="Bienvenue à Marie-Ève Tremblay",
        raw="Bienvenue dans la communauté !",
        category="bienvenue",
    )
    expected = {k: v for k, v in topic_form(store, draft).items() if k != "tags[][name]"}
    answer(mocked, "POST", "/posts.json", created(2001, 200, 1), match=(form(expected),))

    assert publisher.publish_one(draft).status == "published"


def test_second_publish_is_already_and_sends_nothing(
    mocked: responses.RequestsMock, client: DiscourseClient, store: Store
) -> None:
    answer(mocked, "POST", "/posts.json", created(FIRST_POST_ID, TOPIC_ID, 1))
    first = make_publisher(client, store).publish([TOPIC])

    # The same run again, then a new run: the ledger answers, Discourse is not asked.
    again = make_publisher(client, store).publish([TOPIC, TOPIC])

    assert [o.status for o in first.outcomes] == ["published"]
    assert again.outcomes == [Outcome(TOPIC, "already", TOPIC_ID, FIRST_POST_ID)] * 2
    assert again.ok
    assert len(mocked.calls) == 1
    assert store.ledger_get(TOPIC.key).attempts == 1  # type: ignore[union-attr]


def test_reply_waits_for_its_parent_topic(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    # No parent in the ledger at all, then a parent whose outcome is unknown: wait.
    assert publisher.publish_one(REPLY) == Outcome(REPLY, "waiting")
    store.ledger_intend(TOPIC, NOW)
    assert publisher.publish_one(REPLY) == Outcome(REPLY, "waiting")
    assert store.ledger_get(REPLY.key) is None
    assert len(mocked.calls) == 0

    store.ledger_done(TOPIC.key, NOW, topic_id=TOPIC_ID, post_id=FIRST_POST_ID, post_number=1)
    raw = REPLY.raw + "\n\n" + REPLY.marker(store.community) + "\n"
    answer(
        mocked,
        "POST",
        "/posts.json",
        created(1352, TOPIC_ID, 2),
        match=(form({"topic_id": [str(TOPIC_ID)], "raw": [raw]}),),
    )

    outcome = publisher.publish_one(REPLY)

    assert outcome == Outcome(REPLY, "published", TOPIC_ID, 1352)
    assert REPLY.marker(store.community) == (
        f"<!-- bridge:{REPLY.external_id(store.community)} -->"
    )
    assert store.ledger_get(REPLY.key) == entry(
        REPLY, store, state="done", topic_id=TOPIC_ID, post_id=1352, post_number=2
    )


def test_reply_to_a_given_topic_id(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    draft = Draft(
        key="digest:2025-W16:note",
        kind=DraftKind.REPLY,
        raw="Une note pour les animatrices.",
        topic_id=77,
    )
    raw = draft.raw_with_marker(store.community)
    answer(
        mocked,
        "POST",
        "/posts.json",
        created(7705, 77, 5),
        match=(form({"topic_id": ["77"], "raw": [raw]}),),
    )

    assert publisher.publish_one(draft) == Outcome(draft, "published", 77, 7705)


def test_private_message(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    draft = Draft(
        key="digest:2025-W16",
        kind=DraftKind.PRIVATE_MESSAGE,
        title="Résumé de la semaine 16",
        raw="Voici ce qui s'est passé cette semaine.",
        recipients=("animation-2ise", "catherine.lafleur"),
    )
    expected = {
        "title": ["Résumé de la semaine 16"],
        "raw": [draft.raw],
        "archetype": ["private_message"],
        "target_recipients": ["animation-2ise,catherine.lafleur"],
        "external_id": [draft.external_id(store.community)],
    }
    answer(mocked, "POST", "/posts.json", created(3001, 300, 1), match=(form(expected),))

    assert publisher.publish_one(draft) == Outcome(draft, "published", 300, 3001)
    assert store.ledger_get(draft.key) == entry(
        draft, store, state="done", topic_id=300, post_id=3001, post_number=1
    )


def test_edit_of_the_parent_topics_first_post(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    publish_done(store, TOPIC, TOPIC_ID, FIRST_POST_ID, 1)
    draft = Draft(
        key="announce:webinaire-2025-05-15:changement-1",
        kind=DraftKind.EDIT,
        raw="Le webinaire est déplacé au 22 mai.",
        edit_reason="Nouvelle date",
        parent_key=TOPIC.key,
    )
    # The edit carries the hidden marker of its key, like a reply.
    expected = {
        "post[raw]": [draft.raw_with_marker(store.community)],
        "post[edit_reason]": ["Nouvelle date"],
    }
    answer(
        mocked,
        "PUT",
        f"/posts/{FIRST_POST_ID}.json",
        {"post": load("post.json")},
        match=(form(expected),),
    )

    assert publisher.publish_one(draft) == Outcome(draft, "published", TOPIC_ID, FIRST_POST_ID)
    assert store.ledger_get(draft.key) == entry(
        draft, store, state="done", topic_id=TOPIC_ID, post_id=FIRST_POST_ID
    )


def test_edit_waits_for_its_parent(mocked: responses.RequestsMock, publisher: Publisher) -> None:
    draft = Draft(
        key="e", kind=DraftKind.EDIT, raw="Texte modifié par le comité.", parent_key=TOPIC.key
    )

    assert publisher.publish_one(draft).status == "waiting"


def test_status_pin_until(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    publish_done(store, TOPIC, TOPIC_ID, FIRST_POST_ID, 1)
    pin = Draft(
        key="announce:webinaire-2025-05-15:epingle",
        kind=DraftKind.STATUS,
        status="pinned",
        until="2025-05-15",
        parent_key=TOPIC.key,
    )
    unpin = Draft(
        key="announce:webinaire-2025-05-15:desepingle",
        kind=DraftKind.STATUS,
        status="pinned",
        enabled=False,
        topic_id=TOPIC_ID,
    )
    path = f"/t/{TOPIC_ID}/status.json"
    answer(
        mocked,
        "PUT",
        path,
        {"success": "OK", "topic_status_update": None},
        match=(form({"status": ["pinned"], "enabled": ["true"], "until": ["2025-05-15"]}),),
    )
    answer(
        mocked,
        "PUT",
        path,
        {"success": "OK", "topic_status_update": None},
        match=(form({"status": ["pinned"], "enabled": ["false"]}),),
    )

    report = publisher.publish([pin, unpin])

    assert report.outcomes == [
        Outcome(pin, "published", TOPIC_ID, None),
        Outcome(unpin, "published", TOPIC_ID, None),
    ]
    assert store.ledger_get(pin.key) == entry(pin, store, state="done", topic_id=TOPIC_ID)


# --- refusals ---------------------------------------------------------------------------------

TITLE_TAKEN = {"action": "create_post", "errors": ["Title has already been used"]}


def test_refusal_is_recorded_with_discourses_words_and_not_retried(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store, recorder: Recorder
) -> None:
    answer(mocked, "POST", "/posts.json", TITLE_TAKEN, status=422)

    report = publisher.publish([TOPIC])

    [outcome] = report.outcomes
    assert outcome.status == "failed"
    assert (
        outcome.error == "Discourse a refusé POST /posts.json (422) : Title has already been used"
    )
    assert not report.ok and report.failures == [outcome]
    assert store.ledger_get(TOPIC.key) == entry(TOPIC, store, state="failed", error=outcome.error)
    assert methods(mocked) == ["POST /posts.json"]  # exactly one write, no retry loop
    assert recorder.sleeps == []


def test_refused_draft_is_retried_by_later_runs_then_abandoned(
    mocked: responses.RequestsMock, client: DiscourseClient, store: Store
) -> None:
    answer(mocked, "POST", "/posts.json", TITLE_TAKEN, status=422)
    statuses = []
    for _ in range(MAX_ATTEMPTS + 2):
        before = len(mocked.calls)
        outcome = make_publisher(client, store).publish_one(TOPIC)
        statuses.append((outcome.status, len(mocked.calls) - before))

    assert statuses == [("failed", 1)] * MAX_ATTEMPTS + [("abandoned", 0)] * 2
    assert outcome.error is not None and outcome.error.endswith("Title has already been used")
    assert store.ledger_get(TOPIC.key) == entry(
        TOPIC, store, state="failed", attempts=MAX_ATTEMPTS, error=outcome.error
    )


def test_refused_draft_published_on_a_later_run(
    mocked: responses.RequestsMock, client: DiscourseClient, store: Store
) -> None:
    answer(mocked, "POST", "/posts.json", TITLE_TAKEN, status=422)
    assert make_publisher(client, store).publish_one(TOPIC).status == "failed"
    mocked.replace(
        responses.POST,
        SITE + "/posts.json",
        json=created(FIRST_POST_ID, TOPIC_ID, 1),
        content_type=JSON,
    )
    later = NOW + timedelta(days=1)

    outcome = Publisher(
        client, store, resolve_category=CATEGORIES.__getitem__, now=lambda: later
    ).publish_one(TOPIC)

    assert outcome == Outcome(TOPIC, "published", TOPIC_ID, FIRST_POST_ID)
    assert store.ledger_get(TOPIC.key) == entry(
        TOPIC,
        store,
        state="done",
        topic_id=TOPIC_ID,
        post_id=FIRST_POST_ID,
        post_number=1,
        attempts=2,
        at=later,
    )


NOT_FOUND = {
    "errors": ["The requested URL or resource could not be found."],
    "error_type": "not_found",
}


def test_pending_reply_whose_topic_is_gone_fails_without_stopping_the_batch(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    publish_done(store, TOPIC, TOPIC_ID, FIRST_POST_ID, 1)
    store.ledger_intend(REPLY, NOW)
    after = Draft(
        key="digest:2025-W16", kind=DraftKind.REPLY, raw="Résumé de la semaine passée.", topic_id=77
    )
    answer(mocked, "GET", f"/t/{TOPIC_ID}/posts.json", NOT_FOUND, status=404)
    answer(
        mocked,
        "POST",
        "/posts.json",
        NOT_FOUND,
        status=404,
        match=(
            form({"topic_id": [str(TOPIC_ID)], "raw": [REPLY.raw_with_marker(store.community)]}),
        ),
    )
    answer(
        mocked,
        "POST",
        "/posts.json",
        created(7705, 77, 5),
        match=(form({"topic_id": ["77"], "raw": [after.raw_with_marker(store.community)]}),),
    )

    report = publisher.publish([REPLY, after])

    error = f"introuvable sur Discourse (404) : POST {SITE}/posts.json"
    assert report.outcomes == [
        Outcome(REPLY, "failed", error=error),
        Outcome(after, "published", 77, 7705),
    ]
    assert store.ledger_get(REPLY.key) == entry(
        REPLY, store, state="failed", attempts=2, error=error
    )


def test_no_answer_after_a_write_is_uncertain_and_not_retried(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store, recorder: Recorder
) -> None:
    answer(mocked, "POST", "/posts.json", status=502)

    outcome = publisher.publish_one(TOPIC)

    assert outcome.status == "uncertain"
    assert outcome.error is not None and "502" in outcome.error
    assert store.ledger_get(TOPIC.key) == entry(TOPIC, store, state="pending")
    assert methods(mocked) == ["POST /posts.json"]
    assert recorder.sleeps == []


# --- reconciling after a crash ----------------------------------------------------------------


def external_id_path(draft: Draft, store: Store) -> str:
    return f"/t/external_id/{draft.external_id(store.community)}.json"


def topic_detail(topic_id: int, stream: list[int]) -> dict[str, Any]:
    body = load("topic.json")
    body["id"] = topic_id
    body["post_stream"]["stream"] = stream
    return body


def test_pending_topic_found_by_external_id_is_recovered_without_writing(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    store.ledger_intend(TOPIC, NOW)  # the process died after the write was sent
    answer(
        mocked,
        "GET",
        external_id_path(TOPIC, store),
        status=301,
        headers={"Location": f"{SITE}/t/webinaire-mesurer-limpact-social/{TOPIC_ID}.json"},
    )
    answer(mocked, "GET", f"/t/{TOPIC_ID}.json", topic_detail(TOPIC_ID, [FIRST_POST_ID, 1352]))

    outcome = publisher.publish_one(TOPIC)

    assert outcome == Outcome(TOPIC, "recovered", TOPIC_ID, FIRST_POST_ID)
    assert methods(mocked) == [
        f"GET {external_id_path(TOPIC, store)}",
        f"GET /t/{TOPIC_ID}.json",
    ]
    assert store.ledger_get(TOPIC.key) == entry(
        TOPIC, store, state="done", topic_id=TOPIC_ID, post_id=FIRST_POST_ID, post_number=1
    )
    # And the run after that knows it for sure.
    assert publisher.publish_one(TOPIC).status == "already"
    assert len(mocked.calls) == 2


def test_pending_topic_not_found_is_written_once(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    store.ledger_intend(TOPIC, NOW)  # the process died before the write
    answer(
        mocked,
        "GET",
        external_id_path(TOPIC, store),
        NOT_FOUND,
        status=404,
    )
    answer(
        mocked,
        "POST",
        "/posts.json",
        created(FIRST_POST_ID, TOPIC_ID, 1),
        match=(form(topic_form(store)),),
    )

    outcome = publisher.publish_one(TOPIC)

    assert outcome == Outcome(TOPIC, "published", TOPIC_ID, FIRST_POST_ID)
    assert methods(mocked) == [f"GET {external_id_path(TOPIC, store)}", "POST /posts.json"]
    assert store.ledger_get(TOPIC.key) == entry(
        TOPIC,
        store,
        state="done",
        topic_id=TOPIC_ID,
        post_id=FIRST_POST_ID,
        post_number=1,
        attempts=2,
    )


def posts_chunk(*raws: str) -> dict[str, Any]:
    """The topic's posts with raw Markdown, numbered from 1, ids 1351, 1352…"""
    body = load("topic_posts.json")
    template = body["post_stream"]["posts"][1]
    posts = []
    for number, raw in enumerate(raws, start=1):
        post = copy.deepcopy(template)
        post.update(id=FIRST_POST_ID + number - 1, topic_id=TOPIC_ID, post_number=number, raw=raw)
        posts.append(post)
    body["id"] = TOPIC_ID
    body["post_stream"]["posts"] = posts
    return body


def test_pending_reply_found_by_its_marker_is_recovered(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    publish_done(store, TOPIC, TOPIC_ID, FIRST_POST_ID, 1)
    store.ledger_intend(REPLY, NOW)
    other = Draft(
        key="announce:autre",
        kind=DraftKind.REPLY,
        raw="Un autre rappel, pour une autre fois.",
        parent_key=TOPIC.key,
    )
    answer(
        mocked,
        "GET",
        f"/t/{TOPIC_ID}/posts.json",
        posts_chunk(
            TOPIC.raw,
            "Merci pour l'annonce !",
            other.raw_with_marker(store.community),
            REPLY.raw_with_marker(store.community),
        ),
        match=(responses.matchers.query_param_matcher({"include_raw": "1"}),),
    )

    outcome = publisher.publish_one(REPLY)

    assert outcome == Outcome(REPLY, "recovered", TOPIC_ID, FIRST_POST_ID + 3)
    assert methods(mocked) == [f"GET /t/{TOPIC_ID}/posts.json"]
    assert store.ledger_get(REPLY.key) == entry(
        REPLY, store, state="done", topic_id=TOPIC_ID, post_id=FIRST_POST_ID + 3, post_number=4
    )


def test_pending_reply_without_its_marker_is_written_once(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    publish_done(store, TOPIC, TOPIC_ID, FIRST_POST_ID, 1)
    store.ledger_intend(REPLY, NOW)
    # The same words without the marker are someone else's post, not this draft.
    answer(mocked, "GET", f"/t/{TOPIC_ID}/posts.json", posts_chunk(TOPIC.raw, REPLY.raw))
    answer(
        mocked,
        "POST",
        "/posts.json",
        created(FIRST_POST_ID + 2, TOPIC_ID, 3),
        match=(
            form({"topic_id": [str(TOPIC_ID)], "raw": [REPLY.raw_with_marker(store.community)]}),
        ),
    )

    outcome = publisher.publish_one(REPLY)

    assert outcome == Outcome(REPLY, "published", TOPIC_ID, FIRST_POST_ID + 2)
    assert methods(mocked) == [f"GET /t/{TOPIC_ID}/posts.json", "POST /posts.json"]


def test_pending_private_message_found_by_external_id(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    draft = Draft(
        key="welcome:user:1234",
        kind=DraftKind.PRIVATE_MESSAGE,
        title="Bienvenue !",
        raw="Un mot de bienvenue.",
        recipients=("marie-eve.tremblay",),
    )
    store.ledger_intend(draft, NOW)
    answer(
        mocked,
        "GET",
        external_id_path(draft, store),
        status=301,
        headers={"Location": f"{SITE}/t/bienvenue/300.json"},
    )
    answer(mocked, "GET", "/t/300.json", topic_detail(300, [3001]))

    assert publisher.publish_one(draft) == Outcome(draft, "recovered", 300, 3001)
    assert all(c.request.method == "GET" for c in mocked.calls)


def test_pending_status_change_not_made_yet_is_written_again(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    publish_done(store, TOPIC, TOPIC_ID, FIRST_POST_ID, 1)
    pin = Draft(key="pin", kind=DraftKind.STATUS, status="pinned", parent_key=TOPIC.key)
    store.ledger_intend(pin, NOW)
    answer(mocked, "GET", f"/t/{TOPIC_ID}.json", {**topic_detail(TOPIC_ID, []), "pinned": False})
    answer(mocked, "PUT", f"/t/{TOPIC_ID}/status.json", {"success": "OK"})

    assert publisher.publish_one(pin) == Outcome(pin, "published", TOPIC_ID, None)
    assert methods(mocked) == [f"GET /t/{TOPIC_ID}.json", f"PUT /t/{TOPIC_ID}/status.json"]


def test_pending_pin_already_made_is_not_written_twice(
    mocked: responses.RequestsMock, publisher: Publisher, store: Store
) -> None:
    """Every pin writes a "pinned the topic" small action on Discourse (TopicStatusUpdater):
    a pin whose answer was lost, found made, is recovered, not sent again."""
    publish_done(store, TOPIC, TOPIC_ID, FIRST_POST_ID, 1)
    pin = Draft(key="pin", kind=DraftKind.STATUS, status="pinned", parent_key=TOPIC.key)
    store.ledger_intend(pin, NOW)
    answer(mocked, "GET", f"/t/{TOPIC_ID}.json", {**topic_detail(TOPIC_ID, []), "pinned": True})

    assert publisher.publish_one(pin) == Outcome(pin, "recovered", TOPIC_ID, None)
    assert methods(mocked) == [f"GET /t/{TOPIC_ID}.json"]


# --- dry runs ---------------------------------------------------------------------------------


def test_describe_one_topic() -> None:
    assert describe([TOPIC]) == (
        "── announce:webinaire-2025-05-15 : nouveau sujet dans « annonces »\n"
        "Titre : Webinaire « Mesurer l'impact social » — 15 mai 2025\n"
        "Étiquettes : webinaire, cdp-2ise\n"
        "Bonjour à toutes et à tous !\n"
        "\n"
        "Le prochain webinaire porte sur la mesure d'impact."
    )


def test_describe_several_kinds() -> None:
    pin = Draft(key="p", kind=DraftKind.STATUS, status="pinned", enabled=False, topic_id=9)
    edit = Draft(key="e", kind=DraftKind.EDIT, raw="Nouveau texte.", edit_reason="Date", post_id=4)
    pm = Draft(
        key="m",
        kind=DraftKind.PRIVATE_MESSAGE,
        title="Résumé",
        raw="Bonjour.",
        recipients=("a", "b"),
    )

    assert describe([REPLY, pin, edit, pm]) == (
        f"── {REPLY.key} : réponse au sujet {TOPIC.key}\n"
        "Rappel : le webinaire a lieu demain à 12 h.\n"
        "\n"
        "── p : désépingler le sujet 9\n"
        "\n"
        "── e : modification du message 4\n"
        "Raison : Date\n"
        "Nouveau texte.\n"
        "\n"
        "── m : message privé à a, b\n"
        "Titre : Résumé\n"
        "Bonjour."
    )


def test_describe_nothing() -> None:
    assert describe([]) == "Rien à publier."


def test_a_post_held_for_approval_is_never_written_again(
    mocked: responses.RequestsMock, client: DiscourseClient, store: Store
) -> None:
    # Written into the review queue, where no external_id lookup finds it: a retry would
    # queue a second copy.
    answer(mocked, "POST", "/posts.json", {"success": True, "action": "enqueued"})

    first = make_publisher(client, store).publish_one(TOPIC)
    again = make_publisher(client, store).publish_one(TOPIC)

    assert first.status == "held"
    assert first.error is not None and "en attente d'approbation" in first.error
    assert again.status == "held"
    assert methods(mocked) == ["POST /posts.json"]
    entry = store.ledger_get(TOPIC.key)
    assert (entry.state, entry.attempts) == ("held", 1)
    reply = Draft(
        key="announce:x:rappel-1j",
        kind=DraftKind.REPLY,
        raw="Rappel : c'est demain, à midi.",
        parent_key=TOPIC.key,
    )
    assert make_publisher(client, store).publish_one(reply).status == "abandoned"


def test_a_reply_whose_topic_was_abandoned_is_abandoned_too(
    mocked: responses.RequestsMock, client: DiscourseClient, store: Store
) -> None:
    answer(mocked, "POST", "/posts.json", TITLE_TAKEN, status=422)
    reply = Draft(
        key="announce:x:rappel-1j",
        kind=DraftKind.REPLY,
        raw="Rappel : c'est demain, à midi.",
        parent_key=TOPIC.key,
    )
    for _ in range(MAX_ATTEMPTS):
        make_publisher(client, store).publish_one(TOPIC)

    outcome = make_publisher(client, store).publish_one(reply)

    assert outcome.status == "abandoned"
    assert not outcome.ok
    assert outcome.error == f"{TOPIC.key} n'a pas pu être publié"


def test_publishing_holds_a_lock_shared_by_every_process(
    tmp_path: Path, client: DiscourseClient
) -> None:
    import fcntl

    store = Store.open(tmp_path / "bridge.db", SITE, "innovation-sociale-estrie")
    lock = tmp_path / "bridge.db.publish.lock"
    with store.exclusive("publish"), open(lock, "a+") as other:
        # What a second process would meet while this one publishes.
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(lock, "a+") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released afterwards
        fcntl.flock(other, fcntl.LOCK_UN)
