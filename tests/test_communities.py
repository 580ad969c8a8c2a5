"""Several communities in one store file: each one's sync, search, export, status and ledger
are its own, through the real CLI against the sandbox on loopback.

Community A watches the CdP 2isE's category; community B watches the site's `general`
category with a group of its own; a third community watches the same category slug on another
site. One person belongs to both A and B: each community keeps its own row of them, and forgets
them on its own reconciliation.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sandboxcli import write_config as sandbox_config

from bridge.cli import cli
from bridge.config import load_config
from bridge.discourse import DiscourseClient
from bridge.drafts import Draft, DraftKind
from bridge.sandbox import Sandbox
from bridge.wiring import Parts

NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)
SHARED = "lbeaulieu"  # a member of both communities, and an author in both
B_WORD = "covoiturage"  # only in community B's topics


class Clock:
    def __init__(self) -> None:
        self.value = NOW

    def __call__(self) -> datetime:
        return self.value


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(now=clock) as sb:
        world = sb.world
        world.add_group("generalistes", "Généralistes")
        world.add_member(SHARED, None, NOW - timedelta(days=30), group="generalistes")
        world.add_member("catherine.lafleur", None, NOW - timedelta(days=20), group="generalistes")
        yield sb


def write_config(folder: Path, url: str, category: str, group: str, store: Path) -> Path:
    return sandbox_config(
        folder, url, name=f"Communauté {category}", category=category, group=group, store=store
    )


def bridge(config: Path, sandbox: Sandbox, *args: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), *args],
        env={"DISCOURSE_API_KEY": sandbox.api_key},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout


def rows(store: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(store)
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


def searched(config: Path, sandbox: Sandbox, query: str) -> list[str]:
    out = bridge(config, sandbox, "search", query)
    return [line for line in out.splitlines() if line.startswith("[")]


def exported(config: Path, sandbox: Sandbox, kind: str) -> list[dict[str, str]]:
    text = bridge(config, sandbox, "export", kind)
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def publish(config: Path, sandbox: Sandbox, clock: Clock, draft: Draft) -> None:
    client = DiscourseClient(sandbox.url, sandbox.api_username, sandbox.api_key)
    with Parts.build(load_config(config), now=clock, client=client) as parts:
        [outcome] = parts.publisher().publish([draft]).outcomes
        assert outcome.status == "published", outcome.error


def test_two_communities_of_one_site_share_a_file_and_nothing_else(
    tmp_path: Path, sandbox: Sandbox, clock: Clock
) -> None:
    store = tmp_path / "commun.db"
    a = write_config(tmp_path / "a", sandbox.url, "innovation-sociale-estrie", "cdp-2ise", store)
    b = write_config(tmp_path / "b", sandbox.url, "general", "generalistes", store)
    world = sandbox.world

    bridge(a, sandbox, "sync")
    before_b = rows(store, "select * from topics order by id")
    bridge(b, sandbox, "sync")

    # B's pass changed none of A's rows; the shared person has a row in each community.
    a_topics = "select * from topics where community = 'innovation-sociale-estrie' order by id"
    assert rows(store, a_topics) == before_b
    shared = world.user(SHARED).id
    assert rows(store, "select community from users where id = ? order by 1", shared) == [
        ("general",),
        ("innovation-sociale-estrie",),
    ]
    assert rows(store, "select community, count(*) from group_members group by 1 order by 1") == [
        ("general", 2),
        ("innovation-sociale-estrie", len(world.group("cdp-2ise").members)),
    ]

    # Search and export: each community finds its own.
    assert searched(b, sandbox, B_WORD) != [] and searched(a, sandbox, B_WORD) == []
    assert searched(a, sandbox, "Coaticook") != [] and searched(b, sandbox, "Coaticook") == []
    assert len(exported(a, sandbox, "toolbox")) == 6
    assert exported(b, sandbox, "toolbox") == []

    # The ledger and status: A's publication is A's.
    publish(
        a,
        sandbox,
        clock,
        Draft(
            key="demo:bonjour",
            kind=DraftKind.TOPIC,
            title="Un message de la communauté A",
            raw="Bonjour à toute la communauté de pratique, ceci est un essai.",
            category="bienvenue",
        ),
    )
    assert "1 publiées" in bridge(a, sandbox, "status")
    assert "Publications :\n  aucune pour l'instant" in bridge(b, sandbox, "status")
    assert rows(store, "select community, key, state from ledger") == [
        ("innovation-sociale-estrie", "demo:bonjour", "done")
    ]

    # A topic moves from A's category to B's: A's reconciliation marks it deleted there (with
    # its search document), B's takes it in; both rows live side by side.
    moved = world.find_topic_by_title("Financement des projets collectifs en milieu rural")
    assert moved is not None
    world.move_topic(moved.id, "general")
    # A deletion in A and an anonymised account shared by both.
    gone = world.find_topic_by_title("Maison des jeunes L'Accès")
    assert gone is not None
    world.delete_topic(gone.id)
    anonymous = world.anonymize_user(SHARED).username
    clock.value += timedelta(days=1)

    bridge(a, sandbox, "sync", "--full")

    state = "select community, deleted from topics where id = ? order by 1"
    assert rows(store, state, moved.id) == [("innovation-sociale-estrie", 1)]
    assert rows(store, state, gone.id) == [("innovation-sociale-estrie", 1)]
    assert searched(a, sandbox, "financement participatif") == []
    # A forgot the person; B, which has not reconciled yet, still holds its own row of them.
    names = "select community from users where username = ? order by 1"
    assert rows(store, names, SHARED) == [("general",)]
    assert "1 publiées" in bridge(a, sandbox, "status")

    bridge(b, sandbox, "sync", "--full")

    assert rows(store, state, moved.id) == [("general", 0), ("innovation-sociale-estrie", 1)]
    assert rows(store, state, gone.id) == [("innovation-sociale-estrie", 1)]
    assert searched(b, sandbox, "financement participatif") != []
    assert searched(a, sandbox, "financement participatif") == []
    assert rows(store, names, SHARED) == []
    assert rows(
        store, "select distinct username from posts where user_id = ? and deleted = 0", shared
    ) == [(anonymous,)]
    # B's reconciliation left A's rows as A's own reconciliation wrote them.
    assert rows(store, "select community, key, state from ledger") == [
        ("innovation-sociale-estrie", "demo:bonjour", "done")
    ]


def test_one_category_slug_on_two_sites_in_one_file(tmp_path: Path, clock: Clock) -> None:
    store = tmp_path / "commun.db"
    with Sandbox(now=clock) as first, Sandbox(now=clock) as second:
        a = write_config(tmp_path / "a", first.url, "innovation-sociale-estrie", "cdp-2ise", store)
        b = write_config(tmp_path / "b", second.url, "innovation-sociale-estrie", "cdp-2ise", store)
        bridge(a, first, "sync")
        bridge(b, second, "sync")
        count = "select site, count(*) from topics where deleted = 0 group by 1 order by 1"
        both = rows(store, count)
        assert [n for _, n in both] == [23, 23]

        card = second.world.find_topic_by_title("Maison des jeunes L'Accès")
        assert card is not None
        second.world.delete_topic(card.id)
        clock.value += timedelta(days=1)
        bridge(b, second, "sync", "--full")

        assert dict(rows(store, count)) == {first.url: 23, second.url: 22}
        assert searched(a, first, "Accès") != []
        assert len(exported(a, first, "cartography")) == 8
        assert len(exported(b, second, "cartography")) == 7


def test_forgetting_in_one_community_says_the_file_holds_another(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    store = tmp_path / "commun.db"
    a = write_config(tmp_path / "a", sandbox.url, "innovation-sociale-estrie", "cdp-2ise", store)
    b = write_config(tmp_path / "b", sandbox.url, "general", "generalistes", store)
    bridge(a, sandbox, "sync")
    bridge(b, sandbox, "sync")
    shared = sandbox.world.user(SHARED).id

    said = bridge(a, sandbox, "forget", SHARED)

    # Forgotten in A, still in B (each community has its own keys): said, not hidden.
    assert said.endswith(
        f"Attention : {store} garde aussi les données d'autres communautés (« general » "
        f"({sandbox.url})) ; cette personne n'y est pas oubliée : relancez bridge forget avec "
        "la configuration de chacune.\n"
    )
    assert rows(store, "select community from users where id = ?", shared) == [("general",)]
    again = bridge(b, sandbox, "forget", SHARED)
    assert "(« innovation-sociale-estrie »" in again.splitlines()[-1]
    assert rows(store, "select community from users where id = ?", shared) == []
