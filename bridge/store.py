"""The local store: the only module that knows table names and SQL.

SQLite through sqlite-utils, in WAL mode, its schema built by forward-only migrations. Every row
records the site and the watched category it came from, so one file could serve several
communities. Cursors move only inside the transaction that saves the rows they cover.
"""

from __future__ import annotations

import fcntl
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bridge.errors import StoreError

if TYPE_CHECKING:
    from bridge.discourse import Category, GroupMember, Post, TopicDetail, TopicSummary, User
    from bridge.drafts import Draft

migrations = Migrations("bridge")


@migrations()
def m001_initial(db: Database) -> None:
    scope = {"site": str, "community": str}
    db["categories"].create(
        {**scope, "id": int, "slug": str, "name": str, "parent_id": int, "topic_count": int},
        pk=("site", "id"),
    )
    db["topics"].create(
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
    db["topics"].create_index(["site", "community", "bumped_at"])
    db["posts"].create(
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
    db["posts"].create_index(["site", "topic_id", "post_number"])
    db["users"].create(
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
    db["group_members"].create(
        {**scope, "group_name": str, "user_id": int, "username": str, "name": str, "added_at": str},
        pk=("site", "group_name", "user_id"),
    )
    db["cursors"].create(
        {**scope, "name": str, "value": str, "updated_at": str},
        pk=("site", "community", "name"),
    )
    db["ledger"].create(
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
    db["ledger"].create_index(["site", "community", "state"])
    db["job_runs"].create(
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
    db["job_runs"].create_index(["site", "community", "job", "started_at"])


@migrations()
def m002_announcements(db: Database) -> None:
    # The committee's announcements as last read from jobs/*.yaml, one row per occurrence, with
    # what was last published of each (to notice edits, moved times and cancellations).
    db["announcements"].create(
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
    db["announcements"].create_index(["site", "community", "starts_at"])


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
    db["toolbox_entries"].create(
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
    db["cartography_cards"].create(
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
    db["search_documents"].create(
        {**scope, "doc_id": str, "kind": str, "topic_id": int, "title": str, "body": str, "url": str},
        pk=("site", "doc_id"),
    )
    db["search_documents"].enable_fts(
        ["title", "body"], fts_version="FTS5", tokenize="unicode61 remove_diacritics 2",
        create_triggers=True,
    )


# Words French elides before a vowel: « l'Estrie », « qu'elle », « jusqu'à ».
_ELIDED = {"qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})


def searchable(text: str) -> str:
    """Text as the search index holds it: compatibility forms (pasted « ﬁ ») and the French
    ligatures « œ », « æ » spelled out, so « oeuvre » finds « œuvre ». FTS5's tokenizer folds
    case and accents."""
    return unicodedata.normalize("NFKC", text or "").translate(_LIGATURES)


# What an erased account's name becomes where others mentioned or quoted it.
ERASED_NAME = "anonyme"


def _name_in_text(username: str) -> re.Pattern[str]:
    """A username where a post names someone: a mention (`@name`, not inside an address), a
    profile link, a quote; never as the start of a longer username."""
    return re.compile(
        r"(?:(?<![\w@/.-])(@)|(/u/)|(data-username=\")|(\[quote=\"?))"
        + re.escape(username)
        + r"(?![\w-]|\.\w)",
        re.IGNORECASE,
    )


def _prefix(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group is not None)


def iso(value: datetime | None) -> str | None:
    """Timestamps are stored as ISO 8601 text in UTC, which sorts as time does."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).isoformat()


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    kind: str
    state: str  # pending (intent recorded, outcome unknown), done, failed
    external_id: str | None
    title: str | None
    topic_id: int | None
    post_id: int | None
    post_number: int | None
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LedgerEntry:
        return cls(
            key=row["key"],
            kind=row["kind"],
            state=row["state"],
            external_id=row["external_id"],
            title=row["title"],
            topic_id=row["topic_id"],
            post_id=row["post_id"],
            post_number=row["post_number"],
            attempts=row["attempts"] or 0,
            error=row["error"],
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
        )


@dataclass(frozen=True)
class JobRun:
    id: int
    job: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    summary: str | None
    error: str | None


@dataclass(frozen=True)
class StoredAnnouncement:
    """One occurrence of an announcement job. Once published, the fields are what the forum
    shows (updated after each successful edit); before that, what the job file says."""

    job: str
    occurrence: str  # "" for a one-off activity, the local date for a recurring one
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    link: str | None
    registration_url: str | None
    cancelled: bool
    topic_key: str
    published_hash: str | None
    published_starts_at: datetime | None
    # The announcement's topic on the forum, once published (from the ledger).
    topic_id: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StoredAnnouncement:
        return cls(
            job=row["job"],
            occurrence=row["occurrence"],
            kind=row["kind"],
            title=row["title"],
            starts_at=datetime.fromisoformat(row["starts_at"]),
            ends_at=datetime.fromisoformat(row["ends_at"]),
            place=row["place"],
            link=row["link"],
            registration_url=row["registration_url"],
            cancelled=bool(row["cancelled"]),
            topic_key=row["topic_key"],
            published_hash=row["published_hash"],
            published_starts_at=parse_iso(row["published_starts_at"]),
            topic_id=row.get("topic_id"),
        )


class Store:
    """One community's view of the store: every query is scoped to (site, community)."""

    def __init__(self, db: Database, site: str, community: str):
        self.db = db
        self.site = site
        self.community = community
        self._held: dict[str, int] = {}

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, site: str, community: str) -> Store:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = Database(path)
            db.enable_wal()
            # Several processes (the service and a command) may share the file.
            db.execute("PRAGMA busy_timeout = 5000")
            # What is deleted (an erased account's name, a deleted post's text) is overwritten
            # with zeros, not left in the file's free space.
            db.execute("PRAGMA secure_delete = ON")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{path}: impossible d'ouvrir la base locale ({exc})") from None
        store = cls(db, site, community)
        store.migrate()
        return store

    @classmethod
    def memory(cls, site: str = "http://test", community: str = "test") -> Store:
        store = cls(Database(memory=True), site, community)
        store.migrate()
        return store

    def migrate(self) -> None:
        try:
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"la base locale est illisible ou d'une version inconnue ({exc})") from None

    @classmethod
    def snapshot(cls, path: str | Path, site: str, community: str) -> Store:
        """A private in-memory copy of the store file, or an empty store if there is none.

        For dry runs, `status` and `check`, which promise to write nothing: not even to
        create the file or bring an older one up to date.
        """
        path = Path(path)
        memory = sqlite3.connect(":memory:")
        if path.exists():
            try:
                source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                try:
                    source.backup(memory)
                finally:
                    source.close()
            except sqlite3.Error as exc:
                raise StoreError(f"{path}: impossible de lire la base locale ({exc})") from None
        store = cls(Database(memory), site, community)
        store.migrate()
        return store

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold a lock shared by every process using this store file (none for in-memory).

        Re-entrant within one Store: a job that holds it may call a publisher that takes it.
        """
        path = self.db.execute("pragma database_list").fetchone()[2]
        if not path or self._held.get(name):
            self._held[name] = self._held.get(name, 0) + 1
            try:
                yield
            finally:
                self._held[name] -= 1
            return
        with open(f"{path}.{name}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._held[name] = 1
            try:
                yield
            finally:
                self._held[name] = 0
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction; the outermost takes the write lock at once (BEGIN IMMEDIATE).

        A deferred transaction that reads, then writes, fails at once with "database is
        locked" if another process wrote in between; an immediate one waits its turn.
        """
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    @property
    def _scope(self) -> dict[str, str]:
        return {"site": self.site, "community": self.community}

    _WHERE = "site = :site and community = :community"

    # --- mirror ------------------------------------------------------------------------------

    def save_categories(self, categories: Sequence[Category]) -> None:
        self.db["categories"].upsert_all(
            (
                {
                    **self._scope,
                    "id": c.id,
                    "slug": c.slug,
                    "name": c.name,
                    "parent_id": c.parent_id,
                    "topic_count": c.topic_count,
                }
                for c in categories
            ),
            pk=("site", "id"),
        )

    def save_topic(self, topic: TopicSummary, posts: Sequence[Post], synced_at: datetime) -> None:
        """Save a topic with the posts read for it; posts not listed are left as they were."""
        self.db["topics"].upsert(
            {
                **self._scope,
                "id": topic.id,
                "category_id": topic.category_id,
                "title": topic.title,
                "slug": topic.slug,
                "created_at": iso(topic.created_at),
                "bumped_at": iso(topic.bumped_at),
                "last_posted_at": iso(topic.last_posted_at),
                "posts_count": topic.posts_count,
                "reply_count": topic.reply_count,
                "like_count": topic.like_count,
                "views": topic.views,
                "pinned": int(topic.pinned),
                "closed": int(topic.closed),
                "archived": int(topic.archived),
                "visible": int(topic.visible),
                "tags": json.dumps(list(topic.tags), ensure_ascii=False),
                "last_poster_username": topic.last_poster_username,
                "deleted": 0,
                "synced_at": iso(synced_at),
            },
            pk=("site", "id"),
        )
        self.save_posts(posts)

    def save_posts(self, posts: Sequence[Post]) -> None:
        self.db["posts"].upsert_all(
            (
                {
                    **self._scope,
                    "id": p.id,
                    "topic_id": p.topic_id,
                    "post_number": p.post_number,
                    "username": p.username,
                    "user_id": p.user_id,
                    "raw": p.raw,
                    "cooked": p.cooked,
                    "created_at": iso(p.created_at),
                    "updated_at": iso(p.updated_at),
                    "reply_to_post_number": p.reply_to_post_number,
                    "like_count": p.like_count,
                    "reply_count": p.reply_count,
                    "deleted": int(p.deleted),
                }
                for p in posts
            ),
            pk=("site", "id"),
        )

    def save_users(self, users: Sequence[User]) -> None:
        self.db["users"].upsert_all(
            (
                {
                    **self._scope,
                    "id": u.id,
                    "username": u.username,
                    "name": u.name,
                    "created_at": iso(u.created_at),
                    "bio": u.bio_raw,
                    "location": u.location,
                    "website": u.website,
                }
                for u in users
            ),
            pk=("site", "id"),
        )

    def save_group_members(self, group: str, members: Sequence[GroupMember]) -> None:
        self.db["group_members"].upsert_all(
            (
                {
                    **self._scope,
                    "group_name": group,
                    "user_id": m.id,
                    "username": m.username,
                    "name": m.name,
                    "added_at": iso(m.added_at),
                }
                for m in members
            ),
            pk=("site", "group_name", "user_id"),
        )

    def category(self, slug_or_id: str) -> dict[str, Any] | None:
        """A stored category by slug or id."""
        rows = list(
            self.db.query(
                "select * from categories where site = :site and (slug = :v or cast(id as text) = :v)",
                {"site": self.site, "v": str(slug_or_id)},
            )
        )
        return rows[0] if rows else None

    def subcategory_ids(self, parent_id: int) -> list[int]:
        return [
            r["id"]
            for r in self.db.query(
                "select id from categories where site = :site and parent_id = :p",
                {"site": self.site, "p": parent_id},
            )
        ]

    def topic_state(self, topic_id: int) -> dict[str, Any] | None:
        """A stored topic's row, with `max_post_number` of its stored posts."""
        rows = list(
            self.db.query(
                "select t.*, (select max(post_number) from posts p where p.site = t.site "
                "and p.topic_id = t.id and p.deleted = 0) as max_post_number "
                "from topics t where t.site = :site and t.id = :id",
                {"site": self.site, "id": topic_id},
            )
        )
        return rows[0] if rows else None

    def live_topic_ids(self) -> set[int]:
        return {
            r["id"]
            for r in self.db.query(
                f"select id from topics where {self._WHERE} and deleted = 0", self._scope
            )
        }

    def mark_topics_deleted(self, topic_ids: Sequence[int]) -> None:
        """Deleted on the forum: kept as rows marked deleted, excluded everywhere else."""
        for topic_id in topic_ids:
            self.db.execute(
                "update topics set deleted = 1 where site = :site and id = :id",
                {"site": self.site, "id": topic_id},
            )
            self.db.execute(
                "update posts set deleted = 1 where site = :site and topic_id = :id",
                {"site": self.site, "id": topic_id},
            )
        self.drop_entries(topic_ids)

    def erase_deleted(self, topic_ids: Sequence[int] | None = None) -> int:
        """Empty the deleted posts and topics (of these topics, or all) of their text and their
        author's name; their ids and numbers stay. Return how many rows were emptied."""
        posts = topics = ""
        if topic_ids is not None:
            marks = ", ".join(str(int(i)) for i in topic_ids) or "null"
            posts, topics = f" and topic_id in ({marks})", f" and id in ({marks})"
        emptied = self.db.execute(
            "update posts set raw = null, cooked = null, username = null "
            f"where {self._WHERE} and deleted = 1 and (raw is not null or cooked is not null "
            f"or username is not null){posts}",
            self._scope,
        ).rowcount
        emptied += self.db.execute(
            "update topics set last_poster_username = null "
            f"where {self._WHERE} and deleted = 1 and last_poster_username is not null{topics}",
            self._scope,
        ).rowcount
        return int(emptied)

    def update_topic(self, detail: TopicDetail) -> None:
        """Save what a topic's own page says of it: category, title and status. Its activity
        (last bump, post count) is left for the list to tell, since it decides which posts
        a pass reads."""
        self.db.execute(
            "update topics set category_id = :category_id, title = :title, slug = :slug, "
            "pinned = :pinned, closed = :closed, archived = :archived, visible = :visible "
            f"where {self._WHERE} and id = :id",
            {
                **self._scope,
                "id": detail.id,
                "category_id": detail.category_id,
                "title": detail.title,
                "slug": detail.slug,
                "pinned": int(detail.pinned),
                "closed": int(detail.closed),
                "archived": int(detail.archived),
                "visible": int(detail.visible),
            },
        )

    def compact_search_index(self) -> None:
        """Merge the search index into one segment. FTS5 only marks a removed document's words
        as deleted, in new pages; merging drops them from the file (with `secure_delete`)."""
        self.db.execute(
            "insert into search_documents_fts(search_documents_fts) values ('optimize')"
        )

    def mark_posts_deleted(self, topic_id: int, keep_ids: set[int], up_to_number: int) -> int:
        """Mark deleted the stored posts up to `up_to_number` that the forum no longer has."""
        gone = [
            r["id"]
            for r in self.db.query(
                "select id from posts where site = :site and topic_id = :t and deleted = 0 "
                "and post_number <= :n",
                {"site": self.site, "t": topic_id, "n": up_to_number},
            )
            if r["id"] not in keep_ids
        ]
        for post_id in gone:
            self.db.execute(
                "update posts set deleted = 1 where site = :site and id = :id",
                {"site": self.site, "id": post_id},
            )
        return len(gone)

    def save_people(self, people: Sequence[tuple[int, str, str | None]]) -> None:
        """Record (user id, username, name) seen in lists, leaving profiles as they are."""
        # One statement for all (the mirror saves the authors of every topic it reads).
        self.db["users"].upsert_all(
            (
                {**self._scope, "id": user_id, "username": username, "name": name}
                for user_id, username, name in people
            ),
            pk=("site", "id"),
        )

    def authors(self) -> dict[int, list[str]]:
        """user id -> the usernames the store holds for each person it names: profiles and
        authors of live posts, the profile's name first (posts and profile disagree after a
        rename until it is scrubbed)."""
        found: dict[int, list[str]] = {}
        for row in self.db.query(
            f"select 0 as rank, id, username from users where {self._WHERE} "
            "and username is not null union "
            f"select distinct 1, user_id, username from posts where {self._WHERE} "
            "and deleted = 0 and user_id is not null and username is not null "
            "order by rank, id",
            self._scope,
        ):
            names = found.setdefault(row["id"], [])
            if row["username"] not in names:
                names.append(row["username"])
        return found

    def forget_absent_people(self, group: str) -> int:
        """Delete the profiles of people neither in `group` nor author of a live post (the
        mirror has no reason left to hold their name); return how many."""
        cursor = self.db.execute(
            f"delete from users where {self._WHERE} and id not in "
            "(select user_id from group_members where site = :site and community = :community "
            "and group_name = :g) and id not in (select user_id from posts where site = :site "
            "and community = :community and deleted = 0 and user_id is not null)",
            {**self._scope, "g": group},
        )
        return int(cursor.rowcount)

    def group_members(self, group: str) -> dict[int, str]:
        """user id -> username of the stored members of `group`."""
        return {
            r["user_id"]: r["username"]
            for r in self.db.query(
                f"select user_id, username from group_members where {self._WHERE} "
                "and group_name = :g",
                {**self._scope, "g": group},
            )
        }

    def remove_group_members(self, group: str, user_ids: Sequence[int]) -> None:
        for user_id in user_ids:
            self.db.execute(
                "delete from group_members where site = :site and group_name = :g "
                "and user_id = :u",
                {"site": self.site, "g": group, "u": user_id},
            )

    def scrub_user(self, user_id: int, new_username: str | None = None) -> list[int]:
        """Remove a person's personal data: their profile, memberships and name on posts.

        Their posts stay (they belong to the community's conversation) under `new_username`
        (Discourse's anonymous name), or none. Their old name is rewritten where others wrote
        it, in @mentions and quotes (as Discourse does when it renames an account), to the new
        name or « anonyme ». Return the topics whose text changed: their search documents and
        entries are to be refreshed.
        """
        params = {"site": self.site, "u": user_id, "n": new_username}
        old_names = {
            r["username"]
            for r in self.db.query(
                "select username from users where site = :site and id = :u "
                "union select username from posts where site = :site and user_id = :u "
                "union select username from group_members where site = :site and user_id = :u",
                params,
            )
            if r["username"]
        }
        for old in old_names:
            renamed = {**params, "old": old}
            self.db.execute(
                "update topics set last_poster_username = :n "
                "where site = :site and last_poster_username = :old",
                renamed,
            )
            for table in ("toolbox_entries", "cartography_cards"):
                self.db.execute(
                    f"update [{table}] set author = :n where site = :site and author = :old",
                    renamed,
                )
        touched = self._rewrite_name(old_names, new_username or ERASED_NAME)
        self.db.execute("delete from users where site = :site and id = :u", params)
        self.db.execute("delete from group_members where site = :site and user_id = :u", params)
        self.db.execute("update posts set username = :n where site = :site and user_id = :u", params)
        return touched

    def _rewrite_name(self, old_names: set[str], new: str) -> list[int]:
        """Replace `@old`, `/u/old`, `data-username="old"` and `[quote="old` in the raw and
        cooked text of stored posts; return the topics touched."""
        touched: set[int] = set()
        for old in old_names:
            pattern = _name_in_text(old)
            for row in self.db.query(
                "select id, topic_id, raw, cooked from posts where site = :site and "
                "(raw like :like or cooked like :like)",
                {"site": self.site, "like": f"%{old}%"},
            ):
                values = {
                    column: pattern.sub(lambda m: _prefix(m) + new, row[column])
                    for column in ("raw", "cooked")
                    if row[column]
                }
                if any(values[c] != row[c] for c in values):
                    self.db.table("posts").update((self.site, row["id"]), values)
                    touched.add(row["topic_id"])
        return sorted(touched)

    def count(self, table: str) -> int:
        """Rows of this community in one of the store's tables."""
        if table not in self.db.table_names():
            raise StoreError(f"table inconnue : {table}")
        row = self.db.execute(
            f"select count(*) from [{table}] where {self._WHERE}", self._scope
        ).fetchone()
        return int(row[0])

    def topics(self) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                f"select * from topics where {self._WHERE} and deleted = 0 "
                "order by bumped_at desc",
                self._scope,
            )
        )

    def posts_of(self, topic_id: int) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                f"select * from posts where {self._WHERE} and topic_id = :topic_id "
                "and deleted = 0 order by post_number",
                {**self._scope, "topic_id": topic_id},
            )
        )

    # --- cursors -----------------------------------------------------------------------------

    def get_cursor(self, name: str) -> str | None:
        rows = list(
            self.db.query(
                f"select value from cursors where {self._WHERE} and name = :name",
                {**self._scope, "name": name},
            )
        )
        return rows[0]["value"] if rows else None

    def set_cursor(self, name: str, value: str, now: datetime) -> None:
        """Move a cursor; call it inside `atomic()` with the rows it covers."""
        self.db["cursors"].upsert(
            {**self._scope, "name": name, "value": value, "updated_at": iso(now)},
            pk=("site", "community", "name"),
        )

    # --- publishing ledger -------------------------------------------------------------------

    def ledger_get(self, key: str) -> LedgerEntry | None:
        rows = list(
            self.db.query(
                f"select * from ledger where {self._WHERE} and key = :key",
                {**self._scope, "key": key},
            )
        )
        return LedgerEntry.from_row(rows[0]) if rows else None

    def ledger_intend(self, draft: Draft, now: datetime) -> LedgerEntry:
        """Record the intent to write `draft` (committed before the write is sent)."""
        existing = self.ledger_get(draft.key)
        with self.atomic():
            self.db["ledger"].upsert(
                {
                    **self._scope,
                    "key": draft.key,
                    "kind": draft.kind.value,
                    "state": "pending",
                    "external_id": draft.external_id(self.community) if draft.creates_topic else None,
                    "title": draft.title or draft.label or None,
                    "attempts": (existing.attempts if existing else 0) + 1,
                    "error": None,
                    "created_at": iso(existing.created_at if existing else now),
                    "updated_at": iso(now),
                },
                pk=("site", "community", "key"),
            )
        entry = self.ledger_get(draft.key)
        assert entry is not None
        return entry

    def ledger_done(
        self,
        key: str,
        now: datetime,
        *,
        topic_id: int | None = None,
        post_id: int | None = None,
        post_number: int | None = None,
    ) -> None:
        with self.atomic():
            self.db["ledger"].update(
                (self.site, self.community, key),
                {
                    "state": "done",
                    "topic_id": topic_id,
                    "post_id": post_id,
                    "post_number": post_number,
                    "error": None,
                    "updated_at": iso(now),
                },
            )

    def ledger_failed(self, key: str, error: str, now: datetime, *, final: bool = False) -> None:
        """Record a refusal; `final` marks it as never to be tried again."""
        values: dict[str, Any] = {"state": "failed", "error": error, "updated_at": iso(now)}
        if final:
            values["attempts"] = 10**6
        with self.atomic():
            self.db["ledger"].update((self.site, self.community, key), values)

    def ledger_forget(self, key: str) -> None:
        """Drop an entry whose write is known not to have happened, so it can be planned anew."""
        with self.atomic():
            self.db.execute(
                f"delete from ledger where {self._WHERE} and key = :key",
                {**self._scope, "key": key},
            )

    def ledger_summary(self) -> dict[str, int]:
        return {
            row["state"]: row["n"]
            for row in self.db.query(
                f"select state, count(*) as n from ledger where {self._WHERE} group by state",
                self._scope,
            )
        }

    def ledger_entries(self, state: str | None = None) -> list[LedgerEntry]:
        where = self._WHERE + (" and state = :state" if state else "")
        return [
            LedgerEntry.from_row(row)
            for row in self.db.query(
                f"select * from ledger where {where} order by updated_at desc",
                {**self._scope, "state": state},
            )
        ]

    # --- entries and search ------------------------------------------------------------------

    def topics_with_first_post(self, topic_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Live topics with their category slug, author and first post's raw Markdown."""
        if not topic_ids:
            return []
        marks = ", ".join(str(int(i)) for i in topic_ids)
        return list(
            self.db.query(
                "select t.*, c.slug as category_slug, p.raw as first_post_raw, "
                "p.username as author from topics t "
                "left join categories c on c.site = t.site and c.id = t.category_id "
                "left join posts p on p.site = t.site and p.topic_id = t.id "
                "and p.post_number = 1 and p.deleted = 0 "
                f"where t.site = :site and t.community = :community and t.id in ({marks}) "
                "and t.deleted = 0",
                self._scope,
            )
        )

    def replies_text(self, topic_id: int) -> str:
        return "\n\n".join(
            r["raw"] or ""
            for r in self.db.query(
                "select raw from posts where site = :site and topic_id = :t and deleted = 0 "
                "and post_number > 1 order by post_number",
                {"site": self.site, "t": topic_id},
            )
        )

    def save_entry(self, table: str, row: dict[str, Any]) -> None:
        """Save a parsed toolbox entry or card (lists and pairs stored as JSON)."""
        if table not in ("toolbox_entries", "cartography_cards"):
            raise StoreError(f"table d'entrées inconnue : {table}")
        other = "cartography_cards" if table == "toolbox_entries" else "toolbox_entries"
        values = {
            k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | tuple) else v
            for k, v in row.items()
        }
        for key, value in values.items():
            if isinstance(value, datetime):
                values[key] = iso(value)
        # A topic moved between subcategories changes kind.
        self.db.execute(
            f"delete from [{other}] where site = :site and topic_id = :t",
            {"site": self.site, "t": row["topic_id"]},
        )
        self.db[table].upsert({**self._scope, **values}, pk=("site", "topic_id"))

    def drop_entries(self, topic_ids: Sequence[int]) -> None:
        for topic_id in topic_ids:
            params = {"site": self.site, "t": topic_id}
            for table in ("toolbox_entries", "cartography_cards"):
                self.db.execute(f"delete from [{table}] where site = :site and topic_id = :t", params)
            self.db.execute(
                "delete from search_documents where site = :site and topic_id = :t", params
            )

    def save_search_document(
        self, doc_id: str, kind: str, topic_id: int, title: str, body: str, url: str
    ) -> None:
        """Index a document; its text is folded as queries are (see `searchable`)."""
        self.db["search_documents"].upsert(
            {
                **self._scope,
                "doc_id": doc_id,
                "kind": kind,
                "topic_id": topic_id,
                "title": searchable(title),
                "body": searchable(body),
                "url": url,
            },
            pk=("site", "doc_id"),
        )

    def entries(self, table: str) -> list[dict[str, Any]]:
        """Toolbox entries or cartography cards, JSON columns decoded, newest activity first."""
        if table not in ("toolbox_entries", "cartography_cards"):
            raise StoreError(f"table d'entrées inconnue : {table}")
        rows = []
        for row in self.db.query(
            f"select * from [{table}] where {self._WHERE} order by last_activity_at desc",
            self._scope,
        ):
            for key in ("themes", "warnings", "links", "territories", "fields"):
                if key in row and row[key] is not None:
                    row[key] = json.loads(row[key])
            rows.append(row)
        return rows

    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Full-text search, each word matched as a prefix; accents and ligatures folded.

        The query is reduced to words, so FTS5's own syntax (quotes, AND, *, parentheses)
        never reaches the index; French elisions (« l'Estrie ») keep only the word.
        """
        words = [
            w
            for w in "".join(ch if ch.isalnum() else " " for ch in searchable(query)).split()
            if len(w) > 1 and w.lower() not in _ELIDED
        ]
        if not words:
            return []
        match = " ".join(f'"{w}"*' for w in words)
        rows = self.db.query(
            "select d.kind, d.topic_id, coalesce(t.title, d.title) as title, d.url, "
            "snippet(search_documents_fts, 1, '[', ']', '…', 12) as snippet "
            "from search_documents_fts join search_documents d "
            "on d.rowid = search_documents_fts.rowid "
            "left join topics t on t.site = d.site and t.id = d.topic_id "
            "where search_documents_fts match :match and d.site = :site "
            "and d.community = :community order by rank limit :limit",
            {**self._scope, "match": match, "limit": limit},
        )
        return [{**row, "snippet": " ".join(row["snippet"].split())} for row in rows]

    # --- job runs ----------------------------------------------------------------------------

    def run_started(self, job: str, now: datetime) -> int:
        with self.atomic():
            table = self.db["job_runs"]
            table.insert(
                {**self._scope, "job": job, "started_at": iso(now), "status": "running"}
            )
            return int(table.last_pk)  # type: ignore[attr-defined]

    def run_finished(
        self, run_id: int, now: datetime, status: str, summary: str = "", error: str = ""
    ) -> None:
        with self.atomic():
            self.db["job_runs"].update(
                run_id,
                {
                    "finished_at": iso(now),
                    "status": status,
                    "summary": summary or None,
                    "error": error or None,
                },
            )

    def last_runs(self) -> list[JobRun]:
        """The latest run of each job."""
        rows = self.db.query(
            f"select * from job_runs where {self._WHERE} and id in "
            f"(select max(id) from job_runs where {self._WHERE} group by job) order by job",
            self._scope,
        )
        return [
            JobRun(
                id=r["id"],
                job=r["job"],
                started_at=datetime.fromisoformat(r["started_at"]),
                finished_at=parse_iso(r["finished_at"]),
                status=r["status"],
                summary=r["summary"],
                error=r["error"],
            )
            for r in rows
        ]

    # --- announcements ------------------------------------------------------------------------
    # The committee's announcements (jobs/*.yaml), one row per occurrence. Rows not yet published
    # follow the job file; published rows keep what the forum shows until an edit goes out.

    _ANNOUNCEMENT_FIELDS = (
        "kind", "title", "starts_at", "ends_at", "place", "link", "registration_url",
    )

    def save_announcements(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Upsert occurrences read from job files (keys: job, occurrence, kind, title,
        starts_at, ends_at, place, link, registration_url, cancelled, topic_key, source)."""
        published = {
            (a.job, a.occurrence) for a in self.announcements() if a.published_hash is not None
        }
        with self.atomic():
            for row in rows:
                record = {
                    **self._scope,
                    "job": row["job"],
                    "occurrence": row["occurrence"],
                    "cancelled": int(bool(row["cancelled"])),
                    "topic_key": row["topic_key"],
                    "source": row.get("source"),
                    "updated_at": iso(now),
                }
                if (row["job"], row["occurrence"]) not in published:
                    record.update(self._announcement_fields(row))
                self.db.table("announcements").upsert(
                    record, pk=("site", "community", "job", "occurrence")
                )

    def record_announcement(
        self,
        job: str,
        occurrence: str,
        now: datetime,
        *,
        fields: dict[str, Any] | None = None,
        published_hash: str | None = None,
        published_starts_at: datetime | None = None,
    ) -> None:
        """Record what the forum now shows of an occurrence (after a publication or an edit)."""
        update: dict[str, Any] = {"updated_at": iso(now)}
        if fields is not None:
            update.update(self._announcement_fields(fields))
        if published_hash is not None:
            update["published_hash"] = published_hash
        if published_starts_at is not None:
            update["published_starts_at"] = iso(published_starts_at)
        with self.atomic():
            self.db.execute(
                "update announcements set "
                + ", ".join(f"[{k}] = :{k}" for k in update)
                + f" where {self._WHERE} and job = :job and occurrence = :occurrence",
                {**self._scope, **update, "job": job, "occurrence": occurrence},
            )

    def announcements(self, jobs: Sequence[str] | None = None) -> list[StoredAnnouncement]:
        """The stored occurrences, of the given jobs or all, in order of start."""
        rows = self.db.query(
            f"select * from announcements where {self._WHERE} order by starts_at, job",
            self._scope,
        )
        found = [StoredAnnouncement.from_row(r) for r in rows]
        return found if jobs is None else [a for a in found if a.job in jobs]

    def upcoming_announcements(
        self, now: datetime, *, limit: int | None = None
    ) -> list[StoredAnnouncement]:
        """Published, not cancelled and not over at `now`, soonest first, with their topic id:
        what the digest and the welcome show."""
        rows = self.db.query(
            "select a.*, l.topic_id as topic_id from announcements a left join ledger l "
            "on l.site = a.site and l.key = a.topic_key and l.state = 'done' "
            "where a.site = :site and a.community = :community and a.cancelled = 0 "
            "and a.published_hash is not null and a.ends_at > :now "
            "order by a.starts_at, a.job" + (" limit :limit" if limit is not None else ""),
            {**self._scope, "now": iso(now), "limit": limit},
        )
        return [StoredAnnouncement.from_row(r) for r in rows]

    def ledger_done_keys(self, prefix: str) -> dict[str, datetime]:
        """Keys written for sure that start with `prefix`, with when they were confirmed."""
        return {
            r["key"]: datetime.fromisoformat(r["updated_at"])
            for r in self.db.query(
                f"select key, updated_at from ledger where {self._WHERE} and state = 'done' "
                "and substr(key, 1, length(:prefix)) = :prefix",
                {**self._scope, "prefix": prefix},
            )
        }

    def _announcement_fields(self, row: dict[str, Any]) -> dict[str, Any]:
        values = {k: row[k] for k in self._ANNOUNCEMENT_FIELDS if k in row}
        for k in ("starts_at", "ends_at"):
            if isinstance(values.get(k), datetime):
                values[k] = iso(values[k])
        return values
