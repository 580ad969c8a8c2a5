"""`bridge check`: validate everything a run depends on, writing nothing.

Each problem is one line; the command exits 2 when there is any.
"""

from __future__ import annotations

from collections.abc import Callable

from bridge.announce.validate import (
    published_job_ids,
    stored_categories,
    unchecked_categories,
    validate_jobs,
)
from bridge.digest.plan import TEMPLATE as DIGEST_TEMPLATE
from bridge.digest.sample import sample_context
from bridge.discourse import Category, DiscourseClient, User
from bridge.errors import BridgeError, GroupUnreadable, UnknownCategory
from bridge.misconfig import (
    as_config_error,
    facilitators_problem,
    family_knows,
    missing_subcategories,
    store_problem,
)
from bridge.render import Renderer
from bridge.welcome.sample import welcome_problems
from bridge.wiring import Parts

Echo = Callable[[str], None]


def run_check(parts: Parts, *, echo: Echo, warn: Echo) -> list[str]:
    """Check config (already loaded), templates, job files and access; return the problems.

    `parts` should hold a snapshot of the store (`Parts.build(..., readonly=True)`): a check
    must not create nor migrate the store file.
    """
    config = parts.config
    problems: list[str] = []
    echo(f"Configuration : {config.source} est valide.")
    store = store_problem(config)
    if store is not None:
        problems.append(store)

    names = (
        sorted(p.name for p in config.templates_dir.glob("*.j2"))
        if config.templates_dir.is_dir()
        else []
    )
    for name in names:
        try:
            parts.renderer.check([name])
        except BridgeError as exc:
            problems.append(str(exc))
    if not problems:
        problems.extend(_digest_problems(parts))
        problems.extend(welcome_problems(config.templates_dir, config.community.timezone))
    if not problems:
        echo(f"Gabarits : {len(names)} gabarit(s) valide(s) dans {config.templates_dir}.")

    # Jobs already published may have dates in the past.
    known = published_job_ids(parts.store)
    known_category = stored_categories(parts.store)
    jobs, job_problems = validate_jobs(
        config,
        parts.renderer,
        parts.now(),
        known_published=known,
        known_category=known_category,
    )
    problems.extend(job_problems)
    for line in unchecked_categories(jobs, config, known_category):
        warn(f"Avertissement : {line}")
    if not job_problems:
        echo(f"Annonces : {len(jobs)} fichier(s) valide(s) dans {config.jobs_dir}.")

    try:
        client = parts.client
        family = client.fetch_category_family(config.community.category)
        category = family[0]
        echo(
            f"Accès : le compte « {config.discourse.api_username} » voit la catégorie "
            f"« {category.name} » sur {config.site}."
        )
        account = client.fetch_user(config.discourse.api_username)
        if not account.staff:
            problems.append(
                f"le compte « {account.username} » n'est pas modérateur sur {config.site} : "
                "il ne pourra pas épingler les annonces, sera soumis aux limites de publication "
                "(et de mentions : l'accueil collectif nomme chaque membre) et ne pourra pas lire "
                "l'état des comptes (/admin/users) pour ne pas accueillir un compte suspendu"
            )
        for line in muting_warnings(client, account, family):
            warn(f"Avertissement : {line}")
        knows = family_knows(family)
        problems.extend(missing_subcategories(config, knows))
        for line in missing_subcategories(config, knows, defaults=True):
            warn(f"Avertissement : {line}")
        # The read `bridge sync` starts the group's members with.
        next(client.iter_group_members(config.community.group, limit=1), None)
    except (UnknownCategory, GroupUnreadable) as exc:
        problems.append(str(as_config_error(config, exc)))
    except BridgeError as exc:
        problems.append(str(exc))
    else:
        problems.extend(_facilitators_problems(parts, echo))
    for problem in problems:
        warn(f"Erreur : {problem}")
    return problems


def _digest_problems(parts: Parts) -> list[str]:
    """Render the digest (and its English twin) against a sample week: a template error is
    found here, with the template's name and line, not on Monday morning."""
    config = parts.config
    problems = []
    for locale in ("fr_CA", "en_CA"):
        renderer = Renderer(config.templates_dir, locale=locale, timezone=config.community.timezone)
        if locale != "fr_CA" and renderer.template_name(DIGEST_TEMPLATE) == DIGEST_TEMPLATE:
            continue  # no English twin: an English community gets the French one
        try:
            renderer.render(DIGEST_TEMPLATE, **sample_context(config.community.name))
        except BridgeError as exc:
            problems.append(str(exc))
    return problems


def _facilitators_problems(parts: Parts, echo: Echo) -> list[str]:
    group = parts.config.community.facilitators_group
    if not group:
        return []
    try:
        problem = facilitators_problem(parts.config, parts.client)
    except BridgeError as exc:
        return [str(exc)]
    if problem is not None:
        return [problem]
    username = parts.config.discourse.api_username
    echo(f"Animation : le compte « {username} » peut écrire au groupe « {group} ».")
    return []


def muting_warnings(client: DiscourseClient, account: User, family: list[Category]) -> list[str]:
    """What the bridge's account muted that Discourse hides from the lists the mirror reads
    (TopicQuery#remove_muted): the category's own topics stay when the category itself is
    muted, but its subcategories' go, and a muted subcategory's topics vanish from the
    category's list. One read more: the category's topics muted one by one (`state=muted`)."""
    category, who = family[0], f"le compte « {account.username} »"
    # family: the category, its ancestors, its subcategories; muting an ancestor mutes it too.
    by_id = {c.id: c for c in family}
    above = {category.id}
    parent = category.parent_id
    while parent in by_id and parent not in above:
        above.add(parent)
        parent = by_id[parent].parent_id
    lines = [
        f"{who} a mis en sourdine la catégorie « {c.name} » : Discourse retire "
        f"{'les sujets des sous-catégories' if c.id in above else 'ses sujets'} des listes "
        "que lit la passerelle, qui ne les verra pas ; remettez-la en suivi normal"
        for c in family
        if c.id in set(account.muted_category_ids)
    ]
    if account.muted_tags:
        tags = ", ".join(account.muted_tags)
        lines.append(
            f"{who} a mis en sourdine les étiquettes {tags} : Discourse retire des listes les "
            "sujets qui les portent, que la passerelle ne verra pas ; retirez-les de la sourdine"
        )
    topics = client.fetch_muted_topics(category)
    if topics:
        titles = ", ".join(f"« {t.title} »" for t in topics[:3])
        more = f" et {len(topics) - 3} autre(s)" if len(topics) > 3 else ""
        lines.append(
            f"{who} a mis en sourdine {len(topics)} sujet(s) de la catégorie ({titles}{more}) : "
            "Discourse les retire des listes, la passerelle ne les verra pas ; "
            "remettez-les en suivi normal"
        )
    return lines
