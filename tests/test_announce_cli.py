"""`bridge announce` end to end: the CLI, the publisher and the sandbox Discourse on loopback."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sandboxcli import Clock, bridge, enter_workdir

from bridge.cli import cli
from bridge.config import load_config
from bridge.drafts import Draft
from bridge.runs import AnnounceReport, run_announce
from bridge.sandbox import STAFF_USERNAME, Sandbox, Topic
from bridge.store import Store
from bridge.wiring import Parts

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


@pytest.fixture
def workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, clock: Clock
) -> Path:
    return enter_workdir(monkeypatch, tmp_path, sandbox.url, clock, store="data/bridge.db")


def job(workdir: Path, text: str = WEBINAIRE, name: str = "webinaire-2025-04-17") -> Path:
    path = workdir / "jobs" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def announce(*args: str) -> Result:
    return bridge("announce", *args)


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
    [first] = sandbox.world.posts_written(topic.id)
    # Pinning wrote a small action after it, as on Discourse (TopicStatusUpdater).
    assert [p.action_code for p in sandbox.world.posts_in(topic.id)] == [None, "pinned.enabled"]
    assert '[date=2025-04-17 time=12:00:00 timezone="America/Toronto"]' in first.raw
    assert "jeudi 17 avril 2025 à 12 h 00" in first.raw
    assert "@\u200bmarie.tremblay" in first.raw
    # Words and links, never ledger keys.
    url = f"{sandbox.url}/t/-/{topic.id}"
    assert result.output == (
        f"Annonce publiée : {TITLE} → {url}\n"
        f"Annonce épinglée jusqu'au vendredi 18 avril 2025 : {TITLE} → {url}\n"
        "Annonces : 2 publication(s), 0 déjà faite(s), 0 échec(s), 0 fichier(s) invalide(s), "
        "3 à venir.\n"
    )

    # Running again at once posts nothing new.
    sandbox.reset_requests()
    assert announce().exit_code == 0
    assert writes(sandbox) == []

    # A week before: the 7-day reminder, as a reply in the announcement's topic.
    clock.now = datetime(2025, 4, 10, 12, 5, tzinfo=TZ)
    result = announce()
    assert result.exit_code == 0
    assert writes(sandbox) == [("POST", "/posts.json")]
    # Post 2 is the pin's small action (« épinglé »), which Discourse writes too.
    assert result.output.splitlines()[0] == f"Rappel publié : {TITLE} → {url}/3"
    posts = sandbox.world.posts_written(topic.id)
    assert len(posts) == 2
    assert posts[1].raw.startswith(
        "**Rappel :** « Comprendre ce qu'est une communauté de pratique », c'est dans 7 jours."
    )
    assert announce().exit_code == 0 and len(sandbox.world.posts_written(topic.id)) == 2

    # After the event: unpinned, and the store no longer lists it as upcoming.
    store = Store.open(workdir / "data" / "bridge.db", sandbox.url, "innovation-sociale-estrie")
    [upcoming] = store.upcoming_announcements(clock.now)
    assert (upcoming.title, upcoming.starts_at, upcoming.link, upcoming.topic_id) == (
        TITLE,
        datetime(2025, 4, 17, 16, tzinfo=UTC),
        "https://us02web.zoom.us/j/81234567890",
        topic.id,
    )
    clock.now = datetime(2025, 4, 17, 13, 30, tzinfo=TZ)
    sandbox.reset_requests()
    result = announce()
    assert result.exit_code == 0
    assert writes(sandbox) == [("PUT", f"/t/{topic.id}/status.json")]
    assert result.output.splitlines()[0] == f"Annonce désépinglée : {TITLE} → {url}"
    assert topic_titled(sandbox, TITLE).pinned_at is None
    assert store.upcoming_announcements(clock.now) == []
    assert ("announce:webinaire-2025-04-17:rappel-1j", "done") not in ledger(workdir)


def test_dry_run_writes_nothing_and_says_when(workdir: Path, sandbox: Sandbox) -> None:
    job(workdir)
    result = announce("--dry-run")
    assert result.exit_code == 0, result.output
    # Every step, in order, with its time in words (the full texts: test_announce_preview.py).
    assert [line for line in result.output.splitlines() if line[:3] in ("═══", "── ")] == [
        f"═══ jobs/webinaire-2025-04-17.yaml — {TITLE}",
        "── maintenant : l'annonce, nouveau sujet dans « annonces »",
        "── maintenant : épingler le sujet jusqu'au vendredi 18 avril 2025",
        "── jeudi 10 avril 2025 à 12 h 00 : rappel 7 jours avant, en réponse dans le sujet",
        "── mercredi 16 avril 2025 à 12 h 00 : rappel 1 jour avant, en réponse dans le sujet",
        "── jeudi 17 avril 2025 à 13 h 00 : désépingler le sujet",
    ]
    assert "**Rappel :** « Comprendre ce qu'est une communauté de pratique », c'est demain." in (
        result.output
    )
    assert "announce:" not in result.output
    assert result.output.endswith(
        "\nAperçu : 2 étape(s) maintenant, 3 à venir ; rien n'a été publié ni écrit.\n"
    )
    assert writes(sandbox) == []
    assert sandbox.world.find_topic_by_title(TITLE) is None
    # Not even the store's file: a dry run reads a snapshot (`Parts.build(readonly=True)`), so
    # no ledger, announcement nor job_runs row either.
    assert not (workdir / "data").exists()


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


def test_status_details_list_the_ledger_keys_the_run_did_not_print(
    workdir: Path, sandbox: Sandbox
) -> None:
    job(workdir)
    assert announce().exit_code == 0
    topic = topic_titled(sandbox, TITLE)
    status = ["--config", "config.yaml", "status"]
    plain = CliRunner().invoke(cli, status, catch_exceptions=False)
    assert "announce:" not in plain.output
    result = CliRunner().invoke(cli, [*status, "--details"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    url = f"{sandbox.url}/t/-/{topic.id}"
    details = result.output.split("Registre des publications (clé, état, dernière mise à jour) :\n")
    WHEN = "  3 avr. 2025 à 12 h 00 (HAE)  "
    # Both written in the same minute: their order is the store's.
    assert sorted(details[1].splitlines()) == [
        f"{WHEN}publiée            announce:webinaire-2025-04-17 — {TITLE} → {url}",
        f"{WHEN}publiée            announce:webinaire-2025-04-17:epingle:2025-04-18"
        f" — Épingler : {TITLE} → {url}",
    ]


def test_now_publishes_the_named_job_at_once(workdir: Path, sandbox: Sandbox, clock: Clock) -> None:
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
    assert result.stderr == (
        f"Erreur : publication impossible : « {TITLE} » (annonce) : Discourse a refusé "
        "POST /posts.json (422) : Title has already been used\n"
    )
    assert ("announce:webinaire-2025-04-17", "failed") in ledger(workdir)


def test_edits_a_moved_time_and_cancels(workdir: Path, sandbox: Sandbox, clock: Clock) -> None:
    job(workdir)
    assert announce().exit_code == 0
    topic = topic_titled(sandbox, TITLE)
    first = sandbox.world.posts_written(topic.id)[0]

    clock.now = datetime(2025, 4, 5, 9, tzinfo=TZ)
    moved = WEBINAIRE.replace("2025-04-17 12:00", "2025-04-24 12:00").replace(
        "81234567890", "89999999999"
    )
    job(workdir, moved)
    sandbox.reset_requests()
    preview = announce("--dry-run").output
    assert [line for line in preview.splitlines() if line.startswith(("── ", "Raison"))] == [
        "── maintenant : modification du premier message dans le sujet",
        "Raison : Mise à jour par le comité de pilotage : nouvel horaire, nouveau lien",
        "── maintenant : changement d'horaire, en réponse dans le sujet",
        "── maintenant : épingler le sujet jusqu'au vendredi 25 avril 2025",
        "── jeudi 17 avril 2025 à 12 h 00 : rappel 7 jours avant, en réponse dans le sujet",
        "── mercredi 23 avril 2025 à 12 h 00 : rappel 1 jour avant, en réponse dans le sujet",
        "── jeudi 24 avril 2025 à 13 h 00 : désépingler le sujet",
    ]
    assert "\n**Changement d'horaire :** « Comprendre" in preview
    assert writes(sandbox) == []
    result = announce()
    assert result.exit_code == 0
    assert result.output.splitlines()[:2] == [
        f"Annonce modifiée : {TITLE} → {sandbox.url}/t/-/{topic.id}",
        # Post 2 is the pin's small action, which Discourse writes too.
        f"Changement d'horaire publié : {TITLE} → {sandbox.url}/t/-/{topic.id}/3",
    ]
    assert writes(sandbox) == [
        ("PUT", f"/posts/{first.id}.json"),
        ("POST", "/posts.json"),
        ("PUT", f"/t/{topic.id}/status.json"),  # pinned a week longer
    ]
    pinned = topic_titled(sandbox, TITLE)
    assert pinned.pinned_until is not None
    assert pinned.pinned_until.date().isoformat() == "2025-04-25"
    edited = sandbox.world.posts_written(topic.id)[0]
    assert "jeudi 24 avril 2025 à 12 h 00" in edited.raw and "89999999999" in edited.raw
    assert edited.edit_reason == (
        "Mise à jour par le comité de pilotage : nouvel horaire, nouveau lien"
    )
    change = sandbox.world.posts_written(topic.id)[1]
    assert change.raw.startswith("**Changement d'horaire :**")
    assert "au lieu du jeudi 17 avril 2025 à 12 h 00" in change.raw
    sandbox.reset_requests()
    assert announce().exit_code == 0 and writes(sandbox) == []

    clock.now = datetime(2025, 4, 8, 9, tzinfo=TZ)
    job(workdir, moved + "cancelled: true\n")
    result = announce()
    assert result.exit_code == 0
    assert result.output.splitlines()[:2] == [
        # After the change (3) comes the pin moved a week later (4), a small action too.
        f"Annulation publiée : {TITLE} → {sandbox.url}/t/-/{topic.id}/5",
        f"Annonce désépinglée : {TITLE} → {sandbox.url}/t/-/{topic.id}",
    ]
    assert writes(sandbox) == [("POST", "/posts.json"), ("PUT", f"/t/{topic.id}/status.json")]
    assert sandbox.world.posts_written(topic.id)[-1].raw.startswith("**Annulation :**")
    assert topic_titled(sandbox, TITLE).pinned_at is None
    clock.now = datetime(2025, 4, 23, 12, tzinfo=TZ)  # no reminder for a cancelled event
    sandbox.reset_requests()
    assert announce().exit_code == 0 and writes(sandbox) == []


def test_check_names_a_bad_job_file(workdir: Path, sandbox: Sandbox) -> None:
    # `bridge check` judges dates against the real clock: these are far ahead.
    future = WEBINAIRE.replace("2025-04-17", "2099-04-16")
    job(workdir, future)
    job(workdir, future.replace("[7 jours, 1 jour]", "[7 dodos]"), "mauvais")
    result = CliRunner().invoke(cli, ["--config", "config.yaml", "check"], catch_exceptions=False)
    assert result.exit_code == 2
    assert (
        "Erreur : jobs/mauvais.yaml, ligne 8, reminders : durée attendue, comme « 7 jours »,"
        " « 2 heures » ou « 30 minutes », trouvé « 7 dodos »"
    ) in result.output


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
    first = sandbox.world.posts_written(topic.id)[0]
    assert writes(sandbox) == [("PUT", f"/posts/{first.id}.json")]


def first_post(sandbox: Sandbox) -> str:
    return sandbox.world.posts_written(topic_titled(sandbox, TITLE).id)[0].raw


def test_a_link_that_comes_back_is_edited_each_time(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    # j/2 → j/3 → j/2 → j/3: every change is an edit, even to a text the forum once showed.
    two = WEBINAIRE.replace("81234567890", "2222222222")
    three = WEBINAIRE.replace("81234567890", "3333333333")
    job(workdir, two)
    assert announce().exit_code == 0
    first = sandbox.world.posts_written(topic_titled(sandbox, TITLE).id)[0]
    sandbox.reset_requests()
    for day, text in enumerate([three, two, three], start=4):
        clock.now = datetime(2025, 4, day, 9, tzinfo=TZ)
        job(workdir, text)
        result = announce()
        assert result.exit_code == 0, result.output
        assert announce().exit_code == 0  # once
    assert writes(sandbox) == [("PUT", f"/posts/{first.id}.json")] * 3
    assert "zoom.us/j/3333333333" in first_post(sandbox)
    assert "2222222222" not in first_post(sandbox)
    edits = [k for k, state in ledger(workdir) if ":modif:" in k and state == "done"]
    assert [k.split(":")[3] for k in edits] == ["1", "2", "3"]


def test_a_time_that_comes_back_is_announced_each_time(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    # 12 h → 14 h → 12 h → 14 h: three edits and three replies saying the time moved.
    at_14 = WEBINAIRE.replace("2025-04-17 12:00", "2025-04-17 14:00").replace('"13:00"', '"15:00"')
    job(workdir)
    assert announce().exit_code == 0
    topic = topic_titled(sandbox, TITLE)
    first = sandbox.world.posts_written(topic.id)[0]
    sandbox.reset_requests()
    for day, text in enumerate([at_14, WEBINAIRE, at_14], start=4):
        clock.now = datetime(2025, 4, day, 9, tzinfo=TZ)
        job(workdir, text)
        result = announce()
        assert result.exit_code == 0, result.output
        assert announce().exit_code == 0  # once
    assert writes(sandbox) == [("PUT", f"/posts/{first.id}.json"), ("POST", "/posts.json")] * 3
    posts = sandbox.world.posts_written(topic.id)
    assert "jeudi 17 avril 2025 à 14 h 00, jusqu'à 15 h 00" in posts[0].raw
    changes = [p.raw.split("\n")[0] for p in posts[1:]]
    assert changes == [
        "**Changement d'horaire :** « Comprendre ce qu'est une communauté de pratique » aura "
        f"lieu le jeudi 17 avril 2025 à {new} (jusqu'à {end}), au lieu du jeudi 17 avril 2025 "
        f"à {old}."
        for new, end, old in [
            ("14 h 00", "15 h 00", "12 h 00"),
            ("12 h 00", "13 h 00", "14 h 00"),
            ("14 h 00", "15 h 00", "12 h 00"),
        ]
    ]


def test_a_run_that_died_after_an_edit_records_it_without_editing_again(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    job(workdir)
    assert announce().exit_code == 0
    three = WEBINAIRE.replace("81234567890", "3333333333")
    clock.now = datetime(2025, 4, 4, 9, tzinfo=TZ)
    job(workdir, three)
    assert announce().exit_code == 0
    db = workdir / "data" / "bridge.db"
    with sqlite3.connect(db) as conn:
        [(hash_b,)] = conn.execute("select published_hash from announcements").fetchall()
    job(workdir, WEBINAIRE)
    assert announce().exit_code == 0
    # As if the process died after the ledger said the edit back to j/812… was done, but
    # before the table recorded it: the table still says j/3333333333.
    with sqlite3.connect(db) as conn:
        conn.execute(
            "update announcements set published_hash = ?, link = ?",
            (hash_b, "https://zoom.us/j/3333333333"),
        )
    sandbox.reset_requests()
    assert announce().exit_code == 0
    assert writes(sandbox) == []
    # And the next change is still noticed.
    job(workdir, three)
    assert announce().exit_code == 0
    assert len(writes(sandbox)) == 1 and "3333333333" in first_post(sandbox)


BAD_FILES = {
    "fuseau": (
        WEBINAIRE + "timezone: America\n",
        "ligne 9, timezone : fuseau horaire inconnu « America » (exemple : America/Toronto)",
    ),
    "rappel": (
        WEBINAIRE.replace("[7 jours, 1 jour]", "[99999999999 jours]"),
        "ligne 8, reminders : rappel trop tôt (99999999999 jours) : 2 ans avant le début au plus",
    ),
    "regle": (
        WEBINAIRE + "rrule: FREQ=MONTHLY;UNTIL=20301301T000000Z\n",
        "ligne 9, rrule : règle de récurrence invalide (invalid 'UNTIL': 20301301T000000Z), "
        "exemple : FREQ=MONTHLY;BYDAY=1TH",
    ),
    "decalage": (
        WEBINAIRE.replace("2025-04-17 12:00", "2030-05-15 12:00+25:00"),
        "ligne 3, start : date et heure attendues, comme « 2025-05-15 12:00 », "
        "trouvé « 2030-05-15 12:00+25:00 »",
    ),
}


def test_files_that_gave_tracebacks_are_one_line_each_and_the_good_one_is_published(
    workdir: Path, sandbox: Sandbox
) -> None:
    job(workdir)
    for name, (text, _) in BAD_FILES.items():
        job(workdir, text, name)
    result = announce()
    assert result.exit_code == 2
    assert result.stderr == "".join(
        f"Erreur : jobs/{name}.yaml, {line}\n" for name, (_, line) in sorted(BAD_FILES.items())
    )
    assert topic_titled(sandbox, TITLE) is not None


def test_two_files_for_one_job_are_refused_and_the_others_run(
    workdir: Path, sandbox: Sandbox
) -> None:
    job(workdir)
    other = WEBINAIRE.replace(TITLE, "Un autre webinaire de la communauté")
    job(workdir, other, "autre")
    (workdir / "jobs" / "autre.yml").write_text(other, encoding="utf-8")
    result = announce()
    assert result.exit_code == 2
    assert result.stderr == (
        "Erreur : jobs/autre.yaml et jobs/autre.yml : deux fichiers pour la même annonce "
        "« autre » (le nom du fichier l'identifie) ; renommez ou retirez celui qui n'est pas "
        "encore publié\n"
    )
    assert topic_titled(sandbox, TITLE) is not None
    assert sandbox.world.find_topic_by_title("Un autre webinaire de la communauté") is None


def sync(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", "config.yaml", "sync"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_an_unknown_category_is_a_bad_file_once_categories_are_synced(
    workdir: Path, sandbox: Sandbox
) -> None:
    sync(workdir)
    job(workdir)
    toolbox = WEBINAIRE.replace(TITLE, "Un webinaire rangé dans la boîte à outils")
    job(workdir, toolbox + "category: boite-a-outils\n", "outils")
    unknown = WEBINAIRE.replace(TITLE, "Un webinaire dans une catégorie qui n'existe pas")
    job(workdir, unknown + "category: evenements\n", "mauvais")
    result = announce()
    assert result.exit_code == 2
    assert result.stderr == (
        "Erreur : jobs/mauvais.yaml, ligne 9, category : catégorie inconnue « evenements » (ni "
        "la sous-catégorie des annonces, ni une catégorie de la communauté lue par bridge sync)\n"
    )
    assert sandbox.world.category(topic_titled(sandbox, TITLE).category_id).slug == "annonces"  # type: ignore[arg-type]
    outils = topic_titled(sandbox, "Un webinaire rangé dans la boîte à outils")
    assert sandbox.world.category(outils.category_id).slug == "boite-a-outils"  # type: ignore[arg-type]


def test_an_unknown_category_before_any_sync_fails_only_its_own_job(
    workdir: Path, sandbox: Sandbox
) -> None:
    # The store knows no category yet: the file is accepted, the publisher cannot place it.
    unknown = WEBINAIRE.replace(TITLE, "Un webinaire dans une catégorie qui n'existe pas")
    job(workdir, unknown + "category: evenements\n", "a-mauvais")
    job(workdir)
    result = announce()
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "Avertissement : jobs/a-mauvais.yaml, category : la catégorie « evenements » n'a pas pu "
        "être vérifiée, car la base locale ne connaît encore aucune catégorie de la communauté "
        "(lancez bridge sync) ; si elle n'existe pas, la publication sera refusée",
        "Erreur : publication impossible : « Un webinaire dans une catégorie qui n'existe pas » "
        f"(annonce) : config.yaml: la catégorie « evenements » n'existe pas sur {sandbox.url} "
        "(ou la clé ne peut pas la voir)",
    ]
    assert topic_titled(sandbox, TITLE).pinned_at is not None


UNKNOWN_CATEGORY = (
    WEBINAIRE.replace("2025-04-17", "2099-04-16").replace(
        TITLE, "Un webinaire dans une catégorie qui n'existe pas"
    )
    + "category: inexistante\n"
)
UNKNOWN_CATEGORY_ERROR = (
    "Erreur : jobs/mauvais.yaml, ligne 9, category : catégorie inconnue « inexistante » (ni "
    "la sous-catégorie des annonces, ni une catégorie de la communauté lue par bridge sync)\n"
)


@pytest.mark.parametrize("command", [["check"], ["announce", "--dry-run"]])
def test_an_unknown_category_is_an_error_in_check_and_dry_run_once_synced(
    workdir: Path, sandbox: Sandbox, command: list[str]
) -> None:
    sync(workdir)
    job(workdir, UNKNOWN_CATEGORY, "mauvais")
    result = CliRunner().invoke(cli, ["--config", "config.yaml", *command])
    assert result.exit_code == 2
    assert result.stderr == UNKNOWN_CATEGORY_ERROR
    assert "inexistante »" not in result.stdout


@pytest.mark.parametrize("command", [["check"], ["announce", "--dry-run"]])
def test_an_unknown_category_before_any_sync_is_a_warning_saying_why(
    workdir: Path, sandbox: Sandbox, command: list[str]
) -> None:
    job(workdir, UNKNOWN_CATEGORY, "mauvais")
    result = CliRunner().invoke(cli, ["--config", "config.yaml", *command])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "Avertissement : jobs/mauvais.yaml, category : la catégorie « inexistante » n'a pas pu "
        "être vérifiée, car la base locale ne connaît encore aucune catégorie de la communauté "
        "(lancez bridge sync) ; si elle n'existe pas, la publication sera refusée\n"
    )


def test_two_overlapping_runs_post_once(
    workdir: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The service and a command typed by hand: the second starts while the first is writing.
    job(workdir)
    config = load_config(workdir / "config.yaml")
    reports: dict[str, AnnounceReport] = {}
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
        reports[name] = run_announce(parts, echo=lambda line: None)

    first = threading.Thread(target=lambda: run("first", pause))
    first.start()
    first.join(timeout=30)
    second.join(timeout=30)
    assert reports["first"].exit_code == 0 and reports["second"].exit_code == 0
    assert writes(sandbox) == [
        ("POST", "/posts.json"),
        ("PUT", f"/t/{topic_titled(sandbox, TITLE).id}/status.json"),
    ]
    # The second run planned from what the first wrote: nothing left to do.
    assert reports["second"].statuses == {}


def test_a_run_that_died_after_an_edit_then_a_file_put_back_is_edited_back(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    job(workdir)
    assert announce().exit_code == 0
    db = workdir / "data" / "bridge.db"
    with sqlite3.connect(db) as conn:
        [(hash_a,)] = conn.execute("select published_hash from announcements").fetchall()
    clock.now = datetime(2025, 4, 4, 9, tzinfo=TZ)
    job(workdir, WEBINAIRE.replace("81234567890", "3333333333"))
    assert announce().exit_code == 0
    # As if the process died before the table recorded that edit: it still says j/812….
    with sqlite3.connect(db) as conn:
        conn.execute(
            "update announcements set published_hash = ?, link = ?",
            (hash_a, "https://us02web.zoom.us/j/81234567890"),
        )
    # The committee puts the old link back: the forum shows the new one, so it is edited.
    job(workdir)
    sandbox.reset_requests()
    assert announce().exit_code == 0
    assert len(writes(sandbox)) == 1
    assert "81234567890" in first_post(sandbox) and "3333333333" not in first_post(sandbox)
