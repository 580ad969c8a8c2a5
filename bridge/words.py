"""The bridge's own words for states and outcomes, in the facilitators' French.

One place for each wording, so that `status`, the runners and the demo say the same thing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from babel.dates import format_datetime

from bridge.drafts import Draft
from bridge.jobvalues import ACTIVITY_KINDS
from bridge.outcomes import OutcomeStatus
from bridge.store import LedgerState, RunStatus

OUTCOME_WORDS: dict[OutcomeStatus, str] = {
    OutcomeStatus.PUBLISHED: "publié",
    OutcomeStatus.ALREADY: "déjà publié",
    OutcomeStatus.RECOVERED: "retrouvé après une interruption",
    OutcomeStatus.FAILED: "refusé",
    OutcomeStatus.HELD: "en attente d'approbation par un modérateur",
    OutcomeStatus.UNCERTAIN: "sans réponse, vérifié à la prochaine passe",
    OutcomeStatus.WAITING: "en attente de son sujet",
    OutcomeStatus.ABANDONED: "abandonné",
}

# How many publications are in each state, as `bridge status` counts them.
LEDGER_WORDS: dict[LedgerState, str] = {
    LedgerState.DONE: "publiées",
    LedgerState.PENDING: "en attente de vérification",
    LedgerState.FAILED: "refusées",
    LedgerState.HELD: "en attente d'approbation par un modérateur",
}

RUN_WORDS: dict[RunStatus, str] = {
    RunStatus.OK: "réussie",
    RunStatus.FAILED: "échec",
    RunStatus.RUNNING: "en cours (ou interrompue)",
}

# A status change in words: (when enabled, when disabled).
TOPIC_STATUS_WORDS: dict[str, tuple[str, str]] = {
    "pinned": ("épingler", "désépingler"),
    "pinned_globally": ("épingler sur tout le site", "désépingler"),
    "closed": ("fermer", "rouvrir"),
    "archived": ("archiver", "désarchiver"),
    "visible": ("afficher", "masquer"),
}


def draft_fields(draft: Draft) -> list[str]:
    """A draft's title, tags and edit reason as a dry run shows them above its Markdown."""
    lines = []
    if draft.title:
        lines.append(f"Titre : {draft.title}")
    if draft.tags:
        lines.append(f"Étiquettes : {', '.join(draft.tags)}")
    if draft.edit_reason:
        lines.append(f"Raison : {draft.edit_reason}")
    return lines


def activity_label(kind: str, english: bool = False) -> str:
    """A kind of activity as a title says it: « Webinaire », « 5 à 7 »."""
    french, in_english = ACTIVITY_KINDS[kind]
    return in_english if english else french


def attempts_words(count: int) -> str:
    return f"{count} essai" + ("s" if count > 1 else "")


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


def time_label(value: datetime, tz: tzinfo) -> str:
    """« 3 déc. 2026 à 08 h 00 (HNE) »: the community's local time, with its zone named by
    Babel (HNE in winter, HAE in summer), so that nobody wonders which clock it is."""
    return format_datetime(value, "d MMM y 'à' HH 'h' mm (z)", tzinfo=tz, locale="fr_CA")
