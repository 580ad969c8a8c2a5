"""Planning announcements: job files + what the store knows + `now` → the steps to publish.

Pure: no Discourse, no publisher, no wiring (running a job is `bridge/runs.py`). Each step is a
Draft with a stable key (see `keys.py`) and the time it is due:

- the announcement, a new topic in the announcements subcategory, and its pin (until the day
  after the end, or `pin:`); a new `until` (the activity moved) pins again;
- reminders (after an outage only the latest one due is sent, never a pile of stale ones, and
  none once the activity has started);
- an edit of the first post when the job file changes, with a reason, and a reply when the
  time moves;
- a cancellation reply and the unpin; the unpin once the activity is over.

Edits and time changes are numbered from what the ledger says is done for the occurrence: a
value that comes back (link A → B → A) is a new revision, never one already written; one not
done yet (pending, or refused but to be tried again) keeps its number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bridge.announce.keys import PREFIX, StepKey, StepRole, steps_of
from bridge.announce.texts import AnnouncementTexts
from bridge.config import Config
from bridge.drafts import Draft, DraftKind
from bridge.jobfiles import Job, Occurrence, display_path
from bridge.render import Renderer
from bridge.store import AnnouncementFields, Store, StoredAnnouncement


@dataclass(frozen=True)
class AnnounceState:
    """What the store knows: stored occurrences and the announcement keys written for sure."""

    stored: Mapping[tuple[str, str], StoredAnnouncement] = field(default_factory=dict)
    done: Mapping[str, datetime] = field(default_factory=dict)

    @classmethod
    def from_store(cls, store: Store) -> AnnounceState:
        return cls(
            stored={(a.job, a.occurrence): a for a in store.announcements()},
            done=store.ledger_done_keys(PREFIX),
        )


@dataclass(frozen=True)
class Step:
    """A draft and when it is due; `role` says what it does for its occurrence."""

    due: datetime
    draft: Draft
    occurrence: Occurrence
    role: StepRole


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
        pinned = was_pinned(key, state.done) and not _done(key, StepRole.UNPIN, state.done)
        if stored.published_hash is None or (stored.ends_at <= now and not pinned):
            continue
        try:
            held = job.occurrence_on(date.fromisoformat(occurrence_id))
        except ValueError:
            continue  # a one-off's row ("") cannot be a date of the series
        found.append(
            held or Occurrence(job, occurrence_id, stored.starts_at, stored.ends_at, cancelled=True)
        )
    return sorted(found, key=lambda o: o.start)


def build_steps(
    jobs: Sequence[Job],
    state: AnnounceState,
    now: datetime,
    renderer: Renderer,
    config: Config,
    *,
    immediately: Collection[str] = frozenset(),
) -> list[Step]:
    """Every step still to come for these jobs, due or not, in publishing order; `immediately`
    names jobs to announce now (`--now`)."""
    steps: list[Step] = []
    for job in jobs:
        occurrences = select_occurrences(job, state, now)
        # `--now` announces the next date of a series at once; the later ones keep their time.
        ahead = [o for o in occurrences if o.end > now]
        for occurrence in occurrences:
            forced = job.id in immediately and occurrence is ahead[0]
            texts = AnnouncementTexts(occurrence, renderer, config)
            steps.extend(_occurrence_steps(occurrence, state, now, texts, forced))
    return steps


def _occurrence_steps(
    occ: Occurrence, state: AnnounceState, now: datetime, texts: AnnouncementTexts, forced: bool
) -> list[Step]:
    job, key, done = occ.job, occ.key, state.done
    steps: list[Step] = []

    def add(due: datetime, role: StepRole, draft: Draft) -> None:
        if draft.key not in done:
            steps.append(Step(due, draft, occ, role))

    published_at = done.get(key)
    over = now >= occ.end
    unpin = Draft(
        StepKey(key, StepRole.UNPIN).format(),
        DraftKind.STATUS,
        status="pinned",
        enabled=False,
        parent_key=key,
        label=f"Désépingler : {texts.title}",
    )
    if job.cancelled or occ.cancelled:
        if published_at is not None and not over:
            cancel = StepKey(key, StepRole.CANCEL).format()
            add(now, StepRole.CANCEL, texts.cancellation(cancel))
            if was_pinned(key, done):
                add(now, StepRole.UNPIN, unpin)
        return steps
    until = (job.pin_until or occ.end.date() + timedelta(days=1)).isoformat()
    pin = Draft(
        StepKey(key, StepRole.PIN, until).format(),
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
        add(publish, StepRole.TOPIC, texts.topic(key))
        if job.pin:
            add(publish, StepRole.PIN, pin)
        since = max(publish, now)
    else:
        since = published_at
        stored = state.stored.get((job.id, occ.id))
        if not over and stored is not None and stored.published_hash is not None:
            if shown_hash(occ, stored, done) != content_hash(occ)[:8]:
                add(now, StepRole.EDIT, texts.edit(edit_key(occ, done), stored))
            shown = shown_start(occ, stored, done)
            moved = shown is not None and start_tag(shown, occ) != start_tag(occ.start, occ)
            if moved and shown is not None and now < occ.start:
                add(now, StepRole.CHANGE, texts.change(change_key(occ, done), shown))
        # A pin refused earlier is tried again, and a new `until` (the activity moved) pins
        # again; never after the unpin.
        if not over and job.pin and unpin.key not in done:
            add(now, StepRole.PIN, pin)
    if now < occ.start:
        # Reminders due before the announcement itself went out are dropped, and of those due
        # by now only the latest is sent: a bridge that was down does not pile them up.
        dues = sorted(
            (r.due(occ.start), r.label) for r in job.reminders if r.due(occ.start) > since
        )
        past = [d for d in dues if d[0] <= now]
        for due, label in [*past[-1:], *(d for d in dues if d[0] > now)]:
            reminder = StepKey(key, StepRole.REMINDER, label).format()
            add(due, StepRole.REMINDER, texts.reminder(reminder, occ.start - due))
    if was_pinned(key, done) or (published_at is None and job.pin):
        add(occ.end if job.pin else now, StepRole.UNPIN, unpin)
    return steps


# --- revisions -------------------------------------------------------------------------------


def _done(topic: str, role: StepRole, done: Collection[str]) -> bool:
    return any(step.role is role for step in steps_of(topic, done))


def was_pinned(topic: str, done: Collection[str]) -> bool:
    """Whether a pin of this topic is written (whatever its last day)."""
    return _done(topic, StepRole.PIN, done)


def latest_revision(topic: str, role: StepRole, done: Collection[str]) -> tuple[int, str | None]:
    """The highest edit or time change written for this topic and what it carries; (0, None) if
    none. Edits written before they were numbered do not count."""
    numbered = [s for s in steps_of(topic, done) if s.role is role and s.revision is not None]
    if not numbered:
        return 0, None
    latest = max(numbered, key=lambda s: s.revision or 0)
    return latest.revision or 0, latest.detail


def start_tag(start: datetime, occ: Occurrence) -> str:
    """A start as the keys of time changes write it: local wall time, to the minute."""
    return f"{start.astimezone(occ.job.tz):%Y-%m-%dT%H:%M}"


def edit_key(occ: Occurrence, done: Collection[str]) -> str:
    """The key of the edit carrying what the job file says now: the revision after the last
    one written (a pending or refused one with the same text keeps its key)."""
    number, _ = latest_revision(occ.key, StepRole.EDIT, done)
    return StepKey(occ.key, StepRole.EDIT, content_hash(occ)[:8], number + 1).format()


def change_key(occ: Occurrence, done: Collection[str]) -> str:
    """The key of the reply announcing the start the job file says now (as for edits)."""
    number, _ = latest_revision(occ.key, StepRole.CHANGE, done)
    return StepKey(occ.key, StepRole.CHANGE, start_tag(occ.start, occ), number + 1).format()


def shown_hash(occ: Occurrence, stored: StoredAnnouncement, done: Collection[str]) -> str:
    """What the forum's first post says (8 characters of its content hash): what the last edit
    written carried, or else what was published. The ledger comes first: the store may lag
    behind it after a run that died."""
    _, tag = latest_revision(occ.key, StepRole.EDIT, done)
    return tag if tag is not None else (stored.published_hash or "")[:8]


def shown_start(
    occ: Occurrence, stored: StoredAnnouncement, done: Collection[str]
) -> datetime | None:
    """The start the forum announced last: that of the last time change written, or else the
    one published (as for `shown_hash`)."""
    _, tag = latest_revision(occ.key, StepRole.CHANGE, done)
    if tag is not None:
        try:
            return datetime.strptime(tag, "%Y-%m-%dT%H:%M").replace(tzinfo=occ.job.tz)
        except ValueError:
            pass  # not a time this module wrote: the published start is what people saw
    return stored.published_starts_at


def edit_written(occ: Occurrence, done: Collection[str]) -> bool:
    """Whether the last edit written carries what the job file says now."""
    return latest_revision(occ.key, StepRole.EDIT, done)[1] == content_hash(occ)[:8]


def change_written(occ: Occurrence, done: Collection[str]) -> bool:
    """Whether the last time-change reply written announced the start the file says now."""
    return latest_revision(occ.key, StepRole.CHANGE, done)[1] == start_tag(occ.start, occ)


def announcement_fields(occurrence: Occurrence) -> AnnouncementFields:
    """An occurrence as the store's announcements keep it."""
    job = occurrence.job
    return AnnouncementFields(
        job=job.id,
        occurrence=occurrence.id,
        kind=job.kind,
        title=job.title,
        starts_at=occurrence.start,
        ends_at=occurrence.end,
        place=job.place,
        link=job.link,
        registration_url=job.registration_url,
        cancelled=job.cancelled or occurrence.cancelled,
        topic_key=occurrence.key,
        source=display_path(job.path),
    )
