"""Discourse's rules for API callers: who may see and do what, posting validations, rate limits.

Each function takes the world (callers hold `world.lock`) and the acting user (None when the
request carries no key), and either returns what was asked or raises `ApiError` carrying the
status and JSON body Discourse would answer with.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import lists
from .model import REGULAR, ApiKey, Category, Post, Topic, User
from .world import STATUSES, World

_BAD_KEY = (
    "You are not permitted to view the requested resource. The API username or key is invalid."
)
_MINUTE = timedelta(minutes=1)


@dataclass
class ApiError(Exception):
    """An HTTP error answer: status, JSON body, extra headers."""

    status: int
    body: dict[str, object]
    headers: dict[str, str] = field(default_factory=dict)


def not_found() -> ApiError:
    return ApiError(
        404,
        {
            "errors": ["The requested URL or resource could not be found."],
            "error_type": "not_found",
        },
    )


def forbidden(message: str = "You are not permitted to view the requested resource.") -> ApiError:
    return ApiError(403, {"errors": [message], "error_type": "invalid_access"})


def bad_key() -> ApiError:
    return forbidden(_BAD_KEY)


def invalid_parameter(name: str) -> ApiError:
    return ApiError(
        400,
        {
            "errors": [f"You supplied invalid parameters to the request: {name}"],
            "error_type": "invalid_parameters",
        },
    )


def rejected(errors: list[str], action: str | None = "create_post") -> ApiError:
    """A 422; creation errors carry `action` like Discourse's PostsController#create."""
    body: dict[str, object] = {"errors": errors}
    if action:
        body = {"action": action, **body}
    return ApiError(422, body)


def rate_limited(wait_seconds: int, code: str) -> ApiError:
    """Discourse's 429 body, with Retry-After (which pydiscourse ignores; the bridge must not)."""
    wait = max(1, wait_seconds)
    if wait < 120:
        left = f"{wait} second" + ("s" if wait != 1 else "")
    else:
        left = f"{round(wait / 60)} minutes"
    return ApiError(
        429,
        {
            "errors": [
                "You’ve performed this action too many times. "
                f"Please wait {left} before trying again."
            ],
            "error_type": "rate_limit",
            "extras": {"wait_seconds": wait, "time_left": left},
        },
        {"Retry-After": str(wait), "Discourse-Rate-Limit-Error-Code": code},
    )


# --- authentication and limits ------------------------------------------------------------


def authenticate(
    world: World, key: str | None, username: str | None
) -> tuple[User | None, ApiKey | None]:
    """The acting user for these headers: None without a key; 403 for a wrong key or user.

    A single-user key takes its own user when Api-Username is absent, as Discourse does, and
    refuses any other username.
    """
    if not key:
        return None, None
    api_key = world.api_keys.get(key)
    if api_key is None or api_key.revoked:
        raise bad_key()
    if api_key.username is not None:
        if username and username.lower() != api_key.username.lower():
            raise bad_key()
        user = world.find_user(api_key.username)
    else:
        user = world.find_user(username) if username else None
    if user is None or user.deleted:
        raise bad_key()
    return user, api_key


def check_scope(api_key: ApiKey | None, method: str, allowed: tuple[str, ...]) -> None:
    """A granular key outside its scopes is refused exactly like a wrong key. `global:read`
    allows any GET (app/models/api_key_scope.rb, `global: { read: { methods: [:get] } }`)."""
    if api_key is None or api_key.scopes is None:
        return
    if method == "GET" and "global:read" in api_key.scopes:
        return
    if not any(scope in api_key.scopes for scope in allowed):
        raise bad_key()


def _take(window: deque[datetime], limit: int, now: datetime, code: str) -> None:
    while window and window[0] <= now - _MINUTE:
        window.popleft()
    if len(window) >= limit:
        raise rate_limited(math.ceil((window[0] + _MINUTE - now).total_seconds()), code)
    window.append(now)


def check_api_rate(world: World) -> None:
    """The site-wide API budget (`api_requests_per_minute`); refused calls are not counted."""
    if world.api_requests_per_minute is not None:
        _take(
            world.api_hits, world.api_requests_per_minute, world.now(), "admin_api_key_rate_limit"
        )


# --- reading ------------------------------------------------------------------------------


def can_see(world: World, topic: Topic, viewer: User | None) -> bool:
    """Private messages: participants (users or their groups) and admins, not moderators
    (lib/guardian/topic_guardian.rb, `can_see_topic?`). Deleted topics: staff."""
    staff = viewer is not None and viewer.staff
    if topic.deleted_at is not None and not staff:
        return False
    if not topic.is_private_message or (viewer is not None and viewer.admin):
        return True
    if viewer is None:
        return False
    return viewer in topic.allowed_users or any(
        viewer.id in group.members for group in topic.allowed_groups
    )


def visible_topic(world: World, topic_id: int, viewer: User | None) -> Topic:
    """The topic, or 404 (unknown, or deleted for non-staff), or 403 (someone else's PM)."""
    topic = world.topics.get(topic_id)
    if topic is None or (topic.deleted_at is not None and not (viewer and viewer.staff)):
        raise not_found()
    if not can_see(world, topic, viewer):
        raise forbidden()
    return topic


def category_topics(
    world: World, category: Category, page: int, viewer: User | None
) -> tuple[list[Topic], bool]:
    """One page of a category's latest list by activity (`lists.latest`, order=activity) and
    whether Discourse would give a `more_topics_url`."""
    listed = lists.latest(world, category, viewer, page=page, order="activity")
    return listed.topics, listed.more


def topic_posts(
    world: World,
    topic: Topic,
    *,
    post_ids: list[int] | None = None,
    post_number: int | None = None,
    asc: bool | None = None,
    viewer: User | None = None,
) -> list[Post]:
    """TopicsController#posts: given ids, or the chunk after (asc) / before a post number, or
    the first chunk. Asked by id, staff also get deleted posts, with their `deleted_at`
    (TopicView#filter_posts_by_ids: `with_deleted` when `can_see_deleted_posts?`)."""
    live = world.posts_in(topic.id)
    if post_ids:
        wanted = set(post_ids)
        if viewer is not None and viewer.staff:
            return [world.posts[i] for i in topic.post_ids if i in wanted]
        return [p for p in live if p.id in wanted]
    if post_number is not None:
        if asc:
            return [p for p in live if p.post_number > post_number][: world.chunk_size]
        return [p for p in live if p.post_number < post_number][-world.chunk_size :]
    return live[: world.chunk_size]


# --- writing (creations and edits are in posting.py) ------------------------------------


def update_status(
    world: World,
    actor: User | None,
    topic_id: int,
    status: str | None,
    enabled: str | None,
    until: str | None,
) -> None:
    """PUT /t/{id}/status.json: pinning, archiving and listing are staff-only; closing is for
    staff and the topic's owner."""
    topic = visible_topic(world, topic_id, actor)
    if actor is None:
        raise forbidden("You need to be logged in to do that.")
    if status not in STATUSES:
        raise invalid_parameter("status")
    if enabled not in ("true", "false"):
        raise invalid_parameter("enabled")
    owner_may = status == "closed" and actor is topic.user
    if not (actor.staff or owner_may):
        raise forbidden()
    pinned_until = None
    if until and enabled == "true":
        try:
            pinned_until = datetime.fromisoformat(until.replace("Z", "+00:00"))
        except ValueError as error:
            raise invalid_parameter("until") from error
        if pinned_until.tzinfo is None:
            pinned_until = pinned_until.replace(tzinfo=UTC)
    world.set_status(topic.id, status, enabled == "true", until=pinned_until, by=actor.username)


def live_regular_posts(world: World, topic: Topic) -> list[Post]:
    return [p for p in world.posts_in(topic.id) if p.post_type == REGULAR]
