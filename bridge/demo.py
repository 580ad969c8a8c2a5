"""`bridge demo`: a full cycle against the built-in sandbox, with no server, no config, no key.

The sandbox is a Discourse-compatible server on loopback; everything else is the real bridge:
the same client, store, templates and publisher as in production.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bridge.config import (
    CommunityConfig,
    Config,
    DiscourseConfig,
    Subcategories,
)
from bridge.drafts import Draft, DraftKind
from bridge.mirror import run_sync
from bridge.sandbox import Sandbox
from bridge.store import Store
from bridge.wiring import Parts

Echo = Callable[[str], None]


def project_dir(name: str) -> Path:
    """A top-level folder of the project (templates/, jobs/), next to the package when installed
    in place, else in the current directory."""
    beside = Path(__file__).resolve().parents[1] / name
    return beside if beside.is_dir() else Path.cwd() / name


def demo_config(url: str, username: str, key: str, store_path: Path) -> Config:
    return Config(
        discourse=DiscourseConfig(url=url, api_username=username, api_key=key, requests_per_minute=0),
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
            echo(
                f"Miroir : {store.count('topics')} sujets, {store.count('posts')} messages, "
                f"{store.count('group_members')} membres du groupe lus en "
                f"{summary.requests} requêtes."
            )
            show_entries(store, echo)

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
                echo(f"Publié : « {draft.title} » ({outcome.status}) → {where}")
            echo(
                f"Relancé : {again.count('already')} déjà publié, rien en double "
                f"(registre : {store.ledger_summary()})."
            )
            echo(f"Base locale : {path}" + ("" if store_path else " (effacée à la fin)"))
            store.db.close()


def show_entries(store: Store, echo: Echo, count: int = 3) -> None:
    """A few toolbox entries and cards, as the mirror parsed them."""
    tools = store.entries("toolbox_entries")
    cards = store.entries("cartography_cards")
    echo(f"Boîte à outils : {len(tools)} outils, par exemple :")
    for tool in tools[:count]:
        themes = ", ".join(tool["themes"]) or "sans thème"
        echo(f"  - {tool['title']} ({themes}) : {tool['links'][0] if tool['links'] else '—'}")
    echo(f"Cartographie : {len(cards)} fiches, par exemple :")
    for card in cards[:count]:
        echo(f"  - {card['organisation']} — {card['territory'] or 'territoire inconnu'}")
    incomplete = [c for c in cards if c["warnings"]]
    if incomplete:
        echo(
            f"  {len(incomplete)} fiche(s) à compléter, listées par `bridge status` "
            f"(ex. « {incomplete[0]['title']} » : {incomplete[0]['warnings'][0]})."
        )
