"""What the digest lists, as the templates see it: each text copied from members is already
safe (`bridge.membertext`), each link absolute."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.render import MemberText

# How much of a member's words the digest copies.
TITLE_LIMIT = 90
NAME_LIMIT = 40
EXCERPT_LIMIT = 140
FIELD_LIMIT = 60


@dataclass(frozen=True)
class TopicItem:
    """A discussion: `replies` and `participants` count the week's (or, for a new one, all its
    replies up to the week's end); `waiting_days` is how long it has waited for an answer."""

    title: MemberText
    url: str
    author: MemberText
    replies: int
    participants: int
    excerpt: MemberText
    waiting_days: int = 0


@dataclass(frozen=True)
class ToolItem:
    title: MemberText
    url: str
    author: MemberText
    themes: MemberText


@dataclass(frozen=True)
class CardItem:
    """A cartography card: `added` in the week, or else updated; `warnings`, what is missing."""

    title: MemberText
    url: str
    territory: MemberText
    added: bool
    warnings: MemberText


@dataclass(frozen=True)
class MemberItem:
    """A new member: whether they introduced themselves (posted in the welcome subcategory)
    and whether they posted elsewhere in the community, by the week's end."""

    name: MemberText
    introduced: bool
    posted_elsewhere: bool


@dataclass(frozen=True)
class EventItem:
    """An announced activity to come: its title, its topic and when it starts, in words."""

    title: MemberText
    url: str
    when: str
