"""What a committee member reads from `bridge announce`: the dry run's texts and times for the
example job files, and texts that never say the kind of activity twice."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bridge.announce.texts import CANCEL_TEMPLATE, AnnouncementTexts
from bridge.config import load_config
from bridge.jobfiles import Job, load_jobs
from bridge.render import Renderer
from bridge.runs import run_announce
from bridge.wiring import Parts

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("America/Toronto")
NOW = datetime(2025, 4, 20, 9, 0, tzinfo=TZ)
EXAMPLES = ["_exemple-5-a-7.yaml", "_exemple-rassemblement-annuel.yaml", "_exemple-webinaire.yaml"]


def write_config(tmp_path: Path, locale: str = "fr_CA") -> Path:
    path = tmp_path / "config.yaml"
    # Port 9 (discard): nothing answers there, and a dry run must not ask.
    path.write_text(
        "discourse: {url: 'http://127.0.0.1:9', api_username: animation-2ise}\n"
        f"community: {{name: CdP 2isE, category: innovation-sociale-estrie, group: cdp-2ise, "
        f"locale: {locale}}}\n"
        f"paths: {{templates: '{ROOT / 'templates'}', jobs: '{ROOT / 'jobs'}'}}\n"
        f"store: {{path: '{tmp_path / 'bridge.db'}'}}\n",
        encoding="utf-8",
    )
    return path


def test_the_dry_run_shows_every_step_of_the_examples_with_its_time_and_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    config = load_config(write_config(tmp_path))
    lines: list[str] = []
    with Parts.build(config, readonly=True, now=lambda: NOW) as parts:
        report = run_announce(
            parts,
            files=[Path("jobs") / name for name in EXAMPLES],
            dry_run=True,
            echo=lines.append,
            warn=lines.append,
        )
    assert report.exit_code == 0
    expected = (ROOT / "tests" / "fixtures" / "announce" / "dry-run-exemples.txt").read_text(
        encoding="utf-8"
    )
    assert "\n".join(lines) + "\n" == expected
    assert not (tmp_path / "bridge.db").exists()


def test_a_dry_run_of_an_empty_jobs_folder_says_where_the_models_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    config = load_config(write_config(tmp_path))
    lines: list[str] = []
    with Parts.build(config, readonly=True, now=lambda: NOW) as parts:
        run_announce(parts, dry_run=True, echo=lines.append)
    assert lines == [
        "Aucune annonce dans jobs (les fichiers dont le nom commence par « _ » sont des "
        "modèles, jamais publiés).",
        "\nAperçu : 0 étape(s) maintenant, 0 à venir ; rien n'a été publié ni écrit.",
    ]


# --- the kind of activity, said once ----------------------------------------------------------

# How each kind is said, in French and in English, once accents and capitals are gone.
KIND_WORDS = {
    "webinaire": "webinaire|webinar",
    "5-a-7": "5 a 7",
    "rassemblement-annuel": "rassemblement|annual gathering",
    "autre": "activite|activity",
}
TITLES = {
    "webinaire": "Webinaire : mesurer l'impact social de nos projets",
    "5-a-7": "5 à 7 de la CdP 2isE à Sherbrooke",
    "rassemblement-annuel": "Rassemblement annuel 2025 de la CdP 2isE",
    "autre": "Activité de fin d'année de la CdP 2isE",
}
JOB = """\
kind: {kind}
title: "{title}"
start: 2025-05-15 12:00
end: "13:00"
place: Salle du conseil, Sherbrooke
link: https://visio.exemple.ca/cdp
registration: https://forms.exemple.ca/inscription
description: Un partage d'outils simples, suivi d'une période d'échanges.
"""


def said(word: str, text: str) -> int:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return len(re.findall(rf"\b{word}", plain))


def one_job(tmp_path: Path, kind: str, title: str) -> Job:
    path = tmp_path / f"{kind}.yaml"
    path.write_text(JOB.format(kind=kind, title=title), encoding="utf-8")
    [job], errors = load_jobs([path], NOW, templates_dir=ROOT / "templates")
    assert errors == []
    return job


@pytest.mark.parametrize("locale", ["fr_CA", "en_CA"])
@pytest.mark.parametrize("kind", list(KIND_WORDS))
@pytest.mark.parametrize("named", [True, False], ids=["titre-avec-le-type", "titre-sans"])
def test_no_title_nor_text_says_the_kind_twice(
    tmp_path: Path, kind: str, named: bool, locale: str
) -> None:
    title = TITLES[kind] if named else "Mesurer ce que nos projets changent vraiment"
    job = one_job(tmp_path, kind, title)
    config = load_config(write_config(tmp_path, locale))
    renderer = Renderer(ROOT / "templates", locale=locale, timezone="America/Toronto")
    occurrence = job.occurrences(NOW)[0]
    texts = AnnouncementTexts(occurrence, renderer, config)
    topic = texts.topic("k")
    reminder = texts.reminder("k", timedelta(days=1))
    change = texts.change("k", occurrence.start - timedelta(days=1))
    cancel = texts.reply("k", CANCEL_TEMPLATE, "Annulation")
    details = renderer.render("announcement-details.md.j2", **texts.context)
    posts = {
        "titre": topic.title or "",
        "annonce": topic.raw or "",
        "rappel": reminder.raw or "",
        "changement": change.raw or "",
        "annulation": cancel.raw or "",
        "details": details,
    }
    for name, text in posts.items():
        assert said(KIND_WORDS[kind], text) <= 1, (name, text)
    if kind != "autre":  # the generic template names no kind
        # The kind is in the announcement, in its title or in its text.
        assert said(KIND_WORDS[kind], posts["titre"] + posts["annonce"]) >= 1
    # The replies say what they are once.
    for name, word in [("rappel", "rappel|reminder"), ("changement", "changement|new time")]:
        assert said(word, posts[name]) == 1, posts[name]
    assert said("annulation|cancelled", posts["annulation"]) == 1
