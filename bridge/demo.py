"""`bridge demo`: a full cycle against the built-in sandbox, with no server, no config, no key.

The sandbox is a Discourse-compatible server on loopback; everything else is the real bridge:
the same client, store, templates and publisher as in production.
"""

from __future__ import annotations

import shlex
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.config import (
    CommunityConfig,
    Config,
    DiscourseConfig,
    Subcategories,
)
from bridge.discourse import DiscourseClient
from bridge.drafts import Draft, DraftKind
from bridge.outcomes import OutcomeStatus
from bridge.playground import DEMO_SITE, ready_config, start_clean, write_ready_config
from bridge.runs import run_announce, run_digest, run_sync
from bridge.sandbox import Sandbox
from bridge.store import LedgerState, Store
from bridge.welcome.run import run_welcome
from bridge.wiring import Parts
from bridge.words import OUTCOME_WORDS, RUN_WORDS

Echo = Callable[[str], None]


def project_dir(name: str) -> Path:
    """A top-level folder of the project (templates/, jobs/), next to the package when installed
    in place, else in the current directory."""
    beside = Path(__file__).resolve().parents[1] / name
    return beside if beside.is_dir() else Path.cwd() / name


def demo_config(url: str, username: str, key: str, store_path: Path) -> Config:
    return Config(
        discourse=DiscourseConfig(
            url=url, api_username=username, api_key=key, requests_per_minute=0
        ),
        community=CommunityConfig(
            name="CdP 2isE",
            category="innovation-sociale-estrie",
            group="cdp-2ise",
            timezone="America/Toronto",
            locale="fr_CA",
            facilitators_group="animation-2ise",
            subcategories=Subcategories(),
        ),
        store_path=store_path,
        templates_dir=project_dir("templates"),
        jobs_dir=project_dir("jobs"),
    )


def run_demo(
    *,
    store_path: Path | None = None,
    keep: Path | None = None,
    echo: Echo = print,
    now: Callable[[], datetime] | None = None,
) -> None:
    """The demo; `keep` leaves a config.yaml and its store (bridge.db, or `store_path`) in that
    folder, and `store_path` alone keeps the store. Either starts clean on every run."""
    clock = now or (lambda: datetime.now(UTC))
    with tempfile.TemporaryDirectory(prefix="bridge-demo-") as tmp:
        path = store_path or (keep or Path(tmp)) / "bridge.db"
        if store_path or keep:
            start_clean(path, DEMO_SITE.__eq__)
        with Sandbox(now=clock) as sandbox:
            # The rows carry the stable demo address, not the sandbox's random port.
            config = demo_config(DEMO_SITE, sandbox.api_username, sandbox.api_key, path)
            config = replace(config, jobs_dir=(keep or Path(tmp)) / "jobs")
            if keep:
                write_ready_config(
                    keep / "config.yaml",
                    ready_config(
                        config, keep.resolve(), why="bridge demo --keep, réécrit à chaque démo"
                    ),
                )
            parts = Parts.build(config, now=clock, client=sandbox_client(sandbox))
            echo(f"Bac à sable Discourse démarré sur {sandbox.url} (CdP 2isE, données fictives).")

            summary = run_sync(parts)
            store = parts.store
            counts = store.counts()
            echo(
                f"Miroir : {counts.topics} sujets, {counts.posts} messages, "
                f"{counts.members} membres du groupe lus en {summary.requests} requêtes."
            )
            show_entries(store, echo)

            announce_demo(parts, sandbox, config.jobs_dir, echo)
            digest_demo(parts, sandbox, echo)
            welcome_demo(parts, sandbox, echo)

            draft = Draft(
                key="demo:bonjour",
                kind=DraftKind.TOPIC,
                title="La passerelle En Commun est branchée",
                raw=parts.renderer.render("demo.md.j2", community=config.community.name),
                category=config.community.subcategories.welcome,
                label="message de démonstration",
            )
            publisher = parts.publisher()
            first = publisher.publish([draft])
            again = publisher.publish([draft])
            for outcome in first.outcomes:
                topic = sandbox.world.topic(outcome.topic_id) if outcome.topic_id else None
                where = f"{sandbox.url}/t/{topic.slug}/{topic.id}" if topic else "?"
                state = OUTCOME_WORDS[outcome.status]
                echo(f"Message de démonstration : « {draft.title} » {state} → {where}")
            echo(
                f"Relancé : {again.count(OutcomeStatus.ALREADY)} déjà publié, rien en double "
                f"({store.ledger_summary().get(LedgerState.DONE, 0)} publications au registre)."
            )
            runs = sorted((run.job, RUN_WORDS[run.status]) for run in store.last_runs())
            echo(f"Tâches : {', '.join(f'{job} {state}' for job, state in runs)}.")
            echo(service_words(config))
            parts.close()
        show_kept(path, keep if keep else None, kept_store=bool(store_path or keep), echo=echo)


def sandbox_client(sandbox: Sandbox) -> DiscourseClient:
    return DiscourseClient(
        sandbox.url, sandbox.api_username, sandbox.api_key, requests_per_minute=0
    )


# A word the demo's toolbox, cards and topics hold (tests/test_demo.py searches it).
DEMO_SEARCH = "mobilisation"


def show_kept(path: Path, keep: Path | None, *, kept_store: bool, echo: Echo) -> None:
    """Where the demo's files are, and the commands that explore them, ready to paste."""
    if keep is None:
        if kept_store:
            echo(
                f"Base locale : {path} (gardée; pour l'explorer avec search, export ou status, "
                "gardez aussi sa configuration : bridge demo --keep DOSSIER)."
            )
        else:
            echo("Base locale : temporaire, effacée à la fin (gardez-la avec --keep DOSSIER).")
        return
    config = shlex.quote(str(keep / "config.yaml"))
    echo(f"Base locale : {path}, et sa configuration {keep / 'config.yaml'}. À explorer :")
    for command in (
        f"search {DEMO_SEARCH}",
        "export cartography --format csv --output " + shlex.quote(str(keep / "cartographie.csv")),
        "status",
        "browse    (extra facultatif : pip install -e '.[browse]')",
    ):
        echo(f"  bridge --config {config} {command}")
    echo(
        f"Relancer la démo sur {keep} repart de zéro; bridge sandbox sert ce même site "
        f"({DEMO_SITE}) pour essayer les autres commandes."
    )


def service_words(config: Config) -> str:
    """What `bridge run` would schedule with this configuration (its defaults, here)."""
    from bridge.jobtable import JOBS
    from bridge.service import schedule_of

    schedule = schedule_of(config)
    planned = [
        f"{job} {schedule[job].text}" + ("" if job in JOBS else " (pas encore disponible)")
        for job in schedule.timings
    ]
    return f"En service (bridge run), la passerelle ferait : {', '.join(planned)}."


def show_entries(store: Store, echo: Echo, count: int = 3) -> None:
    """A few toolbox entries and cards, as the mirror parsed them."""
    tools = store.toolbox_entries()
    cards = store.cards()
    echo(f"Boîte à outils : {len(tools)} outils, par exemple :")
    for tool in tools[:count]:
        themes = ", ".join(tool.themes) or "sans thème"
        echo(f"  - {tool.title} ({themes}) : {tool.links[0] if tool.links else '—'}")
    echo(f"Cartographie : {len(cards)} fiches, par exemple :")
    for card in cards[:count]:
        echo(f"  - {card.organisation} — {card.territory or 'territoire inconnu'}")
    incomplete = [c for c in cards if c.warnings]
    if incomplete:
        echo(
            f"  {len(incomplete)} fiche(s) à compléter, listées par `bridge status` "
            f"(ex. « {incomplete[0].title} » : {incomplete[0].warnings[0]})."
        )


DEMO_JOB = """\
kind: webinaire
title: "Webinaire : mesurer l'impact social de nos projets"
start: {start:%Y-%m-%d %H:%M}
end: "{end:%H:%M}"
link: https://visio.exemple.ca/cdp-2ise
description: |
  Un partage d'outils simples pour documenter l'impact social, suivi d'une période d'échanges.
registration: https://inscription.exemple.ca/webinaire-impact
reminders: [1 jour]
tags: [webinaire]
"""


def announce_demo(parts: Parts, sandbox: Sandbox, folder: Path, echo: Echo) -> None:
    """Announce a webinar in three days, then come back the day before for its reminder."""
    tz = parts.config.community.tz
    start = (parts.now().astimezone(tz) + timedelta(days=3)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    folder.mkdir(parents=True, exist_ok=True)
    job = folder / "webinaire-demo.yaml"
    job.write_text(DEMO_JOB.format(start=start, end=start + timedelta(hours=1)), encoding="utf-8")
    quiet: Echo = lambda line: None  # noqa: E731
    run_announce(parts, files=[job], now_flag=True, echo=quiet)
    # The reminder is due the day before. That pass runs on a private copy of the store, whose
    # clock stands there: the store a person keeps holds no time that has not come yet (its
    # reminder stays ahead, as `bridge announce --dry-run` shows).
    eve = start - timedelta(days=1) + timedelta(minutes=1)
    client = sandbox_client(sandbox)
    with Parts.build(parts.config, now=lambda: eve, client=client, readonly=True) as later:
        run_announce(later, files=[job], echo=quiet)
    topic = sandbox.world.find_topic_by_title("Webinaire : mesurer l'impact social de nos projets")
    if topic is None:
        echo("Annonce : rien de publié (voir bridge status).")
        return
    posts = sandbox.world.posts_written(topic.id)
    state = "épinglée" if topic.pinned else "non épinglée"
    echo(
        f"Annonce : « {topic.title} » publiée et {state}, avec {len(posts) - 1} rappel(s) "
        f"(envoyé à la veille simulée, qui ne compte pas dans la base locale) "
        f"→ {sandbox.url}/t/{topic.slug}/{topic.id}"
    )


def digest_demo(parts: Parts, sandbox: Sandbox, echo: Echo, lines: int = 8) -> None:
    """Publish the digest of the sandbox's last complete week, and show how it begins."""
    report = run_digest(parts, echo=lambda line: None)
    entry = parts.store.ledger_get(f"digest:{report.week}")
    topic = sandbox.world.topics.get(entry.topic_id) if entry and entry.topic_id else None
    if topic is None:
        echo(f"Résumé {report.week} : rien de publié ({report.describe()}).")
        return
    where = f"{sandbox.url}/t/{topic.slug}/{topic.id}"
    echo(
        f"Résumé : « {topic.title} » envoyé à {parts.config.community.facilitators_group} → {where}"
    )
    first = sandbox.world.posts_in(topic.id)[0].raw.strip().splitlines()
    for line in first[:lines]:
        echo(f"  | {line}")
    if len(first) > lines:
        echo(f"  | … ({len(first) - lines} ligne(s) de plus)")


def welcome_demo(parts: Parts, sandbox: Sandbox, echo: Echo) -> None:
    """The first pass knows the group as it is; then someone joins and is welcomed."""
    quiet: Echo = lambda line: None  # noqa: E731
    run_welcome(parts, echo=quiet)
    newcomer = sandbox.world.add_member("rosalie.nadeau", "Rosalie Nadeau", parts.now())
    run_sync(parts)
    run_welcome(parts, now_flag=True, echo=quiet)
    with sandbox.world.lock:
        topic = next(
            (t for t in sandbox.world.topics.values() if newcomer.username in t.title), None
        )
    if topic is None:
        echo("Accueil : rien de publié (voir bridge status).")
        return
    echo(f"Accueil : « {topic.title} » → {sandbox.url}/t/{topic.slug}/{topic.id}")
