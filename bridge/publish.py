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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bridge.config import SiteSettings
from bridge.drafts import Draft, DraftKind
from bridge.errors import (
    AuthError,
    ConfigError,
    HeldForApproval,
    NotFoundError,
    RejectedError,
    Stopping,
    WriteOutcomeUnknown,
)
from bridge.limits import clean_raw, clean_title, refusal, same_title
from bridge.outcomes import Outcome, OutcomeStatus, Report
from bridge.store import LedgerState, Store
from bridge.words import TOPIC_STATUS_WORDS, draft_fields

if TYPE_CHECKING:
    from bridge.discourse import DiscourseClient

log = logging.getLogger(__name__)

# How many times in all a draft Discourse refuses is tried (one run each) before it is abandoned.
MAX_ATTEMPTS = 3

# A test hook: called with a step name ("before_write", "after_response") and the draft.
StepHook = Callable[[str, Draft], None]
# Where a write lands, as the ledger records it: topic id, post id, post number.
_Written = tuple[int | None, int | None, int | None]


@dataclass(frozen=True)
class _Target:
    """The topic (and, for an edit, the post) a draft writes to, resolved before any intent is
    recorded: a draft whose target is unknown is not written."""

    topic_id: int | None = None
    post_id: int | None = None


class Gate:
    """The service's shutdown check (`Stopping`): before each read and each draft, never inside
    a draft begun, so that the write in flight finishes and is recorded, and nothing new starts."""

    def __init__(self, stopping: Callable[[], bool]):
        self.stopping = stopping
        self._open = 0

    def check(self) -> None:
        if self.stopping() and not self._open:
            raise Stopping()

    @contextmanager
    def draft(self) -> Iterator[None]:
        self.check()
        self._open += 1
        try:
            yield
        finally:
            self._open -= 1


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
        site_settings: SiteSettings | None = None,
        gate: Gate | None = None,
    ):
        self.client = client
        self.site_settings = site_settings or SiteSettings()
        self.store = store
        self.resolve_category = resolve_category
        self.now = now
        self.max_attempts = max_attempts
        self.on_step = on_step or (lambda step, draft: None)
        self.gate = gate or Gate(lambda: False)

    def publish(self, drafts: Iterable[Draft]) -> Report:
        report = Report()
        # The service and a command run by hand may publish at the same time: one at a time,
        # or both could read "not yet published" and write.
        with self.store.exclusive("publish"):
            for draft in drafts:
                outcome = self.publish_one(draft)
                log.info("%s : %s", draft.key, outcome.status.value)
                report.outcomes.append(outcome)
        return report

    def publish_one(self, draft: Draft) -> Outcome:
        with self.gate.draft():
            return self._publish_one(draft)

    def _publish_one(self, draft: Draft) -> Outcome:
        entry = self.store.ledger_get(draft.key)
        if entry is not None and entry.state is LedgerState.DONE:
            return Outcome(draft, OutcomeStatus.ALREADY, entry.topic_id, entry.post_id)
        if entry is not None and entry.state is LedgerState.HELD:
            return Outcome(draft, OutcomeStatus.HELD, error=entry.error)
        if (
            entry is not None
            and entry.state is LedgerState.FAILED
            and entry.attempts >= self.max_attempts
        ):
            return Outcome(draft, OutcomeStatus.ABANDONED, error=entry.error)

        target = self._target(draft)
        if isinstance(target, Outcome):
            return target

        if entry is not None and entry.state is LedgerState.PENDING:
            try:
                found = self._reconcile(draft, target)
            except NotFoundError:
                # Its topic is gone: nothing to find there, and the write will be refused.
                found = None
            if found is not None:
                topic_id, post_id, post_number = found
                self.store.ledger_done(
                    draft.key,
                    self.now(),
                    topic_id=topic_id,
                    post_id=post_id,
                    post_number=post_number,
                )
                return Outcome(draft, OutcomeStatus.RECOVERED, topic_id, post_id)

        problem = self._refusal(draft, target)
        if problem is not None:
            # Discourse would answer 422: refused here, recorded, never sent.
            self.store.ledger_intend(draft, self.now())
            return self._failed(draft, problem)

        self.store.ledger_intend(draft, self.now())
        self.on_step("before_write", draft)
        try:
            topic_id, post_id, post_number = self._write(draft, target)
        except (RejectedError, NotFoundError) as exc:
            # Refused before anything was written: a 422, or a 404 (its topic or post was
            # deleted). Recorded, so that it counts towards `max_attempts` and does not stop
            # the drafts after it.
            return self._failed(draft, exc)
        except AuthError as exc:
            if not exc.on_write:
                raise  # a wrong key: the whole run stops, exit code 2
            # A wrong key is refused on reads too: then the whole run stops, and this draft
            # stays as it was (pending, so the next run checks before writing).
            self.client.fetch_own_account()
            # The key reads fine but may not do this (a pin needs a moderator): this draft
            # fails, the others still go.
            return self._failed(draft, exc)
        except ConfigError as exc:
            # Its category does not exist on the site: nothing was sent.
            return self._failed(draft, exc)
        except HeldForApproval as exc:
            # Written, but into the review queue, where no lookup finds it: never write again.
            self.store.ledger_held(draft.key, str(exc), self.now())
            return Outcome(draft, OutcomeStatus.HELD, error=str(exc))
        except WriteOutcomeUnknown as exc:
            # The intent stays pending: the next run asks Discourse before writing again.
            return Outcome(draft, OutcomeStatus.UNCERTAIN, error=str(exc))
        self.on_step("after_response", draft)
        self.store.ledger_done(
            draft.key, self.now(), topic_id=topic_id, post_id=post_id, post_number=post_number
        )
        return Outcome(draft, OutcomeStatus.PUBLISHED, topic_id, post_id)

    def _refusal(self, draft: Draft, target: _Target) -> str | None:
        """Why Discourse would refuse this draft (`bridge.limits`), before anything is sent."""
        raw = draft.raw if draft.creates_topic else draft.raw_with_marker(self.store.community)
        # An edit without its own post id edits its parent's first post.
        first_post = draft.kind is DraftKind.TOPIC or (
            draft.kind is DraftKind.EDIT and draft.post_id is None
        )
        problem = refusal(draft, raw, self.site_settings, first_post=first_post)
        return f"{draft.key} : {problem}" if problem else None

    def _failed(self, draft: Draft, exc: Exception | str) -> Outcome:
        self.store.ledger_failed(draft.key, str(exc), self.now())
        return Outcome(draft, OutcomeStatus.FAILED, error=str(exc))

    def _target(self, draft: Draft) -> _Target | Outcome:
        """Where a reply, edit or status change goes: its own ids, or those its parent's ledger
        entry recorded; an Outcome when the parent is not (or will never be) on the forum."""
        if draft.creates_topic:
            return _Target()
        if not draft.parent_key:
            return _Target(draft.topic_id, draft.post_id)
        parent = self.store.ledger_get(draft.parent_key)
        if (
            parent is not None
            and parent.state is LedgerState.HELD
            or (
                parent is not None
                and parent.state is LedgerState.FAILED
                and parent.attempts >= self.max_attempts
            )
        ):
            return Outcome(
                draft,
                OutcomeStatus.ABANDONED,
                error=f"{draft.parent_key} n'a pas pu être publié",
            )
        if parent is None or parent.state is not LedgerState.DONE or parent.topic_id is None:
            return Outcome(draft, OutcomeStatus.WAITING)
        if draft.kind is DraftKind.EDIT and draft.post_id is None and parent.post_id is None:
            return Outcome(
                draft,
                OutcomeStatus.ABANDONED,
                error=f"le registre ne connaît pas le premier message de {draft.parent_key}",
            )
        return _Target(parent.topic_id, draft.post_id or parent.post_id)

    # --- writing -------------------------------------------------------------------------------

    def _write(self, draft: Draft, target: _Target) -> _Written:
        community = self.store.community
        if draft.kind is DraftKind.TOPIC:
            created = self.client.create_topic(
                title=clean_title(draft.title or "", self.site_settings),
                raw=draft.raw,
                category_id=self.resolve_category(draft.category or ""),
                tags=draft.tags,
                external_id=draft.external_id(community),
            )
        elif draft.kind is DraftKind.PRIVATE_MESSAGE:
            created = self.client.create_private_message(
                title=clean_title(draft.title or "", self.site_settings),
                raw=draft.raw,
                recipients=draft.recipients,
                external_id=draft.external_id(community),
            )
        elif draft.kind is DraftKind.REPLY:
            created = self.client.create_reply(
                topic_id=_known(target.topic_id, draft), raw=draft.raw_with_marker(community)
            )
        elif draft.kind is DraftKind.EDIT:
            post_id = _known(target.post_id, draft)
            self.client.edit_post(
                post_id, raw=draft.raw_with_marker(community), edit_reason=draft.edit_reason
            )
            return target.topic_id, post_id, None
        else:
            topic_id = _known(target.topic_id, draft)
            self.client.set_topic_status(
                topic_id, status=draft.status or "", enabled=draft.enabled, until=draft.until
            )
            return topic_id, None, None
        return created.topic_id, created.post_id, created.post_number

    # --- reconciling after a crash ------------------------------------------------------------

    def _reconcile(self, draft: Draft, target: _Target) -> _Written | None:
        """What Discourse holds of a draft whose outcome is unknown, or None to write it."""
        if draft.creates_topic:
            found = self.client.find_topic_by_external_id(draft.external_id(self.store.community))
            if found is None:
                return None
            detail = self.client.fetch_topic(found)
            # Discourse stored the title cleaned (capitals, "!!!", final period): compared in
            # that form, only a real change made on the forum is worth a word.
            if draft.title and not same_title(detail.title, draft.title, self.site_settings):
                log.info("%s : titre changé sur le forum (« %s »)", draft.key, detail.title)
            first = detail.stream[0] if detail.stream else None
            return found, first, 1
        if draft.kind is DraftKind.REPLY:
            for post in self.client.iter_topic_posts(_known(target.topic_id, draft)):
                if draft.marker(self.store.community) in post.raw:
                    return post.topic_id, post.id, post.post_number
            return None
        if draft.kind is DraftKind.EDIT:
            # Done if the post already says it: an edit is not written twice (its revision
            # would show in the post's history). Compared as Discourse keeps it.
            post = self.client.fetch_post(_known(target.post_id, draft))
            if clean_raw(post.raw) == clean_raw(draft.raw_with_marker(self.store.community)):
                return post.topic_id, post.id, None
            return None
        if draft.kind is DraftKind.STATUS:
            # Not idempotent on the forum: every pin (and every real change of the others)
            # writes a small action, "pinned the topic" (TopicStatusUpdater). Already so: done.
            detail = self.client.fetch_topic(_known(target.topic_id, draft))
            state = {
                "pinned": detail.pinned,
                "pinned_globally": detail.pinned,
                "closed": detail.closed,
                "archived": detail.archived,
                "visible": detail.visible,
            }.get(draft.status or "")
            return (detail.id, None, None) if state == draft.enabled else None
        return None


def _known(value: int | None, draft: Draft) -> int:
    """An id `_target` resolved; a draft reaching a write without it is the bridge's bug."""
    if value is None:
        raise ValueError(f"{draft.key} : sujet ou message inconnu au moment d'écrire")
    return value


def _status_words(draft: Draft) -> str:
    status = draft.status or ""
    enabled, disabled = TOPIC_STATUS_WORDS.get(status, (status, status))
    return enabled if draft.enabled else disabled


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
                f"{_status_words(d)} le sujet {d.topic_id or d.parent_key}"
                + (f" jusqu'au {d.until}" if d.until and d.enabled else "")
            ),
        }[d.kind]
        lines = [f"── {d.key} : {target}", *draft_fields(d)]
        if d.raw:
            lines.append(d.raw.rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
