"""The exactly-once publisher: the one path by which the bridge writes to Discourse.

For each Draft: record the intent in the ledger (committed), write, then record the result.
A draft whose intent is recorded but whose result is not may or may not have been written (the
process died, or the connection dropped after the request left): before writing it again, the
publisher asks Discourse — a topic by its `external_id`, a reply by the hidden marker of its key
in the topic's posts. Edits and status changes set a state rather than add one, so repeating them
is harmless. A refusal from Discourse (422, or 404 when its topic or post is gone) is recorded
with Discourse's words and not retried in a loop: a later run tries again, at most
`max_attempts` times in all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bridge.drafts import Draft, DraftKind
from bridge.errors import (
    AuthError,
    ConfigError,
    HeldForApproval,
    NotFoundError,
    RejectedError,
    WriteOutcomeUnknown,
)
from bridge.store import Store

if TYPE_CHECKING:
    from bridge.discourse import DiscourseClient

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    draft: Draft
    # published, already (done in an earlier run), recovered (found after a crash),
    # failed (Discourse refused), uncertain (no answer: the next run will reconcile),
    # waiting (its topic is not published yet), abandoned (refused too many times)
    status: str
    topic_id: int | None = None
    post_id: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("published", "already", "recovered", "waiting")


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


# A test hook: called with a step name ("before_write", "after_response") and the draft.
StepHook = Callable[[str, Draft], None]


class Publisher:
    def __init__(
        self,
        client: DiscourseClient,
        store: Store,
        *,
        resolve_category: Callable[[str], int],
        now: Callable[[], datetime],
        max_attempts: int = MAX_ATTEMPTS,
        on_step: StepHook | None = None,
    ):
        self.client = client
        self.store = store
        self.resolve_category = resolve_category
        self.now = now
        self.max_attempts = max_attempts
        self.on_step = on_step or (lambda step, draft: None)

    def publish(self, drafts: Iterable[Draft]) -> Report:
        report = Report()
        # The service and a command run by hand may publish at the same time: one at a time,
        # or both could read "not yet published" and write.
        with self.store.exclusive("publish"):
            for draft in drafts:
                outcome = self.publish_one(draft)
                log.info("%s: %s", draft.key, outcome.status)
                report.outcomes.append(outcome)
        return report

    def publish_one(self, draft: Draft) -> Outcome:
        entry = self.store.ledger_get(draft.key)
        if entry is not None and entry.state == "done":
            return Outcome(draft, "already", entry.topic_id, entry.post_id)
        if entry is not None and entry.state == "failed" and entry.attempts >= self.max_attempts:
            return Outcome(draft, "abandoned", error=entry.error)

        topic_id = draft.topic_id
        if draft.kind in (DraftKind.REPLY, DraftKind.STATUS, DraftKind.EDIT) and draft.parent_key:
            parent = self.store.ledger_get(draft.parent_key)
            if (
                parent is not None
                and parent.state == "failed"
                and (parent.attempts >= self.max_attempts)
            ):
                return Outcome(
                    draft, "abandoned", error=f"{draft.parent_key} n'a pas pu être publié"
                )
            if parent is None or parent.state != "done" or parent.topic_id is None:
                return Outcome(draft, "waiting")
            topic_id = parent.topic_id

        if entry is not None and entry.state == "pending":
            try:
                found = self._reconcile(draft, topic_id)
            except NotFoundError:
                # Its topic is gone: nothing to find there, and the write will be refused.
                found = None
            if found is not None:
                self.store.ledger_done(
                    draft.key,
                    self.now(),
                    topic_id=found[0],
                    post_id=found[1],
                    post_number=found[2],
                )
                return Outcome(draft, "recovered", found[0], found[1])

        self.store.ledger_intend(draft, self.now())
        self.on_step("before_write", draft)
        try:
            result = self._write(draft, topic_id)
        except (RejectedError, NotFoundError) as exc:
            # Refused before anything was written: a 422, or a 404 (its topic or post was
            # deleted). Recorded, so that it counts towards `max_attempts` and does not stop
            # the drafts after it.
            self.store.ledger_failed(draft.key, str(exc), self.now())
            return Outcome(draft, "failed", error=str(exc))
        except AuthError as exc:
            if not exc.on_write:
                raise  # a wrong key: the whole run stops, exit code 2
            # A wrong key is refused on reads too: then the whole run stops, and this draft
            # stays as it was (pending, so the next run checks before writing).
            self.client.fetch_own_account()
            # The key reads fine but may not do this (a pin needs a moderator): this draft
            # fails, the others still go.
            self.store.ledger_failed(draft.key, str(exc), self.now())
            return Outcome(draft, "failed", error=str(exc))
        except ConfigError as exc:
            # Its category does not exist on the site: nothing was sent.
            self.store.ledger_failed(draft.key, str(exc), self.now())
            return Outcome(draft, "failed", error=str(exc))
        except HeldForApproval as exc:
            # Written, but into the review queue, where no lookup finds it: never write again.
            self.store.ledger_failed(draft.key, str(exc), self.now(), final=True)
            return Outcome(draft, "failed", error=str(exc))
        except WriteOutcomeUnknown as exc:
            # The intent stays pending: the next run asks Discourse before writing again.
            return Outcome(draft, "uncertain", error=str(exc))
        self.on_step("after_response", draft)
        self.store.ledger_done(
            draft.key, self.now(), topic_id=result[0], post_id=result[1], post_number=result[2]
        )
        return Outcome(draft, "published", result[0], result[1])

    # --- writing -------------------------------------------------------------------------------

    def _write(
        self, draft: Draft, topic_id: int | None
    ) -> tuple[int | None, int | None, int | None]:
        if draft.kind is DraftKind.TOPIC:
            assert draft.title is not None and draft.category is not None
            created = self.client.create_topic(
                title=draft.title,
                raw=draft.raw,
                category_id=self.resolve_category(draft.category),
                tags=draft.tags,
                external_id=draft.external_id(self.store.community),
            )
            return created.topic_id, created.post_id, created.post_number
        if draft.kind is DraftKind.PRIVATE_MESSAGE:
            assert draft.title is not None
            created = self.client.create_private_message(
                title=draft.title,
                raw=draft.raw,
                recipients=draft.recipients,
                external_id=draft.external_id(self.store.community),
            )
            return created.topic_id, created.post_id, created.post_number
        assert topic_id is not None or draft.post_id is not None
        if draft.kind is DraftKind.REPLY:
            assert topic_id is not None
            raw = draft.raw_with_marker(self.store.community)
            created = self.client.create_reply(topic_id=topic_id, raw=raw)
            return created.topic_id, created.post_id, created.post_number
        if draft.kind is DraftKind.EDIT:
            post_id = draft.post_id or self._first_post_id(draft)
            self.client.edit_post(
                post_id,
                raw=draft.raw_with_marker(self.store.community),
                edit_reason=draft.edit_reason,
            )
            return topic_id, post_id, None
        assert draft.kind is DraftKind.STATUS and draft.status is not None and topic_id is not None
        self.client.set_topic_status(
            topic_id, status=draft.status, enabled=draft.enabled, until=draft.until
        )
        return topic_id, None, None

    def _first_post_id(self, draft: Draft) -> int:
        assert draft.parent_key is not None
        parent = self.store.ledger_get(draft.parent_key)
        assert parent is not None and parent.post_id is not None
        return parent.post_id

    # --- reconciling after a crash ------------------------------------------------------------

    def _reconcile(
        self, draft: Draft, topic_id: int | None
    ) -> tuple[int | None, int | None, int | None] | None:
        """What Discourse holds of a draft whose outcome is unknown, or None to write it."""
        if draft.creates_topic:
            found = self.client.find_topic_by_external_id(draft.external_id(self.store.community))
            if found is None:
                return None
            detail = self.client.fetch_topic(found)
            first = detail.stream[0] if detail.stream else None
            return found, first, 1
        if draft.kind is DraftKind.REPLY:
            assert topic_id is not None
            for post in self.client.iter_topic_posts(topic_id):
                if draft.marker(self.store.community) in post.raw:
                    return post.topic_id, post.id, post.post_number
            return None
        # Edits and status changes are idempotent: writing again is the reconciliation.
        return None


# A status change in words: (when enabled, when disabled).
_STATUS_WORDS = {
    "pinned": ("épingler", "désépingler"),
    "pinned_globally": ("épingler sur tout le site", "désépingler"),
    "closed": ("fermer", "rouvrir"),
    "archived": ("archiver", "désarchiver"),
    "visible": ("afficher", "masquer"),
}

# Outcome statuses in the facilitators' words.
OUTCOME_WORDS = {
    "published": "publié",
    "already": "déjà publié",
    "recovered": "retrouvé après une interruption",
    "failed": "refusé",
    "uncertain": "sans réponse, vérifié à la prochaine passe",
    "waiting": "en attente de son sujet",
    "abandoned": "abandonné",
}


def describe(drafts: Sequence[Draft]) -> str:
    """The drafts as a dry run shows them: what, where, and the Markdown."""
    if not drafts:
        return "Rien à publier."
    blocks = []
    for d in drafts:
        target = {
            DraftKind.TOPIC: f"nouveau sujet dans « {d.category} »",
            DraftKind.PRIVATE_MESSAGE: f"message privé à {', '.join(d.recipients)}",
            DraftKind.REPLY: f"réponse au sujet {d.topic_id or d.parent_key}",
            DraftKind.EDIT: f"modification du message {d.post_id or d.parent_key}",
            DraftKind.STATUS: (
                f"{_STATUS_WORDS.get(d.status or '', (d.status, d.status))[0 if d.enabled else 1]}"
                f" le sujet {d.topic_id or d.parent_key}"
                + (f" jusqu'au {d.until}" if d.until and d.enabled else "")
            ),
        }[d.kind]
        lines = [f"── {d.key} : {target}"]
        if d.title:
            lines.append(f"Titre : {d.title}")
        if d.tags:
            lines.append(f"Étiquettes : {', '.join(d.tags)}")
        if d.edit_reason:
            lines.append(f"Raison : {d.edit_reason}")
        if d.raw:
            lines.append(d.raw.rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
