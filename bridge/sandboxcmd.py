"""`bridge sandbox`: the sandbox served until Ctrl-C (or SIGTERM), with a ready config and the key
to give through the environment, so that every command can be tried as in production."""

from __future__ import annotations

import re
import shlex
import signal
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from bridge.config import ENV_API_KEY
from bridge.demo import demo_config
from bridge.errors import UsageError
from bridge.playground import DEMO_PORT, ready_config, start_clean, write_ready_config
from bridge.sandbox import Sandbox, World, build_world, seed_world

Echo = Callable[[str], None]
WORLDS = ("small", "large")
# Named for the sandbox, so that neither lands on the production store or jobs/ beside them.
STORE_NAME = "bac-a-sable.db"
JOBS_NAME = "annonces-bac-a-sable"


def is_sandbox_site(site: str) -> bool:
    return re.fullmatch(r"http://127\.0\.0\.1:\d+", site) is not None


def make_world(kind: str, now: datetime) -> World:
    """small: the demo's French seed; large: a year of a busy category (2,000 topics)."""
    if kind == "large":
        return build_world(now, topics=2000, posts=20_000)
    return seed_world(now)


def serve(
    *,
    port: int = DEMO_PORT,
    world: str = "small",
    config_out: Path | None = None,
    echo: Echo = print,
) -> None:
    """Serve until SIGINT or SIGTERM."""
    folder = (config_out.parent if config_out else Path.cwd()).resolve()
    store = folder / STORE_NAME
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        sandbox = Sandbox(make_world(world, datetime.now(UTC)), port=port)
        try:
            sandbox.start()
        except OSError as exc:
            raise UsageError(
                f"le port {port} n'est pas libre ({exc.strerror or exc}) : "
                "choisissez-en un autre avec --port N (0 : n'importe lequel)"
            ) from None
        try:
            # An earlier session, on this port or another, left it: a new world starts clean.
            start_clean(store, is_sandbox_site)
            config = demo_config(sandbox.url, sandbox.api_username, sandbox.api_key, store)
            config = replace(config, jobs_dir=folder / JOBS_NAME)
            config.jobs_dir.mkdir(parents=True, exist_ok=True)
            # A printed config may be saved anywhere: its paths are absolute.
            text = ready_config(
                config,
                folder if config_out else None,
                why="bridge sandbox, réécrit à chaque démarrage",
            )
            show_ready(sandbox, text, config_out, world, echo)
            # Signals land in the main thread between waits: a short wait notices them at once.
            while not stop.wait(0.2):
                pass
        finally:
            sandbox.stop()
        echo("Bac à sable arrêté.")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def show_ready(
    sandbox: Sandbox, text: str, config_out: Path | None, world: str, echo: Echo
) -> None:
    echo(f"Bac à sable Discourse sur {sandbox.url} (CdP 2isE, données fictives, monde {world}).")
    if config_out is not None:
        write_ready_config(config_out, text)
        echo(f"Configuration écrite : {config_out}")
        config = shlex.quote(str(config_out))
    else:
        echo("Configuration prête (enregistrez-la, par exemple dans bac-a-sable.yaml) :")
        echo("# --- début ---")
        echo(text.rstrip("\n"))
        echo("# --- fin ---")
        config = "bac-a-sable.yaml"
    echo("La clé, par l'environnement (jamais dans le fichier) :")
    echo(f"  export {ENV_API_KEY}={sandbox.api_key}")
    echo("Puis, comme en production :")
    for command in (
        "check",
        "sync",
        "announce --dry-run",
        "digest --dry-run",
        "welcome --dry-run",
        "status",
        "-v run    (le service, qui tourne jusqu'à Ctrl-C)",
    ):
        echo(f"  bridge --config {config} {command}")
    echo(
        f"Une annonce à essayer : copiez jobs/_exemple-webinaire.yaml dans {JOBS_NAME}/ "
        "(sans le « _ » du début, avec une date à venir), puis bridge announce."
    )
    echo(f"Prêt sur {sandbox.url}. Ctrl-C pour arrêter.")
