"""Typed values of what Discourse returns; pure, no HTTP.

Each payload becomes a frozen dataclass through a small pure `from_api` function, so nothing
above `bridge.discourse` sees raw JSON. A payload missing what these rely on, or of the wrong
shape (a string or null where an object is expected), raises KeyError, TypeError or ValueError;
the client turns that into a `DiscourseError`. Anything else (an AttributeError, say) is a bug
here, and is left to crash as one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlparse

Payload = Mapping[str, Any]

_LIKE_ACTION_ID = 2
_TOPIC_PATH = re.compile(r"/t/(?:[^/]+/)?(\d+)(?:/\d+)?(?:\.json)?/?$")


def parse_datetime(value: str | None) -> datetime | None:
    """Discourse's "2025-04-17T14:03:12.123Z" as an aware UTC datetime (None stays None)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _required_datetime(value: str | None) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError("date manquante")
    return parsed


def tag_names(tags: Iterable[Any] | None) -> tuple[str, ...]:
    """Tags as names, whether Discourse sent names (older sites) or {id, name, slug} objects."""
    names: list[str] = []
    for tag in tags or ():
        name = (tag.get("name") or tag.get("slug")) if isinstance(tag, Mapping) else tag
        if name:
            names.append(str(name))
    return tuple(names)


def json_object(value: Any, what: str) -> Payload:
    """`value` if it is a JSON object; else TypeError, so that a malformed payload reads as one
    (calling `.get` on it would raise AttributeError, which is a bug's error)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} : objet JSON attendu, trouvé {_json_kind(value)}")
    return value


def json_objects(value: Any, what: str) -> list[Payload]:
    """A JSON list of objects; Discourse leaves out or nulls a list that is empty."""
    if not value:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{what} : liste JSON attendue, trouvé {_json_kind(value)}")
    return [json_object(item, f"{what}[{index}]") for index, item in enumerate(value)]


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "un booléen"
    if isinstance(value, int | float):
        return "un nombre"
    if isinstance(value, str):
        return "une chaîne"
    if isinstance(value, list):
        return "une liste"
    return "un objet" if isinstance(value, Mapping) else type(value).__name__


def _optional_text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


@dataclass(frozen=True)
class Category:
    id: int
    slug: str
    name: str
    parent_id: int | None
    topic_count: int
    subcategory_ids: tuple[int, ...]
    # The slugs of its URL from the top-level ancestor down (Category#slug_path), when known:
    # a list is read at `/c/{slug path}/{id}`, else Discourse answers 301 to it.
    slug_path: tuple[str, ...] = ()
    # Whether Discourse says it has subcategories (`subcategory_ids` may not be sent).
    has_children: bool = False
    subcategory_count: int | None = None

    @classmethod
    def from_api(cls, payload: Payload, *, parent_id: int | None = None) -> Category:
        payload = json_object(payload, "catégorie")
        nested = json_objects(payload.get("subcategory_list"), "subcategory_list")
        sub_ids = payload.get("subcategory_ids") or [sub["id"] for sub in nested]
        count = payload.get("subcategory_count")
        return cls(
            id=int(payload["id"]),
            slug=str(payload["slug"]),
            name=str(payload.get("name") or payload["slug"]),
            parent_id=payload.get("parent_category_id") or parent_id,
            topic_count=int(payload.get("topic_count") or 0),
            subcategory_ids=tuple(int(i) for i in sub_ids),
            has_children=bool(payload.get("has_children") or sub_ids),
            subcategory_count=int(count) if count is not None else None,
        )

    @property
    def url_slug(self) -> str:
        """Category#slug_for_url: its slug, or `{id}-category` when it has none."""
        return self.slug or f"{self.id}-category"

    @property
    def list_path(self) -> str:
        """Its list's path: `/c/{slug path}/{id}` (just its own slug when the path is not
        known, which Discourse redirects for a subcategory)."""
        slugs = self.slug_path or (self.url_slug,)
        return "/c/" + "/".join(quote(s, safe="%") for s in slugs) + f"/{self.id}"


def flatten_categories(items: Iterable[Payload], parent_id: int | None = None) -> list[Category]:
    """Top-level categories and their nested `subcategory_list`s, parents first, each id once."""
    found: dict[int, Category] = {}
    for item in items:
        category = Category.from_api(item, parent_id=parent_id)
        found.setdefault(category.id, category)
        # Category.from_api checked that `item` is an object.
        for sub in flatten_categories(item.get("subcategory_list") or (), category.id):
            found.setdefault(sub.id, sub)
    return list(found.values())


@dataclass(frozen=True)
class TopicSummary:
    id: int
    title: str
    slug: str
    category_id: int
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

    @classmethod
    def from_api(cls, payload: Payload) -> TopicSummary:
        payload = json_object(payload, "sujet")
        created_at = _required_datetime(payload["created_at"])
        return cls(
            id=int(payload["id"]),
            title=str(payload["title"]),
            slug=str(payload.get("slug") or ""),
            category_id=int(payload["category_id"]),
            created_at=created_at,
            bumped_at=parse_datetime(payload.get("bumped_at")) or created_at,
            last_posted_at=parse_datetime(payload.get("last_posted_at")),
            posts_count=int(payload.get("posts_count") or 0),
            reply_count=int(payload.get("reply_count") or 0),
            like_count=int(payload.get("like_count") or 0),
            views=int(payload.get("views") or 0),
            pinned=bool(payload.get("pinned")),
            closed=bool(payload.get("closed")),
            archived=bool(payload.get("archived")),
            visible=bool(payload.get("visible", True)),
            tags=tag_names(payload.get("tags")),
            last_poster_username=_optional_text(payload.get("last_poster_username")),
        )


def _like_count(payload: Payload) -> int:
    for action in json_objects(payload.get("actions_summary"), "actions_summary"):
        if action.get("id") == _LIKE_ACTION_ID and "count" in action:
            return int(action["count"])
    return int(payload.get("like_count") or 0)


@dataclass(frozen=True)
class Post:
    id: int
    topic_id: int
    post_number: int
    username: str
    user_id: int | None
    name: str | None
    raw: str
    cooked: str
    created_at: datetime
    updated_at: datetime
    reply_to_post_number: int | None
    like_count: int
    reply_count: int
    deleted: bool
    # Withdrawn by its author (`user_deleted`, also `deleted` above), and hidden by flags (staff,
    # as the bridge's account is, still get its text).
    withdrawn: bool = False
    hidden: bool = False

    @classmethod
    def from_api(cls, payload: Payload) -> Post:
        payload = json_object(payload, "message")
        created_at = _required_datetime(payload["created_at"])
        reply_to = payload.get("reply_to_post_number")
        user_id = payload.get("user_id")
        return cls(
            id=int(payload["id"]),
            topic_id=int(payload["topic_id"]),
            post_number=int(payload["post_number"]),
            username=str(payload.get("username") or ""),
            user_id=int(user_id) if user_id is not None else None,
            name=_optional_text(payload.get("name")),
            raw=str(payload.get("raw") or ""),
            cooked=str(payload.get("cooked") or ""),
            created_at=created_at,
            updated_at=parse_datetime(payload.get("updated_at")) or created_at,
            reply_to_post_number=int(reply_to) if reply_to not in (None, "") else None,
            like_count=_like_count(payload),
            reply_count=int(payload.get("reply_count") or 0),
            # A post withdrawn by its author stays in the stream with placeholder text.
            deleted=payload.get("deleted_at") is not None or bool(payload.get("user_deleted")),
            withdrawn=bool(payload.get("user_deleted")),
            hidden=bool(payload.get("hidden")),
        )


@dataclass(frozen=True)
class TopicDetail:
    id: int
    title: str
    slug: str
    category_id: int | None
    archetype: str
    pinned: bool
    closed: bool
    archived: bool
    visible: bool
    posts_count: int
    stream: tuple[int, ...]
    external_id: str | None
    # Staff see deleted topics (with their `deleted_at`) where others get a 404.
    deleted: bool = False

    @classmethod
    def from_api(cls, payload: Payload) -> TopicDetail:
        payload = json_object(payload, "sujet")
        stream = json_object(payload.get("post_stream") or {}, "post_stream").get("stream")
        category_id = payload.get("category_id")
        return cls(
            id=int(payload["id"]),
            title=str(payload["title"]),
            slug=str(payload.get("slug") or ""),
            category_id=int(category_id) if category_id is not None else None,
            archetype=str(payload.get("archetype") or "regular"),
            pinned=bool(payload.get("pinned")),
            closed=bool(payload.get("closed")),
            archived=bool(payload.get("archived")),
            visible=bool(payload.get("visible", True)),
            posts_count=int(payload.get("posts_count") or 0),
            stream=tuple(int(i) for i in stream or ()),
            external_id=_optional_text(payload.get("external_id")),
            deleted=payload.get("deleted_at") is not None,
        )


@dataclass(frozen=True)
class GroupMember:
    id: int
    username: str
    name: str | None
    added_at: datetime | None
    last_seen_at: datetime | None

    @classmethod
    def from_api(cls, payload: Payload) -> GroupMember:
        payload = json_object(payload, "membre")
        return cls(
            id=int(payload["id"]),
            username=str(payload["username"]),
            name=_optional_text(payload.get("name")),
            added_at=parse_datetime(payload.get("added_at")),
            last_seen_at=parse_datetime(payload.get("last_seen_at")),
        )


@dataclass(frozen=True)
class User:
    id: int
    username: str
    name: str | None
    created_at: datetime | None
    bio_raw: str | None
    location: str | None
    website: str | None
    # Moderators and admins: exempt from posting limits, and the only ones who can pin.
    staff: bool = False
    # The names of the groups the account belongs to (those the viewer can see; staff see all).
    groups: tuple[str, ...] = ()
    # What the account muted (sent to itself and to staff): Discourse hides these from its lists.
    muted_category_ids: tuple[int, ...] = ()
    muted_tags: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, payload: Payload) -> User:
        payload = json_object(payload, "compte")
        groups = json_objects(payload.get("groups"), "groups")
        return cls(
            id=int(payload["id"]),
            username=str(payload["username"]),
            name=_optional_text(payload.get("name")),
            created_at=parse_datetime(payload.get("created_at")),
            bio_raw=_optional_text(payload.get("bio_raw")),
            location=_optional_text(payload.get("location")),
            website=_optional_text(payload.get("website")),
            staff=bool(payload.get("moderator") or payload.get("admin")),
            groups=tuple(str(g["name"]) for g in groups if g.get("name")),
            muted_category_ids=tuple(int(i) for i in payload.get("muted_category_ids") or ()),
            muted_tags=tuple(tag_names(payload.get("muted_tags") or ())),
        )


@dataclass(frozen=True)
class Created:
    post_id: int
    topic_id: int
    post_number: int
    topic_slug: str | None

    @classmethod
    def from_api(cls, payload: Payload) -> Created:
        payload = json_object(payload, "création")
        return cls(
            post_id=int(payload["id"]),
            topic_id=int(payload["topic_id"]),
            post_number=int(payload["post_number"]),
            topic_slug=_optional_text(payload.get("topic_slug")),
        )


def topic_id_from_location(location: str) -> int | None:
    """The topic id in a redirect such as `/t/some-slug/123.json` or a full URL to it."""
    match = _TOPIC_PATH.search(urlparse(location).path)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class AccountState:
    """What staff read of an account on /admin/users/{id}.json (AdminDetailedUserSerializer):
    whether it can be welcomed. Discourse sends `suspended_till` / `silenced_till` only while
    the account is suspended or silenced; a date already past no longer counts."""

    id: int
    username: str
    active: bool
    staged: bool
    suspended_till: datetime | None
    silenced_till: datetime | None

    @classmethod
    def from_api(cls, payload: Payload) -> AccountState:
        payload = json_object(payload, "compte")
        return cls(
            id=int(payload["id"]),
            username=str(payload["username"]),
            active=bool(payload.get("active", True)),
            staged=bool(payload.get("staged", False)),
            suspended_till=parse_datetime(payload.get("suspended_till")),
            silenced_till=parse_datetime(payload.get("silenced_till")),
        )

    def refusal(self, now: datetime) -> str | None:
        """Why this account is not welcomed, in the facilitators' words, or None."""
        if self.suspended_till is not None and self.suspended_till > now:
            return "compte suspendu"
        if self.silenced_till is not None and self.silenced_till > now:
            return "compte réduit au silence"
        if self.staged:
            return "compte de courriel seulement (staged)"
        if not self.active:
            return "compte non activé"
        return None


def topic_url(site: str, slug: str, topic_id: int) -> str:
    """A topic's address; Discourse redirects `/t/-/{id}` when the slug is unknown."""
    return f"{site}/t/{quote(slug or '-', safe='-')}/{int(topic_id)}"
