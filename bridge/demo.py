"""`bridge demo`: a full cycle against the built-in sandbox, with no server, no config, no key.

The sandbox is a Discourse-compatible server on loopback; everything else is the real bridge:
the same client, store, templates and publisher as in production.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.config import (
    CommunityConfig,
    Config,
    DiscourseConfig,
    Subcategories,
)
from bridge.drafts import Draft, DraftKind
from bridge.outcomes import OutcomeStatus
from bridge.runs import run_announce, run_digest, run_sync
from bridge.sandbox import Sandbox
from bridge.store import LedgerState, Store
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
    echo: Echo = print,
    now: Callable[[], datetime] | None = None,
) -> None:
    clock = now or (lambda: datetime.now(UTC))
    with tempfile.TemporaryDirectory(prefix="bridge-demo-") as tmp:
        path = store_path or Path(tmp) / "bridge.db"
        with Sandbox(now=clock) as sandbox:
            config = demo_config(sandbox.url, sandbox.api_username, sandbox.api_key, path)
            parts = Parts.build(config, now=clock)
            echo(f"Bac à sable Discourse démarré sur {sandbox.url} (CdP 2isE, données fictives).")

            summary = run_sync(parts)
            store = parts.store
            counts = store.counts()
            echo(
                f"Miroir : {counts.topics} sujets, {counts.posts} messages, "
                f"{counts.members} membres du groupe lus en {summary.requests} requêtes."
            )
            show_entries(store, echo)

            announce_demo(parts, sandbox, Path(tmp), echo)
            digest_demo(parts, sandbox, echo)

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
                echo(f"Publié : « {draft.title} » ({OUTCOME_WORDS[outcome.status]}) → {where}")
            echo(
                f"Relancé : {again.count(OutcomeStatus.ALREADY)} déjà publié, rien en double "
                f"({store.ledger_summary().get(LedgerState.DONE, 0)} publications au registre)."
            )
            runs = sorted((run.job, RUN_WORDS[run.status]) for run in store.last_runs())
            echo(f"Tâches : {', '.join(f'{job} {state}' for job, state in runs)}.")
            if store_path:
                echo(f"Base locale : {path} (à explorer avec bridge browse, search ou export).")
            else:
                echo("Base locale : temporaire, effacée à la fin (gardez-la avec --store).")
            parts.close()


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
    real_now = parts.now
    tz = parts.config.community.tz
    start = (real_now().astimezone(tz) + timedelta(days=3)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    job = folder / "webinaire-demo.yaml"
    job.write_text(DEMO_JOB.format(start=start, end=start + timedelta(hours=1)), encoding="utf-8")
    quiet: Echo = lambda line: None  # noqa: E731
    try:
        run_announce(parts, files=[job], now_flag=True, echo=quiet)
        # The reminder is due one day before: move the bridge's clock there.
        parts.now = lambda: start - timedelta(days=1) + timedelta(minutes=1)
        run_announce(parts, files=[job], echo=quiet)
    finally:
        parts.now = real_now
    topic = sandbox.world.find_topic_by_title("Webinaire : mesurer l'impact social de nos projets")
    if topic is None:
        echo("Annonce : rien de publié (voir bridge status).")
        return
    posts = sandbox.world.posts_written(topic.id)
    state = "épinglée" if topic.pinned else "non épinglée"
    echo(
        f"Annonce : « {topic.title} » publiée et {state}, avec {len(posts) - 1} rappel(s) "
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
