"""The texts of an announcement: its topic, reminders, edits, time changes and cancellation,
rendered from the community's templates in its language."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from bridge.config import Config
from bridge.drafts import Draft, DraftKind
from bridge.jobfiles import Occurrence
from bridge.render import Renderer
from bridge.store import StoredAnnouncement
from bridge.words import activity_label, delay_words, when_words

REMINDER_TEMPLATE = "announcement-rappel.md.j2"
CHANGE_TEMPLATE = "announcement-changement.md.j2"
CANCEL_TEMPLATE = "announcement-annulation.md.j2"

# How a title names each kind of activity, in French or in English (accents and case aside):
# a title that does lets the template leave the word out of its first sentence.
_KIND_WORDS = {
    "webinaire": r"webinaires?|webinars?",
    "5-a-7": r"5\s*a\s*7|cinq\s*a\s*sept",
    "rassemblement-annuel": r"rassemblements?|annual gatherings?",
    "autre": r"activites?|activity|activities",
}


def plain_words(text: str) -> str:
    """`text` without accents nor capitals, to find a word however it is written."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def kind_mentions(text: str, kind: str) -> int:
    """How many times `text` names this kind of activity."""
    words = _KIND_WORDS.get(kind)
    return len(re.findall(rf"\b(?:{words})\b", plain_words(text))) if words else 0


def topic_title(occ: Occurrence, renderer: Renderer) -> str:
    """The title of an occurrence's topic: a series has one topic per date, titled with it."""
    job = occ.job
    return f"{job.title} — {renderer.date_long(occ.start)}" if job.recurring else job.title


class AnnouncementTexts:
    """The rendered texts of one occurrence, in the community's language."""

    def __init__(self, occ: Occurrence, renderer: Renderer, config: Config):
        self.occ, self.renderer, self.config = occ, renderer, config
        self.en = renderer.language != "fr"
        job = occ.job
        self.title = topic_title(occ, renderer)
        local = renderer.tz
        self.context: dict[str, Any] = {
            "title": job.title,
            "topic_title": self.title,
            "kind": job.kind,
            "kind_label": activity_label(job.kind, self.en),
            # « Nous vous invitons au prochain webinaire : **Webinaire : …** » says it twice.
            "title_names_kind": kind_mentions(job.title, job.kind) > 0,
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

    def cancellation(self, key: str) -> Draft:
        return self.reply(key, CANCEL_TEMPLATE, "Annulation")

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
