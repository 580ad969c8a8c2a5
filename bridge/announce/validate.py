"""Checking the committee's job files before a run: their values (`jobfiles`), what the store
knows (published jobs may have past dates; categories must exist), and their templates."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from bridge.announce.keys import PREFIX, job_of
from bridge.announce.texts import CANCEL_TEMPLATE, AnnouncementTexts
from bridge.config import Config
from bridge.errors import TemplateError
from bridge.jobfiles import Job, Occurrence, display_path, load_jobs
from bridge.render import Renderer
from bridge.store import Store


def published_job_ids(store: Store) -> set[str]:
    """Jobs of which something is on the forum: they may have dates in the past."""
    ids = {a.job for a in store.announcements() if a.published_hash is not None}
    written = (job_of(key) for key in store.ledger_done_keys(PREFIX))
    return ids | {job for job in written if job is not None}


def stored_categories(store: Store) -> Callable[[str], bool] | None:
    """Whether a category (slug or id) is one `bridge sync` stored; None while it stored none
    (then any `category:` is accepted, and the publisher says if it does not exist)."""
    if not store.has_categories():
        return None
    return lambda slug_or_id: store.category(slug_or_id) is not None


def unchecked_categories(
    jobs: Sequence[Job], config: Config, known_category: Callable[[str], bool] | None
) -> list[str]:
    """One line per job whose `category:` could not be checked, saying why: the store knows no
    category yet (`stored_categories` gave None). Once it does, an unknown one is an error."""
    if known_category is not None:
        return []
    default = config.community.subcategories.announcements
    return [
        f"{display_path(job.path)}, category : la catégorie « {job.category} » n'a pas pu être "
        "vérifiée, car la base locale ne connaît encore aucune catégorie de la communauté "
        "(lancez bridge sync) ; si elle n'existe pas, la publication sera refusée"
        for job in jobs
        if job.category and job.category != default
    ]


def validate_jobs(
    config: Config,
    renderer: Renderer,
    now: datetime,
    *,
    known_published: Collection[str] = frozenset(),
    files: Sequence[Path] | None = None,
    known_category: Callable[[str], bool] | None = None,
) -> tuple[list[Job], list[str]]:
    """The valid jobs (of the jobs folder, or `files`), and one line per bad file.

    A job's `category:` must be the announcements subcategory or one `known_category` knows
    (see `stored_categories`; None: any). Each job's texts are rendered once, so a template
    naming an unknown variable is caught here rather than halfway through a run.
    """
    category_ok = None
    if known_category is not None:
        default, known = config.community.subcategories.announcements, known_category
        category_ok = lambda slug: slug == default or known(slug)  # noqa: E731
    jobs, errors = load_jobs(
        list(files) if files else config.jobs_dir,
        now,
        known_published=known_published,
        timezone=config.community.timezone,
        templates_dir=config.templates_dir,
        known_category=category_ok,
    )
    problems = [str(e) for e in errors]
    good: list[Job] = []
    for job in jobs:
        occurrence = (job.occurrences(now) or [Occurrence(job, "", job.start, job.end)])[0]
        texts = AnnouncementTexts(occurrence, renderer, config)
        try:
            texts.topic(occurrence.key)
            texts.reminder("check", timedelta(days=1))
            texts.change("check", occurrence.start)
            texts.reply("check", CANCEL_TEMPLATE, "check")
        except TemplateError as exc:
            problems.append(f"{display_path(job.path)}, template : {exc}")
        else:
            good.append(job)
    return good, problems
