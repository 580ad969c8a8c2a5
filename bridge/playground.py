"""The files `bridge demo --keep` and `bridge sandbox` leave to explore: a ready config.yaml, and
a store that starts clean each time but is never a store in service.

Rows are stamped with their (site, community). The demo's sandbox listens on a random port, so
the demo stamps its rows with one stable address, `DEMO_SITE`, which is also where
`bridge sandbox` listens by default: a kept config names the site its store's rows carry, and
the links they hold lead to a running `bridge sandbox`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bridge.config import ENV_API_KEY, Config
from bridge.errors import UsageError
from bridge.store import Store

DEMO_PORT = 8700
DEMO_SITE = f"http://127.0.0.1:{DEMO_PORT}"
# The first line of every config written here: only such a file is ever overwritten.
MARK = "# Écrit par la passerelle pour le bac à sable"


def ready_config(config: Config, folder: Path | None, *, why: str) -> str:
    """`config` as config.yaml text; paths inside `folder` (where the file goes) are written
    relative to it, as config.yaml reads them."""

    # Paths given relative to the current directory (`bridge demo --keep essai`) are made whole
    # first: config.yaml reads its own relative paths from its folder, not from here.
    home = folder.resolve() if folder is not None else None

    def where(path: Path) -> str:
        path = path.resolve()
        if home is not None and path.is_relative_to(home):
            path = path.relative_to(home)
        # A JSON string is a valid YAML double-quoted scalar: spaces and accents are safe.
        return json.dumps(str(path), ensure_ascii=False)

    d, c = config.discourse, config.community
    return f"""\
{MARK} ({why}).
# La clé d'API ne va jamais ici : elle vient de l'environnement ({ENV_API_KEY}).
discourse:
  url: {d.url}
  api_username: {d.api_username}
  # Un bac à sable local : sans limite de rythme.
  requests_per_minute: {d.requests_per_minute:g}
community:
  name: {c.name}
  category: {c.category}
  group: {c.group}
  timezone: {c.timezone}
  locale: {c.locale}
  facilitators_group: {c.facilitators_group}
store:
  path: {where(config.store_path)}
paths:
  templates: {where(config.templates_dir)}
  jobs: {where(config.jobs_dir)}
"""


def write_ready_config(path: Path, text: str) -> None:
    """Write a ready config, never over a config.yaml that a person wrote."""
    if path.exists() and not _written_here(path):
        raise UsageError(
            f"{path} existe déjà et n'a pas été écrit par la passerelle : il n'est pas remplacé "
            "(choisissez un autre dossier ou un autre fichier)"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path} : écriture impossible ({exc.strerror or exc})") from None


def _written_here(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline().startswith(MARK)
    except (OSError, UnicodeDecodeError):
        return False


def start_clean(path: Path, ours: Callable[[str], bool]) -> None:
    """Remove the store at `path` so that a new run starts clean, if it holds only rows of
    sites that are `ours` (an earlier demo or sandbox); refuse a store in service, or any other
    file."""
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        _remove(path)
        return
    scopes = Store.file_scopes(path) if path.is_file() else None
    if scopes is None:
        raise UsageError(
            f"{path} n'est pas une base de la passerelle : elle n'est ni effacée ni modifiée "
            "(choisissez un autre fichier)"
        )
    others = sorted({s for s, _ in scopes if not ours(s)})
    if others:
        raise UsageError(
            f"{path} contient les données de {', '.join(others)} : le bac à sable n'écrit jamais "
            "dans une base en service (choisissez un autre fichier ou un autre dossier)"
        )
    _remove(path)


def _remove(path: Path) -> None:
    # The write-ahead log and the locks belong to the file: a fresh store starts without them.
    for extra in ("", "-wal", "-shm", ".publish.lock"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
