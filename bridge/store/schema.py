"""The store's schema: forward-only sqlite-utils migrations.

Each migration is recorded under its function's name in the databases it was applied to, so
those names must never change.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("bridge")


@migrations()
def m001_initial(db: Database) -> None:
    scope = {"site": str, "community": str}
    db.table("categories").create(
        {**scope, "id": int, "slug": str, "name": str, "parent_id": int, "topic_count": int},
        pk=("site", "id"),
    )
    db.table("topics").create(
        {
            **scope,
            "id": int,
            "category_id": int,
            "title": str,
            "slug": str,
            "created_at": str,
            "bumped_at": str,
            "last_posted_at": str,
            "posts_count": int,
            "reply_count": int,
            "like_count": int,
            "views": int,
            "pinned": int,
            "closed": int,
            "archived": int,
            "visible": int,
            "tags": str,
            "last_poster_username": str,
            "deleted": int,
            "synced_at": str,
        },
        pk=("site", "id"),
        defaults={"deleted": 0},
    )
    db.table("topics").create_index(["site", "community", "bumped_at"])
    db.table("posts").create(
        {
            **scope,
            "id": int,
            "topic_id": int,
            "post_number": int,
            "username": str,
            "user_id": int,
            "raw": str,
            "cooked": str,
            "created_at": str,
            "updated_at": str,
            "reply_to_post_number": int,
            "like_count": int,
            "reply_count": int,
            "deleted": int,
        },
        pk=("site", "id"),
        defaults={"deleted": 0},
    )
    db.table("posts").create_index(["site", "topic_id", "post_number"])
    db.table("users").create(
        {
            **scope,
            "id": int,
            "username": str,
            "name": str,
            "created_at": str,
            "bio": str,
            "location": str,
            "website": str,
        },
        pk=("site", "id"),
    )
    db.table("group_members").create(
        {**scope, "group_name": str, "user_id": int, "username": str, "name": str, "added_at": str},
        pk=("site", "group_name", "user_id"),
    )
    db.table("cursors").create(
        {**scope, "name": str, "value": str, "updated_at": str},
        pk=("site", "community", "name"),
    )
    db.table("ledger").create(
        {
            **scope,
            "key": str,
            "kind": str,
            "state": str,
            "external_id": str,
            "title": str,
            "topic_id": int,
            "post_id": int,
            "post_number": int,
            "attempts": int,
            "error": str,
            "created_at": str,
            "updated_at": str,
        },
        pk=("site", "community", "key"),
    )
    db.table("ledger").create_index(["site", "community", "state"])
    db.table("job_runs").create(
        {
            **scope,
            "id": int,
            "job": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "summary": str,
            "error": str,
        },
        pk="id",
    )
    db.table("job_runs").create_index(["site", "community", "job", "started_at"])


@migrations()
def m002_announcements(db: Database) -> None:
    # The committee's announcements as last read from jobs/*.yaml, one row per occurrence, with
    # what was last published of each (to notice edits, moved times and cancellations).
    db.table("announcements").create(
        {
            "site": str,
            "community": str,
            "job": str,
            "occurrence": str,
            "kind": str,
            "title": str,
            "starts_at": str,
            "ends_at": str,
            "place": str,
            "link": str,
            "registration_url": str,
            "cancelled": int,
            "topic_key": str,
            "published_hash": str,
            "published_starts_at": str,
            "source": str,
            "updated_at": str,
        },
        pk=("site", "community", "job", "occurrence"),
        defaults={"cancelled": 0},
    )
    db.table("announcements").create_index(["site", "community", "starts_at"])


@migrations()
def m003_entries(db: Database) -> None:
    scope = {"site": str, "community": str}
    common = {
        "topic_id": int,
        "title": str,
        "themes": str,
        "author": str,
        "created_at": str,
        "last_activity_at": str,
        "url": str,
        "warnings": str,
    }
    db.table("toolbox_entries").create(
        {
            **scope,
            **common,
            "links": str,
            "description": str,
            "summary": str,
            "reply_count": int,
            "like_count": int,
        },
        pk=("site", "topic_id"),
    )
    db.table("cartography_cards").create(
        {
            **scope,
            **common,
            "organisation": str,
            "territory": str,
            "territories": str,
            "territory_raw": str,
            "website": str,
            "contact": str,
            "description": str,
            "latitude": float,
            "longitude": float,
            "fields": str,
        },
        pk=("site", "topic_id"),
    )
    # One row per searchable thing (a topic, an entry, a card), indexed with FTS5; the
    # unicode61 tokenizer folds accents so « equipe » finds « équipe ».
    db.table("search_documents").create(
        {
            **scope,
            "doc_id": str,
            "kind": str,
            "topic_id": int,
            "title": str,
            "body": str,
            "url": str,
        },
        pk=("site", "doc_id"),
    )
    db.table("search_documents").enable_fts(
        ["title", "body"],
        fts_version="FTS5",
        tokenize="unicode61 remove_diacritics 2",
        create_triggers=True,
    )


# Tables whose rows belong to one community, and their keys from m004 on: two communities of one
# site in one file hold the same user, topic or post each on its own row.
_COMMUNITY_KEYS = {
    "categories": ("site", "community", "id"),
    "topics": ("site", "community", "id"),
    "posts": ("site", "community", "id"),
    "users": ("site", "community", "id"),
    "group_members": ("site", "community", "group_name", "user_id"),
    "toolbox_entries": ("site", "community", "topic_id"),
    "cartography_cards": ("site", "community", "topic_id"),
    "search_documents": ("site", "community", "doc_id"),
}


@migrations()
def m004_community_keys(db: Database) -> None:
    # The FTS triggers name the table being rebuilt: drop the index, rebuild, index again.
    db.table("search_documents").disable_fts()
    for name, pk in _COMMUNITY_KEYS.items():
        db.table(name).transform(pk=pk)
    db.table("search_documents").enable_fts(
        ["title", "body"],
        fts_version="FTS5",
        tokenize="unicode61 remove_diacritics 2",
        create_triggers=True,
    )
    db.table("posts").create_index(["site", "community", "topic_id", "post_number"])
    db.table("posts").create_index(["site", "community", "user_id"])
    # A post held for approval was recorded as a refusal tried a million times; it has its own
    # state now.
    db.execute("update ledger set state = 'held', attempts = 1 where attempts >= 1000000")


@migrations()
def m006_digest_weeks(db: Database) -> None:
    # The figures of each week a digest was written for: the 8-week trends reuse them, so that
    # a week reads the same in every later digest even after posts are deleted or people leave.
    db.table("digest_weeks").create(
        {
            "site": str,
            "community": str,
            "week": str,
            "contributors": int,
            "first_timers": int,
            "new_topics": int,
            "answered_topics": int,
            "median_first_reply_hours": float,
            "reciprocal": int,
            "recent_contributors": int,
            "replies": int,
            "recorded_at": str,
        },
        pk=("site", "community", "week"),
    )
    # What the digest asks of a week: posts and topics by time, members by date joined,
    # entries by date added or changed, the last sync.
    db.table("posts").create_index(["site", "community", "created_at"])
    db.table("posts").create_index(["site", "community", "user_id", "created_at"])
    db.table("topics").create_index(["site", "community", "created_at"])
    db.table("group_members").create_index(["site", "community", "group_name", "added_at"])
    db.table("group_members").create_index(["site", "community", "user_id"])
    db.table("toolbox_entries").create_index(["site", "community", "created_at"])
    db.table("cartography_cards").create_index(["site", "community", "last_activity_at"])


@migrations()
def m007_welcome(db: Database) -> None:
    # The welcome's own memory: a random secret per community (members are named by a keyed
    # hash of their user id, never by id nor name), and one row per member it has seen join.
    db.table("welcome_secrets").create(
        {"site": str, "community": str, "secret": str, "created_at": str, "baseline_at": str},
        pk=("site", "community"),
    )
    db.table("welcome_members").create(
        {
            "site": str,
            "community": str,
            "person": str,
            "joined_at": str,
            "state": str,
            "reason": str,
            "step_key": str,
            "welcomed_at": str,
            "follow_up": str,
            "updated_at": str,
        },
        pk=("site", "community", "person"),
    )


@migrations()
def m008_post_states(db: Database) -> None:
    # A post withdrawn by its author (Discourse's `user_deleted`) is kept as deleted, emptied;
    # a post hidden by flags keeps its text, for staff, and is out of everything people read.
    posts = db.table("posts")
    posts.add_column("withdrawn", int, not_null_default=0)
    posts.add_column("hidden", int, not_null_default=0)


@migrations()
def m009_forgotten(db: Database) -> None:
    # The people forgotten at their request (`bridge forget`), named only by keyed hashes (of
    # the user id, as the welcome names members, and of each username they were known by):
    # the mirror stores their later posts without their name, and nothing else of them.
    db.table("forgotten_people").create(
        {"site": str, "community": str, "person": str, "names": str, "forgotten_at": str},
        pk=("site", "community", "person"),
    )
