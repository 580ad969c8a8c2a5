"""Faults, every job (issue 14): the real CLI against the sandbox's seeded fault switches.

Under a mix of 5xx answers, latency, lost answers and bursts of 429, each job ends within three
passes with the same mirror and the same posts on the forum as a fault-free run. Malformed
answers: an unreadable topic or profile is said and skipped, the pass goes on; an unreadable list
page stops the pass with its cursor kept; nothing is written from a malformed answer.

The welcome pass is one more entry of JOB_RUNS (and of reliability.FAULT_JOBS).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from faultworld import SLEPT, WEBINAIRE, Forum, forum_at, use_test_parts
from reliability import FAULT, MALFORMED, Case, cases

from bridge.config import load_config
from bridge.discourse import DiscourseClient
from bridge.errors import MalformedAnswer
from bridge.sandbox import STAFF_USERNAME, Sandbox, seed_world
from bridge.sandbox.faults import Faults
from bridge.service import Service

TZ = ZoneInfo("America/Toronto")
MONDAY = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)  # 9 h in Sherbrooke: last week is over
ANNOUNCE_AT = (  # the announcement, its two reminders, and its unpinning
    datetime(2025, 4, 3, 12, 0, tzinfo=TZ),
    datetime(2025, 4, 10, 12, 5, tzinfo=TZ),
    datetime(2025, 4, 16, 12, 5, tzinfo=TZ),
    datetime(2025, 4, 17, 13, 30, tzinfo=TZ),
)
SEED = 20250421


def mix(faults: Faults) -> None:
    """The issue's mix: 20 % of answers 5xx, added latency (1 ms: real, so tiny), answers lost
    after the request was done, and bursts of three 429s with Retry-After."""
    faults.reseed(SEED)
    faults.error_rate = 0.2
    faults.latency = 0.001
    faults.lose_rate = 0.05
    faults.rate_limit_rate = 0.05
    faults.rate_limit_burst = 3


# --- what each job does, on one forum --------------------------------------------------------


def sync_job(forum: Forum) -> None:
    forum.until_ok("sync")


def digest_job(forum: Forum) -> None:
    forum.until_ok("sync")
    forum.until_ok("digest")
    forum.until_ok("sync")


def announce_job(forum: Forum) -> None:
    (forum.workdir / "jobs" / "webinaire.yaml").write_text(WEBINAIRE, encoding="utf-8")
    forum.until_ok("sync")
    for at in ANNOUNCE_AT:
        forum.clock.at = at
        forum.until_ok("announce")
    forum.until_ok("sync", "--full")


def welcome_job(forum: Forum) -> None:
    """The first pass knows everyone; then a wave of eight joins (more than the threshold of
    five): one collective welcome topic, after the quiet half-hour."""
    forum.until_ok("sync")
    forum.until_ok("welcome")
    for i in range(8):
        forum.clock.at += timedelta(minutes=2)
        forum.sandbox.world.add_member(f"vague{i}", f"Membre {i}", forum.clock.at)
    forum.clock.at += timedelta(minutes=31)
    forum.until_ok("sync")
    forum.until_ok("welcome")


RUN_SCHEDULE = (
    "schedule:\n  sync: toutes les 15 minutes\n  announce: toutes les 15 minutes\n"
    "  digest: jamais\n"
)


def run_job(forum: Forum) -> None:
    """An hour of `bridge run`: its scheduler's triggers, fired on the injected clock, while
    members write; the announcement is due half-way. A failed run is retried by the next
    trigger; the hour ends with three more chances at most (the issue's three passes)."""
    (forum.workdir / "jobs" / "webinaire.yaml").write_text(
        WEBINAIRE.replace("publish: 14 jours avant", "publish: 2025-04-03 12:30"),
        encoding="utf-8",
    )
    service = Service(load_config(forum.config), now=forum.clock)
    service.install()
    start = forum.clock.at
    fired: dict[str, datetime | None] = {}
    world = forum.sandbox.world
    topic = TOPIC_ID
    step = timedelta(minutes=5)
    extra = 3 * 15 // 5
    for tick in range(60 // 5 + 1 + extra):
        forum.clock.at = start + tick * step
        if tick % 3 == 1 and tick <= 12:
            world.add_reply(topic, "sondes.allal", f"Une réponse de la minute {tick * 5}.")
        for job in ("sync", "announce"):
            trigger = service.scheduler.get_job(job).trigger
            due = trigger.get_next_fire_time(fired.get(job), forum.clock.at)
            if due is not None and due <= forum.clock.at:
                fired[job] = forum.clock.at
                service.run(job)
        if tick >= 12 and not service.failures:
            break
    assert not service.failures, service.failures


JOB_RUNS: dict[str, tuple[datetime, str, Callable[[Forum], None]]] = {
    "sync": (MONDAY, "", sync_job),
    "digest": (MONDAY, "", digest_job),
    "announce": (ANNOUNCE_AT[0], "", announce_job),
    "welcome": (MONDAY, "", welcome_job),
    "run": (datetime(2025, 4, 3, 12, 0, tzinfo=TZ), RUN_SCHEDULE, run_job),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", cases(FAULT, "mix-"))
def test_every_job_under_faults_ends_as_a_fault_free_run(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_parts(monkeypatch)
    at, schedule, job = JOB_RUNS[case.id.removeprefix("mix-")]
    with (
        forum_at(tmp_path / "clean", at, schedule) as clean,
        forum_at(tmp_path / "faulty", at, schedule) as faulty,
    ):
        job(clean)
        mix(faulty.sandbox.faults)
        job(faulty)
        faulty.sandbox.faults.clear()

        injected = faulty.sandbox.faults.injected
        assert injected.get("status 429", 0) >= 3 and injected.get("crash", 0) >= 1, injected
        assert injected.get("status 502", 0) + injected.get("status 503", 0) >= 5, injected
        # In the hour of `bridge run`, members write while the bridge works: a step retried at
        # the next trigger (a pin, and its small action) comes after a member's reply instead of
        # before, and Discourse's post ids, one sequence for the whole site, follow that order.
        # Posts are then named by their place (topic, number), which no retry changes.
        by_place = case.id == "mix-run"
        for table, rows in clean.mirror(by_place).items():
            assert faulty.mirror(by_place)[table] == rows, table
        assert faulty.published(by_place) == clean.published(by_place)
        assert faulty.ledger() == clean.ledger()
        # Something to lose or double: the bridge published (the sync alone writes nothing).
        assert (case.id == "mix-sync") != bool(clean.published()), clean.published()
        assert len(clean.published()) == len({p[1] for p in clean.published()})
        # The 429s were waited out as Discourse asked, through the injected sleep.
        assert SLEPT.count(5.0) >= 1


@pytest.mark.parametrize("case", cases(FAULT, "read-timeout"))
def test_a_read_past_its_timeout_is_read_again_after_a_backoff(case: Case) -> None:
    slept: list[float] = []
    with Sandbox(seed_world(MONDAY), now=lambda: MONDAY) as sandbox:
        stalled = []

        def stall(count: int, method: str, path: str) -> None:
            if path.endswith("/posts.json") and not stalled:
                stalled.append(path)
                # The server thread waits; the client gave up long before (its timeout).
                __import__("time").sleep(0.3)

        sandbox.faults.on_request = stall
        client = DiscourseClient(
            sandbox.url,
            sandbox.api_username,
            sandbox.api_key,
            requests_per_minute=0,
            timeout=0.05,
            sleep=slept.append,
        )
        posts = client.fetch_first_posts(11)
        client.close()
    assert posts and posts[0].topic_id == 11
    assert len(stalled) == 1 and len(slept) == 1 and 0.5 <= slept[0] <= 1.0


# --- malformed answers -------------------------------------------------------------------------

TOPIC_ID = 11  # a topic of the watched category with posts


def test_malformed_switch_gives_each_kind() -> None:
    """The sandbox's switch itself: each kind is what its name says."""
    import requests

    with Sandbox(seed_world(MONDAY), now=lambda: MONDAY) as sandbox:
        headers = {"Api-Key": sandbox.api_key, "Api-Username": sandbox.api_username}
        url = f"{sandbox.url}/t/{TOPIC_ID}/posts.json"
        good = requests.get(url, headers=headers, timeout=5).json()
        seen = {}
        for kind in ("types", "fields", "truncated", "html", "empty", "huge"):
            sandbox.faults.malformed = {r"/posts\.json$": kind}
            answer = requests.get(url, headers=headers, timeout=5)
            seen[kind] = (answer.status_code, answer.headers["Content-Type"], len(answer.content))
            if kind == "types":
                assert isinstance(answer.json()["post_stream"]["posts"][0]["id"], str)
            if kind == "fields":
                assert "id" not in answer.json()["post_stream"]["posts"][0]
        assert {status for status, _, _ in seen.values()} == {200}
        assert seen["html"][1].startswith("text/html") and seen["empty"][2] == 0
        assert seen["huge"][2] > 12 * 1024 * 1024 and good["post_stream"]["posts"]


@pytest.mark.parametrize("case", cases(MALFORMED, "posts-"))
def test_a_topics_unreadable_posts_are_said_and_the_pass_goes_on(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_parts(monkeypatch)
    kind = case.id.removeprefix("posts-")
    with forum_at(tmp_path / "clean", MONDAY) as clean, forum_at(tmp_path / "bad", MONDAY) as bad:
        assert clean.bridge("sync").exit_code == 0
        title = bad.sandbox.world.topics[TOPIC_ID].title
        bad.sandbox.faults.malformed = {rf"^/t/{TOPIC_ID}/posts": kind}

        result = bad.bridge("sync")

        assert result.exit_code == 1, result.output
        errors = [line for line in result.output.splitlines() if line.startswith("Erreur")]
        assert errors and errors[0].startswith(f"Erreur : sujet {TOPIC_ID} « {title} » : réponse")
        assert "Traceback" not in result.output
        # Nothing of that topic was written; the others were.
        assert bad.rows("select id from topics where id = ?", (TOPIC_ID,)) == []
        assert bad.rows("select count(*) from posts where topic_id = ?", (TOPIC_ID,)) == [(0,)]
        others = clean.rows("select count(*) from topics where id != ?", (TOPIC_ID,))
        assert bad.rows("select count(*) from topics where id != ?", (TOPIC_ID,)) == others
        # The next pass, the answer readable again, reads it: the mirror is whole.
        bad.sandbox.faults.clear()
        assert bad.bridge("sync").exit_code == 0
        assert bad.mirror() == clean.mirror()


@pytest.mark.parametrize("case", cases(MALFORMED, "profile-"))
def test_an_unreadable_profile_is_said_and_nothing_is_removed(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_parts(monkeypatch)
    kind = case.id.removeprefix("profile-")
    with forum_at(tmp_path / "bad", MONDAY) as bad:
        assert bad.bridge("sync").exit_code == 0
        members = bad.rows("select user_id from group_members")
        bad.sandbox.world.remove_member("sondes.allal")  # the sweep reads her profile
        bad.sandbox.faults.malformed = {r"^/u/sondes\.allal": kind}

        result = bad.bridge("sync", "--full")

        assert result.exit_code == 1, result.output
        assert "Erreur : profil de sondes.allal : réponse" in result.output
        assert bad.rows("select user_id from group_members") == members  # not removed
        bad.sandbox.faults.clear()
        assert bad.bridge("sync", "--full").exit_code == 0
        assert len(bad.rows("select user_id from group_members")) == len(members) - 1


@pytest.mark.parametrize("case", cases(MALFORMED, "list-"))
def test_an_unreadable_list_page_stops_the_pass_with_its_cursor_kept(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_parts(monkeypatch)
    kind = case.id.removeprefix("list-")
    with forum_at(tmp_path / "bad", MONDAY) as bad:
        assert bad.bridge("sync").exit_code == 0
        bad.clock.at += timedelta(minutes=10)
        bad.sandbox.world.add_reply(TOPIC_ID, "sondes.allal", "Une réponse toute neuve.")
        before = bad.mirror()
        cursors = bad.rows("select name, value from cursors order by name")
        bad.sandbox.faults.malformed = {r"^/c/.*/l/latest": kind}

        result = bad.bridge("sync")

        assert result.exit_code == 1, result.output
        [line] = [x for x in result.output.splitlines() if x.strip()]
        assert "Traceback" not in line and ("réponse" in line or "JSON" in line), line
        assert bad.rows("select name, value from cursors order by name") == cursors
        assert bad.mirror() == before
        bad.sandbox.faults.clear()
        assert bad.bridge("sync").exit_code == 0
        stored = bad.rows("select raw from posts where topic_id = ?", (TOPIC_ID,))
        assert ("Une réponse toute neuve.",) in stored


def test_a_malformed_answer_is_a_discourse_error_of_its_own_kind() -> None:
    with Sandbox(seed_world(MONDAY), now=lambda: MONDAY) as sandbox:
        sandbox.faults.malformed = {r"^/u/": "fields"}
        client = DiscourseClient(
            sandbox.url, sandbox.api_username, sandbox.api_key, requests_per_minute=0
        )
        with pytest.raises(MalformedAnswer) as info:
            client.fetch_user(STAFF_USERNAME)
        client.close()
    assert "réponse inattendue de Discourse" in str(info.value)
