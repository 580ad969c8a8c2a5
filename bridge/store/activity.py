"""The community's activity over a stretch of time, as the weekly digest reads it, and the
figures of the weeks a digest was written for.

Every query takes the categories to look at (the watched one and its subcategories) and a
half-open window `[since, until)`: what happened after `until` is never seen, so a past week
reads as it stood at its end, as far as the store still knows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from bridge.entries import CartographyCard, ToolboxEntry
from bridge.store.base import StoreBase, iso
from bridge.store.catalog import _decode


@dataclass(frozen=True)
class ActivityPost:
    """A live post of a listed topic, with what the digest needs of its topic."""

    topic_id: int
    post_number: int
    user_id: int | None
    username: str | None
    created_at: datetime
    category_id: int
    topic_created_at: datetime
    topic_user_id: int | None
    topic_username: str | None

    @classmethod
    def from_tuple(cls, row: tuple[Any, ...]) -> ActivityPost:
        # A digest reads tens of thousands of these: tuples, not dicts (the columns of
        # `activity_posts`, in order).
        topic_id, number, user_id, username, created, category, topic_created, t_uid, t_user = row
        return cls(
            topic_id,
            number,
            user_id,
            username,
            datetime.fromisoformat(created),
            category,
            datetime.fromisoformat(topic_created),
            t_uid,
            t_user,
        )


@dataclass(frozen=True)
class OpenedTopic:
    """A listed live topic, its author and its first post's Markdown."""

    id: int
    title: str
    slug: str
    category_id: int
    created_at: datetime
    user_id: int | None
    username: str | None
    first_raw: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OpenedTopic:
        return cls(
            id=row["id"],
            title=row["title"],
            slug=row["slug"] or "",
            category_id=row["category_id"],
            created_at=datetime.fromisoformat(row["created_at"]),
            user_id=row["user_id"],
            username=row["username"],
            first_raw=row["first_raw"] or "",
        )


@dataclass(frozen=True)
class GroupJoin:
    """Someone who joined a group, and when."""

    user_id: int
    username: str
    name: str | None
    added_at: datetime


@dataclass(frozen=True)
class WeekFigures:
    """A week's health figures, as of the end of the week.

    Shares are kept as their two counts, so that a stored week and a computed one add up the
    same way; the median is in hours (None when no topic of the week was answered).
    """

    week: str
    contributors: int
    first_timers: int
    new_topics: int
    answered_topics: int
    median_first_reply_hours: float | None
    reciprocal: int
    recent_contributors: int
    replies: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WeekFigures:
        return cls(**{f.name: row[f.name] for f in fields(cls)})


def _in(values: Sequence[int]) -> str:
    # Integers only (ids), written out: SQLite's variable limit does not apply.
    return ", ".join(str(int(v)) for v in values) or "null"


class ActivityMixin(StoreBase):
    # --- activity, for the digest ----------------------------------------------------------------

    def activity_posts(
        self, category_ids: Sequence[int], since: datetime, until: datetime, *, leave_out: str
    ) -> list[ActivityPost]:
        """Live posts made in `[since, until)` in listed live topics of these categories, except
        those of `leave_out` (the bridge's account), oldest first."""
        rows = self.db.execute(
            "select p.topic_id, p.post_number, p.user_id, p.username, p.created_at, "
            "t.category_id, t.created_at from posts p "
            "join topics t on t.site = p.site and t.community = p.community and t.id = p.topic_id "
            "where p.site = :site and p.community = :community "
            "and p.created_at >= :since and p.created_at < :until and p.deleted = 0 "
            "and p.hidden = 0 "
            f"and t.deleted = 0 and t.visible = 1 and t.category_id in ({_in(category_ids)}) "
            "and coalesce(p.username, '') != :me order by p.created_at, p.id",
            {**self._scope, "since": iso(since), "until": iso(until), "me": leave_out},
        ).fetchall()
        # The topics' authors in a second query: joining each post to its topic's first post
        # costs more than the whole scan.
        authors = self.topic_authors(sorted({r[0] for r in rows}))
        return [ActivityPost.from_tuple((*r, *authors.get(r[0], (None, None)))) for r in rows]

    def topic_authors(self, topic_ids: Sequence[int]) -> dict[int, tuple[int | None, str | None]]:
        """topic id -> (user id, username) of its first post's author."""
        rows = self.db.execute(
            f"select topic_id, user_id, username from posts where {self._WHERE} "
            f"and post_number = 1 and topic_id in ({_in(topic_ids)})",
            self._scope,
        ).fetchall()
        return {topic_id: (user_id, username) for topic_id, user_id, username in rows}

    def topics_opened(
        self, category_ids: Sequence[int], since: datetime, until: datetime, *, leave_out: str
    ) -> list[OpenedTopic]:
        """Listed live topics of these categories opened in `[since, until)`, except those of
        `leave_out`, oldest first."""
        rows = self.db.query(
            "select t.id, t.title, t.slug, t.category_id, t.created_at, f.user_id, f.username, "
            "f.raw as first_raw from topics t "
            "left join posts f on f.site = t.site and f.community = t.community "
            "and f.topic_id = t.id and f.post_number = 1 and f.deleted = 0 and f.hidden = 0 "
            # A topic whose first post was withdrawn or hidden is not an opening people read.
            "where t.site = :site and t.community = :community and f.id is not null "
            "and t.created_at >= :since and t.created_at < :until "
            f"and t.deleted = 0 and t.visible = 1 and t.category_id in ({_in(category_ids)}) "
            "and coalesce(f.username, '') != :me order by t.created_at, t.id",
            {**self._scope, "since": iso(since), "until": iso(until), "me": leave_out},
        )
        return [OpenedTopic.from_row(r) for r in rows]

    def first_post_times(self, user_ids: Sequence[int]) -> dict[int, datetime]:
        """user id -> when the store first saw them post in this community: deleted posts
        count (they did post then), and the index alone answers."""
        rows = self.db.execute(
            "select user_id, min(created_at) from posts "
            f"where {self._WHERE} and user_id in ({_in(user_ids)}) group by user_id",
            self._scope,
        )
        return {user_id: datetime.fromisoformat(at) for user_id, at in rows.fetchall()}

    def posting_places(
        self, user_ids: Sequence[int], category_ids: Sequence[int], until: datetime
    ) -> dict[int, set[int]]:
        """user id -> the categories (of these) where they posted before `until`."""
        rows = self.db.query(
            "select distinct p.user_id, t.category_id from posts p "
            "join topics t on t.site = p.site and t.community = p.community and t.id = p.topic_id "
            f"where p.site = :site and p.community = :community and p.user_id in ({_in(user_ids)}) "
            "and p.created_at < :until and p.deleted = 0 and p.hidden = 0 and t.deleted = 0 "
            f"and t.category_id in ({_in(category_ids)})",
            {**self._scope, "until": iso(until)},
        )
        found: dict[int, set[int]] = {}
        for r in rows:
            found.setdefault(r["user_id"], set()).add(r["category_id"])
        return found

    def group_joins(self, group: str, since: datetime, until: datetime) -> list[GroupJoin]:
        """Members who joined `group` in `[since, until)` and are still in it, by date joined."""
        rows = self.db.query(
            "select user_id, username, name, added_at from group_members "
            f"where {self._WHERE} and group_name = :g and added_at >= :since "
            "and added_at < :until order by added_at, user_id",
            {**self._scope, "g": group, "since": iso(since), "until": iso(until)},
        )
        return [
            GroupJoin(r["user_id"], r["username"], r["name"], datetime.fromisoformat(r["added_at"]))
            for r in rows
        ]

    def display_names(self, user_ids: Sequence[int]) -> dict[int, str]:
        """user id -> the name people chose to show (profile first, then group listing); people
        without one are left out."""
        rows = self.db.query(
            f"select 1 as rank, user_id as id, name from group_members where {self._WHERE} "
            f"and user_id in ({_in(user_ids)}) and coalesce(name, '') != '' union all "
            f"select 0, id, name from users where {self._WHERE} and id in ({_in(user_ids)}) "
            "and coalesce(name, '') != '' order by rank desc",
            self._scope,
        )
        # Later rows win: the profile's name (rank 0) comes last.
        return {r["id"]: r["name"] for r in rows}

    def toolbox_added(self, since: datetime, until: datetime) -> list[ToolboxEntry]:
        """Toolbox entries whose topic was opened in `[since, until)`, oldest first."""
        rows = self.db.query(
            f"select * from toolbox_entries where {self._WHERE} and created_at >= :since "
            "and created_at < :until order by created_at, topic_id",
            {**self._scope, "since": iso(since), "until": iso(until)},
        )
        return [_decode(ToolboxEntry, r) for r in rows]

    def cards_changed(self, since: datetime, until: datetime) -> list[CartographyCard]:
        """Cards whose last activity falls in `[since, until)`: added or updated then, and not
        touched since (a later change hides an earlier one: the store keeps only the last)."""
        rows = self.db.query(
            f"select * from cartography_cards where {self._WHERE} "
            "and last_activity_at >= :since and last_activity_at < :until "
            "order by created_at, topic_id",
            {**self._scope, "since": iso(since), "until": iso(until)},
        )
        return [_decode(CartographyCard, r) for r in rows]

    def cards_with_warnings(self, until: datetime) -> list[CartographyCard]:
        """Cards opened before `until` that their parser found incomplete, oldest first."""
        rows = self.db.query(
            f"select * from cartography_cards where {self._WHERE} and created_at < :until "
            "and coalesce(warnings, '[]') != '[]' order by created_at, topic_id",
            {**self._scope, "until": iso(until)},
        )
        return [_decode(CartographyCard, r) for r in rows]

    # --- the figures of past weeks -----------------------------------------------------------

    def week_figures(self, weeks: Sequence[str]) -> dict[str, WeekFigures]:
        """The stored figures of these weeks (ISO week names), where a digest recorded them."""
        if not weeks:
            return {}
        marks = ", ".join(f":w{i}" for i in range(len(weeks)))
        rows = self.db.query(
            f"select * from digest_weeks where {self._WHERE} and week in ({marks})",
            {**self._scope, **{f"w{i}": w for i, w in enumerate(weeks)}},
        )
        return {r["week"]: WeekFigures.from_row(r) for r in rows}

    def save_week_figures(self, figures: WeekFigures, now: datetime) -> None:
        """Record a week's figures, once: the first digest written for a week sets them."""
        with self.atomic():
            self.db.table("digest_weeks").insert(
                {**self._scope, **asdict(figures), "recorded_at": iso(now)},
                pk=("site", "community", "week"),
                ignore=True,
            )
