"""The mirror's tables: categories, topics, posts, people, group members, and cursors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bridge.errors import StoreError
from bridge.store.base import StoreBase, iso

if TYPE_CHECKING:
    from bridge.discourse import Category, GroupMember, Post, TopicDetail, TopicSummary, User


class MirrorMixin(StoreBase):
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
            pk=("site", "id"),
        )

    def save_topic(self, topic: TopicSummary, posts: Sequence[Post], synced_at: datetime) -> None:
        """Save a topic with the posts read for it; posts not listed are left as they were."""
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
            pk=("site", "id"),
        )
        self.save_posts(posts)

    def save_posts(self, posts: Sequence[Post]) -> None:
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
                }
                for p in posts
            ),
            pk=("site", "id"),
        )

    def save_users(self, users: Sequence[User]) -> None:
        self.db.table("users").upsert_all(
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
            pk=("site", "group_name", "user_id"),
        )

    def category(self, slug_or_id: str) -> dict[str, Any] | None:
        """A stored category by slug or id."""
        rows = list(
            self.db.query(
                "select * from categories where site = :site "
                "and (slug = :v or cast(id as text) = :v)",
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

    def save_people(self, people: Sequence[tuple[int, str, str | None]]) -> None:
        """Record (user id, username, name) seen in lists, leaving profiles as they are."""
        # One statement for all (the mirror saves the authors of every topic it reads).
        self.db.table("users").upsert_all(
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
        self.db.table("cursors").upsert(
            {**self._scope, "name": name, "value": value, "updated_at": iso(now)},
            pk=("site", "community", "name"),
        )
