"""What `bridge announce` shows a committee member, in words and links.

- `preview` (the dry run): for each job file, every step to come in order, with its time in
  words and the whole text it would post;
- `outcome_line` and `failure_line`: what became of a step a run published.

Never a ledger key: those are the bridge's business (`bridge status --details` lists them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from bridge.announce.keys import StepRole
from bridge.announce.plan import Step
from bridge.announce.texts import topic_title
from bridge.jobfiles import Job, display_path
from bridge.outcomes import OutcomeStatus
from bridge.render import Renderer
from bridge.words import OUTCOME_WORDS, delay_words, draft_fields

RULE = "═" * 3


def preview(
    jobs: Sequence[Job], steps: Sequence[Step], now: datetime, renderer: Renderer
) -> list[str]:
    """The dry run's lines: one block per job file, its steps in the order they will go."""
    lines: list[str] = []
    for job in jobs:
        # Stable: steps due together keep their publishing order (the topic before its pin).
        own = sorted((s for s in steps if s.occurrence.job is job), key=lambda s: s.due)
        if lines:
            lines.append("")
        lines.append(f"{RULE} {display_path(job.path)} — {job.title}")
        if not own:
            lines.append("Plus rien à publier pour cette annonce : tout est fait.")
        for step in own:
            lines.append("")
            lines.extend(_step_lines(step, now, renderer))
    return lines


def _step_lines(step: Step, now: datetime, renderer: Renderer) -> list[str]:
    when = "maintenant" if step.due <= now else renderer.datetime_long(step.due)
    draft, occ = step.draft, step.occurrence
    # A series has one topic per date: say which.
    topic = f"le sujet « {topic_title(occ, renderer)} »" if occ.job.recurring else "le sujet"
    what = {
        StepRole.TOPIC: f"l'annonce, nouveau sujet dans « {draft.category} »",
        StepRole.PIN: f"épingler {topic} jusqu'au {_day(draft.until, renderer)}",
        StepRole.UNPIN: f"désépingler {topic}",
        StepRole.REMINDER: (
            f"rappel {delay_words(occ.start - step.due)} avant, en réponse dans {topic}"
        ),
        StepRole.EDIT: f"modification du premier message dans {topic}",
        StepRole.CHANGE: f"changement d'horaire, en réponse dans {topic}",
        StepRole.CANCEL: f"annulation, en réponse dans {topic}",
    }[step.role]
    lines = [f"── {when} : {what}", *draft_fields(draft)]
    if draft.raw:
        lines.extend(["", draft.raw.rstrip()])
    return lines


def _day(until: str | None, renderer: Renderer) -> str:
    return renderer.date_long(date.fromisoformat(until)) if until else "la fin de l'activité"


# What a step is, as a publication line says it: (its subject, feminine?, what was done to it),
# and the action it is, for a line saying it failed.
_DONE: dict[StepRole, tuple[str, bool, str, str]] = {
    StepRole.TOPIC: ("Annonce", True, "publiée", "annonce"),
    StepRole.PIN: ("Annonce", True, "épinglée", "épinglage"),
    StepRole.UNPIN: ("Annonce", True, "désépinglée", "désépinglage"),
    StepRole.REMINDER: ("Rappel", False, "publié", "rappel"),
    StepRole.EDIT: ("Annonce", True, "modifiée", "modification"),
    StepRole.CHANGE: ("Changement d'horaire", False, "publié", "changement d'horaire"),
    StepRole.CANCEL: ("Annulation", True, "publiée", "annulation"),
}


def outcome_line(
    step: Step, status: OutcomeStatus, renderer: Renderer, url: str | None = None
) -> str:
    """« Annonce publiée : Titre → https://… », « Rappel déjà publié : … »."""
    subject, feminine, done, _ = _DONE[step.role]
    if step.role is StepRole.PIN:
        done += f" jusqu'au {_day(step.draft.until, renderer)}"
    phrase = {
        OutcomeStatus.PUBLISHED: f"{subject} {done}",
        OutcomeStatus.ALREADY: f"{subject} déjà {done}",
        OutcomeStatus.RECOVERED: (
            f"{subject} {done} (retrouvé{'e' if feminine else ''} sur le forum après "
            "une interruption)"
        ),
    }.get(status, f"{subject} {OUTCOME_WORDS[status]}")
    title = topic_title(step.occurrence, renderer)
    return f"{phrase} : {title}" + (f" → {url}" if url else "")


def failure_line(step: Step, error: str, renderer: Renderer) -> str:
    """« « Titre » (rappel) : ce que Discourse a répondu »."""
    prefix = f"{step.draft.key} : "
    error = error.removeprefix(prefix)  # the publisher names the key: the title says it here
    return f"« {topic_title(step.occurrence, renderer)} » ({_DONE[step.role][3]}) : {error}"
