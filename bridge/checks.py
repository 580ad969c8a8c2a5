"""`bridge check`: validate everything a run depends on, writing nothing.

Each problem is one line; the command exits 2 when there is any.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.config import Config
from bridge.discourse import DiscourseClient
from bridge.errors import BridgeError
from bridge.render import Renderer

TEMPLATES: tuple[str, ...] = ()


def run_check(
    config: Config,
    *,
    echo: Callable[[str], None],
    client: DiscourseClient | None = None,
) -> list[str]:
    """Check config (already loaded), templates and access; return the problems found."""
    problems: list[str] = []
    echo(f"Configuration : {config.source} est valide.")
    renderer = Renderer(
        config.templates_dir, locale=config.community.locale, timezone=config.community.timezone
    )
    names = sorted(p.name for p in config.templates_dir.glob("*.j2")) if config.templates_dir.is_dir() else []
    for name in [*TEMPLATES, *names]:
        try:
            renderer.check([name])
        except BridgeError as exc:
            problems.append(str(exc))
    if not problems:
        echo(f"Gabarits : {len(names)} gabarit(s) valide(s) dans {config.templates_dir}.")
    try:
        if client is None:
            d = config.discourse
            client = DiscourseClient(
                d.url, d.api_username, config.require_api_key(), timeout=d.timeout,
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
