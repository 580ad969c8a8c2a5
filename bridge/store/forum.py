"""The forum as mirrored: categories, topics, posts, people, group members, and cursors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bridge.store.base import iso, parse_iso
from bridge.store.forgotten import ForgetListMixin

if TYPE_CHECKING:
    # The payload types, not the door: the store must not depend on how Discourse is reached
    # (planners reach the store, and through it they would reach the door too).
    from bridge.models import Category, GroupMember, Post, TopicDetail, TopicSummary


@dataclass(frozen=True)
class StoredCategory:
    id: int
    slug: str
    name: str
    parent_id: int | None
    topic_count: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StoredCategory:
        return cls(
            id=row["id"],
            slug=row["slug"],
            name=row["name"],
            parent_id=row["parent_id"],
            topic_count=row["topic_count"] or 0,
        )


@dataclass(frozen=True)
class StoredTopic:
    """A mirrored topic; `max_post_number` is its last live stored post's (None if none)."""

    id: int
    category_id: int
    title: str
    slug: str
    created_at: datetime
    bumped_at: datetime
    last_posted_at: datetime | None
    posts_count: int
    reply_count: int
    like_count: int
    views: int
    pinned: bool
    closed: bool
    archived: bool
    visible: bool
    tags: tuple[str, ...]
    last_poster_username: str | None
    deleted: bool
    max_post_number: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StoredTopic:
        return cls(
            id=row["id"],
            category_id=row["category_id"],
            title=row["title"],
            slug=row["slug"] or "",
            created_at=datetime.fromisoformat(row["created_at"]),
            bumped_at=datetime.fromisoformat(row["bumped_at"]),
            last_posted_at=parse_iso(row["last_posted_at"]),
            posts_count=row["posts_count"] or 0,
            reply_count=row["reply_count"] or 0,
            like_count=row["like_count"] or 0,
            views=row["views"] or 0,
            pinned=bool(row["pinned"]),
            closed=bool(row["closed"]),
            archived=bool(row["archived"]),
            visible=bool(row["visible"]),
            tags=tuple(json.loads(row["tags"] or "[]")),
            last_poster_username=row["last_poster_username"],
            deleted=bool(row["deleted"]),
            max_post_number=row.get("max_post_number"),
        )


@dataclass(frozen=True)
class StoredPost:
    id: int
    topic_id: int
    post_number: int
    username: str | None
    user_id: int | None
    raw: str | None
    cooked: str | None
    created_at: datetime
    updated_at: datetime | None
    reply_to_post_number: int | None
    like_count: int
    reply_count: int
    deleted: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StoredPost:
        return cls(
            id=row["id"],
            topic_id=row["topic_id"],
            post_number=row["post_number"],
            username=row["username"],
            user_id=row["user_id"],
            raw=row["raw"],
            cooked=row["cooked"],
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=parse_iso(row["updated_at"]),
            reply_to_post_number=row["reply_to_post_number"],
            like_count=row["like_count"] or 0,
            reply_count=row["reply_count"] or 0,
            deleted=bool(row["deleted"]),
        )


@dataclass(frozen=True)
class MirrorCounts:
    """How much of the forum this community's mirror holds (live rows only)."""

    categories: int
    topics: int
    posts: int
    members: int
    toolbox_entries: int
    cartography_cards: int


_KEY = ("site", "community", "id")


class ForumMixin(ForgetListMixin):  # what is saved passes through the forget list
    # --- mirror ------------------------------------------------------------------------------

    def save_categories(self, categories: Sequence[Category]) -> None:
        self.db.table("categories").upsert_all(
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
            pk=_KEY,
        )

    def save_topic(self, topic: TopicSummary, posts: Sequence[Post], synced_at: datetime) -> None:
        """Save a topic with the posts read for it; posts not listed are left as they were."""
        topic = self._masked_topic(topic)
        self.db.table("topics").upsert(
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
            pk=_KEY,
        )
        self.save_posts(posts)

    def save_posts(self, posts: Sequence[Post]) -> None:
        posts = self._masked_posts(posts)
        self.db.table("posts").upsert_all(
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
                    "withdrawn": int(p.withdrawn),
                    "hidden": int(p.hidden),
                }
                for p in posts
            ),
            pk=_KEY,
        )

    def save_group_members(self, group: str, members: Sequence[GroupMember]) -> None:
        members = self._masked_members(members)
        self.db.table("group_members").upsert_all(
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
            pk=("site", "community", "group_name", "user_id"),
        )

    def category(self, slug_or_id: str | int) -> StoredCategory | None:
        """A stored category by slug or id."""
        rows = list(
            self.db.query(
                f"select * from categories where {self._WHERE} "
                "and (slug = :v or cast(id as text) = :v)",
                {**self._scope, "v": str(slug_or_id)},
            )
        )
        return StoredCategory.from_row(rows[0]) if rows else None

    def mirrored_scopes(self) -> list[tuple[str, str]]:
        """The (site, community) pairs whose mirror this file holds, this one's included."""
        rows = self.db.execute("select distinct site, community from categories order by 1, 2")
        return [(site, community) for site, community in rows.fetchall()]

    def has_categories(self) -> bool:
        """Whether a sync stored this community's categories yet."""
        return self._exists("categories")

    def subcategory_ids(self, parent_id: int) -> list[int]:
        return [
            r["id"]
            for r in self.db.query(
                f"select id from categories where {self._WHERE} and parent_id = :p",
                {**self._scope, "p": parent_id},
            )
        ]

    def topic_state(self, topic_id: int) -> StoredTopic | None:
        """A stored topic (live or deleted), with `max_post_number` of its live posts."""
        rows = list(
            self.db.query(
                "select t.*, (select max(post_number) from posts p where p.site = t.site "
                "and p.community = t.community and p.topic_id = t.id and p.deleted = 0) "
                "as max_post_number from topics t "
                "where t.site = :site and t.community = :community and t.id = :id",
                {**self._scope, "id": topic_id},
            )
        )
        return StoredTopic.from_row(rows[0]) if rows else None

    def live_topic_ids(self) -> set[int]:
        return {
            r["id"]
            for r in self.db.query(
                f"select id from topics where {self._WHERE} and deleted = 0", self._scope
            )
        }

    def update_topic(self, detail: TopicDetail) -> None:
        """Save what a topic's own page says of it: category, title and status. Its activity
        (last bump, post count) is left for the list to tell, since it decides which posts
        a pass reads."""
        title = self._masked_title(detail.id, detail.title)
        self.db.execute(
            "update topics set category_id = :category_id, title = :title, slug = :slug, "
            "pinned = :pinned, closed = :closed, archived = :archived, visible = :visible "
            f"where {self._WHERE} and id = :id",
            {
                **self._scope,
                "id": detail.id,
                "category_id": detail.category_id,
                "title": title,
                "slug": detail.slug if title == detail.title else "",
                "pinned": int(detail.pinned),
                "closed": int(detail.closed),
                "archived": int(detail.archived),
                "visible": int(detail.visible),
            },
        )

    def save_people(self, people: Sequence[tuple[int, str, str | None]]) -> None:
        """Record (user id, username, name) seen in lists, leaving profiles as they are."""
        people = self._masked_people(people)
        # One statement for all (the mirror saves the authors of every topic it reads).
        self.db.table("users").upsert_all(
            (
                {**self._scope, "id": user_id, "username": username, "name": name}
                for user_id, username, name in people
            ),
            pk=_KEY,
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

    def counts(self) -> MirrorCounts:
        def live(table: str) -> int:
            where = self._WHERE + (" and deleted = 0" if table in ("topics", "posts") else "")
            row = self.db.execute(f"select count(*) from [{table}] where {where}", self._scope)
            return int(row.fetchone()[0])

        return MirrorCounts(
            categories=live("categories"),
            topics=live("topics"),
            posts=live("posts"),
            members=live("group_members"),
            toolbox_entries=live("toolbox_entries"),
            cartography_cards=live("cartography_cards"),
        )

    def _exists(self, table: str) -> bool:
        row = self.db.execute(f"select 1 from [{table}] where {self._WHERE} limit 1", self._scope)
        return row.fetchone() is not None

    def topics(self, category_ids: Sequence[int] | None = None) -> list[StoredTopic]:
        """Live topics, newest bump first; of these categories only, if given."""
        where = ""
        if category_ids is not None:
            where = (
                f" and category_id in ({', '.join(str(int(i)) for i in category_ids) or 'null'})"
            )
        return [
            StoredTopic.from_row(row)
            for row in self.db.query(
                f"select * from topics where {self._WHERE} and deleted = 0{where} "
                "order by bumped_at desc",
                self._scope,
            )
        ]

    def posts_of(self, topic_id: int) -> list[StoredPost]:
        """A topic's live posts people may read (not hidden), in order."""
        return [
            StoredPost.from_row(row)
            for row in self.db.query(
                f"select * from posts where {self._WHERE} and topic_id = :topic_id "
                "and deleted = 0 and hidden = 0 order by post_number",
                {**self._scope, "topic_id": topic_id},
            )
        ]

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
        self.db.table("cursors").upsert(
            {**self._scope, "name": name, "value": value, "updated_at": iso(now)},
            pk=("site", "community", "name"),
        )
