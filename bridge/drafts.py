"""The `Draft`: one write the bridge wants to make, with the stable key that makes it happen once.

Planners (digest, welcome, announce) return Drafts; only the publisher turns them into requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum


class DraftKind(StrEnum):
    TOPIC = "topic"
    REPLY = "reply"
    PRIVATE_MESSAGE = "private_message"
    EDIT = "edit"
    STATUS = "status"


@dataclass(frozen=True)
class Draft:
    """What to write. `key` is stable across runs: the same intent always has the same key.

    - TOPIC: `title`, `raw`, `category` (slug or id), `tags`.
    - PRIVATE_MESSAGE: `title`, `raw`, `recipients` (usernames or group names).
    - REPLY: `raw` and the topic, given as `topic_id` or as `parent_key` (the key of the Draft
      that created the topic; the publisher looks its topic up in the ledger).
    - EDIT: `raw`, `edit_reason`, and the post: `post_id`, or `parent_key` (its first post).
    - STATUS: `status` ("pinned", "closed", "visible", …), `enabled`, optional `until`
      (ISO date, for pins), and the topic as for REPLY.
    """

    key: str
    kind: DraftKind
    raw: str = ""
    title: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    topic_id: int | None = None
    post_id: int | None = None
    parent_key: str | None = None
    edit_reason: str = ""
    status: str | None = None
    enabled: bool = True
    until: str | None = None
    # Free text for dry runs and logs: what this draft is, in the facilitators' words.
    label: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a Draft needs a key")
        if self.kind in (DraftKind.TOPIC, DraftKind.PRIVATE_MESSAGE) and not self.title:
            raise ValueError(f"{self.key}: a new topic needs a title")
        if self.kind is DraftKind.TOPIC and not self.category:
            raise ValueError(f"{self.key}: a new topic needs a category")
        if self.kind is DraftKind.PRIVATE_MESSAGE and not self.recipients:
            raise ValueError(f"{self.key}: a private message needs recipients")
        if self.kind in (DraftKind.REPLY, DraftKind.STATUS) and not (
            self.topic_id or self.parent_key
        ):
            raise ValueError(f"{self.key}: a {self.kind.value} needs topic_id or parent_key")
        if self.kind is DraftKind.EDIT and not (self.post_id or self.parent_key):
            raise ValueError(f"{self.key}: an edit needs post_id or parent_key")
        if self.kind is DraftKind.STATUS and not self.status:
            raise ValueError(f"{self.key}: a status change needs a status")

    @property
    def creates_topic(self) -> bool:
        return self.kind in (DraftKind.TOPIC, DraftKind.PRIVATE_MESSAGE)

    def external_id(self, namespace: str) -> str:
        """Discourse's `external_id` for a topic this draft creates.

        Discourse allows letters, digits, `_` and `-`, at most 50 characters: a hash of the key
        fits whatever the key looks like. The namespace (the community) keeps two communities
        of one site from sharing an id.
        """
        digest = hashlib.sha256(f"{namespace}\n{self.key}".encode()).hexdigest()
        return "br-" + digest[:40]

    def marker(self, namespace: str) -> str:
        """A hidden HTML comment carrying the key, so a reply can be found again."""
        return f"<!-- bridge:{self.external_id(namespace)} -->"

    def raw_with_marker(self, namespace: str) -> str:
        return f"{self.raw.rstrip()}\n\n{self.marker(namespace)}\n"
