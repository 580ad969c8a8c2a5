"""What became of each Draft the publisher was given: its `Outcome`, and a run's `Report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bridge.drafts import Draft


class OutcomeStatus(StrEnum):
    PUBLISHED = "published"  # written now
    ALREADY = "already"  # written by an earlier run
    RECOVERED = "recovered"  # found on the forum after a run that died
    FAILED = "failed"  # refused by Discourse; a later run tries again
    HELD = "held"  # queued by Discourse for a moderator's approval: never written again
    UNCERTAIN = "uncertain"  # no answer: the next run asks Discourse before writing
    WAITING = "waiting"  # its topic is not published yet
    ABANDONED = "abandoned"  # refused too many times, or its topic was

    @property
    def on_forum(self) -> bool:
        """Whether the write is on the forum for sure."""
        return self in (OutcomeStatus.PUBLISHED, OutcomeStatus.ALREADY, OutcomeStatus.RECOVERED)

    @property
    def ok(self) -> bool:
        """Whether nothing went wrong (a draft waiting for its topic goes at a later run)."""
        return self.on_forum or self is OutcomeStatus.WAITING


@dataclass(frozen=True)
class Outcome:
    draft: Draft
    status: OutcomeStatus
    topic_id: int | None = None
    post_id: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status.ok


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: OutcomeStatus) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]
