"""Exactly once under faults: the real stack (DiscourseClient, pydiscourse, requests, SQLite)
against the sandbox on loopback, with the process dying at each step of a write.

A "run" is what one process does: it opens the store file afresh, builds a new client and
publisher, and publishes. A crash is a `Crash` (a BaseException, like SystemExit: nothing in the
bridge may swallow it) raised by the publisher's step hook, or the sandbox performing a write and
hanging up before it answers. After a crash, reruns must leave exactly one post on the forum:
the tests count posts in the sandbox's world, not only what the ledger says.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability import LOST_ANSWER, Case, cases

from bridge.discourse import DiscourseClient
from bridge.drafts import Draft, DraftKind
from bridge.publish import Publisher, Report, StepHook
from bridge.sandbox import STAFF_USERNAME, WATCHED, Sandbox, seed_world
from bridge.sandbox.model import REGULAR, Post, Topic
from bridge.sandbox.posting import TOPIC_NOT_FOUND
from bridge.store import Store

NOW = datetime(2025, 5, 20, 14, 0, tzinfo=UTC)
SITE = "https://passerelles.encommun.io"

TOPIC = Draft(
    key="announce:webinaire-2025-06-05",
    kind=DraftKind.TOPIC,
    title="Webinaire : évaluer l'impact social, le 5 juin",
    raw="Bonjour à toutes et à tous ! Le prochain webinaire porte sur l'évaluation.",
    category="annonces",
    tags=("webinaire",),
)
MESSAGE = Draft(
    key="welcome:user:marie-eve",
    kind=DraftKind.PRIVATE_MESSAGE,
    title="Bienvenue dans la CdP 2isE",
    raw="Bonjour et bienvenue ! Voici comment la communauté fonctionne.",
    recipients=("catherine.lafleur",),
)
REPLY = Draft(
    key="announce:webinaire-2025-06-05:rappel-1j",
    kind=DraftKind.REPLY,
    raw="Rappel : le webinaire a lieu demain, à midi.",
    parent_key=TOPIC.key,
)
REPLY_2 = Draft(
    key="announce:webinaire-2025-06-05:rappel-1h",
    kind=DraftKind.REPLY,
    raw="Rappel : le webinaire commence dans une heure.",
    parent_key=TOPIC.key,
)
PIN = Draft(
    key="announce:webinaire-2025-06-05:epingle",
    kind=DraftKind.STATUS,
    status="pinned",
    until="2025-06-05",
    parent_key=TOPIC.key,
)

# Where a process can die around one write: before sending it; after Discourse did it but
# before the answer came back (the sandbox hangs up); after the answer, before the ledger knew.
BEFORE_WRITE, DURING_WRITE, AFTER_RESPONSE = "before_write", "during_write", "after_response"
CRASH_POINTS = (BEFORE_WRITE, DURING_WRITE, AFTER_RESPONSE)


class Crash(BaseException):
    """The process dies here."""


@dataclass
class Forum:
    """The sandbox and the store file shared by successive runs (processes)."""

    sandbox: Sandbox
    db_path: Path

    def __post_init__(self) -> None:
        # The seed may hold posts by the bridge's account: count only what the runs add.
        self.baseline = len(_written(self.sandbox.world.posts_by(STAFF_USERNAME)))

    def open_store(self) -> Store:
        return Store.open(self.db_path, SITE, WATCHED)

    def run(self, drafts: Sequence[Draft], on_step: StepHook | None = None) -> Report:
        """One process: a fresh store object and client; a Crash propagates, as death would."""
        store = self.open_store()
        client = DiscourseClient(
            self.sandbox.url,
            self.sandbox.api_username,
            self.sandbox.api_key,
            requests_per_minute=0,
            sleep=lambda seconds: None,
        )
        publisher = Publisher(
            client,
            store,
            resolve_category=lambda slug: self.sandbox.world.category(slug).id,
            now=lambda: NOW,
            on_step=on_step,
        )
        try:
            return publisher.publish(drafts)
        finally:
            client.close()
            store.db.close()

    def entry_state(self, key: str) -> tuple[str, int | None, int | None, int | None] | None:
        store = self.open_store()
        try:
            entry = store.ledger_get(key)
        finally:
            store.db.close()
        if entry is None:
            return None
        return entry.state, entry.topic_id, entry.post_id, entry.post_number

    def writes(self) -> int:
        return sum(1 for method, _ in self.sandbox.requests if method in ("POST", "PUT"))

    # What the forum holds, whatever the ledger says.

    def topics_titled(self, title: str) -> list[Topic]:
        world = self.sandbox.world
        with world.lock:
            return [t for t in world.topics.values() if t.deleted_at is None and t.title == title]

    def posts_marked(self, draft: Draft) -> list[Post]:
        marker = draft.marker(WATCHED)
        return [p for p in self.sandbox.world.posts_by(STAFF_USERNAME) if marker in p.raw]

    def bridge_posts(self) -> int:
        """Live posts the bridge's account wrote since the forum was set up (its pins' small
        actions left out)."""
        return len(_written(self.sandbox.world.posts_by(STAFF_USERNAME))) - self.baseline


@pytest.fixture
def forum(tmp_path: Path) -> Iterator[Forum]:
    with Sandbox(seed_world(NOW), now=lambda: NOW) as sandbox:
        yield Forum(sandbox, tmp_path / "bridge.db")


def crash_at(step: str, key: str | None = None) -> StepHook:
    """A hook that kills the run at `step` of the write of `key` (of any draft if None)."""

    def hook(at: str, draft: Draft) -> None:
        if at == step and (key is None or draft.key == key):
            raise Crash(f"{at} {draft.key}")

    return hook


def crashed_run(forum: Forum, drafts: Sequence[Draft], point: str) -> None:
    """A run that dies at `point` around the write of the last of `drafts`."""
    target = drafts[-1]
    if point == DURING_WRITE:
        forum.sandbox.faults.crash_after_write = 1
        report = forum.run(drafts)
        # The connection dropped after the write was sent: the run cannot know, and says so.
        assert report.outcomes[-1].status == "uncertain"
        assert "impossible de savoir" in (report.outcomes[-1].error or "")
    else:
        with pytest.raises(Crash):
            forum.run(drafts, on_step=crash_at(point, target.key))
    state = forum.entry_state(target.key)
    assert state is not None and state[0] == "pending"


def assert_one_topic(forum: Forum, draft: Draft) -> Topic:
    [topic] = forum.topics_titled(draft.title or "")
    first = forum.sandbox.world.posts_in(topic.id)[0]
    assert first.raw == draft.raw and first.user.username == STAFF_USERNAME
    assert topic.external_id == draft.external_id(WATCHED)
    assert forum.entry_state(draft.key) == ("done", topic.id, first.id, 1)
    return topic


# --- one write, killed at each step, then rerun -----------------------------------------------


@pytest.mark.parametrize("point", CRASH_POINTS)
@pytest.mark.parametrize("draft", [TOPIC, MESSAGE], ids=["topic", "private_message"])
def test_new_topic_survives_a_crash(forum: Forum, draft: Draft, point: str) -> None:
    before = forum.bridge_posts()

    crashed_run(forum, [draft], point)
    written = forum.writes()
    rerun = forum.run([draft])

    expected = "published" if point == BEFORE_WRITE else "recovered"
    assert [o.status for o in rerun.outcomes] == [expected]
    # The rerun writes only if the first run never sent the write.
    assert forum.writes() - written == (1 if point == BEFORE_WRITE else 0)
    topic = assert_one_topic(forum, draft)
    assert forum.bridge_posts() == before + 1
    if draft.kind is DraftKind.PRIVATE_MESSAGE:
        assert topic.archetype == "private_message"
        assert [u.username for u in topic.allowed_users] == [STAFF_USERNAME, "catherine.lafleur"]
    assert [o.status for o in forum.run([draft]).outcomes] == ["already"]
    assert forum.writes() - written == (1 if point == BEFORE_WRITE else 0)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_reply_survives_a_crash(forum: Forum, point: str) -> None:
    assert [o.status for o in forum.run([TOPIC]).outcomes] == ["published"]
    topic = assert_one_topic(forum, TOPIC)
    before = forum.bridge_posts()

    crashed_run(forum, [TOPIC, REPLY], point)
    written = forum.writes()
    rerun = forum.run([TOPIC, REPLY])

    expected = "published" if point == BEFORE_WRITE else "recovered"
    assert [o.status for o in rerun.outcomes] == ["already", expected]
    assert forum.writes() - written == (1 if point == BEFORE_WRITE else 0)
    [reply] = forum.posts_marked(REPLY)
    assert reply.topic_id == topic.id and reply.post_number == 2
    assert reply.raw == f"{REPLY.raw}\n\n{REPLY.marker(WATCHED)}"
    assert forum.bridge_posts() == before + 1
    assert forum.entry_state(REPLY.key) == ("done", topic.id, reply.id, 2)


def test_crash_in_the_middle_of_a_batch(forum: Forum) -> None:
    """Dying on the first reply leaves the topic done and the second reply for the rerun."""
    drafts = [TOPIC, REPLY, REPLY_2, PIN]
    with pytest.raises(Crash):
        forum.run(drafts, on_step=crash_at(AFTER_RESPONSE, REPLY.key))
    assert forum.entry_state(REPLY_2.key) is None

    rerun = forum.run(drafts)

    assert [o.status for o in rerun.outcomes] == ["already", "recovered", "published", "published"]
    topic = assert_one_topic(forum, TOPIC)
    assert [len(forum.posts_marked(d)) for d in (REPLY, REPLY_2)] == [1, 1]
    assert topic.pinned_at is not None


# --- answers that are not answers --------------------------------------------------------------


@pytest.mark.parametrize("draft", [TOPIC, MESSAGE, REPLY], ids=["topic", "message", "reply"])
def test_server_error_on_a_write_is_uncertain_then_reconciled(forum: Forum, draft: Draft) -> None:
    drafts = [TOPIC, draft] if draft is REPLY else [draft]
    if draft is REPLY:
        forum.run([TOPIC])
    before = forum.bridge_posts()
    forum.sandbox.reset_requests()
    forum.sandbox.faults.fail_paths["/posts"] = 502

    report = forum.run(drafts)

    assert report.outcomes[-1].status == "uncertain"
    assert "502" in (report.outcomes[-1].error or "")
    assert forum.sandbox.requests == [("POST", "/posts.json")]  # not retried
    assert forum.entry_state(draft.key) == ("pending", None, None, None)
    assert forum.bridge_posts() == before  # the proxy answered before Discourse did anything

    rerun = forum.run(drafts)

    assert rerun.outcomes[-1].status == "published"
    posts = [m for m, _ in forum.sandbox.requests]
    assert posts.count("POST") == 2 and posts[1] == "GET"  # looked before writing again
    assert forum.bridge_posts() == before + 1
    if draft is REPLY:
        assert len(forum.posts_marked(REPLY)) == 1
    else:
        assert_one_topic(forum, draft)


def test_dropped_connection_on_a_reply_is_recovered_from_the_topics_posts(forum: Forum) -> None:
    forum.run([TOPIC])
    forum.sandbox.faults.crash_after_write = 1
    assert [o.status for o in forum.run([TOPIC, REPLY]).outcomes] == ["already", "uncertain"]
    forum.sandbox.reset_requests()

    assert [o.status for o in forum.run([TOPIC, REPLY]).outcomes] == ["already", "recovered"]
    topic_id = forum.topics_titled(TOPIC.title or "")[0].id
    assert forum.sandbox.requests == [("GET", f"/t/{topic_id}/posts.json?include_raw=1")]
    assert len(forum.posts_marked(REPLY)) == 1


def test_title_already_used_is_refused_once(forum: Forum) -> None:
    twin = Draft(
        key="announce:webinaire-bis",
        kind=DraftKind.TOPIC,
        title=TOPIC.title,
        raw="Un autre texte pour un autre sujet, mais le même titre.",
        category="annonces",
    )
    forum.run([TOPIC])
    forum.sandbox.reset_requests()

    [outcome] = forum.run([twin]).outcomes

    assert outcome.status == "failed"
    assert (
        outcome.error == "Discourse a refusé POST /posts.json (422) : Title has already been used"
    )
    assert forum.sandbox.requests == [("POST", "/posts.json")]
    assert len(forum.topics_titled(TOPIC.title or "")) == 1
    store = forum.open_store()
    entry = store.ledger_get(twin.key)
    store.db.close()
    assert entry is not None
    assert (entry.state, entry.error, entry.attempts) == ("failed", outcome.error, 1)


# --- random crashes over a whole announcement ----------------------------------------------------


@dataclass
class Deaths:
    """For each run, where it dies: (step, which write of the run), or None for a clean run."""

    plan: list[tuple[str, int] | None]

    def hook_for(self, run: int, forum: Forum) -> StepHook:
        death = self.plan[run] if run < len(self.plan) else None
        counter = iter(range(1, 100))
        current = [0]

        def hook(step: str, draft: Draft) -> None:
            if step == "before_write":
                current[0] = next(counter)
            if death is None or current[0] != death[1]:
                return
            point = death[0]
            if point == BEFORE_WRITE and step == "before_write":
                raise Crash(f"run {run}: {step} {draft.key}")
            if point == DURING_WRITE and step == "before_write":
                forum.sandbox.faults.crash_after_write = 1
            if point == AFTER_RESPONSE and step == "after_response":
                raise Crash(f"run {run}: {step} {draft.key}")

        return hook


ANNOUNCEMENT = (TOPIC, REPLY, REPLY_2, PIN)


def check_published_once(forum: Forum) -> None:
    topic = assert_one_topic(forum, TOPIC)
    assert len(forum.sandbox.world.posts_written(topic.id)) == 3
    for draft in (REPLY, REPLY_2):
        [reply] = forum.posts_marked(draft)
        assert forum.entry_state(draft.key) == ("done", topic.id, reply.id, reply.post_number)
    assert topic.pinned_at is not None
    assert topic.pinned_until == datetime(2025, 6, 5, tzinfo=UTC)
    assert forum.entry_state(PIN.key) == ("done", topic.id, None, None)
    # Pinned once: pinning again after a crash would write a second "pinned" small action.
    actions = [p.action_code for p in forum.sandbox.world.posts_in(topic.id) if p.action_code]
    assert actions == ["pinned.enabled"]
    assert forum.bridge_posts() == 3


def publish_until_done(forum: Forum, drafts: Sequence[Draft], deaths: Deaths) -> None:
    for run in range(len(deaths.plan) + 3):
        try:
            forum.run(drafts, on_step=deaths.hook_for(run, forum))
        except Crash:
            continue
        if all((forum.entry_state(d.key) or ("",))[0] == "done" for d in drafts):
            return
    raise AssertionError("still not published after every crash and three clean runs")


deaths_plans = st.lists(
    st.one_of(st.none(), st.tuples(st.sampled_from(CRASH_POINTS), st.integers(1, 4))),
    max_size=5,
)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(order=st.permutations(ANNOUNCEMENT), plan=deaths_plans)
def test_random_crashes_publish_everything_exactly_once(
    order: list[Draft], plan: list[tuple[str, int] | None]
) -> None:
    with TemporaryDirectory() as tmp, Sandbox(seed_world(NOW), now=lambda: NOW) as sandbox:
        forum = Forum(sandbox, Path(tmp) / "bridge.db")

        publish_until_done(forum, order, Deaths(plan))

        check_published_once(forum)
        sandbox.reset_requests()
        assert [o.status for o in forum.run(order).outcomes] == ["already"] * 4
        assert sandbox.requests == []


@pytest.mark.parametrize("point", CRASH_POINTS)
@pytest.mark.parametrize("victim", range(4))
def test_each_crash_point_on_each_draft(forum: Forum, point: str, victim: int) -> None:
    publish_until_done(forum, ANNOUNCEMENT, Deaths([(point, victim + 1)]))

    check_published_once(forum)


# --- a real process, killed for real ----------------------------------------------------------

SCRIPT = """
import json, os, signal, sys
from datetime import UTC, datetime
from bridge.discourse import DiscourseClient
from bridge.drafts import Draft, DraftKind
from bridge.publish import Publisher
from bridge.store import Store

args = json.loads(sys.argv[1])
draft = Draft(**{**args["draft"], "kind": DraftKind(args["draft"]["kind"]),
                 "tags": tuple(args["draft"]["tags"])})

def die(step, _draft):
    if step == args["step"]:
        os.kill(os.getpid(), signal.SIGKILL)

store = Store.open(args["db"], args["site"], args["community"])
client = DiscourseClient(args["url"], args["username"], args["key"], requests_per_minute=0)
Publisher(client, store, resolve_category=lambda slug: args["category_id"],
          now=lambda: datetime.now(UTC), on_step=die).publish([draft])
sys.exit(3)  # the hook never let us get here
"""


@pytest.mark.slow
@pytest.mark.parametrize("step", ["before_write", "after_response"])
def test_process_killed_for_real(forum: Forum, step: str) -> None:
    args = {
        "draft": {
            "key": TOPIC.key,
            "kind": TOPIC.kind.value,
            "title": TOPIC.title,
            "raw": TOPIC.raw,
            "category": TOPIC.category,
            "tags": list(TOPIC.tags),
        },
        "step": step,
        "db": str(forum.db_path),
        "site": SITE,
        "community": WATCHED,
        "url": forum.sandbox.url,
        "username": forum.sandbox.api_username,
        "key": forum.sandbox.api_key,
        "category_id": forum.sandbox.world.category(TOPIC.category or "").id,
    }
    killed = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(args)], capture_output=True, timeout=30
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert forum.entry_state(TOPIC.key) == ("pending", None, None, None)
    assert len(forum.topics_titled(TOPIC.title or "")) == (0 if step == "before_write" else 1)

    rerun = forum.run([TOPIC])

    expected = "published" if step == "before_write" else "recovered"
    assert [o.status for o in rerun.outcomes] == [expected]
    assert_one_topic(forum, TOPIC)
    assert forum.bridge_posts() == 1


def test_reply_to_a_deleted_topic_is_refused_without_blocking_the_rest(forum: Forum) -> None:
    forum.run([TOPIC])
    topic = assert_one_topic(forum, TOPIC)
    forum.sandbox.world.delete_topic(topic.id)  # a moderator removed the announcement

    report = forum.run([TOPIC, REPLY, MESSAGE])

    assert [o.status for o in report.outcomes] == ["already", "failed", "published"]
    # PostCreator answers a reply to a deleted topic with a 422 (I18n :topic_not_found).
    assert report.outcomes[1].error == (
        f"Discourse a refusé POST /posts.json (422) : {TOPIC_NOT_FOUND}"
    )
    assert_one_topic(forum, MESSAGE)
    statuses = [forum.run([TOPIC, REPLY]).outcomes[1].status for _ in range(3)]
    assert statuses == ["failed", "failed", "abandoned"]
    assert forum.posts_marked(REPLY) == []
    # The topic, the message, and one refused reply for each of the three attempts.
    assert forum.writes() == 5


def publisher_as(
    forum: Forum, username: str, key: str, store: Store, resolve: object = None
) -> Publisher:
    client = DiscourseClient(
        forum.sandbox.url, username, key, requests_per_minute=0, sleep=lambda s: None
    )

    def category_id(slug: str) -> int:
        from bridge.errors import ConfigError

        try:
            return forum.sandbox.world.category(slug).id
        except KeyError:
            raise ConfigError(f"la catégorie « {slug} » n'existe pas") from None

    return Publisher(client, store, resolve_category=category_id, now=lambda: NOW)


def test_a_pin_refused_to_a_non_moderator_fails_alone(forum: Forum) -> None:
    sandbox = forum.sandbox
    store = forum.open_store()
    publisher = publisher_as(
        forum, "catherine.lafleur", sandbox.member_key("catherine.lafleur"), store
    )
    other = Draft(
        key="announce:autre",
        kind=DraftKind.TOPIC,
        title="Un 5 à 7 à Magog en juin prochain",
        raw="Rendez-vous au café du centre-ville pour échanger entre membres.",
        category="annonces",
    )

    report = publisher.publish([TOPIC, PIN, other])

    assert [o.status for o in report.outcomes] == ["published", "failed", "published"]
    assert "épingler demande un compte modérateur" in (report.outcomes[1].error or "")
    assert not sandbox.world.find_topic_by_title(TOPIC.title).pinned  # type: ignore[union-attr]
    assert store.ledger_get(PIN.key).state == "failed"  # type: ignore[union-attr]


def test_an_unknown_category_fails_that_draft_only(forum: Forum) -> None:
    store = forum.open_store()
    publisher = publisher_as(forum, STAFF_USERNAME, forum.sandbox.api_key, store)
    lost = Draft(
        key="announce:perdu",
        kind=DraftKind.TOPIC,
        title="Une annonce dans une catégorie absente",
        raw="Ce texte ne devrait jamais arriver sur le forum, faute de catégorie.",
        category="nexiste-pas",
    )

    report = publisher.publish([lost, TOPIC])

    assert [o.status for o in report.outcomes] == ["failed", "published"]
    assert report.outcomes[0].error == "la catégorie « nexiste-pas » n'existe pas"
    assert forum.topics_titled(lost.title) == []


def test_a_wrong_key_stops_the_run_and_records_no_failure(forum: Forum) -> None:
    from bridge.errors import AuthError

    store = forum.open_store()
    publisher = publisher_as(forum, STAFF_USERNAME, "pas-la-bonne-cle", store)

    with pytest.raises(AuthError) as info:
        publisher.publish([TOPIC])

    assert "pas-la-bonne-cle" not in str(info.value)
    assert store.ledger_summary() in ({}, {"pending": 1})
    assert forum.topics_titled(TOPIC.title) == []


# --- every kind of write, its answer lost (issue 14) ---------------------------------------------

EDIT = Draft(
    key="announce:webinaire-2025-06-05:modification",
    kind=DraftKind.EDIT,
    raw="Bonjour à toutes et à tous ! Le webinaire est déplacé au 6 juin, même heure.",
    edit_reason="date déplacée",
    parent_key=TOPIC.key,
)
UNPIN = Draft(
    key="announce:webinaire-2025-06-05:desepingle",
    kind=DraftKind.STATUS,
    status="pinned",
    enabled=False,
    parent_key=TOPIC.key,
)
# For each kind of write: what is on the forum before it, and the write itself.
LOST_WRITES: dict[str, tuple[tuple[Draft, ...], Draft]] = {
    "topic": ((), TOPIC),
    "private_message": ((), MESSAGE),
    "reply": ((TOPIC,), REPLY),
    "edit": ((TOPIC,), EDIT),
    "pin": ((TOPIC,), PIN),
    "unpin": ((TOPIC, PIN), UNPIN),
}


@pytest.mark.parametrize("case", cases(LOST_ANSWER))
def test_a_write_whose_answer_is_lost_is_found_and_not_written_again(
    forum: Forum, case: Case
) -> None:
    before, draft = LOST_WRITES[case.id.removeprefix("lost-")]
    assert {o.status for o in forum.run(before).outcomes} <= {"published"}
    forum.sandbox.faults.crash_after_write = 1

    [*_, lost] = forum.run([*before, draft]).outcomes

    assert lost.status == "uncertain" and "impossible de savoir" in (lost.error or "")
    written = forum.writes()

    [*_, rerun] = forum.run([*before, draft]).outcomes

    assert rerun.status == "recovered"
    assert forum.writes() == written  # looked, found it, wrote nothing
    assert [o.status for o in forum.run([*before, draft]).outcomes][-1] == "already"
    world = forum.sandbox.world
    if draft.creates_topic:
        assert_one_topic(forum, draft)
        return
    topic = forum.topics_titled(TOPIC.title or "")[0]
    if draft is REPLY:
        assert len(forum.posts_marked(REPLY)) == 1
    elif draft is EDIT:
        first = world.posts_written(topic.id)[0]
        assert first.raw == f"{EDIT.raw}\n\n{EDIT.marker(WATCHED)}"
        assert forum.entry_state(EDIT.key) == ("done", topic.id, first.id, None)
    else:
        assert (topic.pinned_at is not None) == draft.enabled
        assert forum.entry_state(draft.key) == ("done", topic.id, None, None)


def _written(posts: list[Post]) -> list[Post]:
    return [p for p in posts if p.post_type == REGULAR]
