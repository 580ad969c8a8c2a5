"""`bridge check`: validate everything a run depends on, writing nothing.

Each problem is one line; the command exits 2 when there is any.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bridge.announce import published_job_ids, validate_jobs
from bridge.config import Config
from bridge.discourse import DiscourseClient
from bridge.errors import BridgeError
from bridge.render import Renderer
from bridge.store import Store

TEMPLATES: tuple[str, ...] = ()


def run_check(
    config: Config,
    *,
    echo: Callable[[str], None],
    client: DiscourseClient | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Check config (already loaded), templates and access; return the problems found."""
    problems: list[str] = []
    echo(f"Configuration : {config.source} est valide.")
    renderer = Renderer(
        config.templates_dir, locale=config.community.locale, timezone=config.community.timezone
    )
    names = (
        sorted(p.name for p in config.templates_dir.glob("*.j2"))
        if config.templates_dir.is_dir()
        else []
    )
    for name in [*TEMPLATES, *names]:
        try:
            renderer.check([name])
        except BridgeError as exc:
            problems.append(str(exc))
    if not problems:
        echo(f"Gabarits : {len(names)} gabarit(s) valide(s) dans {config.templates_dir}.")
    problems.extend(_check_jobs(config, renderer, now or datetime.now(UTC), echo))
    try:
        if client is None:
            d = config.discourse
            client = DiscourseClient(
                d.url,
                d.api_username,
                config.require_api_key(),
                timeout=d.timeout,
                requests_per_minute=d.requests_per_minute,
            )
        category = client.check_access(config.community.category)
        echo(
            f"Accès : le compte « {config.discourse.api_username} » voit la catégorie "
            f"« {category.name} » sur {config.site}."
        )
    except BridgeError as exc:
        problems.append(str(exc))
    for problem in problems:
        echo(f"Erreur : {problem}")
    return problems


def _check_jobs(
    config: Config, renderer: Renderer, now: datetime, echo: Callable[[str], None]
) -> list[str]:
    """The announcement job files: one line per bad file (the others are still checked)."""
    known: set[str] = set()
    # Jobs already published may have dates in the past; a store not created yet knows none.
    if config.store_path.exists():
        try:
            store = Store.open(config.store_path, config.site, config.community.category)
            known = published_job_ids(store)
        except BridgeError as exc:
            return [str(exc)]
    jobs, problems = validate_jobs(config, renderer, now, known_published=known)
    if not problems:
        echo(f"Annonces : {len(jobs)} fichier(s) valide(s) dans {config.jobs_dir}.")
    return problems
