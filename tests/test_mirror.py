"""The mirror against the sandbox on loopback: the real client, pydiscourse, requests and SQLite.

The clock is injected (the sandbox's world and the bridge share it), so nothing sleeps. The store
is a file in tmp_path, as in production.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils.db
from click.testing import CliRunner
from storerows import count_rows

from bridge.cli import cli
from bridge.demo import demo_config
from bridge.discourse import DiscourseClient
from bridge.entries import CartographyCard
from bridge.errors import BridgeError
from bridge.mirror import CURSOR_CATEGORY, CURSOR_MEMBERS, CURSOR_SWEEP, CURSOR_TOPICS, SyncSummary
from bridge.runs import run_sync
from bridge.sandbox import STAFF_USERNAME, Sandbox, World, build_world, rules
from bridge.store import Store, StoredTopic, iso, parse_iso
from bridge.wiring import Parts

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)  # as in conftest.py
WATCHED_ID = 10
MIRROR_TABLES = (
    "categories",
    "topics",
    "posts",
    "users",
    "group_members",
    "cursors",
    "toolbox_entries",
    "cartography_cards",
    "search_documents",
)


class Clock:
    """The shared, injected `now`."""

    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta: float) -> datetime:
        self.value += timedelta(**delta)
        return self.value


@pytest.fixture(autouse=True)
def secure_delete_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite builds differ: Debian's overwrites deleted content by default, python.org's and
    macOS's do not. Connections here start without it, so that the store must ask for it."""
    connect = sqlite3.connect

    def plain(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.execute("pragma secure_delete = off")
        return conn

    monkeypatch.setattr(sqlite_utils.db.sqlite3, "connect", plain)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(now=clock) as sb:
        yield sb


def make_parts(sandbox: Sandbox, path: Path, clock: Callable[[], datetime]) -> Parts:
    config = demo_config(sandbox.url, sandbox.api_username, sandbox.api_key, path)
    # Retries back off through `sleep`: recorded, never slept.
    client = DiscourseClient(
        sandbox.url,
        sandbox.api_username,
        sandbox.api_key,
        requests_per_minute=0,
        sleep=lambda seconds: None,
    )
    return Parts.build(config, now=clock, client=client)


@pytest.fixture
def parts(sandbox: Sandbox, tmp_path: Path, clock: Clock) -> Parts:
    return make_parts(sandbox, tmp_path / "bridge.db", clock)


def sync(parts: Parts, sandbox: Sandbox, *, full: bool = False) -> SyncSummary:
    sandbox.reset_requests()
    return run_sync(parts, full=full)


# The watched category's list, as the mirror reads it (with ?order=activity&page=N).
LIST = "/c/innovation-sociale-estrie/10/l/latest.json"


def paths(sandbox: Sandbox) -> list[str]:
    return [path.split("?")[0] for _, path in sandbox.requests]


def listed(world: World) -> dict[int, Any]:
    """What the watched category lists, by the sandbox's own rules: its topics and its
    subcategories', not deleted, no private message, no subcategory "À propos" topic."""
    with world.lock:
        family = world.descendant_ids(WATCHED_ID)
        hidden = {
            c.topic_id for c in world.categories.values() if c.id != WATCHED_ID and c.topic_id
        }
        return {
            t.id: t
            for t in world.topics.values()
            if t.category_id in family
            and t.deleted_at is None
            and not t.is_private_message
            and t.id not in hidden
        }


def topic_id(world: World, title: str) -> int:
    topic = world.find_topic_by_title(title)
    assert topic is not None, title
    return topic.id


def dump(store: Store) -> dict[str, list[str]]:
    """Every row of the mirror's tables, comparable whole (job_runs left out: runs differ)."""
    return {
        table: sorted(
            json.dumps(row, sort_keys=True, ensure_ascii=False) for row in store.db[table].rows
        )
        for table in MIRROR_TABLES
    }


def assert_consistent(store: Store, world: World) -> None:
    """No topic without its posts; no cursor ahead of the rows it covers."""
    stored = {t.id: t for t in store.topics()}
    for tid, row in stored.items():
        # posts_count counts the small actions status changes write; the mirror keeps none.
        actions = len(world.posts_in(tid)) - len(world.posts_written(tid))
        assert len(store.posts_of(tid)) == row.posts_count - actions, row.title
    cursor = parse_iso(store.get_cursor(CURSOR_TOPICS))
    if cursor is None:
        return
    for topic in listed(world).values():
        if topic.bumped_at <= cursor:
            assert topic.id in stored, topic.title
            # Every post it covers is there (deletions may wait for the sweep).
            assert {p.id for p in world.posts_written(topic.id)} <= {
                p.id for p in store.posts_of(topic.id)
            }, topic.title


def traces(store: Store, *needles: str) -> list[str]:
    """Where any of these names is still held, as a facilitator's audit would look: every cell
    of every table (the search index's shadow tables included, their blobs as bytes), every
    term the search index stores (the segments it has not merged yet included), and the
    database file itself, freed pages included."""
    words = [n for n in needles if n]
    found = []
    tables = [r[0] for r in store.db.execute("select name from sqlite_master where type = 'table'")]
    for table in tables:
        for row in store.db.execute(f"select * from [{table}]"):
            for column, value in enumerate(row):
                if _holds(value, words):
                    found.append(f"{table}[{column}]: {value!r:.120}")
    # The index holds words, not phrases: a name is there when all its words are.
    terms = fts_terms(store)
    found += [f"search index terms: {n}" for n in words if set(_tokens(n)) <= terms]
    path = store.db.execute("pragma database_list").fetchone()[2]
    if path:
        store.db.execute("pragma wal_checkpoint(truncate)")
        data = Path(path).read_bytes()
        found += [f"file: {n}" for n in words if _holds(data, [n])]
    return found


def _holds(value: object, words: list[str]) -> bool:
    if isinstance(value, str):
        return any(w.casefold() in value.casefold() for w in words)
    if isinstance(value, bytes):
        return any(w.encode() in value or w.lower().encode() in value for w in words)
    return False


def _tokens(text: str) -> list[str]:
    """The search index's words for `text` (unicode61, diacritics removed)."""
    folded = "".join(
        c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c)
    )
    return [t for t in re.split(r"[^0-9a-z]+", folded) if t]


def fts_terms(store: Store, table: str = "search_documents_fts") -> set[str]:
    """Every term physically stored in an FTS5 index, read from its leaf pages: live terms and
    those of deleted documents that a merge has not dropped yet."""
    terms = set()
    for rowid, block in store.db.execute(f"select id, block from [{table}_data]"):
        # Segment leaves only: not the averages (1) and structure (10) records, nor the
        # doclist-index pages (a height or a flag above the page number).
        if rowid >> 37 == 0 or (rowid >> 31) & 0x3F or not block:
            continue
        footer = int.from_bytes(block[2:4], "big")
        offsets, i, at = [], footer, 0
        while i < len(block):
            delta, i = _varint(block, i)
            at += delta
            offsets.append(at)
        previous = b""
        for n, at in enumerate(offsets):
            if n == 0:  # the first term of a page is whole
                size, at = _varint(block, at)
                term = block[at : at + size]
            else:  # the others share a prefix with the one before
                prefix, at = _varint(block, at)
                size, at = _varint(block, at)
                term = previous[:prefix] + block[at : at + size]
            previous = term
            terms.add(term[1:].decode("utf-8", "replace"))  # after the index's prefix byte
    return terms


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = 0
    for n in range(9):
        byte = data[i]
        i += 1
        if n == 8:
            return (value << 8) | byte, i
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, i
    return value, i


def unseen_authors(world: World) -> set[str]:
    """Authors of listed posts who are not members and whose name a sweep with nothing to do
    does not see: not the last poster of a listed topic, nor the author of one of the first
    20 posts of a toolbox entry or card, nor of a post of a topic active in the last 14 days
    (read whole). The sweep reads their profile."""
    with world.lock:
        members = {m.user.id for m in world.group("cdp-2ise").members.values()}
        entries = {world.category("boite-a-outils").id, world.category("cartographie").id}
        since = world.now() - timedelta(days=14)
        topics = listed(world)
        posts = {tid: world.posts_written(tid) for tid in topics}
        authors = {p.user.username for ps in posts.values() for p in ps if p.user.id not in members}
        last = {ps[-1].user.username for ps in posts.values() if ps}
        seen = {
            p.user.username
            for tid, ps in posts.items()
            if topics[tid].category_id in entries
            for p in ps[:20]
        }
        recent = {
            p.user.username
            for tid, ps in posts.items()
            if topics[tid].bumped_at >= since
            for p in ps
        }
        return authors - last - seen - recent


def erased_rows(store: Store) -> list[dict[str, Any]]:
    """Deleted posts and topics that still hold text or a name."""
    return list(
        store.db.query(
            "select 'post' as kind, id from posts where deleted = 1 and "
            "(raw is not null or cooked is not null or username is not null) union all "
            "select 'topic', id from topics where deleted = 1 and last_poster_username is not null"
        )
    )


def on_request(
    sandbox: Sandbox, when: Callable[[str, str], bool], act: Callable[[], object]
) -> list[str]:
    """Run `act` once, just before the sandbox answers the first request `when` matches (the
    forum changing while a pass reads it)."""
    handle = sandbox.handle
    done: list[str] = []

    def patched(method: str, target: str, headers: Any, body: bytes) -> Any:
        if not done and when(method, target):
            done.append(target)
            act()
        return handle(method, target, headers, body)

    sandbox.handle = patched  # type: ignore[method-assign]
    return done


# --- first pass ----------------------------------------------------------------------------------


def test_first_sync_mirrors_the_watched_category_and_nothing_else(parts, sandbox):
    world = sandbox.world
    summary = sync(parts, sandbox)
    store = parts.store

    expected = listed(world)
    assert {t.id for t in store.topics()} == set(expected)
    assert count_rows(store, "topics") == len(expected) == 23
    titles = {t.title for t in store.topics()}
    # Another category's topics and a private message stay out.
    assert "Maintenance prévue de la plateforme" not in titles
    assert "Préparation du prochain 5 à 7" not in titles
    # Every post, with its raw Markdown; the reply deleted on the forum is not there.
    for tid in expected:
        assert [(p.post_number, p.raw) for p in store.posts_of(tid)] == [
            (p.post_number, p.raw) for p in world.posts_in(tid)
        ]
    assert count_rows(store, "posts") == sum(len(world.posts_in(t)) for t in expected) == 47
    # Every member of the group, with the date they joined.
    members = {m.user.username: m.added_at for m in world.group("cdp-2ise").members.values()}
    assert {
        r["username"]: parse_iso(r["added_at"]) for r in store.db["group_members"].rows
    } == members
    # The category and its subcategories (two reads), one list page (by activity, at its
    # canonical path), one read per topic, one member page.
    assert paths(sandbox) == (
        ["/c/innovation-sociale-estrie/show.json", "/categories.json", LIST]
        + [f"/t/{tid}/posts.json" for tid in (t.id for t in _in_list_order(store, world))]
        + ["/groups/cdp-2ise/members.json"]
    )
    assert summary.requests == 27
    assert summary.swept and summary.topics_saved == 23 and summary.posts_saved == 47
    assert count_rows(store, "toolbox_entries") == 6
    assert count_rows(store, "cartography_cards") == 8
    assert count_rows(store, "search_documents") == 23
    assert_consistent(store, world)


def _in_list_order(store: Store, world: World) -> list[StoredTopic]:
    pinned = [t for t in store.topics() if t.pinned]
    return pinned + [t for t in store.topics() if not t.pinned]


def test_first_sync_stores_exact_rows(parts, sandbox):
    world = sandbox.world
    sync(parts, sandbox)
    store = parts.store
    site, community = parts.config.site, "innovation-sociale-estrie"
    scope = {"site": site, "community": community}
    tid = topic_id(world, "Financement des projets collectifs en milieu rural")
    topic = world.topic(tid)

    assert store.db["topics"].get((site, community, tid)) == {
        **scope,
        "id": tid,
        "category_id": 15,
        "title": "Financement des projets collectifs en milieu rural",
        "slug": "financement-des-projets-collectifs-en-milieu-rural",
        "created_at": iso(topic.created_at),
        "bumped_at": iso(topic.bumped_at),
        "last_posted_at": iso(topic.last_posted_at),
        "posts_count": 5,
        "reply_count": 4,
        "like_count": 8,
        "views": topic.views,
        "pinned": 0,
        "closed": 0,
        "archived": 0,
        "visible": 1,
        "tags": "[]",
        "last_poster_username": "kevin_bouchard",
        "deleted": 0,
        "synced_at": iso(NOW),
    }
    last = world.posts_in(tid)[-1]
    assert store.db["posts"].get((site, community, last.id)) == {
        **scope,
        "id": last.id,
        "topic_id": tid,
        "post_number": 5,
        "username": "kevin_bouchard",
        "user_id": world.user("kevin_bouchard").id,
        "raw": "Je relance le sujet : quelqu'un a déjà essayé le financement participatif pour "
        "compléter un montage financier ?",
        "cooked": last.cooked,
        "created_at": iso(last.created_at),
        "updated_at": iso(last.updated_at),
        "reply_to_post_number": None,
        "like_count": 1,
        "reply_count": 0,
        "deleted": 0,
        "withdrawn": 0,
        "hidden": 0,
    }
    nadia = world.user("nadia.ouellet")
    assert list(store.db["group_members"].rows_where("user_id = ?", [nadia.id])) == [
        {
            **scope,
            "group_name": "cdp-2ise",
            "user_id": nadia.id,
            "username": "nadia.ouellet",
            "name": "Nadia Ouellet",
            "added_at": iso(NOW - timedelta(days=0.3)),
        }
    ]
    card_id = topic_id(world, "Fiche : Réseau d'entraide de la Vallée")
    card = next(c for c in store.cards() if c.topic_id == card_id)
    assert {
        k: getattr(card, k) for k in ("title", "author", "organisation", "territory", "website")
    } == {
        "title": "Fiche : Réseau d'entraide de la Vallée",
        "author": "dfoley",
        "organisation": "Réseau d'entraide de la Vallée",
        "territory": "Coaticook",
        "website": "https://reseau-entraide.exemple.ca",
    }
    assert card.url == f"{site}/t/fiche-reseau-d-entraide-de-la-vallee/{card_id}"
    tool_id = topic_id(world, "Modèle de budget pour une demande de financement")
    tool = next(e for e in store.toolbox_entries() if e.topic_id == tool_id)
    assert (tool.author, tool.themes, tool.links, tool.reply_count) == (
        "pphen",
        ("financement",),
        ("https://outils.exemple.ca/modele-budget-projet.xlsx",),
        1,
    )
    assert {r["name"]: r["value"] for r in store.db["cursors"].rows} == {
        CURSOR_TOPICS: iso(max(t.bumped_at for t in listed(world).values())),
        CURSOR_MEMBERS: iso(NOW - timedelta(days=0.3)),
        CURSOR_SWEEP: iso(NOW),
        CURSOR_CATEGORY: "10",
    }


# --- later passes --------------------------------------------------------------------------------


def test_an_idle_pass_reads_the_first_list_page_and_the_newest_members_only(parts, sandbox, clock):
    sync(parts, sandbox)
    before = dump(parts.store)
    clock.advance(hours=1)

    summary = sync(parts, sandbox)

    assert paths(sandbox) == [
        LIST,
        "/groups/cdp-2ise/members.json",
    ]
    assert summary.requests == 2 and not summary.swept
    assert dump(parts.store) == before


def test_a_new_reply_is_picked_up_with_one_post_read(parts, sandbox, clock):
    world = sandbox.world
    sync(parts, sandbox)
    tid = topic_id(world, "Mobiliser les citoyens autour d'un projet de quartier")
    clock.advance(minutes=5)
    post_id = world.add_reply(tid, "yves_parent", "On a essayé la fête de ruelle, succès garanti.")

    summary = sync(parts, sandbox)

    assert paths(sandbox) == [
        LIST,
        f"/t/{tid}/posts.json",
        "/groups/cdp-2ise/members.json",
    ]
    assert summary.topics_saved == 1 and summary.posts_saved == 1
    row = parts.store.topic_state(tid)
    assert (row.posts_count, row.reply_count, row.bumped_at) == (5, 4, clock())
    assert parts.store.posts_of(tid)[-1].id == post_id
    assert [r.topic_id for r in parts.store.search("ruelle")] == [tid]
    assert parts.store.get_cursor(CURSOR_TOPICS) == iso(clock())
    assert_consistent(parts.store, world)


def test_a_new_topic_and_a_new_member_are_picked_up(parts, sandbox, clock):
    world = sandbox.world
    sync(parts, sandbox)
    clock.advance(minutes=5)
    world.add_member("paul.roy", "Paul Roy", clock())
    tid = world.add_topic(
        "paul.roy",
        "cartographie",
        "Fiche : Jardins collectifs de Magog",
        "Organisme : Jardins collectifs de Magog\nTerritoire : Memphrémagog\n"
        "Description : des jardins partagés dans trois quartiers.",
    )

    summary = sync(parts, sandbox)

    assert summary.requests == 3 and summary.members_added == 1
    assert [(p.post_number, p.username) for p in parts.store.posts_of(tid)] == [(1, "paul.roy")]
    card = next(c for c in parts.store.cards() if c.topic_id == tid)
    assert (card.organisation, card.author) == ("Jardins collectifs de Magog", "paul.roy")
    assert parts.store.group_members("cdp-2ise")[world.user("paul.roy").id] == "paul.roy"
    assert parts.store.get_cursor(CURSOR_MEMBERS) == iso(clock())


def test_recent_topics_moved_closed_pinned_or_liked_are_picked_up_without_a_sweep(
    parts, sandbox, clock
):
    """None of these bump a topic, but a topic on the first list page (read anyway) costs
    nothing to compare: a pass picks them up there without waiting for the sweep. Closing and
    pinning also write a small action, which raises posts_count: each of those two topics
    costs one read after its last stored post (which finds no post to keep)."""
    world = sandbox.world
    sync(parts, sandbox)
    moved = topic_id(world, "Mobiliser les citoyens autour d'un projet de quartier")
    closed = topic_id(world, "Financement des projets collectifs en milieu rural")
    pinned = topic_id(world, "Retour sur l'atelier sur la théorie du changement")
    liked = topic_id(world, "Recherche de partenaires pour un projet de recherche-action")
    clock.advance(minutes=5)
    world.move_topic(moved, "boite-a-outils")
    world.set_status(closed, "closed", True)
    world.set_status(pinned, "pinned", True)
    world.like(world.posts_in(liked)[0].id, 2)

    summary = sync(parts, sandbox)

    assert summary.requests == 2 + 2 and not summary.swept
    assert summary.topics_saved == 4 and summary.posts_saved == 0
    store = parts.store
    assert store.topic_state(moved).category_id == 11
    assert moved in {e.topic_id for e in store.toolbox_entries()}
    assert store.topic_state(closed).closed == 1
    assert store.topic_state(pinned).pinned == 1
    assert store.topic_state(liked).like_count == 1 + 2
    assert_consistent(store, world)


def test_a_bumped_topic_that_also_lost_a_reply_is_read_again(parts, sandbox, clock):
    world = sandbox.world
    sync(parts, sandbox)
    tid = topic_id(world, "Financement des projets collectifs en milieu rural")
    gone = world.posts_in(tid)[2]
    assert traces(parts.store, gone.raw) != []
    clock.advance(minutes=5)
    world.delete_post(gone.id)
    world.add_reply(tid, "mgagnon", "Nous avons un fonds de dépannage pour les petits projets.")

    summary = sync(parts, sandbox)

    # The count did not move (one more, one less): the read after the last post shows it.
    assert paths(sandbox).count(f"/t/{tid}/posts.json") == 2
    assert summary.posts_deleted == 1
    assert [p.id for p in parts.store.posts_of(tid)] == [p.id for p in world.posts_in(tid)]
    # Its text is gone, from the row and from the pages of the search index (not a sweep).
    assert erased_rows(parts.store) == []
    assert traces(parts.store, gone.raw) == []
    assert_consistent(parts.store, world)


# --- the reconciliation sweep --------------------------------------------------------------------


def test_the_sweep_runs_every_reconcile_period_or_when_forced(parts, sandbox, clock):
    sync(parts, sandbox)
    clock.advance(hours=23, minutes=59)
    assert not sync(parts, sandbox).swept
    assert sync(parts, sandbox, full=True).swept
    clock.advance(hours=23, minutes=59)
    assert not sync(parts, sandbox).swept
    clock.advance(minutes=1)
    assert sync(parts, sandbox).swept
    assert parts.store.get_cursor(CURSOR_SWEEP) == iso(clock())


def test_the_sweep_costs_categories_list_pages_member_pages_and_one_read_per_entry(
    parts, sandbox, clock
):
    sync(parts, sandbox)
    before = dump(parts.store)
    clock.advance(days=1)

    summary = sync(parts, sandbox)

    store = parts.store
    entry_ids = {e.topic_id for e in store.toolbox_entries()} | {c.topic_id for c in store.cards()}
    # Every topic active in the last 14 days is read whole (none has over 20 posts: one read
    # each), and every other entry's first 20 posts.
    since = clock() - timedelta(days=14)
    recent = {t.id for t in store.topics() if t.bumped_at >= since}
    assert len(entry_ids) == 14 and len(recent) == 9 and len(entry_ids & recent) == 4
    # A sweep finds the category again by its id (a renamed slug never breaks a pass).
    assert paths(sandbox)[:3] == ["/c/10/show.json", "/categories.json", LIST]
    assert paths(sandbox)[3] == "/groups/cdp-2ise/members.json"
    read = [p for p in paths(sandbox) if p.endswith("/posts.json")]
    assert sorted(read) == sorted(f"/t/{i}/posts.json" for i in entry_ids | recent)
    entries = len(entry_ids | recent)
    assert summary.topics_rechecked == len(recent) and summary.entries_reread == 14 - 4
    # The one author who is not a member (a reply in a discussion someone else answered
    # since) wrote in a recent topic, read whole: no profile read (see the test of an
    # anonymised author for one).
    assert unseen_authors(sandbox.world) == set()
    assert [p for p in paths(sandbox) if p.startswith("/u/")] == []
    assert summary.requests == 2 + 1 + 1 + entries
    after = dump(parts.store)
    assert {k: v for k, v in after.items() if k != "cursors"} == {
        k: v for k, v in before.items() if k != "cursors"
    }


def test_an_edited_card_and_toolbox_entry_show_their_new_text_after_the_sweep(
    parts, sandbox, clock
):
    world = sandbox.world
    sync(parts, sandbox)
    card = topic_id(world, "Maison des jeunes L'Accès")
    tool = topic_id(world, "Modèle de budget pour une demande de financement")
    clock.advance(hours=1)
    world.edit_post(
        world.posts_in(card)[0].id,
        "**Organisme** : Maison des jeunes L'Accès\n**MRC** : Haut-Saint-François\n"
        "**Site Internet** : https://nouveau-site.exemple.org\n\n"
        "**Mission** : un lieu de rencontre pour les 12-17 ans, ouvert le samedi.",
    )
    world.edit_post(
        world.posts_in(tool)[0].id,
        "Le gabarit de budget, version 2026.\n\nLien : https://outils.exemple.ca/budget-2026.xlsx",
    )

    # The card's only post is its last: the edit bumped it (PostRevisor#bump_topic) and the
    # next pass sees it. The toolbox entry has a reply: its edit waits for the sweep.
    sync(parts, sandbox)
    assert _card(parts.store, card).website == "https://nouveau-site.exemple.org"
    entry = next(e for e in parts.store.toolbox_entries() if e.topic_id == tool)
    assert entry.links != ("https://outils.exemple.ca/budget-2026.xlsx",)

    clock.advance(days=1)
    summary = sync(parts, sandbox)

    assert summary.swept
    assert _card(parts.store, card).website == "https://nouveau-site.exemple.org"
    assert _card(parts.store, card).description == (
        "un lieu de rencontre pour les 12-17 ans, ouvert le samedi."
    )
    entry = next(e for e in parts.store.toolbox_entries() if e.topic_id == tool)
    assert entry.links == ("https://outils.exemple.ca/budget-2026.xlsx",)
    assert [r.topic_id for r in parts.store.search("samedi")] == [card]


def _card(store: Store, tid: int) -> CartographyCard:
    return next(c for c in store.cards() if c.topic_id == tid)


def test_deleted_topics_and_posts_leave_the_mirror_entries_and_search(parts, sandbox, clock):
    world = sandbox.world
    sync(parts, sandbox)
    card = topic_id(world, "Table de développement social du Granit")
    discussion = topic_id(world, "Comment mesurer l'impact social d'un petit projet ?")
    reply = world.posts_in(discussion)[1]
    assert [r.topic_id for r in parts.store.search("Granit")] != []
    assert parts.store.search("témoignages") != []
    clock.advance(hours=1)
    world.delete_topic(card)
    world.delete_post(reply.id)

    clock.advance(days=1)
    summary = sync(parts, sandbox)

    store = parts.store
    assert (summary.topics_deleted, summary.posts_deleted) == (1, 1)
    # Gone from the list: one read of the topic confirms it is deleted (staff still see it).
    assert paths(sandbox).count(f"/t/{card}.json") == 1
    assert card not in {t.id for t in store.topics()}
    assert store.topic_state(card).deleted == 1
    assert card not in {c.topic_id for c in store.cards()}
    assert card not in {r.topic_id for r in store.search("Granit")}
    assert reply.id not in {p.id for p in store.posts_of(discussion)}
    # The reply's words ("courts témoignages") are gone from the topic's search document.
    assert store.search("témoignages") == []
    # The rows stay, marked deleted, with their ids and numbers but without text or author.
    (row,) = store.db.query("select * from posts where id = ?", [reply.id])
    assert (row["deleted"], row["topic_id"], row["post_number"], row["user_id"]) == (
        1,
        discussion,
        reply.post_number,
        reply.user.id,
    )
    assert (row["raw"], row["cooked"], row["username"]) == (None, None, None)
    assert erased_rows(store) == []
    assert traces(store, "courts témoignages") == []
    assert_consistent(store, world)


def test_the_sweep_empties_deleted_rows_an_older_version_left_with_their_text(
    parts, sandbox, clock
):
    """Stores written before deleted rows were emptied still hold the text: the next sweep
    empties them."""
    world = sandbox.world
    sync(parts, sandbox)
    tid = topic_id(world, "Charte de gouvernance partagée pour un collectif")
    words = world.posts_in(tid)[0].raw[:40]
    world.delete_topic(tid)
    with parts.store.atomic():
        parts.store.mark_topics_deleted([tid])  # as the older version did: rows keep their text
    assert erased_rows(parts.store) != [] and traces(parts.store, words) != []

    clock.advance(days=1)
    sync(parts, sandbox)

    assert erased_rows(parts.store) == []
    assert traces(parts.store, words) == []
    assert parts.store.topic_state(tid).deleted == 1


@pytest.mark.parametrize("status", [403, 404])
def test_a_topic_gone_from_the_list_whose_read_is_refused_is_deleted(parts, sandbox, clock, status):
    """Made private (403) or deleted for good (404): either way, no longer the community's."""
    world = sandbox.world
    sync(parts, sandbox)
    tid = topic_id(world, "Charte de gouvernance partagée pour un collectif")
    clock.advance(hours=1)
    world.delete_topic(tid)
    sandbox.faults.fail_paths[f"/t/{tid}.json"] = status

    clock.advance(days=1)
    summary = sync(parts, sandbox)

    assert summary.topics_deleted == 1
    assert parts.store.topic_state(tid).deleted == 1
    assert tid not in {t.id for t in parts.store.topics()}


def test_a_topic_moved_out_of_the_category_disappears_at_the_sweep(parts, sandbox, clock):
    world = sandbox.world
    sync(parts, sandbox)
    tid = topic_id(world, "Guide d'animation d'un forum citoyen")
    clock.advance(hours=1)
    world.move_topic(tid, "general")

    clock.advance(days=1)
    summary = sync(parts, sandbox)

    assert summary.topics_deleted == 1 and paths(sandbox).count(f"/t/{tid}.json") == 1
    assert tid not in {t.id for t in parts.store.topics()}
    assert tid not in {e.topic_id for e in parts.store.toolbox_entries()}
    assert tid not in {r.topic_id for r in parts.store.search("forum citoyen")}


@pytest.fixture
def big(clock: Clock, tmp_path: Path) -> Iterator[tuple[Sandbox, Parts]]:
    """A world of 100 topics: four list pages."""
    with Sandbox(build_world(NOW, topics=100, posts=300), now=clock) as sb:
        yield sb, make_parts(sb, tmp_path / "big.db", clock)


def _page(world: World, page: int) -> list[int]:
    """The ids of one page of the watched category's list, as the bridge's account sees it."""
    with world.lock:
        topics, _ = rules.category_topics(
            world, world.category(WATCHED_ID), page, world.user(STAFF_USERNAME)
        )
        return [t.id for t in topics]


def test_topics_shifted_across_pages_while_the_sweep_reads_are_not_deleted(big, clock):
    """The list is read by page (offset paging): a topic deleted from an earlier page while
    the sweep reads page 2 moves the first topic of page 2 onto page 1, which was already read.
    Missing from what was read is not deleted: one read of the topic tells."""
    sandbox, parts = big
    world = sandbox.world
    sync(parts, sandbox)
    clock.advance(days=1)
    gone = _page(world, 0)[10]
    world.delete_topic(gone)  # before the sweep: really gone
    deleted = _page(world, 1)[15]  # deleted while the sweep reads page 2
    shifted = _page(world, 2)[0]  # then last of page 1, already read; moved meanwhile
    target = "cartographie" if world.topic(shifted).category_id != 12 else "boite-a-outils"

    def change() -> None:
        world.delete_topic(deleted)
        world.move_topic(shifted, target)

    fired = on_request(sandbox, lambda method, target: "page=2" in target, change)
    summary = sync(parts, sandbox)

    assert fired
    store = parts.store
    live = {t.id for t in store.topics()}
    # Every topic still on the forum is still in the mirror (the one deleted meanwhile was
    # read before it went: it goes at the next sweep); the one deleted before is gone.
    assert live == set(listed(world)) | {deleted}
    assert shifted in live and gone not in live
    assert summary.topics_deleted == 1 and store.topic_state(gone).deleted == 1
    # One read each for the two topics missing from the pages read.
    assert sorted(p for p in paths(sandbox) if re.fullmatch(r"/t/\d+\.json", p)) == sorted(
        [f"/t/{gone}.json", f"/t/{shifted}.json"]
    )
    # The topic moved meanwhile has its new category, and the entry that goes with it.
    category = world.category(target).id
    assert store.topic_state(shifted).category_id == category
    entries = store.cards() if target == "cartographie" else store.toolbox_entries()
    assert shifted in {c.topic_id for c in entries}
    assert_consistent(store, world)

    clock.advance(days=1)
    again = sync(parts, sandbox)
    assert {t.id for t in store.topics()} == set(listed(world))
    assert again.topics_deleted == 1 and store.topic_state(deleted).deleted == 1


def test_members_shifted_across_pages_while_the_sweep_reads_stay_members(parts, sandbox, clock):
    """Members come 50 a page, newest first: one who leaves from the first page while the sweep
    reads the second moves the 51st onto the first page, already read. Missing from what was
    read is not having left: the profile (read anyway) lists the account's groups."""
    world = sandbox.world
    for n in range(45):
        world.add_member(f"membre{n:02d}", f"Membre {n}", NOW - timedelta(days=60 + n))
    sync(parts, sandbox)
    order = sorted(world.group("cdp-2ise").members.values(), key=lambda m: m.added_at, reverse=True)
    assert len(order) > 50
    leaving, shifted = order[0].user, order[50].user
    clock.advance(days=1)

    fired = on_request(
        sandbox,
        lambda method, target: "/members.json" in target and "offset=50" in target,
        lambda: world.remove_member(leaving.username),
    )
    summary = sync(parts, sandbox)

    assert fired
    members = parts.store.group_members("cdp-2ise")
    assert shifted.id in members
    # The one who left was read before leaving: gone at the next sweep.
    assert set(members) == {m.user.id for m in order}
    assert summary.members_removed == 0

    clock.advance(days=1)
    again = sync(parts, sandbox)
    assert set(parts.store.group_members("cdp-2ise")) == {m.user.id for m in order[1:]}
    assert again.members_removed == 1


def test_a_member_who_left_is_no_longer_a_member(parts, sandbox, clock):
    world = sandbox.world
    sync(parts, sandbox)
    marie = world.user("mgagnon").id
    clock.advance(hours=1)
    world.remove_member("mgagnon")

    assert marie in parts.store.group_members("cdp-2ise")
    sync(parts, sandbox)  # departures are not in the newest members
    assert marie in parts.store.group_members("cdp-2ise")

    clock.advance(days=1)
    summary = sync(parts, sandbox)

    assert summary.members_removed == 1 and summary.accounts_scrubbed == 0
    assert marie not in parts.store.group_members("cdp-2ise")
    # Still an author of live posts: her name stays on them.
    assert {
        p.username for p in parts.store.posts_of(topic_id(world, "Maison des jeunes L'Accès"))
    } == {"mgagnon"}


def test_an_anonymised_account_leaves_no_personal_data(parts, sandbox, clock):
    world = sandbox.world
    sync(parts, sandbox)
    card = topic_id(world, "Fiche : Réseau d'entraide de la Vallée")
    assert traces(parts.store, "dfoley", "David Foley") != []
    clock.advance(hours=1)
    anonymous = world.anonymize_user("dfoley").username

    clock.advance(days=1)
    summary = sync(parts, sandbox)

    store = parts.store
    assert summary.accounts_scrubbed == 1
    assert traces(store, "dfoley", "David Foley") == []
    user_id = world.user(anonymous).id
    assert list(store.db["users"].rows_where("id = ?", [user_id])) == []
    assert user_id not in store.group_members("cdp-2ise")
    assert _card(store, card).author == anonymous
    assert {p.username for p in store.posts_of(card)} == {anonymous}
    # The next sweep does not bring the account back as a new member.
    clock.advance(days=1)
    again = sync(parts, sandbox)
    assert (again.members_added, again.accounts_scrubbed) == (0, 0)
    assert traces(store, "dfoley", "David Foley") == []


def test_a_deleted_account_leaves_no_personal_data(parts, sandbox, clock):
    world = sandbox.world
    sync(parts, sandbox)
    kevin = world.user("kevin_bouchard").id
    replies = len(world.posts_by("kevin_bouchard"))
    assert replies == 3 and parts.store.search("participatif") != []
    assert traces(parts.store, "participatif") != []
    clock.advance(hours=1)
    world.delete_user("kevin_bouchard")

    clock.advance(days=1)
    summary = sync(parts, sandbox)

    store = parts.store
    assert summary.accounts_scrubbed == 1 and summary.posts_deleted == replies
    assert traces(store, "kevin_bouchard", "Kevin Bouchard") == []
    assert list(store.db["users"].rows_where("id = ?", [kevin])) == []
    assert kevin not in store.group_members("cdp-2ise")
    assert store.search("participatif") == []
    # What he wrote is gone too, from the rows and from the search index's pages.
    assert traces(store, "participatif") == []
    assert erased_rows(store) == []
    assert_consistent(store, world)


ERASED = [
    pytest.param("anonymise", "melyssa.mongeau", id="anonymised-member-mentioned-by-others"),
    pytest.param("anonymise", "catherine.lafleur", id="anonymised-author-not-a-member"),
    pytest.param("anonymise", "dfoley", id="anonymised-member"),
    pytest.param("delete", "kevin_bouchard", id="deleted-member"),
    pytest.param("delete", "melyssa.mongeau", id="deleted-member-mentioned-by-others"),
    pytest.param("delete", "catherine.lafleur", id="deleted-author-not-a-member"),
]


@pytest.mark.parametrize("how, username", ERASED)
def test_an_erased_account_leaves_no_trace_anywhere_in_the_store(
    parts, sandbox, clock, how, username
):
    world = sandbox.world
    name = world.user(username).name
    sync(parts, sandbox)
    assert traces(parts.store, username, name) != []  # the audit does see them
    clock.advance(hours=1)
    if how == "anonymise":
        world.anonymize_user(username)
    else:
        world.delete_user(username)

    clock.advance(days=1)
    summary = sync(parts, sandbox)

    store = parts.store
    assert traces(store, username, name) == []
    assert erased_rows(store) == []
    assert summary.accounts_scrubbed == 1
    assert_consistent(store, world)
    clock.advance(days=1)
    again = sync(parts, sandbox)
    assert again.accounts_scrubbed == 0
    assert traces(store, username, name) == []


def test_an_anonymised_name_is_rewritten_in_the_mentions_of_others(parts, sandbox, clock):
    world = sandbox.world
    sync(parts, sandbox)
    discussion = topic_id(world, "Comment mesurer l'impact social d'un petit projet ?")
    mention = next(p for p in world.posts_in(discussion) if "@melyssa.mongeau" in p.raw)
    assert [r.topic_id for r in parts.store.search("melyssa")] == [discussion]
    clock.advance(hours=1)
    anonymous = world.anonymize_user("melyssa.mongeau").username

    clock.advance(days=1)
    sync(parts, sandbox)

    store = parts.store
    (row,) = store.db.query("select raw, cooked from posts where id = ?", [mention.id])
    assert row["raw"].startswith(f"Je rejoins @{anonymous} : mieux vaut")
    assert f'href="/u/{anonymous}">@{anonymous}</a>' in row["cooked"]
    assert store.search("melyssa") == []
    assert [r.topic_id for r in store.search(anonymous)] == [discussion]


def test_an_anonymised_author_who_is_not_a_member_costs_one_profile_read(parts, sandbox, clock):
    """Non-members are in no list the sweep reads: one profile read for each whose name was not
    seen in this pass (in the list as a last poster, or on a post read)."""
    world = sandbox.world
    sync(parts, sandbox)
    # Past sync.recheck_days: no topic is read whole, which would show the new name for free.
    clock.advance(days=15)
    baseline = sync(parts, sandbox).requests
    clock.advance(hours=1)
    world.anonymize_user("catherine.lafleur")

    clock.advance(days=1)
    summary = sync(parts, sandbox)

    assert [p for p in paths(sandbox) if p.startswith("/u/")] == [
        "/u/catherine.lafleur.json",
        *(f"/u/{name}.json" for name in sorted(unseen_authors(world))),
    ]
    assert summary.requests == baseline + 1
    assert summary.accounts_scrubbed == 1


# --- interruptions -------------------------------------------------------------------------------


def drop_from(sandbox: Sandbox, n: int, attempts: int = 5) -> None:
    """From the sandbox's n-th request on, close the connection without answering, `attempts`
    times: enough for the client's read retries to give up."""
    decide = type(sandbox.faults).decide.__get__(sandbox.faults)
    count = [0]

    def patched(method: str, path: str) -> tuple[str | None, int]:
        count[0] += 1
        if n <= count[0] < n + attempts:
            return "drop", 0
        return decide(method, path)

    sandbox.faults.decide = patched  # type: ignore[method-assign]


def heal(sandbox: Sandbox) -> None:
    del sandbox.faults.decide


FIRST_SYNC_REQUESTS = 26


@pytest.mark.slow
@pytest.mark.parametrize("n", range(1, FIRST_SYNC_REQUESTS + 1))
def test_a_first_pass_cut_at_any_request_is_completed_by_the_next(sandbox, tmp_path, clock, n):
    reference = make_parts(sandbox, tmp_path / "reference.db", clock)
    run_sync(reference)
    cut = make_parts(sandbox, tmp_path / "cut.db", clock)

    drop_from(sandbox, n)
    with pytest.raises(BridgeError):
        run_sync(cut)
    heal(sandbox)
    assert_consistent(cut.store, sandbox.world)
    run_sync(cut)

    assert dump(cut.store) == dump(reference.store)


def _changes(world: World, clock: Clock) -> None:
    """A day of activity: replies, a new topic and member, an edit, deletions, a departure."""
    clock.advance(hours=2)
    for title in (
        "Mobiliser les citoyens autour d'un projet de quartier",
        "Charte de gouvernance partagée pour un collectif",
        "Fiche : Coopérative de solidarité Le Grenier partagé",
    ):
        clock.advance(minutes=7)
        world.add_reply(topic_id(world, title), "vnault", f"Merci, je note pour « {title} ».")
    world.add_member("paul.roy", "Paul Roy", clock())
    world.add_topic(
        "paul.roy",
        "discussions",
        "Transport collectif en milieu rural",
        "Qui a déjà monté un service de navette entre deux municipalités ?",
    )
    card = topic_id(world, "Maison des jeunes L'Accès")
    world.edit_post(
        world.posts_in(card)[0].id,
        "**Organisme** : Maison des jeunes L'Accès\n"
        "**MRC** : Haut-Saint-François\n\n**Mission** : ouverte le samedi.",
    )
    world.delete_topic(topic_id(world, "Table de développement social du Granit"))
    discussion = topic_id(world, "Comment mesurer l'impact social d'un petit projet ?")
    world.delete_post(world.posts_in(discussion)[1].id)
    world.remove_member("mgagnon")
    world.anonymize_user("dfoley")


# The sweep after `_changes`: categories 2 (the category, its subcategories), list page 1,
# post reads 6 (3 replies, the new topic, the edited card whose only post is its last, the
# topic that lost a reply read again), the deleted card read once 1 (missing from the list),
# member page 1, the profile of the member who left 1, the 12 topics active in the last 14 days
# read whole (those read from their first post in this pass left out) 12, first posts of the 6
# entries and cards left 6. Every author who is not a member wrote in a recent topic: no
# profile read for them.
SWEEP_REQUESTS = 2 + 1 + 6 + 1 + 1 + 1 + 12 + 6


@pytest.mark.slow
@pytest.mark.parametrize("n", range(1, SWEEP_REQUESTS + 1))
def test_a_sweep_cut_at_any_request_is_completed_by_the_next(sandbox, tmp_path, clock, n):
    world = sandbox.world
    reference = make_parts(sandbox, tmp_path / "reference.db", clock)
    cut = make_parts(sandbox, tmp_path / "cut.db", clock)
    run_sync(reference)
    run_sync(cut)
    _changes(world, clock)
    clock.advance(days=1)
    summary = run_sync(reference)
    assert summary.swept and summary.requests == SWEEP_REQUESTS

    drop_from(sandbox, n)
    with pytest.raises(BridgeError):
        run_sync(cut)
    heal(sandbox)
    assert_consistent(cut.store, world)
    run_sync(cut)

    assert dump(cut.store) == dump(reference.store)


@pytest.mark.slow
@pytest.mark.parametrize("n", range(1, 6))
def test_an_incremental_pass_cut_at_any_request_is_completed_by_the_next(
    sandbox, tmp_path, clock, n
):
    world = sandbox.world
    reference = make_parts(sandbox, tmp_path / "reference.db", clock)
    cut = make_parts(sandbox, tmp_path / "cut.db", clock)
    run_sync(reference)
    run_sync(cut)
    clock.advance(hours=1)
    for title in (
        "Mobiliser les citoyens autour d'un projet de quartier",
        "Charte de gouvernance partagée pour un collectif",
        "Fiche : Coopérative de solidarité Le Grenier partagé",
    ):
        clock.advance(minutes=7)
        world.add_reply(topic_id(world, title), "vnault", f"Merci, je note pour « {title} ».")
    world.add_member("paul.roy", "Paul Roy", clock())
    assert run_sync(reference).requests == 5

    drop_from(sandbox, n)
    with pytest.raises(BridgeError):
        run_sync(cut)
    heal(sandbox)
    assert_consistent(cut.store, world)
    run_sync(cut)

    assert dump(cut.store) == dump(reference.store)


CHILD = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from pathlib import Path

    from bridge.demo import demo_config
    from bridge.discourse import DiscourseClient
    from bridge.runs import run_sync
    from bridge.wiring import Parts

    url, user, key, path, now = sys.argv[1:6]
    moment = datetime.fromisoformat(now)
    config = demo_config(url, user, key, Path(path))
    client = DiscourseClient(url, user, key, requests_per_minute=0)
    run_sync(Parts.build(config, now=lambda: moment, client=client))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("n", [2, 9, 25, 26])
def test_a_pass_killed_with_sigkill_is_completed_by_the_next(sandbox, tmp_path, clock, n):
    """A real `kill -9` of a `bridge sync` process, on its n-th request."""
    reference = make_parts(sandbox, tmp_path / "reference.db", clock)
    run_sync(reference)
    cut_path = tmp_path / "cut.db"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            sandbox.url,
            sandbox.api_username,
            sandbox.api_key,
            str(cut_path),
            clock().isoformat(),
        ],
        cwd=ROOT,
    )
    decide = type(sandbox.faults).decide.__get__(sandbox.faults)
    count = [0]

    def kill_on_nth(method: str, path: str) -> tuple[str | None, int]:
        count[0] += 1
        if count[0] == n:
            os.kill(process.pid, signal.SIGKILL)
            return "drop", 0
        return decide(method, path)

    sandbox.faults.decide = kill_on_nth  # type: ignore[method-assign]
    assert process.wait(timeout=60) == -signal.SIGKILL
    heal(sandbox)

    cut = make_parts(sandbox, cut_path, clock)
    assert_consistent(cut.store, sandbox.world)
    run_sync(cut)

    assert dump(cut.store) == dump(reference.store)


# --- command line --------------------------------------------------------------------------------


def test_bridge_sync_prints_a_one_line_summary(tmp_path):
    with Sandbox() as sb:
        config = tmp_path / "config.yaml"
        config.write_text(
            textwrap.dedent(
                f"""
                discourse:
                  url: {sb.url}
                  api_username: {sb.api_username}
                  requests_per_minute: 0
                community:
                  name: CdP 2isE
                  category: innovation-sociale-estrie
                  group: cdp-2ise
                  facilitators_group: animation-2ise
                store:
                  path: data/bridge.db
                paths:
                  templates: {ROOT / "templates"}
                  jobs: {ROOT / "jobs"}
                """
            ),
            encoding="utf-8",
        )
        runner = CliRunner()
        env = {"DISCOURSE_API_KEY": sb.api_key}

        first = runner.invoke(
            cli, ["--config", str(config), "sync"], env=env, catch_exceptions=False
        )
        again = runner.invoke(
            cli, ["--config", str(config), "sync"], env=env, catch_exceptions=False
        )
        forced = runner.invoke(
            cli, ["--config", str(config), "sync", "--full"], env=env, catch_exceptions=False
        )

    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        "Synchronisation : 23 sujet(s) mis à jour, 47 message(s), 12 nouveau(x) membre(s), "
        "réconciliation : 0 sujet(s) récent(s) relu(s), 0 fiche(s) relue(s), "
        "0 sujet(s) et 0 message(s) supprimés, "
        "0 départ(s), 0 compte(s) effacé(s) ; 27 requête(s) en "
        + first.output.split(" en ")[-1].strip()
    ]
    assert again.exit_code == 0
    assert again.output.startswith(
        "Synchronisation : 0 sujet(s) mis à jour, 0 message(s), 0 nouveau(x) membre(s) ; "
        "2 requête(s) en "
    )
    assert forced.exit_code == 0
    # 10 topics active in the last 14 days read whole, 5 of them entries; the 9 other entries.
    assert "réconciliation : 10 sujet(s) récent(s) relu(s), 9 fiche(s) relue(s)" in forced.output
    store = Store.open(tmp_path / "data" / "bridge.db", sb.url, "innovation-sociale-estrie")
    assert count_rows(store, "topics") == 23
    assert [r.status for r in store.last_runs()] == ["ok"]


def test_a_member_who_left_and_came_back_has_the_new_date(parts, sandbox, clock):
    world = sandbox.world
    sync(parts, sandbox)
    clock.advance(hours=1)
    world.remove_member("mgagnon")
    world.add_member("mgagnon", "Marie Gagnon", clock())

    summary = sync(parts, sandbox)

    assert summary.requests == 2 and summary.members_added == 0
    rows = list(parts.store.db["group_members"].rows_where("username = ?", ["mgagnon"]))
    assert [r["added_at"] for r in rows] == [iso(clock())]
    assert parts.store.get_cursor(CURSOR_MEMBERS) == iso(clock())


def test_a_pass_that_reads_every_topic_announces_roughly_how_many(parts, sandbox, clock):
    from bridge.runs import run_sync

    totals: list[int | None] = []
    seen: list[int] = []
    run_sync(parts, on_start=totals.append, on_topic=lambda topic: seen.append(topic.id))
    run_sync(parts, on_start=totals.append, on_topic=lambda topic: None)

    # Discourse's topic counts of the category and its subcategories (without the « À propos »
    # topics), for a progress bar; an ordinary pass does not know in advance.
    assert totals == [21, None]
    assert len(seen) == 23
