"""Running a job: the runners that `bridge` commands, the service and the demo call.

`run_sync` is one recorded mirror pass. `run_digest` plans a week's digest from the store (after
checking the mirror is fresh) and prints it, writes it to a file, or publishes it once and
records the week's figures. `run_announce` is what `bridge announce` (and the demo)
run: validate the job files, plan from the store (`bridge/announce/`, pure), then either show
the plan and when the rest will come (a dry run writes nothing at all, not even the store) or
publish it through the publisher.

A real run holds the store's `publish` lock from the moment it reads the store to its last
write: two overlapping runs (the service and a command typed by hand) take turns, and the
second plans from what the first wrote, so nothing is posted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bridge.announce.keys import StepRole
from bridge.announce.plan import (
    AnnounceState,
    Step,
    announcement_fields,
    build_steps,
    change_written,
    content_hash,
    edit_written,
    select_occurrences,
)
from bridge.announce.show import failure_line, outcome_line, preview
from bridge.announce.validate import (
    published_job_ids,
    stored_categories,
    unchecked_categories,
    validate_jobs,
)
from bridge.config import DIGEST_TO_FACILITATORS
from bridge.digest.plan import DigestPlan, build_digest
from bridge.digest.week import Week, select_week
from bridge.errors import BridgeError, ConfigError, GroupUnreadable, UnknownCategory, UsageError
from bridge.jobfiles import Job, Occurrence, display_path
from bridge.mirror import Mirror, Progress, SyncSummary
from bridge.misconfig import (
    as_config_error,
    facilitators_problem,
    family_knows,
    missing_subcategories,
)
from bridge.models import topic_url
from bridge.outcomes import OutcomeStatus
from bridge.publish import describe
from bridge.reindex import refresh_entries
from bridge.store import Store
from bridge.words import OUTCOME_WORDS

if TYPE_CHECKING:
    from bridge.wiring import Parts, Summary

log = logging.getLogger(__name__)
S = TypeVar("S", bound="Summary")


def build_mirror(
    parts: Parts,
    on_topic: Progress | None = None,
    on_start: Callable[[int | None], None] | None = None,
) -> Mirror:
    config = parts.config
    sub = config.community.subcategories
    return Mirror(
        parts.client,
        parts.store,
        category=config.community.category,
        group=config.community.group,
        deep_subcategories=(sub.toolbox, sub.cartography),
        reconcile_every=timedelta(hours=config.sync.reconcile_every_hours),
        recheck=timedelta(days=config.sync.recheck_days),
        now=parts.now,
        on_topic=on_topic,
        on_start=on_start,
        on_saved=lambda store, ids: refresh_entries(store, config, ids),
    )


def run_sync(
    parts: Parts,
    *,
    full: bool = False,
    on_topic: Progress | None = None,
    on_start: Callable[[int | None], None] | None = None,
) -> SyncSummary:
    """One recorded sync pass (the `bridge sync` command and the scheduled job)."""

    def started(total: int | None) -> None:
        # The store holds the category's family now, and no topic was read yet.
        require_setup(parts)
        if on_start is not None:
            on_start(total)

    mirror = build_mirror(parts, on_topic, started)
    return run_job(parts, "sync", lambda: mirror.sync(full=full))


def require_setup(parts: Parts) -> None:
    """Refuse, as `bridge check` does, subcategories `config.yaml` names that the category
    lacks: from the mirror when a sync stored the category's family, else from Discourse."""
    store, config = parts.store, parts.config
    if store.has_categories():
        problems = missing_subcategories(config, lambda s: store.category(s) is not None)
    else:
        family = parts.client.fetch_category_family(config.community.category)
        problems = missing_subcategories(config, family_knows(family))
    if problems:
        raise ConfigError(problems[0])


def run_job(parts: Parts, job: str, work: Callable[[], S]) -> S:
    """`parts.run_job`, a category or group `config.yaml` names but Discourse does not have
    becoming the `ConfigError` (exit 2) `bridge check` gives for it."""

    def checked() -> S:
        try:
            return work()
        except (UnknownCategory, GroupUnreadable) as exc:
            raise as_config_error(parts.config, exc) from None

    return parts.run_job(job, checked)


@dataclass
class AnnounceReport:
    """What `bridge announce` did: exit code 2 if a file was invalid, else 1 if a write failed."""

    dry_run: bool = False
    errors: list[str] = field(default_factory=list)
    planned: list[Step] = field(default_factory=list)
    upcoming: list[Step] = field(default_factory=list)
    statuses: dict[str, OutcomeStatus] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failures

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else 1 if self.failures else 0

    def describe(self) -> str:
        def count(*statuses: OutcomeStatus) -> int:
            return sum(1 for v in self.statuses.values() if v in statuses)

        published = count(OutcomeStatus.PUBLISHED, OutcomeStatus.RECOVERED)
        return (
            f"Annonces : {published} publication(s), "
            f"{count(OutcomeStatus.ALREADY)} déjà faite(s), {len(self.failures)} échec(s), "
            f"{len(self.errors)} fichier(s) invalide(s), {len(self.upcoming)} à venir."
        )


def run_announce(
    parts: Parts,
    *,
    files: Sequence[Path] | None = None,
    now_flag: bool = False,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
) -> AnnounceReport:
    """Validate the job files, then publish what is due (or, for a dry run, show it and when).

    A dry run writes nothing at all, not even the announcements table. Invalid files are
    reported through `warn` and the valid ones still run.
    """
    if now_flag and not files:
        raise UsageError(
            "--now publie une annonce précise : nommez son fichier "
            "(bridge announce jobs/FICHIER.yaml --now)"
        )
    now, store, config = parts.now(), parts.store, parts.config
    known_category = stored_categories(store)
    jobs, errors = validate_jobs(
        config,
        parts.renderer,
        now,
        known_published=published_job_ids(store),
        files=files,
        known_category=known_category,
    )
    for error in errors:
        (warn or echo)(f"Erreur : {error}")
    for line in unchecked_categories(jobs, config, known_category):
        (warn or echo)(f"Avertissement : {line}")
    immediately = {j.id for j in jobs} if now_flag else set()

    def plan() -> tuple[list[Step], list[Step]]:
        steps = build_steps(
            jobs,
            AnnounceState.from_store(store),
            now,
            parts.renderer,
            config,
            immediately=immediately,
        )
        return [s for s in steps if s.due <= now], sorted(
            (s for s in steps if s.due > now), key=lambda s: s.due
        )

    if dry_run:
        due, upcoming = plan()
        if not jobs and not errors:
            echo(
                f"Aucune annonce dans {display_path(config.jobs_dir)} (les fichiers dont le nom "
                "commence par « _ » sont des modèles, jamais publiés)."
            )
        for line in preview(jobs, [*due, *upcoming], now, parts.renderer):
            echo(line)
        echo(
            f"\nAperçu : {len(due)} étape(s) maintenant, {len(upcoming)} à venir ; "
            "rien n'a été publié ni écrit."
        )
        return AnnounceReport(True, errors, due, upcoming)

    def work() -> AnnounceReport:
        # One run at a time from here to the last write: another run waits, then plans from
        # what this one wrote.
        with store.exclusive("publish"):
            report = _publish(parts, jobs, errors, now, plan, echo)
        for failure in report.failures:
            (warn or echo)(f"Erreur : publication impossible : {failure}")
        echo(report.describe())
        return report

    return run_job(parts, "announce", work)


def _publish(
    parts: Parts,
    jobs: Sequence[Job],
    errors: list[str],
    now: datetime,
    plan: Callable[[], tuple[list[Step], list[Step]]],
    echo: Callable[[str], None],
) -> AnnounceReport:
    store = parts.store
    state = AnnounceState.from_store(store)
    occurrences = [o for j in jobs for o in select_occurrences(j, state, now)]
    store.save_announcements([announcement_fields(o) for o in occurrences], now)
    for occ in occurrences:
        _repair(store, occ, state, now)
    due, upcoming = plan()
    report = AnnounceReport(False, errors, due, upcoming)
    if not due:
        return report
    require_setup(parts)
    publisher = parts.publisher()
    for step in due:
        outcome = publisher.publish_one(step.draft)
        log.info("%s : %s", step.draft.key, outcome.status.value)
        report.statuses[step.draft.key] = outcome.status
        if not outcome.ok:
            error = outcome.error or OUTCOME_WORDS[outcome.status]
            report.failures.append(failure_line(step, error, parts.renderer))
            continue
        if outcome.status.on_forum:
            # At once, so that a run stopped halfway has recorded what went out.
            _record(store, step.occurrence, step.role, now)
        url = _step_url(parts, step) if outcome.status.on_forum else None
        echo(outcome_line(step, outcome.status, parts.renderer, url))
    return report


def _step_url(parts: Parts, step: Step) -> str | None:
    """Where a step published can be seen: its topic, or its reply in it (from the ledger)."""
    entry = parts.store.ledger_get(step.draft.key)
    if entry is None or entry.topic_id is None:
        return None
    url = topic_url(parts.config.site, "", entry.topic_id)
    replied = step.role in (StepRole.REMINDER, StepRole.CHANGE, StepRole.CANCEL)
    return f"{url}/{entry.post_number}" if replied and entry.post_number else url


def _repair(store: Store, occ: Occurrence, state: AnnounceState, now: datetime) -> None:
    """Record what a run that died between the ledger and the announcements table wrote.

    An edit or a time change is recorded only if the last one the ledger says is written
    carries what the file says now (its key says so); the topic itself most likely said what
    the file says now. Without this, an edit or a time change would go unnoticed afterwards,
    or a time change be announced twice.
    """
    stored, done = state.stored.get((occ.job.id, occ.id)), state.done
    if stored is None or stored.published_hash is None:
        if occ.key in done:
            _record(store, occ, StepRole.TOPIC, now)
        return
    if stored.published_hash != content_hash(occ) and edit_written(occ, done):
        _record(store, occ, StepRole.EDIT, now)
    if stored.published_starts_at != occ.start and change_written(occ, done):
        _record(store, occ, StepRole.CHANGE, now)


def _record(store: Store, occ: Occurrence, role: StepRole, now: datetime) -> None:
    """Keep the forum's version of an occurrence after its topic, edit or time change."""
    if role in (StepRole.TOPIC, StepRole.EDIT):
        store.record_announcement(
            occ.job.id,
            occ.id,
            now,
            fields=announcement_fields(occ),
            published_hash=content_hash(occ),
            published_starts_at=occ.start if role is StepRole.TOPIC else None,
        )
    elif role is StepRole.CHANGE:
        store.record_announcement(occ.job.id, occ.id, now, published_starts_at=occ.start)


# --- the weekly digest -------------------------------------------------------------------------


@dataclass
class DigestReport:
    """What `bridge digest` did for one week."""

    week: str
    quiet: bool = False
    status: OutcomeStatus | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def describe(self) -> str:
        if self.status is None:
            return f"Résumé {self.week} : semaine calme, rien à publier (digest.quiet_week: none)."
        words = OUTCOME_WORDS[self.status]
        return f"Résumé {self.week} : {words}" + (f" ({self.error})" if self.error else "") + "."


def check_fresh(parts: Parts, week: Week) -> None:
    """Refuse a complete week the mirror has not been synced since: its figures would be wrong."""
    if week.end > parts.now():
        return  # the week under way (a dry run) is read as of now, whatever the mirror holds
    last = parts.store.last_success("sync")
    if last is None or last.started_at < week.end:
        since = (
            "la dernière synchronisation réussie date du "
            + parts.renderer.datetime_long(last.started_at)
            if last is not None
            else "aucune synchronisation réussie n'est enregistrée"
        )
        raise BridgeError(
            f"le miroir n'est pas à jour pour la semaine {week.name} ({since}, avant la fin de "
            "la semaine) : lancez bridge sync, puis bridge digest"
        )


def plan_digest(parts: Parts, week_text: str | None, *, current_ok: bool) -> DigestPlan:
    """The week asked for, checked for freshness, planned from the store."""
    config = parts.config
    if config.digest.target == DIGEST_TO_FACILITATORS and not config.community.facilitators_group:
        raise ConfigError(
            f"{config.source or 'config.yaml'} : digest.target vaut facilitators mais "
            "community.facilitators_group est vide : nommez le groupe de l'équipe d'animation"
        )
    now = parts.now()
    week = select_week(week_text, now, config.community.tz, current_ok=current_ok)
    check_fresh(parts, week)
    return build_digest(parts.store, config, parts.renderer, week, now)


def run_digest(
    parts: Parts,
    *,
    week: str | None = None,
    dry_run: bool = False,
    output: Path | None = None,
    sync_first: bool = False,
    echo: Callable[[str], None] = print,
) -> DigestReport:
    """Plan a week's digest, then print it (`dry_run`), write it to `output`, or publish it.

    Printing and writing to a file touch neither the forum nor the store. Publishing goes
    through the publisher under the `publish` lock, keyed `digest:<week>`: one digest per
    week, whatever reruns, crashes or overlapping runs; the week's figures are recorded once
    it is on the forum (or skipped as quiet), for the trends of later digests. `sync_first`
    is for the service (`bridge run`): a pass of the mirror just before.
    """
    previewing = dry_run or output is not None
    if sync_first and not previewing:
        run_sync(parts)
    if previewing:
        plan = plan_digest(parts, week, current_ok=True)
        if output is not None:
            try:
                output.write_text(plan.markdown, encoding="utf-8")
            except OSError as exc:
                raise UsageError(
                    f"{output} : écriture impossible ({exc.strerror or exc})"
                ) from None
            echo(f"Écrit : {output} (résumé {plan.week.name}, rien de publié)")
        if dry_run and plan.draft is None:
            echo(
                f"Résumé {plan.week.name} : semaine calme, rien ne serait publié "
                "(digest.quiet_week: none). Le voici tout de même :\n"
            )
            echo(plan.markdown)
        elif dry_run and plan.draft is not None:
            echo(describe([plan.draft]))
        return DigestReport(plan.week.name, plan.quiet)

    def work() -> DigestReport:
        store, config = parts.store, parts.config
        require_setup(parts)
        with store.exclusive("publish"):
            plan = plan_digest(parts, week, current_ok=False)
            report = DigestReport(plan.week.name, plan.quiet)
            if plan.draft is not None:
                if config.digest.target == DIGEST_TO_FACILITATORS:
                    problem = facilitators_problem(parts.config, parts.client)
                    if problem is not None:
                        raise ConfigError(problem)
                outcome = parts.publisher().publish_one(plan.draft)
                report.status = outcome.status
                if not outcome.ok:
                    report.error = outcome.error or OUTCOME_WORDS[outcome.status]
                    echo(report.describe())
                    return report
            store.save_week_figures(plan.figures, parts.now())
        echo(report.describe())
        return report

    return run_job(parts, "digest", work)
