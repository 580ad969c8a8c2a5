"""Running the welcome (`bridge welcome`, the service): track, check, plan, publish, follow up.

One pass, under the store's `publish` lock from its first read to its last write:

1. `track` the group's members against the welcome's rows (the first pass only records who is
   there); rows are saved before anything is written.
2. For the members due (their wave is quiet), read what staff can read of their accounts
   (/admin/users/{id}.json) and set aside the suspended, silenced, staged and not activated.
3. Name the rest in their welcome (one each, or one collective topic past
   `collective_threshold`) and record that plan (state `planned`, with the ledger key) before
   publishing: a rerun after a crash publishes the same drafts under the same keys, and the
   publisher finds what was already written. Only then are they recorded as welcomed.
4. Follow up, after `follow_up_days`, with the welcomed who have posted nowhere in the
   category and are still in the group.

A dry run does steps 1 and 3 on a private copy of the store and prints the texts; it reads
nothing from the forum (accounts are checked when it is for real) and writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bridge.drafts import Draft
from bridge.errors import AuthError, BridgeError, ConfigError, NotFoundError
from bridge.outcomes import OutcomeStatus
from bridge.publish import describe
from bridge.store import FollowUp, GroupJoin, WelcomeRow, WelcomeState
from bridge.welcome.people import follow_up_key, wave_key, welcome_key
from bridge.welcome.plan import WelcomeTexts
from bridge.welcome.track import Tracking, track
from bridge.words import OUTCOME_WORDS

if TYPE_CHECKING:
    from bridge.wiring import Parts

log = logging.getLogger(__name__)


@dataclass
class WelcomeReport:
    dry_run: bool = False
    first_pass: bool = False
    welcomed: int = 0
    skipped: list[str] = field(default_factory=list)
    held: int = 0
    quiet_at: datetime | None = None
    follow_ups: int = 0
    drafts: list[Draft] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def describe(self) -> str:
        if self.first_pass:
            head = (
                "Accueil : première passe, les membres déjà dans le groupe sont notés comme connus"
            )
        else:
            head = f"Accueil : {self.welcomed} membre(s) accueilli(s)"
        parts = [head, f"{self.follow_ups} suivi(s)", f"{len(self.skipped)} écarté(s)"]
        if self.held:
            parts.append(f"{self.held} en attente")
        if self.failures:
            parts.append(f"{len(self.failures)} échec(s)")
        return ", ".join(parts) + "."


def run_welcome(
    parts: Parts,
    *,
    dry_run: bool = False,
    now_flag: bool = False,
    sync_first: bool = False,
    echo: Callable[[str], None] = print,
) -> WelcomeReport:
    """One welcome pass; `now_flag` welcomes the held newcomers without waiting for the wave
    to calm down; `sync_first` (the service) runs a mirror pass just before."""
    if dry_run:
        report = _Pass(parts, True, now_flag, echo).run()
        echo(describe(report.drafts) if report.drafts else "Rien à publier maintenant.")
        _say_held(parts, report, echo)
        return report
    if sync_first:
        from bridge.runs import run_sync

        run_sync(parts)

    def work() -> WelcomeReport:
        with parts.store.exclusive("publish"):
            report = _Pass(parts, False, now_flag, echo).run()
        for failure in report.failures:
            echo(f"publication impossible : {failure}")
        _say_held(parts, report, echo)
        echo(report.describe())
        return report

    return parts.run_job("welcome", work)


def _say_held(parts: Parts, report: WelcomeReport, echo: Callable[[str], None]) -> None:
    if report.held and report.quiet_at is not None:
        echo(
            f"{report.held} nouveau(x) membre(s) en attente : accueil à partir du "
            f"{parts.renderer.datetime_long(report.quiet_at)} (welcome.quiet_minutes après la "
            "dernière arrivée), ou tout de suite avec --now"
        )


class _Pass:
    def __init__(self, parts: Parts, dry_run: bool, at_once: bool, echo: Callable[[str], None]):
        self.parts, self.dry_run, self.at_once, self.echo = parts, dry_run, at_once, echo
        self.store, self.config = parts.store, parts.config
        self.now = parts.now()
        self.report = WelcomeReport(dry_run)
        self.texts = WelcomeTexts(self.store, self.config, parts.renderer, self.now)

    def run(self) -> WelcomeReport:
        store, config = self.store, self.config
        if store.last_success("sync") is None:
            raise BridgeError(
                "aucune synchronisation réussie n'est enregistrée : lancez bridge sync, puis "
                "bridge welcome (sans les membres du groupe, tout le monde paraîtrait nouveau)"
            )
        if config.welcome.mode == "message" and not config.community.facilitators_group:
            log.info("welcome.mode: message sans community.facilitators_group : au membre seul")
        first = store.welcome_baseline_at() is None

        tracking = track(
            store.group_roster(config.community.group),
            store.welcome_rows(),
            secret=store.welcome_secret(self.now),
            now=self.now,
            config=config.welcome,
            me=config.discourse.api_username,
            first_pass=first,
            at_once=self.at_once,
        )
        store.save_welcome_rows(tracking.changed, baseline_at=self.now if first else None)
        self.report.first_pass = first
        self.report.held, self.report.quiet_at = len(tracking.held), tracking.quiet_at
        due = tracking.due if self.dry_run else self.checked(tracking)
        self.plan(due, tracking.members)
        self.publish_planned(tracking.members)
        self.follow_up(tracking.members)
        return self.report

    # --- 2. who may be welcomed -------------------------------------------------------------

    def checked(self, tracking: Tracking) -> list[WelcomeRow]:
        kept, set_aside = [], []
        for row in tracking.due:
            member = tracking.members[row.person]
            reason = self.refusal(member)
            if reason is None:
                kept.append(row)
            else:
                set_aside.append(row.but(state=WelcomeState.SKIPPED, reason=reason))
                self.report.skipped.append(f"{member.username} ({reason})")
                self.echo(f"Pas d'accueil pour {member.username} : {reason}")
        self.store.save_welcome_rows(set_aside)
        return kept

    def refusal(self, member: GroupJoin) -> str | None:
        try:
            state = self.parts.client.fetch_account_state(member.user_id)
        except NotFoundError:
            return "compte introuvable (supprimé ?)"
        except AuthError as exc:
            raise ConfigError(
                f"le compte « {self.config.discourse.api_username} » ne peut pas lire l'état "
                "des comptes (/admin/users) : l'accueil demande un compte modérateur, pour ne "
                f"pas accueillir un compte suspendu, bloqué ou non activé ({exc})"
            ) from None
        return state.refusal(self.now)

    # --- 3. plan, then publish -----------------------------------------------------------

    def plan(self, due: list[WelcomeRow], members: dict[str, GroupJoin]) -> None:
        welcome = self.config.welcome
        if not due:
            return
        if len(due) > welcome.collective_threshold and welcome.mode == "topic":
            key = wave_key(r.person for r in due)
            planned = [r.but(state=WelcomeState.PLANNED, step_key=key) for r in due]
        else:
            planned = [
                r.but(state=WelcomeState.PLANNED, step_key=welcome_key(r.person, r.joined_at))
                for r in due
            ]
        self.store.save_welcome_rows([r.but(updated_at=self.now) for r in planned])

    def publish_planned(self, members: dict[str, GroupJoin]) -> None:
        rows = [r for r in self.store.welcome_rows().values() if r.state is WelcomeState.PLANNED]
        by_key: dict[str, list[WelcomeRow]] = {}
        for row in sorted(rows, key=lambda r: (r.joined_at, r.person)):
            by_key.setdefault(row.step_key or "", []).append(row)
        for key, named in by_key.items():
            present = [members[r.person] for r in named if r.person in members]
            if not present:
                gone = [
                    r.but(state=WelcomeState.SKIPPED, reason="parti avant son accueil")
                    for r in named
                ]
                self.store.save_welcome_rows(gone)
                continue
            if key.startswith("welcome:vague:"):
                draft = self.texts.collective(key, present, named[0].updated_at)
            else:
                draft = self.texts.individual(key, present[0])
            status = self.publish(draft)
            if status is None:
                continue
            welcomed = status.on_forum or status is OutcomeStatus.HELD
            follow = None if self.config.welcome.follow_up_days else FollowUp.NONE
            self.store.save_welcome_rows(
                [
                    r.but(
                        state=WelcomeState.WELCOMED,
                        welcomed_at=self.now,
                        follow_up=follow,
                        updated_at=self.now,
                    )
                    if welcomed
                    else r.but(
                        state=WelcomeState.SKIPPED, reason="accueil abandonné", updated_at=self.now
                    )
                    for r in named
                ]
            )
            if welcomed:
                self.report.welcomed += len(present)

    def publish(self, draft: Draft) -> OutcomeStatus | None:
        """Publish one draft; None while it may still go (a later run tries again)."""
        self.report.drafts.append(draft)
        if self.dry_run:
            return None
        outcome = self.parts.publisher().publish_one(draft)
        log.info("%s : %s", draft.key, outcome.status.value)
        self.echo(f"{OUTCOME_WORDS[outcome.status]} : {draft.label}")
        if not outcome.ok:
            self.report.failures.append(
                f"{draft.label} : {outcome.error or OUTCOME_WORDS[outcome.status]}"
            )
        if outcome.status.on_forum or outcome.status in (
            OutcomeStatus.HELD,
            OutcomeStatus.ABANDONED,
        ):
            return outcome.status
        return None

    # --- 4. the follow-up ---------------------------------------------------------------------

    def follow_up(self, members: dict[str, GroupJoin]) -> None:
        days = self.config.welcome.follow_up_days
        if not days:
            return
        due = [
            r
            for r in self.store.welcome_rows().values()
            if r.state is WelcomeState.WELCOMED
            and r.follow_up is None
            and r.welcomed_at is not None
            and r.welcomed_at + timedelta(days=days) <= self.now
        ]
        present = [r for r in due if r.person in members]
        places = self.store.posting_places(
            [members[r.person].user_id for r in present], self.texts.family, self.now
        )
        done: list[WelcomeRow] = [
            r.but(follow_up=FollowUp.LEFT, updated_at=self.now)
            for r in due
            if r.person not in members
        ]
        for row in present:
            member = members[row.person]
            if places.get(member.user_id):
                done.append(row.but(follow_up=FollowUp.NOT_NEEDED, updated_at=self.now))
                continue
            welcomed_at = row.welcomed_at or self.now  # set on every WELCOMED row (`due`)
            status = self.publish(
                self.texts.follow_up(follow_up_key(row.person, welcomed_at), member)
            )
            if status is OutcomeStatus.ABANDONED:
                # Given up after Discourse's refusals: not sent, and not counted as sent.
                done.append(row.but(follow_up=FollowUp.GIVEN_UP, updated_at=self.now))
            elif status is not None:
                done.append(row.but(follow_up=FollowUp.SENT, updated_at=self.now))
                self.report.follow_ups += 1
        if not self.dry_run:
            self.store.save_welcome_rows(done)
