"""The sandbox's state as plain dataclasses, with the field names Discourse uses.

Topics and posts hold their author as a `User` object rather than a username, so renaming a
user (Discourse's anonymisation does) shows everywhere at once, as it does on a real site.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Discourse's post types: regular posts, moderator actions, small actions ("pinned", "closed").
REGULAR = 1
MODERATOR_ACTION = 2
SMALL_ACTION = 3


@dataclass(eq=False)
class User:
    """A forum account. `admin` or `moderator` makes it staff."""

    id: int
    username: str
    name: str | None
    created_at: datetime
    admin: bool = False
    moderator: bool = False
    trust_level: int = 1
    title: str | None = None
    bio_raw: str = ""
    location: str = ""
    website: str = ""
    timezone: str = "America/Toronto"
    last_seen_at: datetime | None = None
    last_posted_at: datetime | None = None
    deleted: bool = False
    # What staff read on /admin/users/{id}.json: an account not yet activated by e-mail, one
    # created for e-mail only (staged), suspended or silenced until a date.
    active: bool = True
    staged: bool = False
    suspended_till: datetime | None = None
    silenced_till: datetime | None = None

    @property
    def staff(self) -> bool:
        return self.admin or self.moderator

    @property
    def username_lower(self) -> str:
        return self.username.lower()


@dataclass(eq=False)
class Membership:
    """A user's place in a group; `added_at` is what Discourse calls `group_users.created_at`."""

    user: User
    added_at: datetime
    owner: bool = False


@dataclass(eq=False)
class Group:
    """`messageable_level` is Discourse's Group::ALIAS_LEVELS: 0 nobody (the default for a new
    group), 1 only admins, 2 mods and admins, 3 members, mods and admins, 4 owners, mods and
    admins, 99 everyone."""

    id: int
    name: str
    full_name: str
    members: dict[int, Membership] = field(default_factory=dict)  # by user id
    messageable_level: int = 0


@dataclass(eq=False)
class Category:
    id: int
    name: str
    slug: str
    parent_id: int | None = None
    description: str = ""
    color: str = "0088CC"
    text_color: str = "FFFFFF"
    position: int = 0
    # The "À propos de la catégorie …" topic Discourse creates with every category.
    topic_id: int | None = None
    # The category's own list settings (Category columns): `default_view` "latest" or "top"
    # (ListController#category_default), `sort_order` a TopicQuery::SORTABLE_MAPPING key
    # ("views", "likes", "created"…) with `sort_ascending`, used when a list names no `order`.
    default_view: str | None = None
    sort_order: str | None = None
    sort_ascending: bool | None = None
    default_top_period: str = "all"


@dataclass(eq=False)
class Topic:
    id: int
    title: str
    slug: str
    category_id: int | None
    user: User
    created_at: datetime
    bumped_at: datetime
    last_posted_at: datetime
    pinned_at: datetime | None = None
    pinned_until: datetime | None = None
    pinned_globally: bool = False
    closed: bool = False
    archived: bool = False
    visible: bool = True
    tags: list[str] = field(default_factory=list)
    external_id: str | None = None
    archetype: str = "regular"  # or "private_message"
    allowed_users: list[User] = field(default_factory=list)
    allowed_groups: list[Group] = field(default_factory=list)
    deleted_at: datetime | None = None
    views: int = 0
    # Ids of every post ever made in the topic (deleted ones too), in post_number order.
    post_ids: list[int] = field(default_factory=list)
    highest_post_number: int = 0

    @property
    def pinned(self) -> bool:
        return self.pinned_at is not None

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def is_private_message(self) -> bool:
        return self.archetype == "private_message"


@dataclass(eq=False)
class Post:
    id: int
    topic_id: int
    post_number: int
    raw: str
    cooked: str
    user: User
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    like_count: int = 0
    reply_to_post_number: int | None = None
    reply_count: int = 0
    post_type: int = REGULAR
    action_code: str | None = None
    version: int = 1
    edit_reason: str | None = None
    # PostDestroyer#mark_for_deletion: withdrawn by its author, placeholder raw, not deleted yet;
    # `withdrawn_raw` is the text PostDestroyer#user_recovered puts back (its last revision).
    user_deleted: bool = False
    withdrawn_raw: str | None = None
    withdrawn_at: datetime | None = None
    # Post#hide!: hidden by flags, still served to staff (`hidden: true`).
    hidden: bool = False
    hidden_at: datetime | None = None

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username


@dataclass
class ApiKey:
    """An API key: single-user (`username`) or all-users (None); global unless `scopes`."""

    key: str
    username: str | None
    scopes: frozenset[str] | None = None
    revoked: bool = False


def iso(moment: datetime | None) -> str | None:
    """Discourse's timestamp format: UTC, milliseconds, a `Z`."""
    if moment is None:
        return None
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def slugify(title: str) -> str:
    """Discourse's default ("ascii") slugs: accents dropped, lowercase, dashes; "topic" if empty."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:255] or "topic"


def clean_tag(name: str) -> str:
    """Discourse's tag cleaning: lowercase, spaces to dashes, a few characters removed, 20 max."""
    tag = re.sub(r"[\s]+", "-", name.strip().lower())
    tag = re.sub(r"[/?#\[\]@!$&'()*+,;=.%\\`^|{}\"<>]+", "", tag)
    return tag.strip("-")[:20]
