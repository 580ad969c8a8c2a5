"""Announcement planning: job file + store + now → exactly the expected drafts and texts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from markdown_it import MarkdownIt

from bridge.announce.plan import (
    AnnounceState,
    announcement_fields,
    build_steps,
    content_hash,
    select_occurrences,
)
from bridge.announce.validate import published_job_ids, validate_jobs
from bridge.config import Config, load_config
from bridge.drafts import Draft, DraftKind
from bridge.jobfiles import Job, load_job
from bridge.render import Renderer
from bridge.store import Store
from bridge.words import delay_words, when_words

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("America/Toronto")
TOPIC = "announce:webinaire-2025-04-17"

WEBINAIRE = """\
kind: webinaire
title: Comprendre ce qu'est une communauté de pratique
start: 2025-04-17 12:00
end: "13:00"
link: https://us02web.zoom.us/j/81234567890
registration: https://forms.office.com/r/inscription-cdp
description: |
  Notre tout premier webinaire : la CdP 2isE, ses rôles, et le forum.
  Questions à @marie.tremblay ou au groupe @cdp-2ise avant le jour J.
  Écrivez aussi à info@cdp-2ise.org ; même le code `@ici` est neutralisé.
publish: 14 jours avant
reminders: [7 jours, 1 jour, 2 heures]
tags: [webinaire]
"""

DETAILS = """\
- **Quand :** jeudi 17 avril 2025 à 12 h 00, jusqu'à 13 h 00
- **Dans votre fuseau horaire :** [date=2025-04-17 time=12:00:00 timezone="America/Toronto"]
- **Lien de la rencontre :** https://us02web.zoom.us/j/81234567890
- **Inscription :** https://forms.office.com/r/inscription-cdp
"""

ZWSP = "\u200b"
ANNOUNCEMENT = f"""\
Nous vous invitons au prochain webinaire de la CdP 2isE : \
**Comprendre ce qu'est une communauté de pratique**.

{DETAILS}
Notre tout premier webinaire : la CdP 2isE, ses rôles, et le forum.
Questions à @{ZWSP}marie.tremblay ou au groupe @{ZWSP}cdp-2ise avant le jour J.
Écrivez aussi à info@cdp-2ise.org ; même le code `@{ZWSP}ici` est neutralisé.

Au plaisir de vous y voir en grand nombre !
"""

REMINDER_7J = f"""\
**Rappel :** « Comprendre ce qu'est une communauté de pratique », c'est dans 7 jours.

{DETAILS}"""


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs").mkdir()
    (tmp_path / "config.yaml").write_text(
        "discourse: {url: 'https://passerelles.encommun.io', api_username: animation-2ise}\n"
        "community: {name: CdP 2isE, category: innovation-sociale-estrie, group: cdp-2ise}\n"
        f"paths: {{templates: '{ROOT / 'templates'}', jobs: jobs}}\n",
        encoding="utf-8",
    )
    return tmp_path


@pytest.fixture
def config(workdir: Path) -> Config:
    return load_config(workdir / "config.yaml", env={})


@pytest.fixture
def renderer(config: Config) -> Renderer:
    return Renderer(config.templates_dir, locale="fr_CA", timezone="America/Toronto")


def job_from(workdir: Path, text: str = WEBINAIRE, name: str = "webinaire-2025-04-17") -> Job:
    path = workdir / "jobs" / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return load_job(
        path, local(2025, 3, 20), known_published={name}, templates_dir=ROOT / "templates"
    )


def plan_announcements(
    jobs: Sequence[Job], state: AnnounceState, now: datetime, *args: Any, **kw: Any
) -> list[Draft]:
    """The drafts due at `now`, as the runner publishes them."""
    return [s.draft for s in build_steps(jobs, state, now, *args, **kw) if s.due <= now]


class Planner:
    """Plans against a real in-memory store, recording publications as the runner does."""

    def __init__(self, store: Store, renderer: Renderer, config: Config):
        self.store, self.renderer, self.config = store, renderer, config

    def __call__(self, jobs: Sequence[Job], now: datetime, **kw: object) -> list[Draft]:
        state = AnnounceState.from_store(self.store)
        return plan_announcements(
            jobs,
            state,
            now,
            self.renderer,
            self.config,
            **kw,  # type: ignore[arg-type]
        )

    def publish(self, jobs: Sequence[Job], drafts: Sequence[Draft], at: datetime) -> None:
        """Mark drafts written at `at` (ledger), and record topics like `run_announce`."""
        state = AnnounceState.from_store(self.store)
        occurrences = [o for j in jobs for o in select_occurrences(j, state, at)]
        self.store.save_announcements([announcement_fields(o) for o in occurrences], at)
        for n, draft in enumerate(drafts):
            self.store.ledger_intend(draft, at)
            self.store.ledger_done(draft.key, at, topic_id=40, post_id=400 + n)
            for o in occurrences:
                if draft.key == o.key:
                    self.store.record_announcement(
                        o.job.id,
                        o.id,
                        at,
                        fields=announcement_fields(o),
                        published_hash=content_hash(o),
                        published_starts_at=o.start,
                    )


@pytest.fixture
def plan(store: Store, renderer: Renderer, config: Config) -> Planner:
    return Planner(store, renderer, config)


def keys(drafts: Sequence[Draft]) -> list[str]:
    return [d.key for d in drafts]


# --- publication and pin -------------------------------------------------------------------


def test_nothing_before_the_publication_time(workdir: Path, plan: Planner) -> None:
    job = job_from(workdir)
    assert plan([job], local(2025, 4, 3, 11, 59)) == []


def test_the_announcement_at_its_time_with_exact_text_and_pin(workdir: Path, plan: Planner) -> None:
    job = job_from(workdir)
    drafts = plan([job], local(2025, 4, 3, 12, 0))  # 14 days before
    assert drafts == [
        Draft(
            TOPIC,
            DraftKind.TOPIC,
            raw=ANNOUNCEMENT,
            title="Comprendre ce qu'est une communauté de pratique",
            category="annonces",
            tags=("webinaire",),
        ),
        Draft(
            f"{TOPIC}:epingle:2025-04-18",
            DraftKind.STATUS,
            status="pinned",
            enabled=True,
            until="2025-04-18",
            parent_key=TOPIC,
        ),
    ]


def test_a_dry_schedule_lists_everything_to_come_with_its_time(
    workdir: Path, renderer: Renderer, config: Config
) -> None:
    job = job_from(workdir)
    steps = build_steps([job], AnnounceState(), local(2025, 3, 20), renderer, config)
    assert [(s.due, s.draft.key) for s in steps] == [
        (local(2025, 4, 3, 12), TOPIC),
        (local(2025, 4, 3, 12), f"{TOPIC}:epingle:2025-04-18"),
        (local(2025, 4, 10, 12), f"{TOPIC}:rappel-7j"),
        (local(2025, 4, 16, 12), f"{TOPIC}:rappel-1j"),
        (local(2025, 4, 17, 10), f"{TOPIC}:rappel-2h"),
        (local(2025, 4, 17, 13), f"{TOPIC}:desepingle"),
    ]


def test_now_publishes_at_once(workdir: Path, plan: Planner) -> None:
    job = job_from(workdir)
    drafts = plan([job], local(2025, 3, 25), immediately={job.id})
    assert keys(drafts) == [TOPIC, f"{TOPIC}:epingle:2025-04-18"]


def test_published_twice_is_planned_once(workdir: Path, plan: Planner) -> None:
    job = job_from(workdir)
    at = local(2025, 4, 3, 12)
    plan.publish([job], plan([job], at), at)
    assert plan([job], at + timedelta(minutes=5)) == []


# --- reminders -------------------------------------------------------------------------------


APRIL_3 = local(2025, 4, 3, 12)


def published_webinaire(workdir: Path, plan: Planner, at: datetime = APRIL_3) -> Job:
    job = job_from(workdir)
    plan.publish([job], plan([job], at, immediately={job.id}), at)
    return job


def test_the_reminder_seven_days_before_with_exact_text(workdir: Path, plan: Planner) -> None:
    job = published_webinaire(workdir, plan)
    drafts = plan([job], local(2025, 4, 10, 12, 5))
    assert drafts == [
        Draft(f"{TOPIC}:rappel-7j", DraftKind.REPLY, raw=REMINDER_7J, parent_key=TOPIC)
    ]


def test_missed_reminders_send_only_the_latest_due(workdir: Path, plan: Planner) -> None:
    job = published_webinaire(workdir, plan)
    # The bridge was down from April 9 to April 16, 13 h: 7 days and 1 day are both due.
    assert keys(plan([job], local(2025, 4, 16, 13))) == [f"{TOPIC}:rappel-1j"]
    # Down until 11 h on the day: only the 2-hour reminder.
    assert keys(plan([job], local(2025, 4, 17, 11))) == [f"{TOPIC}:rappel-2h"]


def test_no_reminder_once_the_event_has_started(workdir: Path, plan: Planner) -> None:
    job = published_webinaire(workdir, plan)
    assert plan([job], local(2025, 4, 17, 12, 0)) == []
    assert plan([job], local(2025, 4, 17, 12, 30)) == []


def test_reminders_due_before_the_announcement_are_dropped(workdir: Path, plan: Planner) -> None:
    # Announced late (--now on April 15): the 7-day reminder was due before it, never sent.
    job = published_webinaire(workdir, plan, at=local(2025, 4, 15, 9))
    assert plan([job], local(2025, 4, 15, 9, 5)) == []
    assert keys(plan([job], local(2025, 4, 16, 12))) == [f"{TOPIC}:rappel-1j"]


def test_unpinned_once_over(workdir: Path, plan: Planner) -> None:
    job = published_webinaire(workdir, plan)
    assert plan([job], local(2025, 4, 17, 13, 1)) == [
        Draft(
            f"{TOPIC}:desepingle",
            DraftKind.STATUS,
            status="pinned",
            enabled=False,
            parent_key=TOPIC,
        )
    ]


def test_an_event_over_before_publication_is_never_announced(workdir: Path, plan: Planner) -> None:
    job = job_from(workdir)
    assert plan([job], local(2025, 4, 17, 14)) == []


# --- changes after publication ---------------------------------------------------------------


def test_a_new_link_edits_the_first_post_with_a_reason(workdir: Path, plan: Planner) -> None:
    published_webinaire(workdir, plan)
    edited = job_from(workdir, WEBINAIRE.replace("81234567890", "89999999999"))
    drafts = plan([edited], local(2025, 4, 5, 9))
    [occurrence] = edited.occurrences(local(2025, 4, 5, 9))
    assert drafts == [
        Draft(
            f"{TOPIC}:modif:1:{content_hash(occurrence)[:8]}",
            DraftKind.EDIT,
            raw=ANNOUNCEMENT.replace("81234567890", "89999999999"),
            parent_key=TOPIC,
            edit_reason="Mise à jour par le comité de pilotage : nouveau lien",
        )
    ]


def test_a_moved_time_edits_and_says_what_changed(workdir: Path, plan: Planner) -> None:
    published_webinaire(workdir, plan)
    moved = job_from(workdir, WEBINAIRE.replace("2025-04-17 12:00", "2025-04-24 12:00"))
    drafts = plan([moved], local(2025, 4, 5, 9))
    assert keys(drafts) == [
        f"{TOPIC}:modif:1:{content_hash(moved.occurrences(local(2025, 4, 5))[0])[:8]}",
        f"{TOPIC}:changement:1:2025-04-24T12:00",
        # A week later, the pin runs a week longer.
        f"{TOPIC}:epingle:2025-04-25",
    ]
    edit, change, pin = drafts
    assert edit.edit_reason == "Mise à jour par le comité de pilotage : nouvel horaire"
    assert "jeudi 24 avril 2025 à 12 h 00" in edit.raw
    assert pin.until == "2025-04-25"
    assert change == Draft(
        f"{TOPIC}:changement:1:2025-04-24T12:00",
        DraftKind.REPLY,
        parent_key=TOPIC,
        raw=(
            "**Changement d'horaire :** « Comprendre ce qu'est une communauté de pratique » "
            "aura lieu le jeudi 24 avril 2025 à 12 h 00 (jusqu'à 13 h 00), au lieu du "
            "jeudi 17 avril 2025 à 12 h 00.\n\n"
            "Dans votre fuseau horaire : "
            '[date=2025-04-24 time=12:00:00 timezone="America/Toronto"]\n\n'
            "L'annonce ci-dessus a été mise à jour.\n"
        ),
    )
    # Once both are written (as the runner records them), nothing more.
    plan.publish([moved], drafts, local(2025, 4, 5, 9))
    plan.store.record_announcement(
        moved.id, "", local(2025, 4, 5, 9), published_starts_at=moved.start
    )
    assert plan([moved], local(2025, 4, 5, 9, 5)) == []


def test_a_cancellation_is_one_reply_and_an_unpin(workdir: Path, plan: Planner) -> None:
    published_webinaire(workdir, plan)
    cancelled = job_from(workdir, WEBINAIRE + "cancelled: true\n")
    drafts = plan([cancelled], local(2025, 4, 12, 9))
    assert drafts == [
        Draft(
            f"{TOPIC}:annulation",
            DraftKind.REPLY,
            parent_key=TOPIC,
            raw=(
                "**Annulation :** « Comprendre ce qu'est une communauté de pratique » "
                "du jeudi 17 avril 2025 à 12 h 00 n'aura pas lieu.\n\n"
                "Merci de votre compréhension. Le comité de pilotage vous tiendra au courant de "
                "la suite.\n"
            ),
        ),
        Draft(
            f"{TOPIC}:desepingle",
            DraftKind.STATUS,
            status="pinned",
            enabled=False,
            parent_key=TOPIC,
        ),
    ]
    plan.publish([cancelled], drafts, local(2025, 4, 12, 9))
    # No reminders, no second cancellation.
    assert plan([cancelled], local(2025, 4, 16, 13)) == []


def test_a_job_cancelled_before_publication_posts_nothing(workdir: Path, plan: Planner) -> None:
    job = job_from(workdir, WEBINAIRE + "cancelled: true\n")
    assert plan([job], local(2025, 4, 10)) == []


# --- series ----------------------------------------------------------------------------------


CINQ_A_SEPT = """\
kind: 5 à 7
title: 5 à 7 de la CdP 2isE à Sherbrooke
start: 2025-05-01 17:00
end: "19:00"
place: Le Boquébière, Sherbrooke
rrule: FREQ=MONTHLY;BYDAY=1TH
reminders: [1 jour]
"""


def test_each_date_of_a_series_is_its_own_announcement(workdir: Path, plan: Planner) -> None:
    job = job_from(workdir, CINQ_A_SEPT, "5-a-7")
    first = plan([job], local(2025, 4, 21, 9))
    assert keys(first) == [
        "announce:5-a-7:2025-05-01",
        "announce:5-a-7:2025-05-01:epingle:2025-05-02",
    ]
    assert first[0].title == "5 à 7 de la CdP 2isE à Sherbrooke — jeudi 1er mai 2025"
    plan.publish([job], first, local(2025, 4, 21, 9))
    # The next date is announced once this one is over, with its own reminder later.
    assert keys(plan([job], local(2025, 5, 1, 19, 5))) == [
        "announce:5-a-7:2025-05-01:desepingle",
        "announce:5-a-7:2025-06-05",
        "announce:5-a-7:2025-06-05:epingle:2025-06-06",
    ]


def test_a_published_date_later_skipped_is_cancelled(workdir: Path, plan: Planner) -> None:
    job = job_from(workdir, CINQ_A_SEPT, "5-a-7")
    plan.publish([job], plan([job], local(2025, 4, 21, 9)), local(2025, 4, 21, 9))
    skipped = job_from(workdir, CINQ_A_SEPT + "skip: [2025-05-01]\n", "5-a-7")
    drafts = plan([skipped], local(2025, 4, 25, 9))
    assert keys(drafts)[:2] == [
        "announce:5-a-7:2025-05-01:annulation",
        "announce:5-a-7:2025-05-01:desepingle",
    ]
    assert "jeudi 1er mai 2025 à 17 h 00 n'aura pas lieu" in drafts[0].raw


# --- mentions --------------------------------------------------------------------------------

# Discourse's rule: an `@` not preceded by a word character (so e-mail addresses are not
# mentions) and followed by a username character is a mention, whatever stands before it
# (`@@name`, `Marie/@name`). Usernames: letters, digits, `_`, `.` and `-`, starting and ending
# with a letter, digit or `_` (`@admin.` mentions `admin`).
_DISCOURSE_MENTION = re.compile(r"(?<![\w])@(\w(?:[\w.\-]*\w)?)")


def mentions(markdown: str) -> list[str]:
    """Names Discourse would notify: `@name` in text outside code, by Markdown parsing.

    markdown-it decodes HTML entities in text as Discourse's Markdown does (`&#64;admin` and
    `&commat;admin` are `@admin` in its text tokens), and only once (`&amp;#64;` shows as
    `&#64;`): decoding again would see mentions Discourse does not.
    """
    found: list[str] = []
    for token in MarkdownIt("commonmark").parse(markdown):
        for child in token.children or ():
            if child.type == "text":
                found += _DISCOURSE_MENTION.findall(child.content)
    return found


def test_the_oracle_sees_mentions_in_plain_text() -> None:
    assert mentions("Bonjour @marie.tremblay, écrivez à info@x.org, pas `@code`") == [
        "marie.tremblay"
    ]


def test_the_oracle_sees_every_form_discourse_notifies() -> None:
    assert mentions("@@cdp-2ise, Marie/@marie.tremblay, &#64;admin, &commat;admin") == [
        "cdp-2ise",
        "marie.tremblay",
        "admin",
        "admin",
    ]
    assert mentions("info@x.org, `@code`, &amp;#64;rien, @ seul") == []


TRICKY = WEBINAIRE.replace(
    "  Écrivez aussi",
    "  Et : @@cdp-2ise, Marie/@marie.tremblay, &#64;admin, &commat;admin.\n  Écrivez aussi",
)


def test_a_mention_in_a_description_notifies_no_one(workdir: Path, plan: Planner) -> None:
    # The oracle is not blind.
    assert mentions(TRICKY) == [
        "marie.tremblay",
        "cdp-2ise",
        "cdp-2ise",
        "marie.tremblay",
        "admin",
        "admin",
    ]
    published_webinaire(workdir, plan)
    [topic] = [
        d
        for d in plan([job_from(workdir, TRICKY, name="autre")], local(2025, 4, 3, 12))
        if d.kind is DraftKind.TOPIC
    ]
    assert "marie.tremblay" in topic.raw and "admin" in topic.raw
    assert mentions(topic.raw) == []
    edited = job_from(workdir, TRICKY.replace("@cdp-2ise avant", "@animation-2ise avant"))
    drafts = plan([edited], local(2025, 4, 10, 12, 5))
    assert keys(drafts)[0].startswith(f"{TOPIC}:modif:1:")
    for draft in drafts:
        assert mentions(draft.raw) == []


# --- texts and validation --------------------------------------------------------------------


def test_reminders_say_when_in_plain_french_and_english() -> None:
    delays = [
        timedelta(days=1),
        timedelta(hours=2),
        timedelta(hours=1),
        timedelta(days=7),
        timedelta(minutes=30),
        timedelta(hours=26),
    ]
    assert [when_words(d) for d in delays] == [
        "demain",
        "dans 2 heures",
        "dans une heure",
        "dans 7 jours",
        "dans 30 minutes",
        "dans un jour et 2 heures",
    ]
    assert [when_words(d, english=True) for d in delays] == [
        "tomorrow",
        "in 2 hours",
        "in an hour",
        "in 7 days",
        "in 30 minutes",
        "in a day and 2 hours",
    ]


def test_the_reminders_texts(workdir: Path, plan: Planner, config: Config) -> None:
    job = published_webinaire(workdir, plan)
    title = "Comprendre ce qu'est une communauté de pratique"
    [day_before] = plan([job], local(2025, 4, 16, 12, 5))
    assert day_before.raw == f"**Rappel :** « {title} », c'est demain.\n\n{DETAILS}"
    [two_hours] = plan([job], local(2025, 4, 17, 10, 5))
    assert two_hours.raw.startswith(f"**Rappel :** « {title} », c'est dans 2 heures.\n")
    english = Renderer(config.templates_dir, locale="en_CA", timezone="America/Toronto")
    [reminder] = plan_announcements(
        [job], AnnounceState.from_store(plan.store), local(2025, 4, 16, 12, 5), english, config
    )
    assert reminder.raw.startswith(f'**Reminder:** "{title}" is tomorrow.\n')


def test_an_edit_not_written_yet_keeps_its_number(workdir: Path, plan: Planner) -> None:
    published_webinaire(workdir, plan)
    edited = job_from(workdir, WEBINAIRE.replace("81234567890", "89999999999"))
    at = local(2025, 4, 5, 9)
    [edit] = plan([edited], at)
    assert edit.key.startswith(f"{TOPIC}:modif:1:")
    # Its outcome is unknown (pending), then Discourse refuses it: the same key both times,
    # so that the publisher reconciles it and counts its attempts.
    plan.store.ledger_intend(edit, at)
    assert keys(plan([edited], at + timedelta(minutes=5))) == [edit.key]
    plan.store.ledger_failed(edit.key, "refusé", at)
    assert keys(plan([edited], at + timedelta(minutes=10))) == [edit.key]
    plan.store.ledger_intend(edit, at)
    plan.store.ledger_done(edit.key, at, topic_id=40, post_id=400)
    assert plan([edited], at + timedelta(minutes=15)) == []
    # Back to the first link: the next revision, though the forum once showed that text.
    [back] = plan([job_from(workdir)], at + timedelta(minutes=20))
    assert back.key.startswith(f"{TOPIC}:modif:2:")
    assert "81234567890" in back.raw


def test_delay_words() -> None:
    assert delay_words(timedelta(days=7)) == "7 jours"
    assert delay_words(timedelta(days=1)) == "1 jour"
    assert delay_words(timedelta(hours=26)) == "1 jour et 2 heures"
    assert delay_words(timedelta(minutes=30), english=True) == "30 minutes"


def test_english_twin_when_the_community_writes_in_english(
    workdir: Path, config: Config, store: Store
) -> None:
    english = Renderer(config.templates_dir, locale="en_CA", timezone="America/Toronto")
    job = job_from(workdir)
    [topic, _pin] = plan_announcements(
        [job], AnnounceState(), local(2025, 4, 3, 12), english, config
    )
    assert topic.raw.startswith("We invite you to the next CdP 2isE webinar: **")
    assert "- **In your time zone:** [date=2025-04-17" in topic.raw
    assert "Thursday, April 17, 2025 at 12:00" in topic.raw
    assert '[date=2025-04-17 time=12:00:00 timezone="America/Toronto"]' in topic.raw


def test_validation_renders_each_job_and_names_a_broken_template(
    workdir: Path, config: Config, tmp_path: Path
) -> None:
    (workdir / "jobs" / "webinaire.yaml").write_text(WEBINAIRE, encoding="utf-8")
    (workdir / "jobs" / "autre.yaml").write_text(
        WEBINAIRE + "template: casse.md.j2\n", encoding="utf-8"
    )
    (tmp_path / "templates").mkdir()
    for template in (ROOT / "templates").glob("*.j2"):
        (tmp_path / "templates" / template.name).write_text(template.read_text())
    (tmp_path / "templates" / "casse.md.j2").write_text("{{ inconnue }}\n")
    broken = replace(config, templates_dir=tmp_path / "templates")
    renderer = Renderer(broken.templates_dir, locale="fr_CA", timezone="America/Toronto")
    jobs, problems = validate_jobs(broken, renderer, local(2025, 3, 20))
    assert [j.id for j in jobs] == ["webinaire"]
    assert problems == [
        f"jobs/autre.yaml, template : {tmp_path / 'templates' / 'casse.md.j2'}, ligne 1: variable "
        "inconnue ('inconnue' is undefined); les variables permises sont listées dans le README"
    ]


def test_published_job_ids_come_from_the_store(workdir: Path, plan: Planner) -> None:
    assert published_job_ids(plan.store) == set()
    published_webinaire(workdir, plan)
    assert published_job_ids(plan.store) == {"webinaire-2025-04-17"}


def test_the_store_keeps_the_forum_version_until_the_edit_goes_out(
    workdir: Path, plan: Planner
) -> None:
    published_webinaire(workdir, plan)
    edited = job_from(workdir, WEBINAIRE.replace("81234567890", "89999999999"))
    at = local(2025, 4, 5, 9)
    plan.store.save_announcements([announcement_fields(o) for o in edited.occurrences(at)], at)
    [row] = plan.store.announcements()
    assert (row.job, row.occurrence, row.title, row.link, row.topic_key) == (
        "webinaire-2025-04-17",
        "",
        "Comprendre ce qu'est une communauté de pratique",
        "https://us02web.zoom.us/j/81234567890",
        TOPIC,
    )
    assert row.starts_at == datetime(2025, 4, 17, 16, tzinfo=UTC)
    [upcoming] = plan.store.upcoming_announcements(at)
    assert upcoming.topic_id == 40
    assert plan.store.upcoming_announcements(local(2025, 4, 17, 13)) == []
