"""The store against real SQLite: migrations, scoping, upserts, cursors, the ledger, job runs.

Rows are read back whole and every write is made twice, the way a rerun would make it.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database
from storerows import count_rows

from bridge.discourse import Category, GroupMember, Post, TopicSummary, User
from bridge.drafts import Draft, DraftKind
from bridge.errors import StoreError
from bridge.store import (
    JobRun,
    LedgerEntry,
    MirrorCounts,
    Store,
    StoredCategory,
    StoredTopic,
    migrations,
)

SITE = "https://passerelles.encommun.io"
COMMUNITY = "innovation-sociale-estrie"
NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
NOW_ISO = "2025-04-21T13:00:00+00:00"
LATER_ISO = "2025-04-21T14:00:00+00:00"

MIGRATION_NAMES = [m.name for m in migrations.pending(Database(memory=True))]
# Tables the store scopes by (site, community); FTS shadow tables and sqlite-utils' own are not.
SCOPED_TABLES = [
    "categories",
    "topics",
    "posts",
    "users",
    "group_members",
    "cursors",
    "ledger",
    "job_runs",
    "announcements",
    "toolbox_entries",
    "cartography_cards",
    "search_documents",
]


def make_topic(**changes: Any) -> TopicSummary:
    base = TopicSummary(
        id=101,
        title="Cercle de codéveloppement en économie sociale",
        slug="cercle-de-codeveloppement-en-economie-sociale",
        category_id=5,
        created_at=datetime(2025, 4, 14, 15, 30, tzinfo=UTC),
        bumped_at=datetime(2025, 4, 18, 9, 5, tzinfo=UTC),
        last_posted_at=datetime(2025, 4, 18, 9, 5, tzinfo=UTC),
        posts_count=2,
        reply_count=1,
        like_count=3,
        views=40,
        pinned=False,
        closed=False,
        archived=False,
        visible=True,
        tags=("outils", "économie-sociale"),
        last_poster_username="jeanp",
    )
    return replace(base, **changes)


def topic_row(**changes: Any) -> dict[str, Any]:
    row = {
        "site": SITE,
        "community": COMMUNITY,
        "id": 101,
        "category_id": 5,
        "title": "Cercle de codéveloppement en économie sociale",
        "slug": "cercle-de-codeveloppement-en-economie-sociale",
        "created_at": "2025-04-14T15:30:00+00:00",
        "bumped_at": "2025-04-18T09:05:00+00:00",
        "last_posted_at": "2025-04-18T09:05:00+00:00",
        "posts_count": 2,
        "reply_count": 1,
        "like_count": 3,
        "views": 40,
        "pinned": 0,
        "closed": 0,
        "archived": 0,
        "visible": 1,
        "tags": '["outils", "économie-sociale"]',
        "last_poster_username": "jeanp",
        "deleted": 0,
        "synced_at": NOW_ISO,
    }
    return {**row, **changes}


def make_post(post_number: int = 1, **changes: Any) -> Post:
    base = Post(
        id=1000 + post_number,
        topic_id=101,
        post_number=post_number,
        username="marie" if post_number == 1 else "jeanp",
        user_id=11 if post_number == 1 else 12,
        name=None,
        raw=f"Message {post_number} en **Markdown**",
        cooked=f"<p>Message {post_number} en <strong>Markdown</strong></p>",
        created_at=datetime(2025, 4, 14, 15, 30, tzinfo=UTC) + timedelta(days=post_number - 1),
        updated_at=datetime(2025, 4, 14, 15, 30, tzinfo=UTC) + timedelta(days=post_number - 1),
        reply_to_post_number=None if post_number == 1 else 1,
        like_count=post_number,
        reply_count=0,
        deleted=False,
    )
    return replace(base, **changes)


def post_row(post_number: int = 1, **changes: Any) -> dict[str, Any]:
    at = (datetime(2025, 4, 14, 15, 30, tzinfo=UTC) + timedelta(days=post_number - 1)).isoformat()
    row = {
        "site": SITE,
        "community": COMMUNITY,
        "id": 1000 + post_number,
        "topic_id": 101,
        "post_number": post_number,
        "username": "marie" if post_number == 1 else "jeanp",
        "user_id": 11 if post_number == 1 else 12,
        "raw": f"Message {post_number} en **Markdown**",
        "cooked": f"<p>Message {post_number} en <strong>Markdown</strong></p>",
        "created_at": at,
        "updated_at": at,
        "reply_to_post_number": None if post_number == 1 else 1,
        "like_count": post_number,
        "reply_count": 0,
        "deleted": 0,
        "withdrawn": 0,
        "hidden": 0,
    }
    return {**row, **changes}


def rows(store: Store, table: str) -> list[dict[str, Any]]:
    """Every row of a table, whatever its site or community, in a stable order."""
    return list(store.db.query(f"select * from [{table}] order by rowid"))


def schema(db: Database) -> list[tuple[str, str, str | None]]:
    return [
        (r["type"], r["name"], r["sql"])
        for r in db.query("select type, name, sql from sqlite_master order by type, name")
    ]


def applied(db: Database) -> list[tuple[str, str]]:
    return [
        (r["migration_set"], r["name"])
        for r in db.query("select * from _sqlite_migrations order by id")
    ]


@pytest.fixture
def open_store() -> Iterator[Callable[..., Store]]:
    """Store.open, closing every database it opened when the test ends."""
    opened: list[Store] = []

    def opener(path: Path, site: str = SITE, community: str = COMMUNITY) -> Store:
        store = Store.open(path, site, community)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.db.close()


def draft_topic(key: str = "digest:2025-W17", **changes: Any) -> Draft:
    return Draft(
        key=key,
        kind=DraftKind.PRIVATE_MESSAGE,
        title="Résumé de la semaine 17",
        raw="Cette semaine…",
        recipients=("animation",),
        **changes,
    )


def draft_reply(key: str = "announce:webinaire:rappel") -> Draft:
    return Draft(
        key=key,
        kind=DraftKind.REPLY,
        raw="Rappel : c'est demain !",
        parent_key="announce:webinaire",
        label="rappel du webinaire",
    )


# --- migrations ----------------------------------------------------------------------------------


def test_open_creates_the_file_in_wal_mode_with_every_migration_once(tmp_path, open_store):
    path = tmp_path / "data" / "bridge.db"

    store = open_store(path)

    assert path.is_file()
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert set(SCOPED_TABLES) <= set(store.db.table_names())
    assert applied(store.db) == [("bridge", name) for name in MIGRATION_NAMES]
    assert migrations.pending(store.db) == []


def test_opening_again_applies_nothing(tmp_path, open_store):
    path = tmp_path / "bridge.db"
    first = open_store(path)
    recorded = rows(first, "_sqlite_migrations")
    shape = schema(first.db)
    first.db.close()

    again = open_store(path)

    assert rows(again, "_sqlite_migrations") == recorded  # same ids, same applied_at
    assert schema(again.db) == shape
    assert again.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrations_are_forward_only():
    numbers = [int(re.fullmatch(r"m(\d{3})_[a-z0-9_]+", name)[1]) for name in MIGRATION_NAMES]

    # Numbered in order, each number once; m005 comes from another branch (a gap until merged).
    assert numbers == sorted(set(numbers)) and numbers[0] == 1
    assert set(range(1, 5)) <= set(numbers) and numbers[-1] <= len(numbers) + 1
    assert MIGRATION_NAMES[:3] == ["m001_initial", "m002_announcements", "m003_entries"]
    assert migrations.name == "bridge"


def test_memory_store_has_the_same_schema_as_a_file(tmp_path, open_store, store):
    assert schema(open_store(tmp_path / "bridge.db").db) == schema(store.db)


# A row for each table, as an older version of the bridge would have written it.
OLD_ROWS: dict[str, dict[str, Any]] = {
    "categories": {
        "site": SITE,
        "community": COMMUNITY,
        "id": 5,
        "slug": "innovation-sociale",
        "name": "Innovation sociale",
        "parent_id": None,
        "topic_count": 12,
    },
    "topics": topic_row(),
    # The columns every version has (m008 added withdrawn and hidden).
    "posts": {k: v for k, v in post_row(1).items() if k not in ("withdrawn", "hidden")},
    "users": {
        "site": SITE,
        "community": COMMUNITY,
        "id": 11,
        "username": "marie",
        "name": "Marie Tremblay",
        "created_at": "2024-11-02T14:00:00+00:00",
        "bio": "Animatrice",
        "location": "Sherbrooke",
        "website": None,
    },
    "group_members": {
        "site": SITE,
        "community": COMMUNITY,
        "group_name": "membres",
        "user_id": 11,
        "username": "marie",
        "name": "Marie Tremblay",
        "added_at": "2025-01-10T12:00:00+00:00",
    },
    "cursors": {
        "site": SITE,
        "community": COMMUNITY,
        "name": "topics",
        "value": "2025-04-18T09:05:00+00:00",
        "updated_at": NOW_ISO,
    },
    "ledger": {
        "site": SITE,
        "community": COMMUNITY,
        "key": "digest:2025-W16",
        "kind": "private_message",
        "state": "done",
        "external_id": "br-abc",
        "title": "Résumé",
        "topic_id": 300,
        "post_id": 3000,
        "post_number": 1,
        "attempts": 1,
        "error": None,
        "created_at": NOW_ISO,
        "updated_at": NOW_ISO,
    },
    "job_runs": {
        "site": SITE,
        "community": COMMUNITY,
        "id": 1,
        "job": "sync",
        "started_at": NOW_ISO,
        "finished_at": LATER_ISO,
        "status": "ok",
        "summary": "3 sujets",
        "error": None,
    },
    "announcements": {
        "site": SITE,
        "community": COMMUNITY,
        "job": "webinaires",
        "occurrence": "2025-05-01",
        "kind": "webinaire",
        "title": "Webinaire CdP",
        "starts_at": "2025-05-01T16:00:00+00:00",
        "cancelled": 0,
        "updated_at": NOW_ISO,
    },
    "toolbox_entries": {
        "site": SITE,
        "community": COMMUNITY,
        "topic_id": 101,
        "title": "Guide",
        "author": "marie",
    },
    "cartography_cards": {
        "site": SITE,
        "community": COMMUNITY,
        "topic_id": 102,
        "title": "Coop",
        "author": "jeanp",
        "latitude": 45.4,
        "longitude": -71.9,
    },
    "search_documents": {
        "site": SITE,
        "community": COMMUNITY,
        "doc_id": "topic:101",
        "kind": "topic",
        "topic_id": 101,
        "title": "Équipe",
        "body": "texte",
    },
    "digest_weeks": {
        "site": SITE,
        "community": COMMUNITY,
        "week": "2025-W16",
        "contributors": 3,
        "replies": 5,
        "recorded_at": NOW_ISO,
    },
    "welcome_secrets": {"site": SITE, "community": COMMUNITY, "secret": "00"},
    "welcome_members": {"site": SITE, "community": COMMUNITY, "person": "ab", "state": "known"},
}


@pytest.mark.parametrize("stop_before", MIGRATION_NAMES)
def test_open_upgrades_each_earlier_version_keeping_its_rows(
    tmp_path, open_store, store, stop_before
):
    path = tmp_path / "bridge.db"
    old = Database(path)
    migrations.apply(old, stop_before=stop_before)
    old_tables = [t for t in old.table_names() if not t.startswith("_") and "_fts" not in t]
    assert applied(old) == [
        ("bridge", name) for name in MIGRATION_NAMES[: MIGRATION_NAMES.index(stop_before)]
    ]
    for table in old_tables:
        old[table].insert(OLD_ROWS[table])
    before = {t: list(old.query(f"select * from [{t}]")) for t in old_tables}
    old.close()

    upgraded = open_store(path)

    assert applied(upgraded.db) == [("bridge", name) for name in MIGRATION_NAMES]
    assert schema(upgraded.db) == schema(store.db)
    for table, old_rows in before.items():
        now_rows = rows(upgraded, table)
        assert [{k: r[k] for k in old_rows[0]} for r in now_rows] == old_rows, table
        assert count_rows(upgraded, table) == 1


def test_a_random_file_is_a_store_error_in_plain_words(tmp_path, open_store):
    path = tmp_path / "bridge.db"
    path.write_bytes(random.Random(7).randbytes(8192))

    with pytest.raises(StoreError) as caught:
        open_store(path)

    message = str(caught.value)
    assert message == f"{path} : impossible d'ouvrir la base locale (file is not a database)"
    assert caught.value.__suppress_context__


def test_a_damaged_database_is_a_store_error(tmp_path, open_store):
    path = tmp_path / "bridge.db"
    open_store(path).db.close()
    data = bytearray(path.read_bytes())
    # Keep the 100-byte header, scramble every page after it: the schema is unreadable.
    data[100:] = random.Random(7).randbytes(len(data) - 100)
    path.write_bytes(bytes(data))
    for extra in tmp_path.glob("bridge.db-*"):
        extra.unlink()

    with pytest.raises(StoreError) as caught:
        open_store(path)

    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    assert "base locale" in message
    assert caught.value.__suppress_context__


def test_a_foreign_database_is_a_store_error(tmp_path, open_store):
    path = tmp_path / "bridge.db"
    foreign = Database(path)
    foreign["topics"].insert({"id": 1, "sujet": "autre chose"}, pk="id")
    foreign.close()

    with pytest.raises(StoreError) as caught:
        open_store(path)

    assert str(caught.value) == (
        'la base locale est illisible ou d\'une version inconnue (table "topics" already exists)'
    )
    # The failed migration left the foreign file as it was.
    check = Database(path)
    assert check.table_names() == ["topics", "_sqlite_migrations"]
    assert list(check.query("select * from _sqlite_migrations")) == []
    check.close()


# --- scoping -------------------------------------------------------------------------------------

OTHER_SITE = pytest.param("https://autre.example", "autre-communaute", id="other-site")
SAME_SITE = pytest.param(SITE, "autre-communaute", id="same-site")


@pytest.mark.parametrize(("site", "community"), [OTHER_SITE, SAME_SITE])
def test_scoped_topics_and_posts(store, site, community):
    other = Store(store.db, site, community)
    for _ in range(2):
        store.save_topic(make_topic(), [make_post(1)], NOW)
        other.save_topic(
            make_topic(id=202, title="Ailleurs"), [make_post(1, id=2001, topic_id=202)], NOW
        )

    assert [t.id for t in store.topics()] == [101]
    assert [t.id for t in other.topics()] == [202]
    assert store.live_topic_ids() == {101}
    assert other.live_topic_ids() == {202}
    assert [p.id for p in store.posts_of(101)] == [1001]
    assert other.posts_of(101) == []
    assert (count_rows(store, "topics"), count_rows(store, "posts")) == (1, 1)
    assert (count_rows(other, "topics"), count_rows(other, "posts")) == (1, 1)


def test_the_same_topic_id_on_two_sites_is_two_topics(store):
    other = Store(store.db, "https://autre.example", "autre-communaute")
    store.save_topic(make_topic(), [make_post(1)], NOW)
    other.save_topic(make_topic(title="Ailleurs"), [make_post(1, raw="ailleurs")], NOW)
    other.mark_topics_deleted([101])

    assert store.topic_state(101).title == make_topic().title
    assert store.topic_state(101).deleted == 0
    assert other.topic_state(101).title == "Ailleurs"
    assert other.topic_state(101).deleted == 1
    assert [p.raw for p in store.posts_of(101)] == ["Message 1 en **Markdown**"]


@pytest.mark.parametrize(("site", "community"), [OTHER_SITE, SAME_SITE])
def test_scoped_cursors(store, site, community):
    other = Store(store.db, site, community)
    store.set_cursor("topics", "A", NOW)
    other.set_cursor("topics", "B", NOW)
    other.set_cursor("members", "B2", NOW)

    assert store.get_cursor("topics") == "A"
    assert other.get_cursor("topics") == "B"
    assert store.get_cursor("members") is None


@pytest.mark.parametrize(
    ("site", "community"),
    [
        OTHER_SITE,
        pytest.param(SITE, "autre-communaute", id="same-site"),
    ],
)
def test_scoped_ledger(store, site, community):
    other = Store(store.db, site, community)
    store.ledger_intend(draft_topic(), NOW)
    store.ledger_done("digest:2025-W17", NOW, topic_id=300, post_id=3000, post_number=1)

    assert other.ledger_get("digest:2025-W17") is None
    assert other.ledger_intend(draft_topic(), LATER).attempts == 1
    other.ledger_failed("digest:2025-W17", "refusé", LATER)

    assert store.ledger_get("digest:2025-W17").state == "done"
    assert other.ledger_get("digest:2025-W17").state == "failed"
    assert store.ledger_summary() == {"done": 1}
    assert other.ledger_summary() == {"failed": 1}
    assert store.ledger_get("digest:2025-W17") is not None
    assert [(r["site"], r["community"], r["state"]) for r in rows(store, "ledger")] == [
        (SITE, COMMUNITY, "done"),
        (site, community, "failed"),
    ]


@pytest.mark.parametrize(("site", "community"), [OTHER_SITE, SAME_SITE])
def test_scoped_job_runs(store, site, community):
    other = Store(store.db, site, community)
    mine = store.run_started("sync", NOW)
    theirs = other.run_started("sync", LATER)
    store.run_finished(mine, LATER, "ok")

    assert [r.id for r in store.last_runs()] == [mine]
    assert [(r.id, r.status) for r in other.last_runs()] == [(theirs, "running")]


def test_every_row_records_site_and_community(store):
    store.save_categories([Category(5, "innovation-sociale", "Innovation sociale", None, 1, ())])
    store.save_topic(make_topic(), [make_post(1), make_post(2)], NOW)
    store.save_people([(11, "marie", "Marie"), (12, "jeanp", "Jean P.")])
    store.save_group_members("membres", [GroupMember(11, "marie", "Marie", NOW, None)])
    store.set_cursor("topics", "x", NOW)
    store.ledger_intend(draft_topic(), NOW)
    store.run_finished(store.run_started("sync", NOW), LATER, "ok")

    for table in [
        "categories",
        "topics",
        "posts",
        "users",
        "group_members",
        "cursors",
        "ledger",
        "job_runs",
    ]:
        scopes = {(r["site"], r["community"]) for r in rows(store, table)}
        assert scopes == {(SITE, COMMUNITY)}, table


# --- mirror: topics and posts --------------------------------------------------------------------


def test_save_topic_stores_whole_rows_and_twice_is_the_same(store):
    for _ in range(2):
        store.save_topic(make_topic(), [make_post(1), make_post(2)], NOW)

        assert rows(store, "topics") == [topic_row()]
        assert rows(store, "posts") == [post_row(1), post_row(2)]


def test_save_topic_updates_changed_fields_and_keeps_unlisted_posts(store):
    store.save_topic(make_topic(), [make_post(1), make_post(2)], NOW)

    store.save_topic(
        make_topic(
            title="Nouveau titre",
            posts_count=3,
            closed=True,
            tags=("outils",),
            last_poster_username=None,
        ),
        [make_post(2, raw="Corrigé", like_count=7), make_post(3)],
        LATER,
    )

    assert rows(store, "topics") == [
        topic_row(
            title="Nouveau titre",
            posts_count=3,
            closed=1,
            tags='["outils"]',
            last_poster_username=None,
            synced_at=LATER_ISO,
        )
    ]
    assert rows(store, "posts") == [
        post_row(1),
        post_row(2, raw="Corrigé", like_count=7),
        post_row(3),
    ]


def test_a_deleted_topic_saved_again_is_live_again(store):
    store.save_topic(make_topic(), [make_post(1)], NOW)
    store.mark_topics_deleted([101])

    store.save_topic(make_topic(), [], LATER)

    assert rows(store, "topics") == [topic_row(synced_at=LATER_ISO)]
    assert store.live_topic_ids() == {101}


def test_save_posts_alone_upserts(store):
    for _ in range(2):
        store.save_posts([make_post(1), make_post(2, deleted=True)])

        assert rows(store, "posts") == [post_row(1), post_row(2, deleted=1)]
    store.save_posts([make_post(2, user_id=None, reply_to_post_number=None)])
    assert rows(store, "posts")[1] == post_row(2, user_id=None, reply_to_post_number=None)


def test_tags_are_stored_as_json_names(store):
    store.save_topic(make_topic(tags=()), [], NOW)
    assert rows(store, "topics")[0]["tags"] == "[]"

    store.save_topic(make_topic(tags=("économie-sociale", 'guillemets"')), [], NOW)
    assert rows(store, "topics")[0]["tags"] == '["économie-sociale", "guillemets\\""]'


def test_datetimes_are_stored_as_utc_iso_text(store):
    sherbrooke = timezone(timedelta(hours=-4))
    store.save_topic(
        make_topic(
            created_at=datetime(2025, 4, 14, 11, 30, tzinfo=sherbrooke), last_posted_at=None
        ),
        [make_post(1, updated_at=datetime(2025, 4, 14, 12, 0, 0, 500, tzinfo=sherbrooke))],
        datetime(2025, 4, 21, 9, 0, tzinfo=sherbrooke),
    )

    topic = rows(store, "topics")[0]
    assert (topic["created_at"], topic["last_posted_at"], topic["synced_at"]) == (
        "2025-04-14T15:30:00+00:00",
        None,
        NOW_ISO,
    )
    assert rows(store, "posts")[0]["updated_at"] == "2025-04-14T16:00:00.000500+00:00"


@pytest.mark.parametrize(
    "save",
    [
        pytest.param(
            lambda s: s.save_topic(make_topic(created_at=datetime(2025, 4, 14, 15, 30)), [], NOW),
            id="topic",
        ),
        pytest.param(lambda s: s.save_topic(make_topic(), [], datetime(2025, 4, 21)), id="synced"),
        pytest.param(
            lambda s: s.save_posts([make_post(1, created_at=datetime(2025, 4, 14))]), id="post"
        ),
        pytest.param(lambda s: s.set_cursor("topics", "x", datetime(2025, 4, 21)), id="cursor"),
        pytest.param(lambda s: s.run_started("sync", datetime(2025, 4, 21)), id="run"),
    ],
)
def test_naive_datetimes_are_rejected(store, save):
    with pytest.raises(ValueError, match="naive datetime"):
        save(store)

    for table in ("topics", "posts", "cursors", "job_runs"):
        assert rows(store, table) == [], table


# --- cursors and transactions --------------------------------------------------------------------


def test_cursors_get_and_set(store):
    assert store.get_cursor("topics") is None

    store.set_cursor("topics", "2025-04-18T09:05:00+00:00", NOW)
    store.set_cursor("topics", "2025-04-20T10:00:00+00:00", LATER)
    store.set_cursor("members", "", NOW)

    assert store.get_cursor("topics") == "2025-04-20T10:00:00+00:00"
    assert store.get_cursor("members") == ""
    assert rows(store, "cursors") == [
        {
            "site": SITE,
            "community": COMMUNITY,
            "name": "topics",
            "value": "2025-04-20T10:00:00+00:00",
            "updated_at": LATER_ISO,
        },
        {
            "site": SITE,
            "community": COMMUNITY,
            "name": "members",
            "value": "",
            "updated_at": NOW_ISO,
        },
    ]


def test_a_failed_block_writes_neither_rows_nor_cursor(store):
    store.set_cursor("topics", "avant", NOW)

    with pytest.raises(RuntimeError), store.atomic():
        store.save_topic(make_topic(), [make_post(1), make_post(2)], LATER)
        store.save_people([(11, "marie", "Marie")])
        store.set_cursor("topics", "après", LATER)
        raise RuntimeError("la connexion a coupé")

    assert rows(store, "topics") == []
    assert rows(store, "posts") == []
    assert rows(store, "users") == []
    assert store.get_cursor("topics") == "avant"


def test_a_failing_save_leaves_the_cursor_where_it_was(store):
    with pytest.raises(ValueError), store.atomic():
        store.set_cursor("topics", "après", LATER)
        store.save_topic(make_topic(), [make_post(1, updated_at=datetime(2025, 4, 14))], LATER)

    assert rows(store, "topics") == []
    assert store.get_cursor("topics") is None


def test_a_successful_block_writes_rows_and_cursor(store):
    for _ in range(2):
        with store.atomic():
            store.save_topic(make_topic(), [make_post(1)], NOW)
            store.set_cursor("topics", "2025-04-18T09:05:00+00:00", NOW)

    assert rows(store, "topics") == [topic_row()]
    assert rows(store, "posts") == [post_row(1)]
    assert store.get_cursor("topics") == "2025-04-18T09:05:00+00:00"


def test_the_ledger_can_be_written_inside_a_block(store):
    with store.atomic():
        store.save_topic(make_topic(), [], NOW)
        store.ledger_intend(draft_topic(), NOW)

    assert store.ledger_get("digest:2025-W17").state == "pending"
    assert count_rows(store, "topics") == 1


# --- ledger --------------------------------------------------------------------------------------


def test_ledger_intend_records_a_pending_entry(store):
    draft = draft_topic()

    entry = store.ledger_intend(draft, NOW)

    assert entry == LedgerEntry(
        key="digest:2025-W17",
        kind="private_message",
        state="pending",
        external_id=draft.external_id(store.community),
        title="Résumé de la semaine 17",
        topic_id=None,
        post_id=None,
        post_number=None,
        attempts=1,
        error=None,
        created_at=NOW,
        updated_at=NOW,
    )
    assert store.ledger_get("digest:2025-W17") == entry
    assert rows(store, "ledger") == [
        {
            "site": SITE,
            "community": COMMUNITY,
            "key": "digest:2025-W17",
            "kind": "private_message",
            "state": "pending",
            "external_id": draft.external_id(store.community),
            "title": "Résumé de la semaine 17",
            "topic_id": None,
            "post_id": None,
            "post_number": None,
            "attempts": 1,
            "error": None,
            "created_at": NOW_ISO,
            "updated_at": NOW_ISO,
        }
    ]


def test_ledger_external_id_only_for_drafts_creating_a_topic(store):
    topic = Draft(
        key="announce:webinaire",
        kind=DraftKind.TOPIC,
        title="Webinaire",
        raw="…",
        category="annonces",
    )
    store.ledger_intend(topic, NOW)
    reply = store.ledger_intend(draft_reply(), NOW)
    edit = store.ledger_intend(
        Draft(key="toolbox:101:fiche", kind=DraftKind.EDIT, raw="…", post_id=1001), NOW
    )

    assert store.ledger_get("announce:webinaire").external_id == topic.external_id(store.community)
    assert (reply.external_id, reply.kind, reply.title) == (None, "reply", "rappel du webinaire")
    assert (edit.external_id, edit.kind, edit.title) == (None, "edit", None)


def test_ledger_intend_again_counts_attempts_and_keeps_created_at(store):
    store.ledger_intend(draft_topic(), NOW)
    store.ledger_failed("digest:2025-W17", "Le titre existe déjà", NOW)

    entry = store.ledger_intend(draft_topic(), LATER)

    assert (entry.state, entry.attempts, entry.error) == ("pending", 2, None)
    assert (entry.created_at, entry.updated_at) == (NOW, LATER)
    assert store.ledger_intend(draft_topic(), LATER).attempts == 3
    assert count_rows(store, "ledger") == 1


def test_ledger_done_records_the_ids(store):
    store.ledger_intend(draft_topic(), NOW)
    store.ledger_failed("digest:2025-W17", "délai dépassé", NOW)
    store.ledger_intend(draft_topic(), NOW)

    for _ in range(2):
        store.ledger_done("digest:2025-W17", LATER, topic_id=300, post_id=3000, post_number=1)

        assert store.ledger_get("digest:2025-W17") == LedgerEntry(
            key="digest:2025-W17",
            kind="private_message",
            state="done",
            external_id=draft_topic().external_id(store.community),
            title="Résumé de la semaine 17",
            topic_id=300,
            post_id=3000,
            post_number=1,
            attempts=2,
            error=None,
            created_at=NOW,
            updated_at=LATER,
        )


def test_ledger_failed_records_the_message(store):
    store.ledger_intend(draft_reply(), NOW)

    store.ledger_failed("announce:webinaire:rappel", "Le corps est trop semblable", LATER)

    entry = store.ledger_get("announce:webinaire:rappel")
    assert (entry.state, entry.error, entry.attempts, entry.updated_at) == (
        "failed",
        "Le corps est trop semblable",
        1,
        LATER,
    )


def test_ledger_summary_and_entries(store):
    assert store.ledger_summary() == {}
    assert store.ledger_entries() == []
    store.ledger_intend(draft_topic("digest:2025-W15"), NOW)
    store.ledger_done("digest:2025-W15", NOW, topic_id=1, post_id=10, post_number=1)
    store.ledger_intend(draft_topic("digest:2025-W16"), NOW + timedelta(minutes=1))
    store.ledger_done(
        "digest:2025-W16", NOW + timedelta(minutes=1), topic_id=2, post_id=20, post_number=1
    )
    store.ledger_intend(draft_topic("welcome:user:11"), NOW + timedelta(minutes=2))
    store.ledger_intend(draft_reply(), NOW + timedelta(minutes=3))
    store.ledger_failed("announce:webinaire:rappel", "refusé", NOW + timedelta(minutes=4))

    assert store.ledger_summary() == {"done": 2, "pending": 1, "failed": 1}
    assert [e.key for e in store.ledger_entries("done")] == ["digest:2025-W16", "digest:2025-W15"]
    assert [e.key for e in store.ledger_entries("pending")] == ["welcome:user:11"]
    assert [e.key for e in store.ledger_entries("failed")] == ["announce:webinaire:rappel"]
    assert [e.key for e in store.ledger_entries()] == [
        "announce:webinaire:rappel",
        "welcome:user:11",
        "digest:2025-W16",
        "digest:2025-W15",
    ]


def test_ledger_keys_are_scoped_by_site(store):
    other = Store(store.db, "https://autre.example", COMMUNITY)
    store.ledger_intend(draft_topic(), NOW)
    store.ledger_done("digest:2025-W17", NOW, topic_id=300, post_id=3000, post_number=1)

    assert other.ledger_get("digest:2025-W17") is None
    assert other.ledger_intend(draft_topic(), LATER).attempts == 1
    other.ledger_failed("digest:2025-W17", "refusé", LATER)

    assert store.ledger_get("digest:2025-W17").state == "done"
    assert other.ledger_summary() == {"failed": 1}
    assert store.ledger_summary() == {"done": 1}


# --- job runs ------------------------------------------------------------------------------------


def test_run_started_and_finished(store):
    run_id = store.run_started("sync", NOW)

    assert rows(store, "job_runs") == [
        {
            "site": SITE,
            "community": COMMUNITY,
            "id": run_id,
            "job": "sync",
            "started_at": NOW_ISO,
            "finished_at": None,
            "status": "running",
            "summary": None,
            "error": None,
        }
    ]
    for _ in range(2):
        store.run_finished(run_id, LATER, "failed", error="Discourse indisponible")

        assert rows(store, "job_runs") == [
            {
                "site": SITE,
                "community": COMMUNITY,
                "id": run_id,
                "job": "sync",
                "started_at": NOW_ISO,
                "finished_at": LATER_ISO,
                "status": "failed",
                "summary": None,
                "error": "Discourse indisponible",
            }
        ]


def test_last_runs_are_the_latest_of_each_job(store):
    assert store.last_runs() == []
    first = store.run_started("sync", NOW)
    store.run_finished(first, NOW + timedelta(minutes=1), "ok", "3 sujets")
    digest = store.run_started("digest", NOW + timedelta(minutes=2))
    store.run_finished(digest, NOW + timedelta(minutes=3), "ok", "1 résumé")
    second = store.run_started("sync", LATER)

    assert store.last_runs() == [
        JobRun(
            id=digest,
            job="digest",
            started_at=NOW + timedelta(minutes=2),
            finished_at=NOW + timedelta(minutes=3),
            status="ok",
            summary="1 résumé",
            error=None,
        ),
        JobRun(
            id=second,
            job="sync",
            started_at=LATER,
            finished_at=None,
            status="running",
            summary=None,
            error=None,
        ),
    ]


# --- categories ----------------------------------------------------------------------------------


def test_categories_by_slug_or_id_and_subcategories(store):
    categories = [
        Category(5, "innovation-sociale", "Innovation sociale", None, 12, (6, 7)),
        Category(6, "boite-a-outils", "Boîte à outils", 5, 4, ()),
        Category(7, "cartographie", "Cartographie", 5, 9, ()),
        Category(8, "ailleurs", "Ailleurs", None, 1, ()),
    ]
    for _ in range(2):
        store.save_categories(categories)

    row = StoredCategory(
        id=6, slug="boite-a-outils", name="Boîte à outils", parent_id=5, topic_count=4
    )
    assert store.category("boite-a-outils") == row
    assert store.category("6") == row
    assert store.category(6) == row
    assert store.category("inconnue") is None
    assert sorted(store.subcategory_ids(5)) == [6, 7]
    assert store.subcategory_ids(6) == []
    assert count_rows(store, "categories") == 4

    store.save_categories([Category(6, "outils", "Outils", 5, 5, ())])
    assert store.category("6") == replace(row, slug="outils", name="Outils", topic_count=5)
    assert store.category("boite-a-outils") is None


# --- topic state and deletions -------------------------------------------------------------------


def test_topic_state_is_the_row_with_the_last_live_post_number(store):
    assert store.topic_state(101) is None
    store.save_topic(make_topic(), [make_post(1), make_post(2), make_post(3, deleted=True)], NOW)

    assert store.topic_state(101) == StoredTopic.from_row({**topic_row(), "max_post_number": 2})
    assert store.topic_state(101).tags == ("outils", "économie-sociale")
    assert store.topic_state(101).created_at == make_topic().created_at

    store.save_topic(make_topic(id=102), [], NOW)
    assert store.topic_state(102) == StoredTopic.from_row({**topic_row(id=102)})
    assert store.topic_state(102).max_post_number is None


def test_live_topic_ids_and_mark_topics_deleted(store):
    store.save_topic(make_topic(), [make_post(1), make_post(2)], NOW)
    store.save_topic(make_topic(id=102), [make_post(1, id=2001, topic_id=102)], NOW)
    assert store.live_topic_ids() == {101, 102}

    for _ in range(2):
        store.mark_topics_deleted([101, 999])

        assert store.live_topic_ids() == {102}
        assert [t.id for t in store.topics()] == [102]
        assert store.posts_of(101) == []
        assert rows(store, "topics") == [topic_row(deleted=1), topic_row(id=102)]
        assert rows(store, "posts") == [
            post_row(1, deleted=1),
            post_row(2, deleted=1),
            post_row(1, id=2001, topic_id=102),
        ]
        assert store.topic_state(101).max_post_number is None


def test_mark_posts_deleted(store):
    store.save_topic(make_topic(), [make_post(n) for n in (1, 2, 3, 4)], NOW)

    assert store.mark_posts_deleted(101, keep_ids={1001, 1003}, up_to_number=3) == 1
    assert store.mark_posts_deleted(101, keep_ids={1001, 1003}, up_to_number=3) == 0

    assert [p.post_number for p in store.posts_of(101)] == [1, 3, 4]
    assert rows(store, "posts") == [post_row(1), post_row(2, deleted=1), post_row(3), post_row(4)]
    assert store.topic_state(101).max_post_number == 4


def test_topics_are_listed_newest_bump_first(store):
    store.save_topic(make_topic(id=1, bumped_at=datetime(2025, 4, 1, tzinfo=UTC)), [], NOW)
    store.save_topic(make_topic(id=2, bumped_at=datetime(2025, 4, 20, tzinfo=UTC)), [], NOW)
    store.save_topic(make_topic(id=3, bumped_at=datetime(2025, 4, 10, tzinfo=UTC)), [], NOW)

    assert [t.id for t in store.topics()] == [2, 3, 1]


# --- people --------------------------------------------------------------------------------------

MARIE = User(
    11,
    "marie",
    "Marie Tremblay",
    datetime(2024, 11, 2, 14, 0, tzinfo=UTC),
    "Animatrice",
    "Sherbrooke",
    "https://example.org",
)
MARIE_ROW = {
    "site": SITE,
    "community": COMMUNITY,
    "id": 11,
    "username": "marie",
    "name": "Marie Tremblay",
    "created_at": "2024-11-02T14:00:00+00:00",
    "bio": "Animatrice",
    "location": "Sherbrooke",
    "website": "https://example.org",
}


def test_save_people_keeps_profiles(store):
    store.db["users"].insert({**MARIE_ROW})

    for _ in range(2):
        store.save_people([(11, "marie.t", "Marie T."), (12, "jeanp", None)])

        assert rows(store, "users") == [
            {**MARIE_ROW, "username": "marie.t", "name": "Marie T."},
            {
                "site": SITE,
                "community": COMMUNITY,
                "id": 12,
                "username": "jeanp",
                "name": None,
                "created_at": None,
                "bio": None,
                "location": None,
                "website": None,
            },
        ]


def test_group_members_saved_listed_and_removed(store):
    members = [
        GroupMember(11, "marie", "Marie Tremblay", datetime(2025, 1, 10, 12, 0, tzinfo=UTC), NOW),
        GroupMember(12, "jeanp", None, None, None),
    ]
    for _ in range(2):
        store.save_group_members("membres", members)
    store.save_group_members("animation", [members[0]])

    assert rows(store, "group_members") == [
        {
            "site": SITE,
            "community": COMMUNITY,
            "group_name": "membres",
            "user_id": 11,
            "username": "marie",
            "name": "Marie Tremblay",
            "added_at": "2025-01-10T12:00:00+00:00",
        },
        {
            "site": SITE,
            "community": COMMUNITY,
            "group_name": "membres",
            "user_id": 12,
            "username": "jeanp",
            "name": None,
            "added_at": None,
        },
        {
            "site": SITE,
            "community": COMMUNITY,
            "group_name": "animation",
            "user_id": 11,
            "username": "marie",
            "name": "Marie Tremblay",
            "added_at": "2025-01-10T12:00:00+00:00",
        },
    ]
    assert store.group_members("membres") == {11: "marie", 12: "jeanp"}
    assert store.group_members("inconnu") == {}

    for _ in range(2):
        store.remove_group_members("membres", [11, 999])

        assert store.group_members("membres") == {12: "jeanp"}
        assert store.group_members("animation") == {11: "marie"}


def _with_marie(store: Store) -> None:
    store.save_people([(11, "marie", "Marie Tremblay"), (12, "jeanp", "Jean P.")])
    store.save_group_members(
        "membres",
        [
            GroupMember(11, "marie", "Marie Tremblay", NOW, None),
            GroupMember(12, "jeanp", "Jean P.", NOW, None),
        ],
    )
    store.save_group_members("animation", [GroupMember(11, "marie", "Marie Tremblay", NOW, None)])
    store.save_topic(make_topic(last_poster_username="jeanp"), [make_post(1), make_post(2)], NOW)
    store.save_topic(
        make_topic(id=102, last_poster_username="marie"), [make_post(1, id=2001, topic_id=102)], NOW
    )


@pytest.mark.parametrize("new_username", ["anon1234", None])
def test_scrub_user_removes_profile_and_memberships_and_renames_posts(store, new_username):
    _with_marie(store)

    for _ in range(2):
        store.scrub_user(11, new_username)

        assert [u["id"] for u in rows(store, "users")] == [12]
        assert store.group_members("membres") == {12: "jeanp"}
        assert store.group_members("animation") == {}
        assert rows(store, "posts") == [
            post_row(1, username=new_username),
            post_row(2),
            post_row(1, id=2001, topic_id=102, username=new_username),
        ]


def test_scrub_user_leaves_the_old_username_nowhere(store):
    _with_marie(store)

    store.scrub_user(11, "anon1234")

    for table in ("users", "group_members", "posts", "topics"):
        for row in rows(store, table):
            assert "marie" not in row.values(), (table, row)


# --- counts --------------------------------------------------------------------------------------


def test_counts_are_scoped_and_leave_deleted_rows_out(store):
    other = Store(store.db, SITE, "autre-communaute")
    assert store.counts() == MirrorCounts(0, 0, 0, 0, 0, 0)
    store.save_topic(make_topic(), [make_post(1), make_post(2, deleted=True)], NOW)
    store.save_topic(make_topic(id=102), [make_post(1, id=3001, topic_id=102)], NOW)
    store.mark_topics_deleted([102])
    other.save_topic(make_topic(id=202), [], NOW)
    store.save_group_members("membres", [GroupMember(11, "marie", "Marie", NOW, None)])

    assert store.counts() == MirrorCounts(
        categories=0, topics=1, posts=1, members=1, toolbox_entries=0, cartography_cards=0
    )
    assert other.counts() == MirrorCounts(0, 1, 0, 0, 0, 0)
    assert not store.has_categories()


# --- two communities of one site -----------------------------------------------------------------


def test_two_communities_of_one_site_keep_their_own_rows_of_the_same_ids(store):
    other = Store(store.db, SITE, "autre-communaute")
    for each in (store, other):
        each.save_topic(make_topic(), [make_post(1), make_post(2)], NOW)
        each.save_people([(11, "marie", "Marie")])
        each.save_group_members("membres", [GroupMember(11, "marie", "Marie", NOW, None)])
        each.save_search_document("topic:101", "sujet", 101, "Codéveloppement", "texte", "u")

    other.mark_topics_deleted([101])
    other.erase_deleted([101])
    other.scrub_user(11, None)
    other.remove_group_members("membres", [11])

    assert store.topic_state(101).deleted is False
    assert [p.raw for p in store.posts_of(101)] == [make_post(1).raw, make_post(2).raw]
    assert store.group_members("membres") == {11: "marie"}
    assert store.authors()[11] == ["marie"]
    assert [h.topic_id for h in store.search("codeveloppement")] == [101]
    assert other.topic_state(101).deleted is True
    assert other.search("codeveloppement") == []
    assert other.group_members("membres") == {}


def test_a_post_held_for_approval_gets_its_own_state_on_upgrade(tmp_path, open_store):
    path = tmp_path / "bridge.db"
    old = Database(path)
    migrations.apply(old, stop_before="m004_community_keys")
    old["ledger"].insert(
        {**OLD_ROWS["ledger"], "state": "failed", "attempts": 10**6, "error": "en attente"}
    )
    old["search_documents"].insert(OLD_ROWS["search_documents"])
    old.close()

    upgraded = open_store(path)

    [entry] = upgraded.ledger_entries()
    assert (entry.state, entry.attempts, entry.error) == ("held", 1, "en attente")
    # The search index was rebuilt over the re-keyed table.
    assert [h.topic_id for h in upgraded.search("equipe")] == [101]


# --- a busy file ---------------------------------------------------------------------------------


def test_a_store_held_by_another_process_is_said_in_words(tmp_path, open_store, monkeypatch):
    monkeypatch.setattr(Store, "BUSY_TIMEOUT_MS", 10)
    store = open_store(tmp_path / "bridge.db")
    holder = sqlite3.connect(tmp_path / "bridge.db")
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError) as caught:
            store.ledger_intend(draft_topic(), NOW)
    finally:
        holder.rollback()
        holder.close()
    assert str(caught.value) == (
        "la base locale est occupée par un autre processus de la passerelle "
        "(par exemple le service) ; réessayez dans un instant"
    )
    assert store.ledger_intend(draft_topic(), NOW).attempts == 1


def test_a_bug_in_sql_is_not_taken_for_a_busy_store(store):
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        with store.atomic():
            store.db.execute("select colonne_absente from topics")
