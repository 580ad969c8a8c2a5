"""Job files: each mistake is one French line naming file, line and field; right series dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.errors import JobFileError
from bridge.jobfiles import Job, job_files, load_job, load_jobs
from bridge.jobvalues import normalise_kind, parse_duration

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)

GOOD = """\
kind: webinaire
title: Webinaire de lancement de la CdP
start: 2025-05-15 12:00
end: "13:00"
link: https://zoom.us/j/81234567890
reminders:
  - 7 jours
  - 1 jour
  - 2 heures
"""


@pytest.fixture
def jobs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Messages name files relative to the current folder, as the committee runs the bridge.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs").mkdir()
    return tmp_path / "jobs"


def write(jobs_dir: Path, text: str, name: str = "webinaire.yaml") -> Path:
    path = jobs_dir / name
    path.write_text(text, encoding="utf-8")
    return path


def load(path: Path, **kwargs: object) -> Job:
    return load_job(path, NOW, templates_dir=TEMPLATES, **kwargs)  # type: ignore[arg-type]


def test_a_good_file_gives_a_job(jobs_dir: Path) -> None:
    job = load(write(jobs_dir, GOOD))
    assert job.id == "webinaire"
    assert job.kind == "webinaire"
    assert job.template == "announcement-webinaire.md.j2"
    assert job.start == datetime(2025, 5, 15, 16, 0, tzinfo=UTC)
    assert job.end == datetime(2025, 5, 15, 17, 0, tzinfo=UTC)
    assert job.start.tzinfo is not None and str(job.start.tzinfo) == "America/Toronto"
    assert [r.label for r in job.reminders] == ["7j", "1j", "2h"]
    assert [r.before for r in job.reminders] == [
        timedelta(days=7),
        timedelta(days=1),
        timedelta(hours=2),
    ]
    assert job.pin is True and job.publish_before is None and not job.cancelled
    [occurrence] = job.occurrences(NOW)
    assert occurrence.key == "announce:webinaire"


def replace_line(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


BAD = {
    "missing title": (
        replace_line("title: Webinaire de lancement de la CdP\n", ""),
        "jobs/webinaire.yaml, ligne 1, title : valeur manquante (un texte attendu)",
    ),
    "past date for a new job": (
        replace_line("2025-05-15 12:00", "2024-01-01 10:00"),
        "jobs/webinaire.yaml, ligne 3, start : date dans le passé (2024-01-01 10:00) "
        "pour une nouvelle annonce",
    ),
    "reminder after the event": (
        replace_line("  - 1 jour\n", "  - 2025-05-16 09:00\n"),
        "jobs/webinaire.yaml, ligne 8, reminders : rappel après le début de l'activité "
        "(2025-05-16 09:00) : un rappel vient avant, comme « 1 jour »",
    ),
    "reminder written as after": (
        replace_line("  - 2 heures\n", "  - 2 heures après\n"),
        "jobs/webinaire.yaml, ligne 9, reminders : rappel après le début de l'activité "
        "(2 heures après) : un rappel vient avant, comme « 1 jour »",
    ),
    "unknown kind": (
        replace_line("kind: webinaire", "kind: conférence"),
        "jobs/webinaire.yaml, ligne 1, kind : type inconnu « conférence » (types permis : "
        "webinaire, 5 à 7, rassemblement annuel, autre)",
    ),
    "unknown template": (
        GOOD + "template: annonce-speciale.md.j2\n",
        "jobs/webinaire.yaml, ligne 10, template : gabarit inconnu « annonce-speciale.md.j2 » "
        f"(aucun fichier de ce nom dans {TEMPLATES})",
    ),
    "invalid timezone": (
        GOOD + "timezone: America/Sherbrooke\n",
        "jobs/webinaire.yaml, ligne 10, timezone : fuseau horaire inconnu « America/Sherbrooke » "
        "(exemple : America/Toronto)",
    ),
    "malformed RRULE": (
        GOOD + "rrule: FREQ=MONTHY;BYDAY=1TH\n",
        "jobs/webinaire.yaml, ligne 10, rrule : règle de récurrence invalide (invalid 'FREQ': "
        "MONTHY), exemple : FREQ=MONTHLY;BYDAY=1TH",
    ),
    "RRULE more often than daily": (
        GOOD + "rrule: FREQ=HOURLY\n",
        "jobs/webinaire.yaml, ligne 10, rrule : FREQ=DAILY, WEEKLY, MONTHLY ou YEARLY attendu",
    ),
    "bad duration": (
        replace_line("  - 1 jour\n", "  - 1 dodo\n"),
        "jobs/webinaire.yaml, ligne 8, reminders : durée attendue, comme « 7 jours », "
        "« 2 heures » ou « 30 minutes », trouvé « 1 dodo »",
    ),
    "bad publish": (
        GOOD + "publish: bientôt\n",
        "jobs/webinaire.yaml, ligne 10, publish : « 14 jours avant », « maintenant » ou une date "
        "attendus, trouvé « bientôt »",
    ),
    "reminder before publication": (
        GOOD + "publish: 3 jours avant\n",
        "jobs/webinaire.yaml, ligne 7, reminders : rappel (7 jours) avant la publication",
    ),
    "YAML syntax error": (
        replace_line("title: Webinaire de lancement", "title: Webinaire : lancement"),
        "jobs/webinaire.yaml, ligne 2 : YAML invalide (deux-points inattendu : mettez ce texte "
        "entre guillemets)",
    ),
    "field written twice": (
        GOOD + "title: Un autre titre pour la même activité\n",
        "jobs/webinaire.yaml, ligne 10 : YAML invalide (clé « title » écrite deux fois (déjà à "
        "la ligne 2))",
    ),
    "end before start": (
        replace_line('end: "13:00"', 'end: "11:00"'),
        "jobs/webinaire.yaml, ligne 4, end : la fin (2025-05-15 11:00) doit venir après le "
        "début (2025-05-15 12:00)",
    ),
    "unknown key": (
        GOOD + "titre: Un autre titre\n",
        "jobs/webinaire.yaml, ligne 10, titre : clé inconnue (clés permises : kind, title, start, "
        "end, timezone, place, link, description, registration, publish, reminders, pin, "
        "category, tags, rrule, skip, cancelled, template)",
    ),
    "neither place nor link": (
        replace_line("link: https://zoom.us/j/81234567890\n", ""),
        "jobs/webinaire.yaml, ligne 1, place : un lieu (place:) ou un lien de rencontre (link:) "
        "est attendu",
    ),
    "link that is not an address": (
        replace_line("https://zoom.us/j/81234567890", "zoom"),
        "jobs/webinaire.yaml, ligne 5, link : adresse commençant par https:// attendue, "
        "trouvé « zoom »",
    ),
    "title too short for Discourse": (
        replace_line("Webinaire de lancement de la CdP", "Webinaire"),
        "jobs/webinaire.yaml, ligne 2, title : titre trop court (15 caractères au moins)",
    ),
    "not a mapping": (
        "- juste\n- une liste\n",
        "jobs/webinaire.yaml, ligne 1 : des clés sont attendues (title:, start:, …)",
    ),
    "a start without a time": (
        replace_line("start: 2025-05-15 12:00", "start: 2025-05-15"),
        "jobs/webinaire.yaml, ligne 3, start : date sans heure « 2025-05-15 » : précisez "
        "l'heure, comme « 2025-05-15 12:00 »",
    ),
    "a reminder on a date without a time": (
        replace_line("  - 1 jour\n", "  - 2025-05-14\n"),
        "jobs/webinaire.yaml, ligne 6, reminders : date sans heure « 2025-05-14 » : précisez "
        "l'heure, comme « 2025-05-14 12:00 »",
    ),
    "an abbreviated timezone": (
        GOOD + "timezone: EST\n",
        "jobs/webinaire.yaml, ligne 10, timezone : fuseau horaire « EST » refusé : un nom "
        "« Région/Ville » suit l'heure avancée de l'endroit, comme America/Toronto (ou UTC)",
    ),
    "a POSIX-style timezone": (
        GOOD + "timezone: PST8PDT\n",
        "jobs/webinaire.yaml, ligne 10, timezone : fuseau horaire « PST8PDT » refusé : un nom "
        "« Région/Ville » suit l'heure avancée de l'endroit, comme America/Vancouver (ou UTC)",
    ),
    "a fixed offset timezone": (
        GOOD + "timezone: Etc/GMT+5\n",
        "jobs/webinaire.yaml, ligne 10, timezone : fuseau horaire « Etc/GMT+5 » refusé : un nom "
        "« Région/Ville » suit l'heure avancée de l'endroit, comme America/Toronto (ou UTC)",
    ),
    # Each of these once gave a traceback.
    "a timezone that is a folder of zones": (
        GOOD + "timezone: America\n",
        "jobs/webinaire.yaml, ligne 10, timezone : fuseau horaire inconnu « America » "
        "(exemple : America/Toronto)",
    ),
    "a reminder too long to be a date": (
        replace_line(
            "reminders:\n  - 7 jours\n  - 1 jour\n  - 2 heures\n",
            "reminders: [99999999999 jours]\n",
        ),
        "jobs/webinaire.yaml, ligne 6, reminders : rappel trop tôt (99999999999 jours) : "
        "2 ans avant le début au plus",
    ),
    "a publication too early to be a date": (
        GOOD + "publish: 99999999999 jours avant\n",
        "jobs/webinaire.yaml, ligne 10, publish : publication trop tôt (99999999999 jours avant) "
        ": 2 ans avant le début au plus",
    ),
    "an UNTIL that is not a date": (
        GOOD + "rrule: FREQ=MONTHLY;UNTIL=20301301T000000Z\n",
        "jobs/webinaire.yaml, ligne 10, rrule : règle de récurrence invalide (invalid 'UNTIL': "
        "20301301T000000Z), exemple : FREQ=MONTHLY;BYDAY=1TH",
    ),
    "an offset of a day or more": (
        replace_line("2025-05-15 12:00", "2030-05-15 12:00+25:00"),
        "jobs/webinaire.yaml, ligne 3, start : date et heure attendues, comme « 2025-05-15 "
        "12:00 », trouvé « 2030-05-15 12:00+25:00 »",
    ),
    "a year no hour can be added to": (
        replace_line("2025-05-15 12:00", "9999-12-31 23:30").replace('end: "13:00"\n', ""),
        "jobs/webinaire.yaml, ligne 3, start : année entre 2000 et 2999 attendue, "
        "trouvé « 9999-12-31 23:30 »",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_mistake_is_one_line_naming_file_line_and_field(jobs_dir: Path, case: str) -> None:
    text, expected = BAD[case]
    with pytest.raises(JobFileError) as caught:
        load(write(jobs_dir, text))
    assert str(caught.value) == expected
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


TRACEBACKS = [
    "a timezone that is a folder of zones",
    "a reminder too long to be a date",
    "an UNTIL that is not a date",
    "an offset of a day or more",
]


def test_files_that_gave_tracebacks_are_one_line_each_and_the_others_load(
    jobs_dir: Path,
) -> None:
    write(jobs_dir, GOOD, "a-bon.yaml")
    for n, case in enumerate(TRACEBACKS):
        write(jobs_dir, BAD[case][0], f"b-{n}.yaml")
    write(jobs_dir, GOOD, "c-bon.yaml")
    jobs, errors = load_jobs(jobs_dir, NOW, templates_dir=TEMPLATES)
    assert [j.id for j in jobs] == ["a-bon", "c-bon"]
    assert [str(e) for e in errors] == [
        BAD[case][1].replace("webinaire.yaml", f"b-{n}.yaml") for n, case in enumerate(TRACEBACKS)
    ]


def test_two_files_for_one_job_are_both_refused_and_the_others_load(jobs_dir: Path) -> None:
    # x.yaml and x.yml would share every key: which one is the announcement?
    write(jobs_dir, GOOD, "a-bon.yaml")
    write(jobs_dir, GOOD, "webinaire.yaml")
    write(jobs_dir, GOOD.replace("2025-05-15", "2025-05-22"), "webinaire.yml")
    jobs, errors = load_jobs(jobs_dir, NOW, templates_dir=TEMPLATES)
    assert [j.id for j in jobs] == ["a-bon"]
    assert [str(e) for e in errors] == [
        "jobs/webinaire.yaml et jobs/webinaire.yml : deux fichiers pour la même annonce "
        "« webinaire » (le nom du fichier l'identifie) ; renommez ou retirez celui qui n'est pas "
        "encore publié"
    ]
    assert all(e.exit_code == 2 for e in errors)
    # Named twice on the command line, a file is still one job.
    jobs, errors = load_jobs(
        [jobs_dir / "a-bon.yaml", Path("jobs/a-bon.yaml")], NOW, templates_dir=TEMPLATES
    )
    assert ([j.id for j in jobs], errors) == (["a-bon"], [])


def test_a_category_must_be_known_when_categories_are(jobs_dir: Path) -> None:
    path = write(jobs_dir, GOOD + "category: evenements\n")
    assert load(path).category == "evenements"  # nothing known: the publisher will tell
    assert load(path, known_category=lambda c: c == "evenements").category == "evenements"
    with pytest.raises(JobFileError) as caught:
        load(path, known_category=lambda c: c == "annonces")
    assert str(caught.value) == (
        "jobs/webinaire.yaml, ligne 10, category : catégorie inconnue « evenements » (ni la "
        "sous-catégorie des annonces, ni une catégorie de la communauté lue par bridge sync)"
    )
    assert caught.value.exit_code == 2


def test_a_past_date_is_fine_once_the_job_is_published(jobs_dir: Path) -> None:
    path = write(jobs_dir, replace_line("2025-05-15 12:00", "2025-04-20 12:00"))
    with pytest.raises(JobFileError):
        load(path)
    job = load(path, known_published={"webinaire"})
    assert job.start == datetime(2025, 4, 20, 16, 0, tzinfo=UTC)


def test_one_bad_file_does_not_stop_the_others(jobs_dir: Path) -> None:
    write(jobs_dir, GOOD, "a-webinaire.yaml")
    write(jobs_dir, replace_line("kind: webinaire", "kind: conférence"), "b-mauvais.yaml")
    write(jobs_dir, replace_line("kind: webinaire", "kind: 5 à 7"), "c-5-a-7.yaml")
    write(jobs_dir, GOOD, "_modele.yaml")  # a model to copy: never loaded
    jobs, errors = load_jobs(jobs_dir, NOW, templates_dir=TEMPLATES)
    assert [j.id for j in jobs] == ["a-webinaire", "c-5-a-7"]
    assert [j.kind for j in jobs] == ["webinaire", "5-a-7"]
    assert [str(e) for e in errors] == [
        "jobs/b-mauvais.yaml, ligne 1, kind : type inconnu « conférence » (types permis : "
        "webinaire, 5 à 7, rassemblement annuel, autre)"
    ]


FIRST_THURSDAY = """\
kind: 5 à 7
title: 5 à 7 de la CdP 2isE à Sherbrooke
start: 2025-01-02 17:00
end: 19:00
place: Sherbrooke
rrule: FREQ=MONTHLY;BYDAY=1TH
"""


def test_first_thursday_of_the_month_across_daylight_saving_changes(jobs_dir: Path) -> None:
    # Unquoted 19:00 is YAML 1.1's sexagesimal 1140 for a plain loader: here it stays a time.
    job = load(write(jobs_dir, FIRST_THURSDAY, "5-a-7.yaml"), known_published={"5-a-7"})
    spring = job.occurrences(datetime(2025, 2, 20, tzinfo=UTC))
    # 17 h in Sherbrooke is 22:00 UTC in winter, 21:00 UTC from March 9 (daylight saving).
    assert [(o.id, o.start.astimezone(UTC), o.end.astimezone(UTC)) for o in spring] == [
        ("2025-03-06", datetime(2025, 3, 6, 22, tzinfo=UTC), datetime(2025, 3, 7, 0, tzinfo=UTC)),
        ("2025-04-03", datetime(2025, 4, 3, 21, tzinfo=UTC), datetime(2025, 4, 3, 23, tzinfo=UTC)),
    ]
    autumn = job.occurrences(datetime(2025, 9, 20, tzinfo=UTC))
    assert [o.start.astimezone(UTC) for o in autumn] == [
        datetime(2025, 10, 2, 21, tzinfo=UTC),
        datetime(2025, 11, 6, 22, tzinfo=UTC),  # back to standard time on November 2
    ]
    assert all(o.start.hour == 17 and o.end.hour == 19 for o in spring + autumn)
    assert [o.key for o in spring] == ["announce:5-a-7:2025-03-06", "announce:5-a-7:2025-04-03"]


def test_a_series_keeps_the_occurrence_under_way_and_skips_dates(jobs_dir: Path) -> None:
    text = FIRST_THURSDAY + "skip: [2025-07-03]\n"
    job = load(write(jobs_dir, text, "5-a-7.yaml"), known_published={"5-a-7"})
    during = datetime(2025, 6, 5, 22, 0, tzinfo=UTC)  # 18 h, the 5 à 7 of June 5 is on
    [june] = job.occurrences(during)  # July 3 is skipped, August 7 beyond the 60 days
    assert june.id == "2025-06-05"
    assert [o.id for o in job.occurrences(datetime(2025, 6, 20, tzinfo=UTC))] == ["2025-08-07"]
    assert job.occurrence_on(datetime(2025, 7, 3).date()) is None
    august = job.occurrence_on(datetime(2025, 8, 7).date())
    assert august is not None
    # Without `publish`, each date is announced once the previous one held is over.
    assert job.publish_time(august) == june.end
    may = job.occurrence_on(datetime(2025, 5, 1).date())
    assert may is not None and job.publish_time(june) == may.end


def test_a_new_series_needs_a_date_to_come(jobs_dir: Path) -> None:
    text = FIRST_THURSDAY.replace("BYDAY=1TH", "BYDAY=1TH;COUNT=2")
    with pytest.raises(JobFileError) as caught:
        load(write(jobs_dir, text, "5-a-7.yaml"))
    assert str(caught.value) == (
        "jobs/5-a-7.yaml, ligne 6, rrule : aucune date à venir pour une nouvelle annonce"
    )


def test_publish_forms(jobs_dir: Path) -> None:
    before = load(write(jobs_dir, GOOD + "publish: 14 jours avant\n"))
    assert before.publish_before == timedelta(days=14) and before.publish_at is None
    at = load(write(jobs_dir, GOOD + "publish: 2025-05-01 09:00\n"))
    assert at.publish_at == datetime(2025, 5, 1, 13, 0, tzinfo=UTC)
    now = load(write(jobs_dir, GOOD + "publish: Immédiatement\n"))
    assert now.publish_at is None and now.publish_before is None


def test_pin_cancel_and_tags(jobs_dir: Path) -> None:
    job = load(write(jobs_dir, GOOD + "pin: 2025-05-10\ncancelled: oui\ntags: [webinaire]\n"))
    assert job.pin and job.pin_until == datetime(2025, 5, 10).date()
    assert job.cancelled and job.tags == ("webinaire",)
    assert load(write(jobs_dir, GOOD + "pin: non\n")).pin is False


def test_kinds_as_the_committee_writes_them() -> None:
    assert normalise_kind("5 à 7") == "5-a-7"
    assert normalise_kind("Webinaire") == "webinaire"
    assert normalise_kind("Rassemblement annuel") == "rassemblement-annuel"
    assert normalise_kind("autre") == "autre"
    assert normalise_kind("conférence") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 jours", timedelta(days=7)),
        ("1 jour", timedelta(days=1)),
        ("2 heures", timedelta(hours=2)),
        ("30 minutes", timedelta(minutes=30)),
        ("7d", timedelta(days=7)),
        ("2h", timedelta(hours=2)),
        ("1 jour et 12 heures", timedelta(hours=36)),
        ("2 semaines avant", timedelta(days=14)),
        ("0 jour", None),
        ("demain", None),
        ("7", None),
    ],
)
def test_durations(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


@given(
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=23),
    st.integers(min_value=0, max_value=59),
)
def test_any_duration_in_words_reads_back(days: int, hours: int, minutes: int) -> None:
    parts = [
        f"{n} {unit}" for n, unit in ((days, "jours"), (hours, "heures"), (minutes, "min")) if n
    ]
    expected = timedelta(days=days, hours=hours, minutes=minutes)
    assert parse_duration(" et ".join(parts)) == (expected if parts else None)


def test_the_shipped_examples_are_valid_models() -> None:
    examples = sorted((ROOT / "jobs").glob("_*.yaml"))
    assert [p.name for p in examples] == [
        "_exemple-5-a-7.yaml",
        "_exemple-rassemblement-annuel.yaml",
        "_exemple-webinaire.yaml",
    ]
    jobs, errors = load_jobs(examples, NOW, templates_dir=TEMPLATES)
    assert errors == []
    assert {j.kind for j in jobs} == {"webinaire", "5-a-7", "rassemblement-annuel"}
    # Models are never published: the jobs folder as shipped announces nothing.
    assert job_files(ROOT / "jobs") == []
