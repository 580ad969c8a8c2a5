"""The ledger keys of announcements: one format, written and read here only.

A topic's key is `announce:<job>` for a one-off activity and `announce:<job>:<date>` for each
date of a recurring one. Its steps extend it:

- `<topic>:epingle:<until>`: pinned until that day (`<topic>:epingle`, before the date was added);
- `<topic>:desepingle`: unpinned;
- `<topic>:rappel-<label>`: a reminder (`7j`, `2h`, `30min`, …);
- `<topic>:modif:<n>:<hash8>`: the n-th edit of the first post, carrying that content;
- `<topic>:changement:<n>:<local start, YYYY-MM-DDTHH:MM>`: the n-th reply saying the time moved;
- `<topic>:annulation`: the cancellation reply.

Keys are in the ledger of every store that published announcements: never change a format,
only add one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger(__name__)

PREFIX = "announce:"
_TOPIC = re.compile(r"announce:(?P<job>[^:]+)(?::(?P<date>\d{4}-\d{2}-\d{2}))?")


class StepRole(StrEnum):
    """What a step does for its occurrence."""

    TOPIC = "topic"
    PIN = "pin"
    UNPIN = "unpin"
    REMINDER = "reminder"
    EDIT = "edit"
    CHANGE = "change"
    CANCEL = "cancel"


# The words of each step in its key (the topic has none).
_WORDS = {
    StepRole.PIN: "epingle",
    StepRole.UNPIN: "desepingle",
    StepRole.REMINDER: "rappel",
    StepRole.EDIT: "modif",
    StepRole.CHANGE: "changement",
    StepRole.CANCEL: "annulation",
}


def topic_key(job_id: str, occurrence_id: str = "") -> str:
    """The key of an occurrence's topic; `occurrence_id` is "" for a one-off activity."""
    return f"{PREFIX}{job_id}" + (f":{occurrence_id}" if occurrence_id else "")


def job_of(key: str) -> str | None:
    """The job an announcement key belongs to, or None for a key of another form."""
    match = _TOPIC.match(key)
    return match["job"] if match else None


@dataclass(frozen=True)
class StepKey:
    """One step of a topic, as its key says it.

    `detail` is the pin's last day, the reminder's label, or what an edit or a time change
    carries (content hash, local start); `revision` numbers edits and time changes (None for
    the edits written before they were numbered).
    """

    topic: str
    role: StepRole
    detail: str | None = None
    revision: int | None = None

    def format(self) -> str:
        if self.role is StepRole.TOPIC:
            return self.topic
        word = f"{self.topic}:{_WORDS[self.role]}"
        if self.role is StepRole.REMINDER:
            return f"{word}-{self.detail}"
        if self.role in (StepRole.EDIT, StepRole.CHANGE) and self.revision is not None:
            return f"{word}:{self.revision}:{self.detail}"
        return f"{word}:{self.detail}" if self.detail is not None else word


def parse_step(topic: str, key: str) -> StepKey | None:
    """The step `key` stands for if it is one of this topic's, else None."""
    if key == topic:
        return StepKey(topic, StepRole.TOPIC)
    if not key.startswith(topic + ":"):
        return None
    rest = key[len(topic) + 1 :]
    if rest.startswith("rappel-") and len(rest) > len("rappel-"):
        return StepKey(topic, StepRole.REMINDER, rest[len("rappel-") :])
    word, _, detail = rest.partition(":")
    role = next((r for r, w in _WORDS.items() if w == word), None)
    if role is None or role is StepRole.REMINDER:
        return None  # another occurrence's topic (`<job>:<date>`), or its steps
    if role in (StepRole.UNPIN, StepRole.CANCEL):
        return StepKey(topic, role) if not detail else None
    if role is StepRole.PIN:
        return StepKey(topic, role, detail or None)
    number, sep, tag = detail.partition(":")
    if sep and number.isdigit() and tag:
        return StepKey(topic, role, tag, int(number))
    if not sep and detail:
        return StepKey(topic, role, detail)  # an edit written before edits were numbered
    log.warning("clé d'annonce illisible dans le registre, ignorée : %s", key)
    return None


def steps_of(topic: str, keys: Iterable[str]) -> list[StepKey]:
    """This topic's steps among these ledger keys."""
    found = (parse_step(topic, key) for key in keys)
    return [step for step in found if step is not None]
