"""`bridge announce` end to end: the CLI, the publisher and the sandbox Discourse on loopback."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from bridge.cli import cli
from bridge.discourse import DiscourseClient
from bridge.sandbox import STAFF_KEY, STAFF_USERNAME, Sandbox, Topic, seed_world
from bridge.store import Store
from bridge.wiring import Parts

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("America/Toronto")
T0 = datetime(2025, 4, 3, 12, 0, tzinfo=TZ)  # 14 days before the webinar

WEBINAIRE = """\
kind: webinaire
title: Comprendre ce qu'est une communauté de pratique
start: 2025-04-17 12:00
end: "13:00"
link: https://us02web.zoom.us/j/81234567890
description: Notre tout premier webinaire. Questions à @marie.tremblay.
publish: 14 jours avant
reminders: [7 jours, 1 jour]
"""
TITLE = "Comprendre ce qu'est une communauté de pratique"


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(seed_world(T0), now=clock) as sb:
        yield sb


@pytest.fixture
def workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, clock: Clock
) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs").mkdir()
    (tmp_path / "config.yaml").write_text(
        f"discourse: {{url: '{sandbox.url}', api_username: {STAFF_USERNAME}}}\n"
        "community: {name: CdP 2isE, category: innovation-sociale-estrie, group: cdp-2ise}\n"
        f"paths: {{templates: '{ROOT / 'templates'}', jobs: jobs}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DISCOURSE_API_KEY", STAFF_KEY)
    # The CLI builds its own parts: give them the test's clock and an unpaced client.
    build = Parts.build.__func__  # type: ignore[attr-defined]

    def build_for_test(cls: type[Parts], config: Any, **_: Any) -> Parts:
        client = DiscourseClient(
            config.discourse.url, STAFF_USERNAME, STAFF_KEY, requests_per_minute=0,
            sleep=lambda s: None,
        )
        return build(cls, config, now=clock, client=client)  # type: ignore[no-any-return]

    monkeypatch.setattr(Parts, "build", classmethod(build_for_test))
    return tmp_path


def job(workdir: Path, text: str = WEBINAIRE, name: str = "webinaire-2025-04-17") -> Path:
    path = workdir / "jobs" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def announce(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", "config.yaml", "announce", *args],
                              catch_exceptions=False)


def writes(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(m, p) for m, p in sandbox.requests if m != "GET"]


def topic_titled(sandbox: Sandbox, title: str) -> Topic:
    topic = sandbox.world.find_topic_by_title(title)
    assert topic is not None
    return topic


def ledger(workdir: Path) -> list[tuple[str, str]]:
    db = workdir / "data" / "bridge.db"
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("select key, state from ledger").fetchall())


def test_announcement_then_reminder_exactly_once(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    job(workdir)
    result = announce()
    assert result.exit_code == 0, result.output
    topic = topic_titled(sandbox, TITLE)
    assert writes(sandbox) == [("POST", "/posts.json"), ("PUT", f"/t/{topic.id}/status.json")]
    assert sandbox.world.category(topic.category_id).slug == "annonces"  # type: ignore[arg-type]
    assert topic.pinned_at is not None
    assert topic.pinned_until is not None and topic.pinned_until.date().isoformat() == "2025-04-18"
    [first] = sandbox.world.posts_in(topic.id)
    assert '[date=2025-04-17 time=12:00:00 timezone="America/Toronto"]' in first.raw
    assert "jeudi 17 avril 2025 à 12 h 00" in first.raw
    assert "@\u200bmarie.tremblay" in first.raw
    assert "publié : announce:webinaire-2025-04-17" in result.output

    # Running again at once posts nothing new.
    sandbox.reset_requests()
    assert announce().exit_code == 0
    assert writes(sandbox) == []

    # A week before: the 7-day reminder, as a reply in the announcement's topic.
    clock.now = datetime(2025, 4, 10, 12, 5, tzinfo=TZ)
    assert announce().exit_code == 0
    assert writes(sandbox) == [("POST", "/posts.json")]
    posts = sandbox.world.posts_in(topic.id)
    assert len(posts) == 2
    assert posts[1].raw.startswith("**Rappel :** « Comprendre ce qu'est une communauté de "
                                   "pratique », c'est dans 7 jours.")
    assert announce().exit_code == 0 and len(sandbox.world.posts_in(topic.id)) == 2

    # After the event: unpinned, and the store no longer lists it as upcoming.
    store = Store.open(workdir / "data" / "bridge.db", sandbox.url, "innovation-sociale-estrie")
    [upcoming] = store.upcoming_announcements(clock.now)
    assert (upcoming.title, upcoming.starts_at, upcoming.link, upcoming.topic_id) == (
        TITLE, datetime(2025, 4, 17, 16, tzinfo=UTC), "https://us02web.zoom.us/j/81234567890",
        topic.id,
    )
    clock.now = datetime(2025, 4, 17, 13, 30, tzinfo=TZ)
    sandbox.reset_requests()
    assert announce().exit_code == 0
    assert writes(sandbox) == [("PUT", f"/t/{topic.id}/status.json")]
    assert topic_titled(sandbox, TITLE).pinned_at is None
    assert store.upcoming_announcements(clock.now) == []
    assert ("announce:webinaire-2025-04-17:rappel-1j", "done") not in ledger(workdir)


def test_dry_run_writes_nothing_and_says_when(workdir: Path, sandbox: Sandbox) -> None:
    job(workdir)
    result = announce("--dry-run")
    assert result.exit_code == 0, result.output
    assert "── announce:webinaire-2025-04-17 : nouveau sujet dans « annonces »" in result.output
    assert f"Titre : {TITLE}" in result.output
    assert "À venir :" in result.output
    assert ("- jeudi 10 avril 2025 à 12 h 00 : announce:webinaire-2025-04-17:rappel-7j"
            in result.output)
    assert writes(sandbox) == []
    assert sandbox.world.find_topic_by_title(TITLE) is None
    assert ledger(workdir) == []
    with sqlite3.connect(workdir / "data" / "bridge.db") as conn:
        assert conn.execute("select count(*) from announcements").fetchone() == (0,)
        assert conn.execute("select count(*) from job_runs").fetchone() == (0,)


def test_dry_run_needs_no_api_key(
    workdir: Path, sandbox: Sandbox, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCOURSE_API_KEY")
    build = Parts.build.__func__  # type: ignore[attr-defined]
    # The real client, created only if something is written: a dry run never creates it.
    monkeypatch.setattr(
        Parts, "build", classmethod(lambda cls, config, **kw: build(cls, config, now=clock))
    )
    job(workdir)
    result = announce("--dry-run")
    assert result.exit_code == 0, result.output
    assert sandbox.requests == []


def test_now_publishes_the_named_job_at_once(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    clock.now = datetime(2025, 3, 25, 9, tzinfo=TZ)  # long before « 14 jours avant »
    path = job(workdir)
    assert announce().exit_code == 0
    assert writes(sandbox) == []
    result = announce(str(path.relative_to(workdir)), "--now")
    assert result.exit_code == 0, result.output
    assert topic_titled(sandbox, TITLE).pinned_at is not None


def test_now_without_a_file_is_a_usage_error(workdir: Path) -> None:
    result = announce("--now")
    assert result.exit_code == 2
    assert "--now publie une annonce précise" in result.output


def test_a_bad_file_exits_2_and_the_good_one_is_still_published(
    workdir: Path, sandbox: Sandbox
) -> None:
    job(workdir)
    job(workdir, WEBINAIRE.replace("kind: webinaire", "kind: conférence"), "mauvais")
    result = CliRunner().invoke(
        cli, ["--config", "config.yaml", "announce"], catch_exceptions=False
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "Erreur : jobs/mauvais.yaml, ligne 1, kind : type inconnu « conférence » (types permis"
        " : webinaire, 5 à 7, rassemblement annuel, autre)\n"
    )
    assert topic_titled(sandbox, TITLE) is not None


def test_a_refused_publication_exits_1(workdir: Path, sandbox: Sandbox) -> None:
    # Discourse refuses a second topic with the same title (422).
    sandbox.world.add_topic(STAFF_USERNAME, "annonces", TITLE, "Un sujet du même titre, déjà là.")
    job(workdir)
    result = CliRunner().invoke(
        cli, ["--config", "config.yaml", "announce"], catch_exceptions=False
    )
    assert result.exit_code == 1
    assert "publication impossible : announce:webinaire-2025-04-17 :" in result.stderr
    assert "Title has already been used" in result.stderr
    assert ("announce:webinaire-2025-04-17", "failed") in ledger(workdir)


def test_edits_a_moved_time_and_cancels(workdir: Path, sandbox: Sandbox, clock: Clock) -> None:
    job(workdir)
    assert announce().exit_code == 0
    topic = topic_titled(sandbox, TITLE)
    first = sandbox.world.posts_in(topic.id)[0]

    clock.now = datetime(2025, 4, 5, 9, tzinfo=TZ)
    moved = WEBINAIRE.replace("2025-04-17 12:00", "2025-04-24 12:00").replace(
        "81234567890", "89999999999")
    job(workdir, moved)
    sandbox.reset_requests()
    assert announce().exit_code == 0
    assert writes(sandbox) == [("PUT", f"/posts/{first.id}.json"), ("POST", "/posts.json")]
    edited = sandbox.world.posts_in(topic.id)[0]
    assert "jeudi 24 avril 2025 à 12 h 00" in edited.raw and "89999999999" in edited.raw
    assert edited.edit_reason == (
        "Mise à jour par le comité de pilotage : nouvel horaire, nouveau lien"
    )
    change = sandbox.world.posts_in(topic.id)[1]
    assert change.raw.startswith("**Changement d'horaire :**")
    assert "au lieu du jeudi 17 avril 2025 à 12 h 00" in change.raw
    sandbox.reset_requests()
    assert announce().exit_code == 0 and writes(sandbox) == []

    clock.now = datetime(2025, 4, 8, 9, tzinfo=TZ)
    job(workdir, moved + "cancelled: true\n")
    assert announce().exit_code == 0
    assert writes(sandbox) == [("POST", "/posts.json"), ("PUT", f"/t/{topic.id}/status.json")]
    assert sandbox.world.posts_in(topic.id)[-1].raw.startswith("**Annulation :**")
    assert topic_titled(sandbox, TITLE).pinned_at is None
    clock.now = datetime(2025, 4, 23, 12, tzinfo=TZ)  # no reminder for a cancelled event
    sandbox.reset_requests()
    assert announce().exit_code == 0 and writes(sandbox) == []


def test_check_names_a_bad_job_file(workdir: Path, sandbox: Sandbox) -> None:
    # `bridge check` judges dates against the real clock: these are far ahead.
    future = WEBINAIRE.replace("2025-04-17", "2099-04-16")
    job(workdir, future)
    job(workdir, future.replace("[7 jours, 1 jour]", "[7 dodos]"), "mauvais")
    result = CliRunner().invoke(cli, ["--config", "config.yaml", "check"],
                                catch_exceptions=False)
    assert result.exit_code == 2
    assert ("Erreur : jobs/mauvais.yaml, ligne 8, reminders : durée attendue, comme « 7 jours »,"
            " « 2 heures » ou « 30 minutes », trouvé « 7 dodos »") in result.output


def test_a_run_that_died_before_recording_the_topic_still_notices_later_edits(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    job(workdir)
    assert announce().exit_code == 0
    # As if the process died after the ledger said "done" but before the table was updated.
    with sqlite3.connect(workdir / "data" / "bridge.db") as conn:
        conn.execute("update announcements set published_hash = null, published_starts_at = null")
    sandbox.reset_requests()
    assert announce().exit_code == 0
    assert writes(sandbox) == []
    job(workdir, WEBINAIRE.replace("81234567890", "89999999999"))
    assert announce().exit_code == 0
    topic = topic_titled(sandbox, TITLE)
    assert writes(sandbox) == [("PUT", f"/posts/{sandbox.world.posts_in(topic.id)[0].id}.json")]
