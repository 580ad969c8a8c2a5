"""Announcements: the committee's job files turned into Drafts (planning only).

Planning is pure: job files + what the store knows + `now` give Drafts, each with a stable key
(the topic's key is `announce:<job>` for a one-off activity, `announce:<job>:<date>` for each
date of a recurring one):

- `<topic>`: the announcement, a new topic in the announcements subcategory;
- `<topic>:epingle:<until>`: pinned when published, until the day after the end (or `pin:`);
  a new `until` (the activity moved) pins again;
- `<topic>:desepingle`: unpinned once it is over, or cancelled;
- `<topic>:rappel-7j`: a reminder reply. After an outage only the latest reminder due is sent,
  never a pile of stale ones, and none once the activity has started;
- `<topic>:modif:<n>:<hash8>`: the n-th edit of the first post after the job file changed, with
  a reason; `<hash8>` says what the edit carries;
- `<topic>:changement:<n>:<new start>`: the n-th reply saying the time moved;
- `<topic>:annulation`: the cancellation reply (and the unpin).

Edits and time changes are numbered from what the ledger says is done for the occurrence: a
value that comes back (link A → B → A) is a new revision, never one already written; one not
done yet (pending, or refused but to be tried again) keeps its number.

This module never imports the Discourse client, the publisher nor the wiring: running a job
(publishing, recording) is `bridge/runs.py`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bridge.config import Config
from bridge.drafts import Draft, DraftKind
from bridge.errors import TemplateError
from bridge.jobfiles import Job, Occurrence, display_path, load_jobs
from bridge.jobvalues import ACTIVITY_KINDS
from bridge.render import Renderer
from bridge.store import Store, StoredAnnouncement

REMINDER_TEMPLATE = "announcement-rappel.md.j2"
CHANGE_TEMPLATE = "announcement-changement.md.j2"
CANCEL_TEMPLATE = "announcement-annulation.md.j2"


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
        pinned = was_pinned(key, state.done) and f"{key}:desepingle" not in state.done
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
            if was_pinned(key, done):
                add(now, "unpin", unpin)
        return steps
    until = (job.pin_until or occ.end.date() + timedelta(days=1)).isoformat()
    pin = Draft(
        f"{key}:epingle:{until}",
        DraftKind.STATUS,
        status="pinned",
        enabled=True,
        parent_key=key,
        until=until,
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
        if not over and stored is not None and stored.published_hash is not None:
            if shown_hash(occ, stored, done) != content_hash(occ)[:8]:
                add(now, "edit", texts.edit(edit_key(occ, done), stored))
            shown = shown_start(occ, stored, done)
            moved = shown is not None and start_tag(shown, occ) != start_tag(occ.start, occ)
            if moved and shown is not None and now < occ.start:
                add(now, "change", texts.change(change_key(occ, done), shown))
        # A pin refused earlier is tried again, and a new `until` (the activity moved) pins
        # again; never after the unpin.
        if not over and job.pin and unpin.key not in done:
            add(now, "pin", pin)
    if now < occ.start:
        # Reminders due before the announcement itself went out are dropped, and of those due
        # by now only the latest is sent: a bridge that was down does not pile them up.
        dues = sorted(
            (r.due(occ.start), r.label) for r in job.reminders if r.due(occ.start) > since
        )
        past = [d for d in dues if d[0] <= now]
        for due, label in [*past[-1:], *(d for d in dues if d[0] > now)]:
            add(due, "reminder", texts.reminder(f"{key}:rappel-{label}", occ.start - due))
    if was_pinned(key, done) or (published_at is None and job.pin):
        add(occ.end if job.pin else now, "unpin", unpin)
    return steps


# --- revisions -------------------------------------------------------------------------------


def was_pinned(topic_key: str, done: Mapping[str, datetime]) -> bool:
    """Whether a pin of this topic is written (`:epingle:<until>`, or `:epingle` before)."""
    return any(k == f"{topic_key}:epingle" or k.startswith(f"{topic_key}:epingle:") for k in done)


def latest_revision(done: Collection[str], prefix: str) -> tuple[int, str | None]:
    """The highest revision written under `prefix` (`<prefix><n>:<tag>`) and its tag; (0, None)
    if none. Older keys without a number (`modif:<hash8>`) do not count."""
    number, tag = 0, None
    for key in done:
        if key.startswith(prefix):
            n, sep, rest = key[len(prefix) :].partition(":")
            if sep and n.isdigit() and int(n) > number:
                number, tag = int(n), rest
    return number, tag


def _edit_prefix(occ: Occurrence) -> str:
    return f"{occ.key}:modif:"


def _change_prefix(occ: Occurrence) -> str:
    return f"{occ.key}:changement:"


def start_tag(start: datetime, occ: Occurrence) -> str:
    """A start as the keys of time changes write it: local wall time, to the minute."""
    return f"{start.astimezone(occ.job.tz):%Y-%m-%dT%H:%M}"


def edit_key(occ: Occurrence, done: Collection[str]) -> str:
    """The key of the edit carrying what the job file says now: the revision after the last
    one written (a pending or refused one with the same text keeps its key)."""
    number, _ = latest_revision(done, _edit_prefix(occ))
    return f"{_edit_prefix(occ)}{number + 1}:{content_hash(occ)[:8]}"


def change_key(occ: Occurrence, done: Collection[str]) -> str:
    """The key of the reply announcing the start the job file says now (as for edits)."""
    number, _ = latest_revision(done, _change_prefix(occ))
    return f"{_change_prefix(occ)}{number + 1}:{start_tag(occ.start, occ)}"


def shown_hash(occ: Occurrence, stored: StoredAnnouncement, done: Collection[str]) -> str:
    """What the forum's first post says (8 characters of its content hash): what the last edit
    written carried, or else what was published. The ledger comes first: the store may lag
    behind it after a run that died."""
    _, tag = latest_revision(done, _edit_prefix(occ))
    return tag if tag is not None else (stored.published_hash or "")[:8]


def shown_start(
    occ: Occurrence, stored: StoredAnnouncement, done: Collection[str]
) -> datetime | None:
    """The start the forum announced last: that of the last time change written, or else the
    one published (as for `shown_hash`)."""
    _, tag = latest_revision(done, _change_prefix(occ))
    if tag is not None:
        try:
            return datetime.strptime(tag, "%Y-%m-%dT%H:%M").replace(tzinfo=occ.job.tz)
        except ValueError:
            pass
    return stored.published_starts_at


def edit_written(occ: Occurrence, done: Collection[str]) -> bool:
    """Whether the last edit written carries what the job file says now."""
    return latest_revision(done, _edit_prefix(occ))[1] == content_hash(occ)[:8]


def change_written(occ: Occurrence, done: Collection[str]) -> bool:
    """Whether the last time-change reply written announced the start the file says now."""
    return latest_revision(done, _change_prefix(occ))[1] == start_tag(occ.start, occ)


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
            "kind_label": ACTIVITY_KINDS[job.kind][1 if self.en else 0],
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
        return self.reply(
            key,
            REMINDER_TEMPLATE,
            "Rappel",
            delay=delay_words(before, self.en),
            when=when_words(before, self.en),
        )

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


_UNITS = [
    (1440, "day", "jour", "a", "un"),
    (60, "hour", "heure", "an", "une"),
    (1, "minute", "minute", "a", "une"),
]


def delay_words(delta: timedelta, english: bool = False, *, one_as_word: bool = False) -> str:
    """« 7 jours », « 1 jour et 12 heures », « 2 heures », « 30 minutes »; with `one_as_word`,
    « une heure », « un jour et 12 heures »."""
    minutes = round(delta.total_seconds() / 60)
    parts = []
    for size, en, fr, en_one, fr_one in _UNITS:
        count, minutes = divmod(minutes, size)
        if count:
            word = en if english else fr
            number = (en_one if english else fr_one) if one_as_word and count == 1 else count
            parts.append(f"{number} {word}{'s' if count > 1 else ''}")
    return (" and " if english else " et ").join(parts) or ("now" if english else "maintenant")


def when_words(delta: timedelta, english: bool = False) -> str:
    """When the activity is, seen from a reminder sent `delta` before it, as it ends the
    sentence « c'est … » (« … is … »): « demain », « dans une heure », « dans 7 jours »."""
    if delta == timedelta(days=1):
        return "tomorrow" if english else "demain"
    if delta <= timedelta(0):
        return "now" if english else "maintenant"
    return ("in " if english else "dans ") + delay_words(delta, english, one_as_word=True)


# --- validating ------------------------------------------------------------------------------


def published_job_ids(store: Store) -> set[str]:
    """Jobs of which something is on the forum: they may have dates in the past."""
    ids = {a.job for a in store.announcements() if a.published_hash is not None}
    return ids | {k.split(":")[1] for k in store.ledger_done_keys("announce:")}


def stored_categories(store: Store) -> Callable[[str], bool] | None:
    """Whether a category (slug or id) is one `bridge sync` stored; None while it stored none
    (then any `category:` is accepted, and the publisher says if it does not exist)."""
    if store.count("categories") == 0:
        return None
    return lambda slug_or_id: store.category(slug_or_id) is not None


def validate_jobs(
    config: Config,
    renderer: Renderer,
    now: datetime,
    *,
    known_published: Collection[str] = frozenset(),
    files: Sequence[Path] | None = None,
    known_category: Callable[[str], bool] | None = None,
) -> tuple[list[Job], list[str]]:
    """The valid jobs (of the jobs folder, or `files`), and one line per bad file.

    A job's `category:` must be the announcements subcategory or one `known_category` knows
    (see `stored_categories`; None: any). Each job's texts are rendered once, so a template
    naming an unknown variable is caught here rather than halfway through a run.
    """
    category_ok = None
    if known_category is not None:
        default, known = config.community.subcategories.announcements, known_category
        category_ok = lambda slug: slug == default or known(slug)  # noqa: E731
    jobs, errors = load_jobs(
        list(files) if files else config.jobs_dir,
        now,
        known_published=known_published,
        timezone=config.community.timezone,
        templates_dir=config.templates_dir,
        known_category=category_ok,
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
