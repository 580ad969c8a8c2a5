"""Turning the world into the JSON shapes Discourse answers with.

Shapes follow Discourse's serializers (and the published schemas in shared/discourse-api) field
by field, including where real Discourse departs from the schemas: `name` may be null, posters'
`extras` is null but for the latest poster, a like count appears in `actions_summary`, topic
lists carry `tags` and `more_topics_url`, `excerpt` only on pinned topics. Callers hold
`world.lock`.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from .cook import excerpt
from .model import REGULAR, Category, Post, Topic, User, iso
from .moderation import HIDDEN_COOKED
from .posting import can_post_in
from .world import World

_COLORS = ("e9a140", "8c6238", "5e8aa8", "c57346", "3ab54a", "a87137", "9de0ad", "b19c9b")
_FLAG_TYPES = (3, 4, 8, 7)  # off_topic, inappropriate, spam, notify_moderators
_LIKE = 2

Json = dict[str, Any]


def avatar_template(user: User) -> str:
    """Discourse's letter avatar for accounts without an uploaded picture."""
    letter = (user.username[:1] or "a").lower()
    return f"/letter_avatar_proxy/v4/letter/{letter}/{_COLORS[user.id % len(_COLORS)]}/{{size}}.png"


def basic_user(user: User) -> Json:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "avatar_template": avatar_template(user),
    }


def tags(world: World, topic: Topic) -> list[Any]:
    """Objects on current Discourse, plain names before 2026.01 (`world.tag_era`)."""
    if not world.tags_as_objects:
        return list(topic.tags)
    return [{"id": world.tag_id(name), "name": name, "slug": name} for name in topic.tags]


class TopicStats:
    """Counts Discourse keeps on a topic row, computed from its live posts."""

    def __init__(self, world: World, topic: Topic) -> None:
        self.posts = world.posts_in(topic.id)
        regular = [p for p in self.posts if p.post_type == REGULAR] or self.posts
        self.posts_count = len(self.posts)
        self.reply_count = max(0, len(regular) - 1)
        self.like_count = sum(p.like_count for p in self.posts)
        self.last_poster = regular[-1].user if regular else topic.user
        self.word_count = sum(len(p.raw.split()) for p in self.posts)
        counts: dict[int, int] = {}
        people: dict[int, User] = {}
        for post in regular:
            counts[post.user.id] = counts.get(post.user.id, 0) + 1
            people[post.user.id] = post.user
        self.post_counts = counts
        self.people = people


# --- categories ---------------------------------------------------------------------------


def category(world: World, cat: Category, viewer: User | None, with_children: bool = False) -> Json:
    now = world.now()
    children = sorted(
        (c for c in world.categories.values() if c.parent_id == cat.id), key=lambda c: c.position
    )
    own = [
        t
        for t in world.topics.values()
        if t.category_id == cat.id and t.deleted_at is None and t.id != cat.topic_id and t.visible
    ]

    def since(days: int) -> int:
        return sum(1 for t in own if t.created_at >= now - timedelta(days=days))

    about = world.topics.get(cat.topic_id) if cat.topic_id else None
    data: Json = {
        "id": cat.id,
        "name": cat.name,
        "color": cat.color,
        "text_color": cat.text_color,
        "style_type": "square",
        "emoji": None,
        "icon": None,
        "slug": cat.slug,
        "topic_count": len(own),
        "post_count": sum(len(world.posts_in(t.id)) for t in own),
        "position": cat.position,
        "description": f"<p>{html.escape(cat.description)}</p>" if cat.description else None,
        "description_text": cat.description or None,
        "description_excerpt": cat.description or None,
        "topic_url": f"/t/{about.slug}/{about.id}" if about else None,
        "read_restricted": False,
        "permission": 1,
        # CategoryUser level for the viewer: 0 when muted, else "regular".
        "notification_level": 0
        if viewer is not None and cat.id in world.muted_category_ids.get(viewer.id, ())
        else 1,
        "can_edit": bool(viewer and viewer.admin),
        "topic_template": None,
        "topic_title_placeholder": None,
        "has_children": bool(children),
        "subcategory_count": len(children) or None,
        "sort_order": cat.sort_order,
        "sort_ascending": cat.sort_ascending,
        "show_subcategory_list": bool(children),
        "num_featured_topics": 3,
        "default_view": cat.default_view,
        "subcategory_list_style": "rows_with_featured_topics",
        "default_top_period": cat.default_top_period,
        "default_list_filter": "all",
        "minimum_required_tags": 0,
        "navigate_to_first_post_after_read": False,
        "topics_day": since(1),
        "topics_week": since(7),
        "topics_month": since(30),
        "topics_year": since(365),
        "topics_all_time": len(own),
        "is_uncategorized": cat.slug == "uncategorized",
        "subcategory_ids": [c.id for c in children],
        "uploaded_logo": None,
        "uploaded_logo_dark": None,
        "uploaded_background": None,
        "uploaded_background_dark": None,
    }
    if cat.parent_id is not None:
        data["parent_category_id"] = cat.parent_id
    if with_children:
        data["subcategory_list"] = [category(world, c, viewer) for c in children]
    return data


def category_list(world: World, viewer: User | None, include_subcategories: bool) -> Json:
    top = sorted(
        (c for c in world.categories.values() if c.parent_id is None), key=lambda c: c.position
    )
    return {
        "category_list": {
            "can_create_category": bool(viewer and viewer.admin),
            "can_create_topic": viewer is not None,
            "categories": [category(world, c, viewer, include_subcategories) for c in top],
        }
    }


def site(world: World) -> Json:
    """A minimal /site.json: the categories, flat, as the Discourse front end gets them."""
    return {
        "categories": [
            {
                "id": c.id,
                "name": c.name,
                "slug": c.slug,
                "color": c.color,
                "text_color": c.text_color,
                "parent_category_id": c.parent_id,
                "position": c.position,
                "topic_url": None,
            }
            for c in sorted(world.categories.values(), key=lambda c: c.position)
        ],
        "default_archetype": "regular",
        "post_action_types": [],
        "trust_levels": {},
    }


# --- topic lists --------------------------------------------------------------------------


def _posters(stats: TopicStats, topic: Topic) -> list[Json]:
    """Up to five posters: original, frequent ones, most recent (only that one has extras)."""
    order = [topic.user.id] + [uid for uid in stats.post_counts if uid != topic.user.id]
    last = stats.last_poster.id
    order = [uid for uid in order if uid != last][:4] + [last]
    result = []
    for uid in order:
        description = "Original Poster" if uid == topic.user.id else "Frequent Poster"
        extras = None
        if uid == last:
            extras = "latest single" if len(order) == 1 else "latest"
            description = (
                "Original Poster, Most Recent Poster"
                if uid == topic.user.id
                else "Most Recent Poster"
            )
        result.append(
            {"extras": extras, "description": description, "user_id": uid, "primary_group_id": None}
        )
    return result


def topic_list_item(world: World, topic: Topic) -> tuple[Json, list[User]]:
    stats = TopicStats(world, topic)
    item: Json = {
        "id": topic.id,
        "title": topic.title,
        "fancy_title": html.escape(topic.title),
        "slug": topic.slug,
        "posts_count": stats.posts_count,
        "reply_count": stats.reply_count,
        "highest_post_number": topic.highest_post_number,
        "image_url": None,
        "created_at": iso(topic.created_at),
        "last_posted_at": iso(topic.last_posted_at),
        "bumped": topic.bumped_at > topic.created_at,
        "bumped_at": iso(topic.bumped_at),
        "archetype": topic.archetype,
        "unseen": False,
        "pinned": topic.pinned,
        "unpinned": None,
        "visible": topic.visible,
        "closed": topic.closed,
        "archived": topic.archived,
        "bookmarked": None,
        "liked": None,
        "tags": tags(world, topic),
        "views": topic.views,
        "like_count": stats.like_count,
        "has_summary": False,
        "last_poster_username": stats.last_poster.username,
        "category_id": topic.category_id,
        "pinned_globally": topic.pinned_globally,
        "featured_link": None,
        "posters": _posters(stats, topic),
    }
    if topic.pinned and stats.posts:
        # Discourse sends an excerpt only for pinned topics (and for "about" topics).
        item["excerpt"] = excerpt(stats.posts[0].cooked)
    people = [world.users[p["user_id"]] for p in item["posters"]]
    return item, people


def category_topics(
    world: World,
    cat: Category,
    topics: list[Topic],
    more_topics_url: str | None,
    per_page: int,
    viewer: User | None,
) -> Json:
    """A category's topic list; `more_topics_url` as ListController#construct_url_with builds
    it (the canonical category path, the list's options, the next page)."""
    items = []
    users: dict[int, User] = {}
    for topic in topics:
        item, people = topic_list_item(world, topic)
        items.append(item)
        users.update((u.id, u) for u in people)
    topic_list: Json = {
        "can_create_topic": viewer is not None,
        "per_page": per_page,
        "topics": items,
    }
    if more_topics_url is not None:
        topic_list["more_topics_url"] = more_topics_url
    return {
        "users": [basic_user(u) for u in users.values()],
        "primary_groups": [],
        "topic_list": topic_list,
    }


# --- posts --------------------------------------------------------------------------------


def _actions_summary(post: Post, viewer: User | None) -> list[Json]:
    """Like Discourse: an entry only when it has a count or the viewer can act."""
    result: list[Json] = []
    like: Json = {"id": _LIKE}
    if post.like_count:
        like["count"] = post.like_count
    if viewer is not None and viewer is not post.user:
        like["can_act"] = True
    if len(like) > 1:
        result.append(like)
    if viewer is not None:
        result += [{"id": flag, "can_act": True} for flag in _FLAG_TYPES]
    return result


def post(
    world: World, item: Post, viewer: User | None, shape: str = "stream", include_raw: bool = False
) -> Json:
    """A post; `shape`: "stream" (topic, posts.json), "show" (/posts/{id}), "create", "update"."""
    topic = world.topics[item.topic_id]
    author = item.user
    staff = viewer is not None and viewer.staff
    mine = viewer is not None and viewer is author
    # BasicPostSerializer#cooked_hidden: a hidden post's text is for staff (its author gets
    # `flagging.you_must_edit`, others `flagging.user_must_edit`).
    hidden_text = item.hidden and not staff
    data: Json = {
        "id": item.id,
        "name": author.name,
        "username": author.username,
        "avatar_template": avatar_template(author),
        "created_at": iso(item.created_at),
        "cooked": HIDDEN_COOKED if hidden_text else item.cooked,
        "post_number": item.post_number,
        "post_type": item.post_type,
        "updated_at": iso(item.updated_at),
        "reply_count": item.reply_count,
        "reply_to_post_number": item.reply_to_post_number,
        "quote_count": 0,
        "incoming_link_count": 0,
        "reads": 1 + item.like_count,
        "readers_count": item.like_count,
        "score": float(item.like_count * 15 + 0.2),
        "yours": mine,
        "topic_id": topic.id,
        "topic_slug": topic.slug,
        "display_username": author.name,
        "primary_group_name": None,
        "flair_name": None,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "version": item.version,
        "can_edit": staff or mine,
        "can_delete": staff or (mine and item.post_number > 1),
        "can_recover": staff and item.deleted_at is not None,
        "can_wiki": staff,
        "user_title": author.title,
        "bookmarked": False,
        "actions_summary": _actions_summary(item, viewer),
        "moderator": author.moderator,
        "admin": author.admin,
        "staff": author.staff,
        "user_id": author.id,
        "hidden": item.hidden,
        "trust_level": author.trust_level,
        "deleted_at": iso(item.deleted_at),
        "user_deleted": item.user_deleted,
        "edit_reason": item.edit_reason,
        "can_view_edit_history": True,
        "wiki": False,
        "reviewable_id": 0,
        "reviewable_score_count": 0,
        "reviewable_score_pending_count": 0,
    }
    if hidden_text:
        data["cooked_hidden"] = True
    if item.action_code:
        data["action_code"] = item.action_code
    if shape == "stream":
        data["read"] = True
        data["link_counts"] = []
        # PostSerializer#include_raw?: not for a hidden post, but to staff or its author.
        if include_raw and not (hidden_text and not mine):
            data["raw"] = item.raw
        return data
    if not hidden_text or mine:
        data["raw"] = item.raw
    data["posts_count"] = len(world.posts_in(topic.id))
    data["post_url"] = f"/t/{topic.slug}/{topic.id}/{item.post_number}"
    if shape in ("create", "update"):
        data["draft_sequence"] = 0
    return data


def topic_posts(
    world: World, topic: Topic, posts: list[Post], viewer: User | None, raw: bool
) -> Json:
    return {
        "post_stream": {"posts": [post(world, p, viewer, "stream", raw) for p in posts]},
        "id": topic.id,
    }


def _participant(user: User, count: int) -> Json:
    return {
        **basic_user(user),
        "post_count": count,
        "primary_group_name": None,
        "flair_name": None,
        "flair_url": None,
        "flair_color": None,
        "flair_bg_color": None,
        "flair_group_id": None,
        "admin": user.admin,
        "moderator": user.moderator,
        "trust_level": user.trust_level,
    }


def topic_show(world: World, topic: Topic, viewer: User | None, near: int | None = None) -> Json:
    stats = TopicStats(world, topic)
    posts = stats.posts
    start = 0
    if near is not None:
        start = max(0, next((i for i, p in enumerate(posts) if p.post_number >= near), 0) - 5)
    chunk = posts[start : start + world.chunk_size]
    staff = viewer is not None and viewer.staff
    owner = viewer is not None and viewer is topic.user
    details: Json = {
        "can_edit": staff or owner,
        "notification_level": 1,
        "can_move_posts": staff,
        "can_delete": staff,
        "can_remove_allowed_users": staff,
        "can_create_post": viewer is not None and can_post_in(world, topic, viewer),
        "can_reply_as_new_topic": viewer is not None,
        "can_convert_topic": staff,
        "can_review_topic": staff,
        "can_close_topic": staff,
        "can_archive_topic": staff,
        "can_split_merge_topic": staff,
        "can_edit_staff_notes": staff,
        "can_toggle_topic_visibility": staff,
        "can_pin_unpin_topic": staff,
        "can_moderate_category": staff,
        "can_remove_self_id": viewer.id if viewer is not None else 0,
        "participants": [
            _participant(stats.people[uid], n)
            for uid, n in sorted(stats.post_counts.items(), key=lambda kv: -kv[1])
        ],
        "created_by": basic_user(topic.user),
        "last_poster": basic_user(stats.last_poster),
    }
    if topic.is_private_message:
        details["allowed_users"] = [basic_user(u) for u in topic.allowed_users]
        details["allowed_groups"] = [
            {"id": g.id, "name": g.name, "full_name": g.full_name} for g in topic.allowed_groups
        ]
    return {
        "post_stream": {
            "posts": [post(world, p, viewer, "stream") for p in chunk],
            "stream": [p.id for p in posts],
        },
        "timeline_lookup": [],
        "suggested_topics": [],
        "tags": tags(world, topic),
        "tags_descriptions": {},
        "id": topic.id,
        "title": topic.title,
        "fancy_title": html.escape(topic.title),
        "posts_count": stats.posts_count,
        "created_at": iso(topic.created_at),
        "views": topic.views,
        "reply_count": stats.reply_count,
        "like_count": stats.like_count,
        "last_posted_at": iso(topic.last_posted_at),
        "visible": topic.visible,
        "closed": topic.closed,
        "archived": topic.archived,
        "has_summary": False,
        "archetype": topic.archetype,
        "slug": topic.slug,
        "category_id": topic.category_id,
        "word_count": stats.word_count,
        "deleted_at": iso(topic.deleted_at),
        "user_id": topic.user.id,
        "featured_link": None,
        "pinned_globally": topic.pinned_globally,
        "pinned_at": iso(topic.pinned_at),
        "pinned_until": iso(topic.pinned_until),
        "image_url": None,
        "slow_mode_seconds": 0,
        "draft": None,
        "draft_key": f"topic_{topic.id}",
        "draft_sequence": 0,
        "unpinned": None,
        "pinned": topic.pinned,
        "current_post_number": chunk[0].post_number if chunk else 1,
        "highest_post_number": topic.highest_post_number,
        "deleted_by": None,
        "has_deleted": len(posts) < len(topic.post_ids),
        "actions_summary": [],
        "chunk_size": world.chunk_size,
        "bookmarked": False,
        "bookmarks": [],
        "topic_timer": None,
        "message_bus_last_id": 0,
        "participant_count": len(stats.post_counts),
        "show_read_indicator": False,
        "thumbnails": None,
        "slow_mode_enabled_until": None,
        "details": details,
    }
