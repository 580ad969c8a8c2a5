"""Finding categories and listing them, as Discourse does.

- `find_by_slug_path_with_id` / `find_by_slug_path` (app/models/category.rb): a trailing number
  is the id and the slugs before it are ignored; without one, the slugs are followed from the
  top level down (so a subcategory's own slug alone finds nothing). `find_by_slug` (used by
  CategoriesController#fetch_category for `/c/{id}/show.json`) is a top-level slug.
- `category_list` (app/models/category_list.rb `CategoryList#find_categories`): every category
  on one page on a small site, subcategories nested under their parent; past
  `MAX_UNOPTIMIZED_CATEGORIES` (1000) categories, or with lazy loading, 20 a page (`page` from
  1), so a subcategory whose parent is on another page is dropped and a parent lists only the
  children on its page. With lazy loading only top-level categories are paged, each followed by
  at most 5 of its subcategories. `parent_category_id` lists that category's direct children.
- `show` (CategoriesController#show, CategorySerializer): one category, with
  `parent_category_id` when it has a parent, and `has_children`, but no `subcategory_ids`.

Callers hold `world.lock`.
"""

from __future__ import annotations

from typing import Any

from . import payloads
from .model import Category, User
from .world import World

Json = dict[str, Any]


def find_by_slug_path(world: World, slugs: list[str]) -> Category | None:
    """Category.find_by_slug_path: slugs from the top level down, case-insensitively."""
    if not slugs:
        return None
    parent: int | None = None
    found: Category | None = None
    for slug in slugs:
        wanted = slug.lower()
        found = next(
            (
                c
                for c in world.categories.values()
                if c.parent_id == parent
                and (c.slug.lower() == wanted or (not c.slug and wanted == f"{c.id}-category"))
            ),
            None,
        )
        if found is None:
            return None
        parent = found.id
    return found


def find_by_slug_path_with_id(world: World, spec: str) -> Category | None:
    """Category.find_by_slug_path_with_id: `parent/child/12`, `12`, or `parent/child`."""
    parts = [p for p in spec.split("/") if p]
    if parts and parts[-1].isdigit():
        return world.categories.get(int(parts[-1]))
    return find_by_slug_path(world, parts)


def fetch_category(world: World, ref: str) -> Category | None:
    """CategoriesController#fetch_category: a top-level slug, else an id."""
    found = find_by_slug_path(world, [ref])
    if found is None and ref.isdigit():
        found = world.categories.get(int(ref))
    return found


def _ordered(categories: Any) -> list[Category]:
    # SiteSetting.fixed_category_positions: by position, then id.
    return sorted(categories, key=lambda c: (c.position, c.id))


def category_list(
    world: World,
    viewer: User | None,
    *,
    parent: Category | None = None,
    include_subcategories: bool = False,
    page: int = 1,
) -> Json:
    """GET /categories.json (CategoryList#find_categories, see the module docstring)."""
    everything = _ordered(world.categories.values())
    lazy = world.lazy_load_categories
    paged = lazy or len(everything) > world.max_unoptimized_categories
    per_page = world.categories_per_page
    if parent is not None or lazy:
        wanted = parent.id if parent is not None else None
        query = [c for c in everything if c.parent_id == wanted]
    else:
        query = everything
    page = max(1, page)
    if paged:
        query = query[(page - 1) * per_page : page * per_page]
    elif page > 1:
        query = []  # "pagination is supported only when lazy load is enabled"
    shown = list(query)

    children: dict[int, list[Category]] = {}
    nested: set[int] = set()
    if lazy:
        if parent is None:
            for category in list(shown):
                subs = [c for c in everything if c.parent_id == category.id]
                shown += subs[: world.subcategories_per_category]
        for category in everything:
            if category.parent_id is not None:
                children.setdefault(category.parent_id, []).append(category)
    elif parent is None:
        for category in shown:
            if category.parent_id is not None:
                children.setdefault(category.parent_id, []).append(category)
                nested.add(category.id)

    items = []
    for category in shown:
        if category.id in nested:
            continue
        item = payloads.category(world, category, viewer)
        # Without lazy loading, a page knows only the children it holds; with a parent asked
        # for, the children's own subcategory_ids are not computed.
        item["subcategory_ids"] = [c.id for c in children.get(category.id, [])]
        if include_subcategories and not lazy and parent is None:
            item["subcategory_list"] = [
                payloads.category(world, c, viewer) for c in children.get(category.id, [])
            ]
        items.append(item)
    # CategoryList#demote_muted: muted categories go last.
    items.sort(key=lambda item: item["notification_level"] == 0)
    return {
        "category_list": {
            "can_create_category": bool(viewer and viewer.admin),
            "can_create_topic": viewer is not None,
            "categories": items,
        }
    }


def show(world: World, category: Category, viewer: User | None) -> Json:
    """GET /c/{id}/show.json: CategorySerializer (schema category_create_response)."""
    item = payloads.category(world, category, viewer)
    for name in (
        "topics_day",
        "topics_week",
        "topics_month",
        "topics_year",
        "topics_all_time",
        "is_uncategorized",
        "subcategory_ids",
        "subcategory_list",
    ):
        item.pop(name, None)
    admin = bool(viewer and viewer.admin)
    item.update(
        {
            "custom_fields": {},
            "required_tag_groups": [],
            "read_only_banner": None,
            "available_groups": [],
            "auto_close_hours": None,
            "auto_close_based_on_last_post": False,
            "allow_unlimited_owner_edits_on_first_post": False,
            "default_slow_mode_seconds": None,
            "group_permissions": [{"permission_type": 1, "group_name": "everyone", "group_id": 0}],
            "email_in": None,
            "email_in_allow_strangers": False,
            "mailinglist_mirror": False,
            "all_topics_wiki": False,
            "can_delete": admin and not item["has_children"] and item["topic_count"] == 0,
            "allow_badges": True,
            "topic_featured_link_allowed": True,
            "search_priority": 0,
            "topic_posting_review_group_ids": [],
            "reply_posting_review_group_ids": [],
        }
    )
    return {"category": item}
