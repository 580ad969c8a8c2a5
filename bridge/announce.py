"""Announcements: the committee's job files turned into Drafts, and the `bridge announce` run.

Planning is pure: job files + what the store knows + `now` give Drafts, each with a stable key
(the topic's key is `announce:<job>` for a one-off activity, `announce:<job>:<date>` for each
date of a recurring one):

- `<topic>`: the announcement, a new topic in the announcements subcategory;
- `<topic>:epingle` and `<topic>:desepingle`: pinned when published, unpinned once it is over;
- `<topic>:rappel-7j`: a reminder reply. After an outage only the latest reminder due is sent,
  never a pile of stale ones, and none once the activity has started;
- `<topic>:modif:<hash8>`: the first post edited after the job file changed, with a reason;
- `<topic>:changement:<new start>`: a reply saying the time moved;
- `<topic>:annulation`: the cancellation reply (and the unpin).

This module never imports the Discourse client nor the publisher: the runner gets the publisher
from the parts it is handed, and the dry-run formatter from the CLI.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.config import Config
from bridge.drafts import Draft, DraftKind
from bridge.errors import TemplateError, UsageError
from bridge.jobfiles import KINDS, Job, Occurrence, display_path, load_jobs
from bridge.render import Renderer
from bridge.store import Store, StoredAnnouncement

if TYPE_CHECKING:
    from bridge.wiring import Parts

REMINDER_TEMPLATE = "announcement-rappel.md.j2"
CHANGE_TEMPLATE = "announcement-changement.md.j2"
CANCEL_TEMPLATE = "announcement-annulation.md.j2"
log = logging.getLogger(__name__)
# Outcomes of the publisher meaning the write is on the forum.
_ON_FORUM = ("published", "already", "recovered")


@dataclass(frozen=True)
class AnnounceState:
    """What the store knows: stored occurrences and the announcement keys written for sure."""

    stored: Mapping[tuple[str, str], StoredAnnouncement] = field(default_factory=dict)
    done: Mapping[str, datetime] = field(default_factory=dict)

    @classmethod
    def from_store(cls, store: Store) -> AnnounceState:
        return cls(
            stored={(a.job, a.occurrence): a for a in store.announcements()},
            done=store.ledger_done_keys("announce:"),
        )


@dataclass(frozen=True)
class Step:
    """A draft and when it is due; `role` says what it does for its occurrence."""

    due: datetime
    draft: Draft
    occurrence: Occurrence
    role: str  # topic, pin, edit, change, reminder, cancel, unpin


# --- planning --------------------------------------------------------------------------------


def content_hash(occurrence: Occurrence) -> str:
    """What the announcement says, hashed: a change in the job file means an edit."""
    job = occurrence.job
    content = {
        "kind": job.kind,
        "title": job.title,
        "template": job.template,
        "start": occurrence.start.isoformat(),
        "end": occurrence.end.isoformat(),
        "place": job.place,
        "link": job.link,
        "description": job.description,
        "registration": job.registration_url,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def select_occurrences(job: Job, state: AnnounceState, now: datetime) -> list[Occurrence]:
    """The job's occurrences to plan for: those to come, published dates over but still pinned,
    and published dates the rule no longer holds (a changed rule, a `skip`ped date), marked
    cancelled so that they get a cancellation."""
    found = job.occurrences(now)
    ids = {o.id for o in found}
    for (job_id, occurrence_id), stored in state.stored.items():
        if job_id != job.id or occurrence_id in ids or not job.recurring:
            continue
        key = stored.topic_key
        pinned = f"{key}:epingle" in state.done and f"{key}:desepingle" not in state.done
        if stored.published_hash is None or (stored.ends_at <= now and not pinned):
            continue
        try:
            held = job.occurrence_on(date.fromisoformat(occurrence_id))
        except ValueError:
            continue
        found.append(
            held or Occurrence(job, occurrence_id, stored.starts_at, stored.ends_at, cancelled=True)
        )
    return sorted(found, key=lambda o: o.start)


def plan_announcements(
    jobs: Sequence[Job],
    state: AnnounceState,
    now: datetime,
    renderer: Renderer,
    config: Config,
    *,
    immediately: Collection[str] = frozenset(),
) -> list[Draft]:
    """The drafts due at `now`; `immediately` names jobs to announce now (`--now`)."""
    steps = build_steps(jobs, state, now, renderer, config, immediately=immediately)
    return [s.draft for s in steps if s.due <= now]


def build_steps(
    jobs: Sequence[Job],
    state: AnnounceState,
    now: datetime,
    renderer: Renderer,
    config: Config,
    *,
    immediately: Collection[str] = frozenset(),
) -> list[Step]:
    """Every step still to come for these jobs, due or not, in publishing order."""
    steps: list[Step] = []
    for job in jobs:
        occurrences = select_occurrences(job, state, now)
        # `--now` announces the next date of a series at once; the later ones keep their time.
        ahead = [o for o in occurrences if o.end > now]
        for occurrence in occurrences:
            forced = job.id in immediately and occurrence is ahead[0]
            texts = _Texts(occurrence, renderer, config)
            steps.extend(_occurrence_steps(occurrence, state, now, texts, forced))
    return steps


def _occurrence_steps(
    occ: Occurrence, state: AnnounceState, now: datetime, texts: _Texts, forced: bool
) -> list[Step]:
    job, key, done = occ.job, occ.key, state.done
    steps: list[Step] = []

    def add(due: datetime, role: str, draft: Draft) -> None:
        if draft.key not in done:
            steps.append(Step(due, draft, occ, role))

    published_at = done.get(key)
    over = now >= occ.end
    unpin = Draft(
        f"{key}:desepingle",
        DraftKind.STATUS,
        status="pinned",
        enabled=False,
        parent_key=key,
        label=f"Désépingler : {texts.title}",
    )
    if job.cancelled or occ.cancelled:
        if published_at is not None and not over:
            add(now, "cancel", texts.reply(f"{key}:annulation", CANCEL_TEMPLATE, "Annulation"))
            if f"{key}:epingle" in done:
                add(now, "unpin", unpin)
        return steps
    pin = Draft(
        f"{key}:epingle",
        DraftKind.STATUS,
        status="pinned",
        enabled=True,
        parent_key=key,
        until=(job.pin_until or occ.end.date() + timedelta(days=1)).isoformat(),
        label=f"Épingler : {texts.title}",
    )
    if published_at is None:
        # An activity already under way is not announced any more, unless asked (--now).
        if over or (now >= occ.start and not forced):
            return steps
        publish = now if forced else (job.publish_time(occ) or now)
        add(publish, "topic", texts.topic(key))
        if job.pin:
            add(publish, "pin", pin)
        since = max(publish, now)
    else:
        since = published_at
        stored = state.stored.get((job.id, occ.id))
        if not over and job.pin:
            add(now, "pin", pin)  # a pin refused earlier is tried again
        if not over and stored is not None and stored.published_hash is not None:
            current = content_hash(occ)
            if stored.published_hash != current:
                add(now, "edit", texts.edit(_edit_key(occ, current), stored))
            moved = stored.published_starts_at
            if moved is not None and moved != occ.start and now < occ.start:
                add(now, "change", texts.change(_change_key(occ), moved))
    if now < occ.start:
        # Reminders due before the announcement itself went out are dropped, and of those due
        # by now only the latest is sent: a bridge that was down does not pile them up.
        dues = sorted(
            (r.due(occ.start), r.label) for r in job.reminders if r.due(occ.start) > since
        )
        past = [d for d in dues if d[0] <= now]
        for due, label in [*past[-1:], *(d for d in dues if d[0] > now)]:
            add(due, "reminder", texts.reminder(f"{key}:rappel-{label}", occ.start - due))
    if f"{key}:epingle" in done or (published_at is None and job.pin):
        add(occ.end if job.pin else now, "unpin", unpin)
    return steps


class _Texts:
    """The rendered texts of one occurrence, in the community's language."""

    def __init__(self, occ: Occurrence, renderer: Renderer, config: Config):
        self.occ, self.renderer, self.config = occ, renderer, config
        self.en = renderer.language != "fr"
        job = occ.job
        self.title = job.title
        if job.recurring:
            self.title = f"{job.title} — {renderer.date_long(occ.start)}"
        local = renderer.tz
        self.context: dict[str, Any] = {
            "title": job.title,
            "topic_title": self.title,
            "kind": job.kind,
            "kind_label": KINDS[job.kind][1 if self.en else 0],
            "start": occ.start,
            "end": occ.end,
            "timezone": job.timezone,
            "same_day": occ.start.astimezone(local).date() == occ.end.astimezone(local).date(),
            "place": job.place,
            "link": job.link,
            "registration_url": job.registration_url,
            "description": job.description,
            "recurring": job.recurring,
            "community": config.community.name,
        }

    def body(self) -> str:
        return self.renderer.render(self.occ.job.template, **self.context)

    def topic(self, key: str) -> Draft:
        job = self.occ.job
        return Draft(
            key,
            DraftKind.TOPIC,
            raw=self.body(),
            title=self.title,
            category=job.category or self.config.community.subcategories.announcements,
            tags=job.tags,
            label=f"Annonce : {self.title}",
        )

    def reply(self, key: str, template: str, what: str, **extra: Any) -> Draft:
        raw = self.renderer.render(template, **self.context, **extra)
        return Draft(
            key, DraftKind.REPLY, raw=raw, parent_key=self.occ.key, label=f"{what} : {self.title}"
        )

    def reminder(self, key: str, before: timedelta) -> Draft:
        return self.reply(key, REMINDER_TEMPLATE, "Rappel", delay=delay_words(before, self.en))

    def change(self, key: str, previous_start: datetime) -> Draft:
        return self.reply(key, CHANGE_TEMPLATE, "Changement", previous_start=previous_start)

    def edit(self, key: str, stored: StoredAnnouncement) -> Draft:
        return Draft(
            key,
            DraftKind.EDIT,
            raw=self.body(),
            parent_key=self.occ.key,
            edit_reason=self.edit_reason(stored),
            label=f"Modification : {self.title}",
        )

    def edit_reason(self, stored: StoredAnnouncement) -> str:
        """What changed since the forum's version, in words (the post's revision history)."""
        job, occ = self.occ.job, self.occ
        changes = [
            (
                stored.starts_at != occ.start or stored.ends_at != occ.end,
                "nouvel horaire",
                "new time",
            ),
            (stored.place != job.place, "nouveau lieu", "new place"),
            (stored.link != job.link, "nouveau lien", "new link"),
            (
                stored.registration_url != job.registration_url,
                "nouveau lien d'inscription",
                "new registration link",
            ),
            (stored.title != job.title, "nouveau titre", "new title"),
        ]
        words = [en if self.en else fr for changed, fr, en in changes if changed]
        if self.en:
            return "Updated by the steering committee: " + (", ".join(words) or "text updated")
        return "Mise à jour par le comité de pilotage : " + (", ".join(words) or "texte révisé")


def delay_words(delta: timedelta, english: bool = False) -> str:
    """« 7 jours », « 1 jour et 12 heures », « 2 heures », « 30 minutes »."""
    minutes = round(delta.total_seconds() / 60)
    units = [(1440, "day", "jour"), (60, "hour", "heure"), (1, "minute", "minute")]
    parts = []
    for size, en, fr in units:
        count, minutes = divmod(minutes, size)
        if count:
            word = en if english else fr
            parts.append(f"{count} {word}{'s' if count > 1 else ''}")
    return (" and " if english else " et ").join(parts) or ("now" if english else "maintenant")


# --- validating ------------------------------------------------------------------------------


def published_job_ids(store: Store) -> set[str]:
    """Jobs of which something is on the forum: they may have dates in the past."""
    ids = {a.job for a in store.announcements() if a.published_hash is not None}
    return ids | {k.split(":")[1] for k in store.ledger_done_keys("announce:")}


def validate_jobs(
    config: Config,
    renderer: Renderer,
    now: datetime,
    *,
    known_published: Collection[str] = frozenset(),
    files: Sequence[Path] | None = None,
) -> tuple[list[Job], list[str]]:
    """The valid jobs (of the jobs folder, or `files`), and one line per bad file.

    Each job's texts are rendered once, so a template naming an unknown variable is caught
    here rather than halfway through a run.
    """
    jobs, errors = load_jobs(
        list(files) if files else config.jobs_dir,
        now,
        known_published=known_published,
        timezone=config.community.timezone,
        templates_dir=config.templates_dir,
    )
    problems = [str(e) for e in errors]
    good: list[Job] = []
    for job in jobs:
        occurrence = (job.occurrences(now) or [Occurrence(job, "", job.start, job.end)])[0]
        texts = _Texts(occurrence, renderer, config)
        try:
            texts.topic(occurrence.key)
            texts.reminder("check", timedelta(days=1))
            texts.change("check", occurrence.start)
            texts.reply("check", CANCEL_TEMPLATE, "check")
        except TemplateError as exc:
            problems.append(f"{display_path(job.path)}, template : {exc}")
        else:
            good.append(job)
    return good, problems


# --- running ---------------------------------------------------------------------------------


@dataclass
class AnnounceReport:
    """What `bridge announce` did: exit code 2 if a file was invalid, else 1 if a write failed."""

    dry_run: bool = False
    errors: list[str] = field(default_factory=list)
    planned: list[Step] = field(default_factory=list)
    upcoming: list[Step] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failures

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else 1 if self.failures else 0

    def describe(self) -> str:
        counts = {s: sum(1 for v in self.statuses.values() if v == s) for s in _ON_FORUM}
        return (
            f"Annonces : {counts['published'] + counts['recovered']} publication(s), "
            f"{counts['already']} déjà faite(s), {len(self.failures)} échec(s), "
            f"{len(self.errors)} fichier(s) invalide(s), {len(self.upcoming)} à venir."
        )


def announcement_row(occurrence: Occurrence) -> dict[str, Any]:
    """An occurrence as the store's `announcements` table keeps it."""
    job = occurrence.job
    return {
        "job": job.id,
        "occurrence": occurrence.id,
        "kind": job.kind,
        "title": job.title,
        "starts_at": occurrence.start,
        "ends_at": occurrence.end,
        "place": job.place,
        "link": job.link,
        "registration_url": job.registration_url,
        "cancelled": job.cancelled or occurrence.cancelled,
        "topic_key": occurrence.key,
        "source": display_path(job.path),
    }


def run_announce(
    parts: Parts,
    *,
    files: Sequence[Path] | None = None,
    now_flag: bool = False,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
    describe: Callable[[Sequence[Draft]], str] | None = None,
) -> AnnounceReport:
    """Validate the job files, then publish what is due (or, for a dry run, show it and when).

    A dry run writes nothing at all, not even the announcements table. Invalid files are
    reported through `warn` and the valid ones still run.
    """
    if now_flag and not files:
        raise UsageError(
            "--now publie une annonce précise : nommez son fichier "
            "(bridge announce jobs/FICHIER.yaml --now)"
        )
    now, store, config = parts.now(), parts.store, parts.config
    jobs, errors = validate_jobs(
        config, parts.renderer, now, known_published=published_job_ids(store), files=files
    )
    for error in errors:
        (warn or echo)(error)
    immediately = {j.id for j in jobs} if now_flag else set()

    def plan() -> tuple[list[Step], list[Step]]:
        steps = build_steps(
            jobs,
            AnnounceState.from_store(store),
            now,
            parts.renderer,
            config,
            immediately=immediately,
        )
        return [s for s in steps if s.due <= now], sorted(
            (s for s in steps if s.due > now), key=lambda s: s.due
        )

    if dry_run:
        due, upcoming = plan()
        report = AnnounceReport(True, errors, due, upcoming)
        drafts = [s.draft for s in due]
        if drafts:
            echo("À publier maintenant :\n")
        echo(describe(drafts) if describe else "\n".join(d.key for d in drafts) or "Rien.")
        if upcoming:
            echo("\nÀ venir :")
            for s in upcoming:
                echo(f"- {parts.renderer.datetime_long(s.due)} : {s.draft.key} ({s.draft.label})")
        return report

    def work() -> AnnounceReport:
        state = AnnounceState.from_store(store)
        occurrences = [o for j in jobs for o in select_occurrences(j, state, now)]
        store.save_announcements([announcement_row(o) for o in occurrences], now)
        for occ in occurrences:
            _repair(store, occ, state, now)
        due, upcoming = plan()
        report = AnnounceReport(False, errors, due, upcoming)
        publisher = parts.publisher() if due else None
        for step in due:
            assert publisher is not None
            outcome = publisher.publish_one(step.draft)
            log.info("%s: %s", step.draft.key, outcome.status)
            report.statuses[step.draft.key] = outcome.status
            if not outcome.ok:
                report.failures.append(f"{step.draft.key} : {outcome.error or outcome.status}")
            elif outcome.status in _ON_FORUM:
                # At once, so that a run stopped halfway has recorded what went out.
                _record(store, step.occurrence, step.role, now)
            echo(f"{_STATUS_WORDS.get(outcome.status, outcome.status)} : {step.draft.key}")
        for failure in report.failures:
            (warn or echo)(f"publication impossible : {failure}")
        echo(report.describe())
        return report

    return parts.run_job("announce", work)


_STATUS_WORDS = {
    "published": "publié",
    "already": "déjà publié",
    "recovered": "retrouvé",
    "waiting": "en attente",
    "failed": "refusé",
    "uncertain": "incertain",
    "abandoned": "abandonné",
}


def _repair(store: Store, occ: Occurrence, state: AnnounceState, now: datetime) -> None:
    """Record what a run that died between the ledger and the announcements table wrote.

    The ledger says it went out; it most likely said what the file says now. Without this,
    an edit or a time change would go unnoticed afterwards.
    """
    stored, done = state.stored.get((occ.job.id, occ.id)), state.done
    current = content_hash(occ)
    if stored is None or stored.published_hash is None:
        if occ.key in done:
            _record(store, occ, "topic", now)
        return
    if stored.published_hash != current and _edit_key(occ, current) in done:
        _record(store, occ, "edit", now)
    if stored.published_starts_at != occ.start and _change_key(occ) in done:
        _record(store, occ, "change", now)


def _edit_key(occ: Occurrence, current_hash: str) -> str:
    return f"{occ.key}:modif:{current_hash[:8]}"


def _change_key(occ: Occurrence) -> str:
    return f"{occ.key}:changement:{occ.start.astimezone(occ.job.tz):%Y-%m-%dT%H:%M}"


def _record(store: Store, occ: Occurrence, role: str, now: datetime) -> None:
    """Keep the forum's version of an occurrence after its topic, edit or time change."""
    if role in ("topic", "edit"):
        store.record_announcement(
            occ.job.id,
            occ.id,
            now,
            fields=announcement_row(occ),
            published_hash=content_hash(occ),
            published_starts_at=occ.start if role == "topic" else None,
        )
    elif role == "change":
        store.record_announcement(occ.job.id, occ.id, now, published_starts_at=occ.start)
