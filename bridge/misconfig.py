"""The misconfigurations `bridge check` looks for and every job refuses, in the same words.

A category, a subcategory or a group that `config.yaml` names but the site does not have (or
hides from the bridge's account), and a store that cannot be written: one line naming the key
of `config.yaml`, and exit code 2 (`ConfigError`), whether `check` finds it or a job meets it.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path

from bridge.config import Config, Subcategories
from bridge.discourse import Category, DiscourseClient
from bridge.errors import (
    ConfigError,
    GroupUnreadable,
    NotFoundError,
    UnknownCategory,
    os_error_words,
)

# The keys of `community.subcategories` (toolbox, cartography, …), as config.py reads them.
SUBCATEGORY_KEYS = tuple(f.name for f in fields(Subcategories) if f.name != "written")


def _where(config: Config, key: str) -> str:
    return f"{config.source or 'config.yaml'}, {key}"


def as_config_error(config: Config, exc: UnknownCategory | GroupUnreadable) -> ConfigError:
    """What Discourse said, placed on the key of `config.yaml` that named it."""
    if isinstance(exc, GroupUnreadable):
        key = "community.group"
        if exc.group != config.community.group and exc.group == config.community.facilitators_group:
            key = "community.facilitators_group"
        return ConfigError(f"{_where(config, key)} : {exc}")
    sub = config.community.subcategories
    names = {str(getattr(sub, k)): f"community.subcategories.{k}" for k in SUBCATEGORY_KEYS}
    return ConfigError(f"{_where(config, names.get(exc.wanted, 'community.category'))} : {exc}")


def missing_subcategories(
    config: Config, known: Callable[[str], bool], *, defaults: bool = False
) -> list[str]:
    """A line for each subcategory `config.yaml` names that `known` (slug or id) does not know;
    with `defaults`, one for each key it leaves out whose default the category does not have
    (a warning: a community may have no toolbox)."""
    sub = config.community.subcategories
    where = f"dans la catégorie « {config.community.category} » sur {config.site}"
    lines = []
    for k in SUBCATEGORY_KEYS:
        name = str(getattr(sub, k))
        if known(name) or (k in sub.written) == defaults:
            continue
        if defaults:
            lines.append(
                f"{_where(config, f'community.subcategories.{k}')} n'est pas donné et il n'y a "
                f"pas de sous-catégorie « {name} » (la valeur par défaut) {where} : indiquez "
                "le slug ou l'id de la bonne, si elle existe"
            )
        else:
            lines.append(
                f"{_where(config, f'community.subcategories.{k}')} : la sous-catégorie "
                f"« {name} » n'est pas {where} (ou le compte « {config.discourse.api_username} » "
                "ne peut pas la voir) : indiquez le slug ou l'id d'une de ses sous-catégories"
            )
    return lines


def family_knows(family: Sequence[Category]) -> Callable[[str], bool]:
    """Whether a slug or id names one of the category's family (as the store finds it)."""
    names = {n for c in family for n in (c.slug, str(c.id))}
    return lambda slug_or_id: slug_or_id in names


def facilitators_problem(config: Config, client: DiscourseClient) -> str | None:
    """The digest goes to the facilitators' group as a private message: Discourse refuses it
    unless the group is messageable by the bridge's account (the group's « Qui peut lui
    envoyer un message » setting, Group#messageable)."""
    group = config.community.facilitators_group
    username = config.discourse.api_username
    try:
        ok = client.group_messageable(group)
    except NotFoundError:
        return (
            f"le groupe « {group} » (community.facilitators_group) est introuvable sur "
            f"{config.site}, ou le compte « {username} » ne peut pas le voir"
        )
    if ok:
        return None
    return (
        f"le compte « {username} » ne peut pas envoyer de message privé au groupe "
        f"« {group} » sur {config.site} : le résumé hebdomadaire ne pourra pas lui être "
        "envoyé ; dans les réglages du groupe, « Qui peut envoyer un message à ce groupe » "
        "doit inclure les modérateurs"
    )


def store_problem(config: Config) -> str | None:
    """Why the store cannot be written where `store.path` says, without writing anything.

    The store creates its missing folders: the nearest existing one must be writable.
    """
    path = Path(config.store_path)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    code = None
    if path.is_dir():
        code = errno.EISDIR
    elif not folder.is_dir():
        code = errno.ENOTDIR
    elif not os.access(folder, os.W_OK | os.X_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        code = errno.EACCES
    elif os.statvfs(folder).f_flag & os.ST_RDONLY:
        code = errno.EROFS
    if code is None:
        return None
    return (
        f"{_where(config, 'store.path')} : la base locale {path} ne peut pas être écrite "
        f"dans {folder} ({os_error_words(OSError(code, ''))})"
    )


def require_writable_store(config: Config) -> None:
    problem = store_problem(config)
    if problem is not None:
        raise ConfigError(problem)
