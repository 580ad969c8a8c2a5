"""A category's topic lists, as Discourse's `TopicQuery` builds them (lib/topic_query.rb).

- `latest`: `TopicQuery#list_latest` → `latest_results` → `default_results`: the category and
  its subcategories (`Category.subcategory_ids`), subcategories' definition topics left out,
  unlisted topics for staff only. Ordered by the request's `order` (a `SORTABLE_MAPPING` key)
  and `ascending`; with no `order`, by the category's own `sort_order`/`sort_ascending`, else by
  `bumped_at` descending. `create_list` puts the category's pinned topics first (newest pin
  first: `prioritize_pinned_topics`) whenever the request's `order` is absent, "activity" or
  "default". `remove_muted` then hides what the viewer muted: topics (`remove_muted_topics`,
  unless `state=muted` asks for exactly those), subcategories and their descendants
  (`remove_muted_categories`: the listed category's own topics stay) and tags
  (`remove_muted_tags`, per `remove_muted_tags_from_latest`).
- `top`: `TopicQuery#list_top_for(period)`: topics with a positive score, highest first, then
  `bumped_at`; muted categories removed, no pinning, `topics_per_period_in_top_page` a page.

Callers hold `world.lock`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .model import Category, Topic, User
from .world import World

# TopicQuery::SORTABLE_MAPPING, by the key each order sorts on.
SORTABLE = ("likes", "op_likes", "views", "posts", "activity", "posters", "category", "created")
# TopTopic periods and how far back each looks.
PERIODS = {
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
    "monthly": timedelta(days=30),
    "quarterly": timedelta(days=91),
    "yearly": timedelta(days=365),
    "all": None,
}


@dataclass
class Page:
    topics: list[Topic]
    more: bool
    per_page: int


def _sort_key(world: World, order: str) -> Callable[[Topic], Any]:
    def posts(topic: Topic) -> list[Any]:
        return world.posts_in(topic.id)

    keys: dict[str, Callable[[Topic], Any]] = {
        "likes": lambda t: sum(p.like_count for p in posts(t)),
        "op_likes": lambda t: next((p.like_count for p in posts(t) if p.post_number == 1), 0),
        "views": lambda t: t.views,
        "posts": lambda t: len(posts(t)),
        "posters": lambda t: len({p.user.id for p in posts(t)}),
        "created": lambda t: t.created_at,
        # Uncategorized sorts first, the others by name (TopicQuery#apply_ordering).
        "category": lambda t: _category_name(world, t),
    }
    return keys.get(order, lambda t: t.bumped_at)


def _category_name(world: World, topic: Topic) -> str:
    category = world.categories.get(topic.category_id or 0)
    return "" if category is None or category.slug == "uncategorized" else category.name


def _family(world: World, category: Category, viewer: User | None) -> list[Topic]:
    """`default_results` for a category: listable topics of it and its subcategories."""
    staff = viewer is not None and viewer.staff
    ids = world.descendant_ids(category.id)
    # show_category_definitions_in_topic_lists is off: subcategories' "À propos" are left out.
    hidden = {c.topic_id for c in world.categories.values() if c.id != category.id and c.topic_id}
    return [
        t
        for t in world.topics.values()
        if t.category_id in ids
        and t.deleted_at is None
        and not t.is_private_message
        and (t.visible or staff)
        and t.id not in hidden
    ]


def _indirectly_muted(world: World, muted: set[int]) -> set[int]:
    """CategoryUser.indirectly_muted_category_ids: the descendants of muted categories."""
    found: set[int] = set()
    for category_id in muted:
        found |= world.descendant_ids(category_id) - {category_id}
    return found - muted


def _remove_muted_categories(
    world: World, topics: list[Topic], viewer: User | None, category: Category
) -> list[Topic]:
    if viewer is None:
        return topics
    muted = world.muted_category_ids.get(viewer.id, set())
    if not muted:
        return topics
    hidden = muted | _indirectly_muted(world, muted)
    return [t for t in topics if t.category_id == category.id or t.category_id not in hidden]


def _remove_muted_tags(world: World, topics: list[Topic], viewer: User | None) -> list[Topic]:
    muted = world.muted_tags.get(viewer.id, set()) if viewer is not None else set()
    setting = world.remove_muted_tags_from_latest
    if not muted or setting == "never":
        return topics
    if setting == "always":
        return [t for t in topics if not muted & set(t.tags)]
    return [t for t in topics if not t.tags or not set(t.tags) <= muted]  # "only_muted"


def latest(
    world: World,
    category: Category,
    viewer: User | None,
    *,
    page: int = 0,
    order: str | None = None,
    ascending: str | None = None,
    state: str | None = None,
) -> Page:
    """`TopicQuery#list_latest` for `category` (see the module docstring)."""
    world.expire_pins()
    topics = _family(world, category, viewer)
    muted_topics = world.muted_topic_ids.get(viewer.id, set()) if viewer is not None else set()
    if state == "muted" and viewer is not None:
        topics = [t for t in topics if t.id in muted_topics]
    else:
        topics = [t for t in topics if t.id not in muted_topics]
    topics = _remove_muted_categories(world, topics, viewer, category)
    topics = _remove_muted_tags(world, topics, viewer)

    if order is not None:
        sort_order, descending = order, ascending != "true"
    elif category.sort_order:
        sort_order, descending = category.sort_order, not category.sort_ascending
    else:
        sort_order, descending = "default", True
    key = _sort_key(world, sort_order)
    ordered = sorted(topics, key=lambda t: (key(t), t.id), reverse=descending)

    per_page = world.per_page
    if (order or "activity") in ("activity", "default"):
        pinned = sorted(
            (t for t in ordered if t.pinned_at is not None and t.category_id == category.id),
            key=lambda t: (t.pinned_at, t.id),
            reverse=True,
        )
        unpinned = [t for t in ordered if t not in pinned]
        if page == 0:
            chunk = (pinned + unpinned)[:per_page]
        else:
            start = max(0, page * per_page - len(pinned))
            chunk = unpinned[start : start + per_page]
    else:
        chunk = ordered[page * per_page : (page + 1) * per_page]
    # TopicListSerializer: a full page announces more, even when the next one is empty.
    return Page(chunk, len(chunk) == per_page, per_page)


def _top_score(world: World, topic: Topic, since: datetime | None) -> float:
    """A stand-in for TopTopic's period score: posts and likes in the period, and views."""
    posts = [p for p in world.posts_in(topic.id) if since is None or p.created_at >= since]
    if not posts:
        return 0.0
    likes = sum(p.like_count for p in posts)
    return len(posts) + likes + math.log10(topic.views + 1)


def top(
    world: World, category: Category, viewer: User | None, *, page: int = 0, period: str = "all"
) -> Page:
    """`TopicQuery#list_top_for(period)` for `category` (see the module docstring)."""
    world.expire_pins()
    span = PERIODS.get(period)
    since = world.now() - span if span is not None else None
    topics = _remove_muted_categories(world, _family(world, category, viewer), viewer, category)
    scored = [(_top_score(world, t, since), t) for t in topics]
    ranked = [
        t for s, t in sorted(scored, key=lambda st: (st[0], st[1].bumped_at), reverse=True) if s > 0
    ]
    per_page = world.topics_per_period_in_top_page
    chunk = ranked[page * per_page : (page + 1) * per_page]
    return Page(chunk, len(chunk) == per_page, per_page)
