"""`bridge digest` end to end: the CLI, the store, the publisher and the sandbox on loopback."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sandboxcli import ROOT, Clock, Crash, bridge, enter_workdir
from sandboxcli import write_config as sandbox_config

from bridge.config import load_config
from bridge.drafts import Draft
from bridge.publish import Publisher
from bridge.runs import DigestReport, run_digest
from bridge.sandbox import Sandbox, Topic
from bridge.wiring import Parts

T0 = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)  # Monday 9 h in Sherbrooke: W16 just ended
TITLE_W16 = "CdP 2isE : résumé de la semaine du 14 au 20 avril 2025"


FACILITATORS, STORE = "animation-2ise", "data/bridge.db"


def write_config(workdir: Path, url: str, digest: str = "") -> None:
    sandbox_config(workdir, url, facilitators=FACILITATORS, store=STORE, extra=digest)


@pytest.fixture
def workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, clock: Clock
) -> Path:
    return enter_workdir(
        monkeypatch, tmp_path, sandbox.url, clock, facilitators=FACILITATORS, store=STORE
    )


def writes(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(m, p) for m, p in sandbox.requests if m != "GET"]


def digests(sandbox: Sandbox) -> list[Topic]:
    world = sandbox.world
    with world.lock:
        return [
            t
            for t in world.topics.values()
            if t.is_private_message and t.title.startswith("CdP 2isE") and t.deleted_at is None
        ]


def stored(workdir: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(workdir / "data" / "bridge.db") as conn:
        return conn.execute(query).fetchall()


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def synced(sandbox: Sandbox) -> None:
    result = bridge("sync")
    assert result.exit_code == 0, result.output
    sandbox.reset_requests()


def test_publish_once_then_nothing_twice(workdir: Path, sandbox: Sandbox) -> None:
    synced(sandbox)

    result = bridge("digest")

    assert result.exit_code == 0, result.output
    assert "Résumé 2025-W16 : publié." in result.output
    [topic] = digests(sandbox)
    assert topic.title == TITLE_W16
    assert [g.name for g in topic.allowed_groups] == ["animation-2ise"]
    assert writes(sandbox) == [("POST", "/posts.json")]
    raw = sandbox.world.posts_in(topic.id)[0].raw
    assert raw.startswith("Bonjour l'équipe d'animation ! Voici la semaine du 14 au 20 avril 2025")
    assert "## Santé de la communauté" in raw
    assert stored(workdir, "select week, contributors from digest_weeks") == [("2025-W16", 10)]

    sandbox.reset_requests()
    again = bridge("digest", "--week", "2025-W16")
    assert again.exit_code == 0 and "déjà publié" in again.output
    assert writes(sandbox) == [] and len(digests(sandbox)) == 1


def test_a_crash_between_the_write_and_the_ledger_leaves_one_digest(
    workdir: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced(sandbox)
    publisher = Parts.publisher

    def dying(parts: Parts, on_step: Any = None) -> Publisher:
        def hook(step: str, draft: Draft) -> None:
            if step == "after_response":
                raise Crash(draft.key)

        return publisher(parts, on_step=hook)

    monkeypatch.setattr(Parts, "publisher", dying)
    with pytest.raises(Crash):
        bridge("digest")
    assert len(digests(sandbox)) == 1
    assert stored(workdir, "select key, state from ledger") == [("digest:2025-W16", "pending")]
    assert stored(workdir, "select * from digest_weeks") == []

    monkeypatch.setattr(Parts, "publisher", publisher)
    sandbox.reset_requests()
    result = bridge("digest")

    assert result.exit_code == 0, result.output
    assert "retrouvé après une interruption" in result.output
    assert writes(sandbox) == []  # found by its external_id, not written again
    assert len(digests(sandbox)) == 1
    assert stored(workdir, "select key, state from ledger") == [("digest:2025-W16", "done")]
    assert stored(workdir, "select week from digest_weeks") == [("2025-W16",)]


def test_a_quiet_week_gets_a_short_digest(workdir: Path, sandbox: Sandbox) -> None:
    synced(sandbox)
    result = bridge("digest", "--week", "2025-W02")
    assert result.exit_code == 0, result.output
    [topic] = digests(sandbox)
    raw = sandbox.world.posts_in(topic.id)[0].raw
    assert "Semaine calme : aucune nouvelle discussion ni réponse." in raw
    assert "## Nouvelles discussions" not in raw


def test_a_quiet_week_gets_nothing_with_quiet_week_none(workdir: Path, sandbox: Sandbox) -> None:
    write_config(workdir, sandbox.url, "digest: {quiet_week: none}\n")
    synced(sandbox)
    result = bridge("digest", "--week", "2025-W02")
    assert result.exit_code == 0, result.output
    assert "semaine calme, rien à publier" in result.output
    assert digests(sandbox) == [] and writes(sandbox) == []
    assert stored(workdir, "select week from digest_weeks") == [("2025-W02",)]


def test_dry_run_prints_and_writes_nothing(workdir: Path, sandbox: Sandbox) -> None:
    synced(sandbox)
    db = workdir / "data" / "bridge.db"
    before = file_hash(db)

    result = bridge("digest", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "── digest:2025-W16 : message privé à animation-2ise" in result.output
    assert f"Titre : {TITLE_W16}" in result.output
    assert "## Où agir : sujets sans réponse" in result.output
    assert writes(sandbox) == [] and file_hash(db) == before
    assert stored(workdir, "select count(*) from ledger") == [(0,)]


def test_the_week_under_way_only_with_dry_run(workdir: Path, sandbox: Sandbox) -> None:
    synced(sandbox)
    assert bridge("digest", "--week", "2025-W17", "--dry-run").exit_code == 0
    result = bridge("digest", "--week", "2025-W17")
    assert result.exit_code == 2
    assert "pas finie" in result.stderr and writes(sandbox) == []


def test_output_writes_a_file_and_publishes_nothing(workdir: Path, sandbox: Sandbox) -> None:
    synced(sandbox)
    result = bridge("digest", "--output", "resume.md")
    assert result.exit_code == 0, result.output
    text = (workdir / "resume.md").read_text(encoding="utf-8")
    assert text.startswith("Bonjour l'équipe d'animation ! Voici la semaine du 14 au 20 avril")
    assert "Écrit : resume.md" in result.output
    assert writes(sandbox) == [] and digests(sandbox) == []
    assert stored(workdir, "select count(*) from ledger") == [(0,)]


@pytest.mark.parametrize(
    ("week", "words"),
    [
        ("2025-W54", "l'année 2025 compte 52 semaines ISO"),
        ("2025-W30", "n'a pas encore commencé"),
        ("la-semaine-passée", "semaine ISO attendue, comme 2025-W16"),
    ],
)
def test_a_bad_week_is_one_french_line_and_exit_2(
    workdir: Path, sandbox: Sandbox, week: str, words: str
) -> None:
    synced(sandbox)
    result = bridge("digest", "--week", week)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("Erreur : --week") and words in result.stderr
    assert writes(sandbox) == []


def test_a_stale_mirror_is_refused(workdir: Path, sandbox: Sandbox, clock: Clock) -> None:
    synced(sandbox)
    clock.now = T0 + timedelta(days=7)  # W17 is over; the last sync was in W17

    result = bridge("digest")

    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Erreur : le miroir n'est pas à jour pour la semaine 2025-W17")
    assert "lancez bridge sync" in line
    assert writes(sandbox) == [] and digests(sandbox) == []


def test_no_sync_at_all_is_refused(workdir: Path, sandbox: Sandbox) -> None:
    result = bridge("digest", "--dry-run")
    assert result.exit_code == 1
    assert "aucune synchronisation réussie" in result.stderr


def test_check_renders_the_digest_templates_and_names_the_line(
    workdir: Path, sandbox: Sandbox
) -> None:
    templates = workdir / "templates"
    templates.mkdir()
    for template in (ROOT / "templates").glob("*.j2"):
        (templates / template.name).write_text(template.read_text(encoding="utf-8"))
    twin = templates / "digest.en.md.j2"
    lines = twin.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, 1) if "{{ t.author }}" in line)
    lines[number - 1] = lines[number - 1].replace("{{ t.author }}", "{{ t.auteur }}")
    twin.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = (workdir / "config.yaml").read_text(encoding="utf-8")
    (workdir / "config.yaml").write_text(
        config.replace(str(ROOT / "templates"), str(templates)), encoding="utf-8"
    )

    result = bridge("check")

    assert result.exit_code == 2
    [line] = [x for x in result.stderr.splitlines() if "digest" in x]
    assert line.startswith(f"Erreur : {twin}, ligne {number}: ")
    assert "auteur" in line


def test_two_overlapping_runs_send_one_digest(
    workdir: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The service and a command typed by hand: the second starts while the first is writing.
    synced(sandbox)
    config = load_config(workdir / "config.yaml")
    reports: dict[str, DigestReport] = {}
    second = threading.Thread(target=lambda: run("second"))

    def pause(step: str, draft: Draft) -> None:
        if step == "before_write" and not second.is_alive() and "second" not in reports:
            second.start()
            second.join(timeout=1.0)  # time for it to write, if nothing stops it

    def run(name: str, hook: Any = None) -> None:
        parts = Parts.build(config)
        if hook is not None:
            publisher = Parts.publisher
            monkeypatch.setattr(parts, "publisher", lambda on_step=None: publisher(parts, hook))
        reports[name] = run_digest(parts, echo=lambda line: None)
        parts.close()

    first = threading.Thread(target=lambda: run("first", pause))
    first.start()
    first.join(timeout=30)
    second.join(timeout=30)
    assert [reports["first"].status, reports["second"].status] == ["published", "already"]
    assert writes(sandbox) == [("POST", "/posts.json")] and len(digests(sandbox)) == 1
