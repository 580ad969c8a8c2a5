"""Discourse's rules for API callers: who may see and do what, posting validations, rate limits.

Each function takes the world (callers hold `world.lock`) and the acting user (None when the
request carries no key), and either returns what was asked or raises `ApiError` carrying the
status and JSON body Discourse would answer with.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from . import lists
from .model import REGULAR, ApiKey, Category, Post, Topic, User, clean_tag, clean_title
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


def check_scope(api_key: ApiKey | None, scope: str | None) -> None:
    """A granular key outside its scopes is refused exactly like a wrong key."""
    if api_key is None or api_key.scopes is None:
        return
    if scope is None or scope not in api_key.scopes:
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
    """Private messages: participants (users or their groups) and staff. Deleted: staff."""
    staff = viewer is not None and viewer.staff
    if topic.deleted_at is not None and not staff:
        return False
    if not topic.is_private_message or staff:
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
) -> list[Post]:
    """TopicsController#posts: given ids, or the chunk after (asc) / before a post number, or
    the first chunk."""
    live = world.posts_in(topic.id)
    if post_ids:
        wanted = set(post_ids)
        return [p for p in live if p.id in wanted]
    if post_number is not None:
        if asc:
            return [p for p in live if p.post_number > post_number][: world.chunk_size]
        return [p for p in live if p.post_number < post_number][-world.chunk_size :]
    return live[: world.chunk_size]


# --- writing ------------------------------------------------------------------------------


def _too_short(kind: str, minimum: int) -> str:
    return f"{kind} is too short (minimum is {minimum} characters)"


def _body_errors(world: World, raw: str, minimum: int) -> list[str]:
    if not raw.strip():
        return ["Body can't be blank"]
    if len(raw.strip()) < minimum:
        return [_too_short("Body", minimum)]
    return []


def _external_id_errors(world: World, external_id: str | None) -> list[str]:
    if external_id is None:
        return []
    if len(external_id) > 50:
        return ["External is too long (maximum is 50 characters)"]
    if not re.fullmatch(r"[\w-]+", external_id, re.ASCII):
        return ["External is invalid"]
    # Soft-deleted topics keep their external_id: the id stays taken.
    if world.find_topic_by_external_id(external_id) is not None:
        return ["External has already been taken"]
    return []


def _non_staff_checks(world: World, actor: User, raw: str) -> None:
    """Staff are exempt from "too similar" and from the posting rate limit."""
    if actor.staff:
        return
    since = world.now() - world.unique_posts_window
    for post in reversed(world.posts_by(actor.username)):
        if post.created_at >= since and post.raw.strip() == raw.strip():
            raise rejected(["Body is too similar to what you recently posted"])
    if world.rate_limit_per_minute is not None:
        window = world.user_writes.setdefault(actor.id, deque())
        _take(window, world.rate_limit_per_minute, world.now(), "create_post")


def create_post(world: World, actor: User | None, form: dict[str, list[str]]) -> Post:
    """POST /posts.json: a reply (`topic_id`), a private message, or a new topic."""
    if actor is None:
        raise forbidden("You need to be logged in to do that.")

    def first(name: str) -> str | None:
        values = form.get(name)
        return values[0] if values else None

    raw = first("raw") or ""
    if first("topic_id"):
        return _reply(world, actor, form, raw)
    title = clean_title(first("title") or "")
    external_id = first("external_id") or None
    is_pm = first("archetype") == "private_message"
    minimum_title = (
        world.min_personal_message_title_length if is_pm else world.min_topic_title_length
    )
    errors: list[str] = []
    if not title:
        errors.append("Title can't be blank")
    elif len(title) < minimum_title:
        errors.append(_too_short("Title", minimum_title))
    elif len(title) > world.max_topic_title_length:
        errors.append(f"Title is too long (maximum is {world.max_topic_title_length} characters)")
    elif not is_pm and _title_taken(world, title):
        errors.append("Title has already been used")
    minimum_body = world.min_personal_message_post_length if is_pm else world.min_first_post_length
    errors += _body_errors(world, raw, minimum_body)
    errors += _external_id_errors(world, external_id)

    if is_pm:
        recipients = [
            name.strip()
            for value in form.get("target_recipients", []) + form.get("target_usernames", [])
            for name in value.split(",")
            if name.strip()
        ]
        if not recipients:
            errors.append("You must choose a valid user.")
        for name in recipients:
            if name.lower() not in world.groups and world.find_user(name) is None:
                errors.append(
                    "One of the users you are sending this message to could not be found."
                )
                break
        if errors:
            raise rejected(errors)
        _non_staff_checks(world, actor, raw)
        topic_id = world.add_private_message(
            actor.username, recipients, title, raw, world.now(), external_id=external_id
        )
    else:
        category_param = first("category")
        if category_param:
            if not category_param.isdigit() or int(category_param) not in world.categories:
                raise invalid_parameter("category")
            category = world.categories[int(category_param)]
        else:
            category = world.category("uncategorized")
        if errors:
            raise rejected(errors)
        _non_staff_checks(world, actor, raw)
        tags = form.get("tags[]", []) + form.get("tags", [])
        # Only staff (and high trust levels) may create tags; others' unknown tags are dropped.
        if not actor.staff:
            tags = [t for t in tags if clean_tag(t) in world.tags]
        topic_id = world.add_topic(
            actor.username, category.id, title, raw, world.now(), tags, external_id=external_id
        )
    return world.posts[world.topics[topic_id].post_ids[0]]


def _title_taken(world: World, title: str) -> bool:
    wanted = title.lower()
    return any(
        t.title.lower() == wanted
        for t in world.topics.values()
        if t.deleted_at is None and not t.is_private_message
    )


def _reply(world: World, actor: User, form: dict[str, list[str]], raw: str) -> Post:
    topic_param = form["topic_id"][0]
    if not topic_param.isdigit() or int(topic_param) not in world.topics:
        raise not_found()
    topic = visible_topic(world, int(topic_param), actor)
    if topic.deleted_at is not None:
        raise not_found()
    if (topic.closed or topic.archived) and not actor.staff:
        raise forbidden()
    minimum = (
        world.min_personal_message_post_length
        if topic.is_private_message
        else world.min_post_length
    )
    errors = _body_errors(world, raw, minimum)
    if errors:
        raise rejected(errors)
    _non_staff_checks(world, actor, raw)
    reply_to = (form.get("reply_to_post_number") or [""])[0]
    post_id = world.add_reply(
        topic.id,
        actor.username,
        raw,
        world.now(),
        reply_to_post_number=int(reply_to) if reply_to.isdigit() else None,
    )
    return world.posts[post_id]


def update_post(
    world: World, actor: User | None, post_id: int, raw: str | None, edit_reason: str | None
) -> Post:
    """PUT /posts/{id}.json: the author or staff; no bump; an unchanged raw is a no-op."""
    post = world.posts.get(post_id)
    if post is None or post.deleted_at is not None:
        raise not_found()
    topic = visible_topic(world, post.topic_id, actor)
    if actor is None:
        raise forbidden("You need to be logged in to do that.")
    if not actor.staff and (actor is not post.user or topic.archived):
        raise forbidden()
    if raw is None:
        raise invalid_parameter("post")
    if topic.is_private_message:
        minimum = world.min_personal_message_post_length
    else:
        minimum = world.min_first_post_length if post.post_number == 1 else world.min_post_length
    errors = _body_errors(world, raw, minimum)
    if errors:
        raise rejected(errors, action=None)
    if raw != post.raw:
        world.edit_post(post.id, raw, world.now(), edit_reason=edit_reason)
    return post


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
