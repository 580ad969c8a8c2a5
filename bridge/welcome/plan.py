"""The welcome's texts and Drafts (pure: the store and the templates, no Discourse).

The welcomed members' `@username` is the one mention the bridge makes on purpose: templates
print it with the `mention` filter, and only theirs; everything copied from members' profiles
(display names) is made safe (`bridge.membertext`), like the digest's. Titles carry the date or
the username, so that two welcomes never share one (Discourse refuses a title already taken).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date

from bridge.config import Config
from bridge.digest.items import NAME_LIMIT, TITLE_LIMIT, EventItem
from bridge.drafts import Draft, DraftKind
from bridge.membertext import safe_inline
from bridge.models import topic_url
from bridge.render import MemberText, Renderer
from bridge.store import GroupJoin, Store

TEMPLATE = "welcome.md.j2"
COLLECTIVE_TEMPLATE = "welcome-collective.md.j2"
FOLLOW_UP_TEMPLATE = "welcome-suivi.md.j2"
TEMPLATES = (TEMPLATE, COLLECTIVE_TEMPLATE, FOLLOW_UP_TEMPLATE)
# The follow-up points to the discussions with the most replies over this stretch.
ACTIVE_WINDOW = timedelta(days=14)
ACTIVE_COUNT = 3
# Discourse usernames: letters, digits, `_`, `.`, `-` (UsernameValidator); anything else is
# never mentioned.
_USERNAME = re.compile(r"^[\w.-]+$")


@dataclass(frozen=True)
class Newcomer:
    """A member to welcome, as templates see them: `username` (print it with `| mention`) and
    the display name they chose, made safe."""

    username: str
    name: MemberText


@dataclass(frozen=True)
class Discussion:
    title: MemberText
    url: str
    replies: int


class WelcomeTexts:
    def __init__(self, store: Store, config: Config, renderer: Renderer, now: datetime):
        self.store, self.config, self.renderer, self.now = store, config, renderer, now
        self.site = config.site
        self.english = renderer.language != "fr"
        sub = config.community.subcategories
        root = store.category(config.community.category)
        self.family = [root.id, *store.subcategory_ids(root.id)] if root else []
        self._context: dict[str, Any] | None = None
        self.urls = {
            "toolbox_url": self._category_url(sub.toolbox),
            "cartography_url": self._category_url(sub.cartography),
            "welcome_url": self._category_url(sub.welcome),
            "add_card_url": self._new_topic_url(sub.cartography),
        }

    # --- the drafts ------------------------------------------------------------------------

    def individual(self, key: str, member: GroupJoin) -> Draft:
        newcomer = self.newcomer(member)
        name = self.config.community.name
        if self.config.welcome.mode == "message":
            title = (
                f"Welcome to the {name}, {member.username}"
                if self.english
                else f"Bienvenue dans la {name}, {member.username}"
            )
            label = f"Accueil de {member.username} (message privé)"
            return self._draft(
                key, TEMPLATE, title, label, to=member, member=newcomer, private=True
            )
        day = self.day(member.added_at)
        title = (
            f"Welcome, {member.username}, to the {name} ({day})"
            if self.english
            else f"Bienvenue à {member.username} dans la {name} ({day})"
        )
        label = f"Accueil de {member.username}"
        return self._draft(key, TEMPLATE, title, label, member=newcomer, private=False)

    def collective(self, key: str, members: Sequence[GroupJoin], planned_at: datetime) -> Draft:
        name = self.config.community.name
        when = f"{self.day(planned_at)}, {self.time(planned_at)}"
        title = (
            f"Welcome to the {len(members)} new members of the {name} ({when})"
            if self.english
            else f"Bienvenue aux {len(members)} nouveaux membres de la {name} ({when})"
        )
        label = f"Accueil collectif de {len(members)} membres"
        return self._draft(
            key, COLLECTIVE_TEMPLATE, title, label, members=[self.newcomer(m) for m in members]
        )

    def follow_up(self, key: str, member: GroupJoin) -> Draft:
        name = self.config.community.name
        title = (
            f"{name}: a few ways in, {member.username}"
            if self.english
            else f"{name} : quelques portes d'entrée, {member.username}"
        )
        return self._draft(
            key,
            FOLLOW_UP_TEMPLATE,
            title,
            f"Suivi de l'accueil de {member.username}",
            to=member,
            member=self.newcomer(member),
            discussions=self.discussions(),
        )

    def _draft(
        self,
        key: str,
        template: str,
        title: str,
        label: str,
        *,
        to: GroupJoin | None = None,
        **values: Any,
    ) -> Draft:
        """A topic in the welcome subcategory, or, `to` a member, a private message to them
        and the facilitators."""
        raw = self.renderer.render(template, **self.context(), title=title, **values)
        if to is not None:
            return Draft(
                key,
                DraftKind.PRIVATE_MESSAGE,
                raw=raw,
                title=title,
                recipients=self.recipients(to),
                label=label,
            )
        return Draft(
            key,
            DraftKind.TOPIC,
            raw=raw,
            title=title,
            category=self.config.community.subcategories.welcome,
            label=label,
        )

    # --- what the templates receive -------------------------------------------------------

    def context(self) -> dict[str, Any]:
        if self._context is None:
            self._context = {
                "community": self.config.community.name,
                "forum_url": self.site,
                **self.urls,
                "guidelines_url": self.config.welcome.guidelines_url,
                "next_event": self.next_event(),
            }
        return self._context

    def newcomer(self, member: GroupJoin) -> Newcomer:
        name = self.store.display_names([member.user_id]).get(member.user_id) or member.name
        username = member.username if _USERNAME.match(member.username) else ""
        return Newcomer(username, safe_inline(name or member.username, NAME_LIMIT))

    def recipients(self, member: GroupJoin) -> tuple[str, ...]:
        group = self.config.community.facilitators_group
        return (member.username, group) if group else (member.username,)

    def next_event(self) -> EventItem | None:
        for a in self.store.upcoming_announcements(self.now):
            if a.topic_id is None or a.starts_at < self.now:
                continue
            topic = self.store.topic_state(a.topic_id)
            url = topic_url(self.site, topic.slug if topic else "", a.topic_id)
            return EventItem(
                safe_inline(a.title, TITLE_LIMIT), url, self.renderer.datetime_long(a.starts_at)
            )
        return None

    def discussions(self) -> list[Discussion]:
        posts = self.store.activity_posts(
            self.family,
            self.now - ACTIVE_WINDOW,
            self.now,
            leave_out=self.config.discourse.api_username,
        )
        replies = Counter(p.topic_id for p in posts if p.post_number > 1)
        found = []
        for topic_id, count in sorted(replies.items(), key=lambda kv: (-kv[1], -kv[0])):
            topic = self.store.topic_state(topic_id)
            if topic is None or topic.deleted:
                continue
            found.append(
                Discussion(
                    safe_inline(topic.title, TITLE_LIMIT),
                    topic_url(self.site, topic.slug, topic.id),
                    count,
                )
            )
            if len(found) == ACTIVE_COUNT:
                break
        return found

    # --- words --------------------------------------------------------------------------------

    def day(self, moment: datetime) -> str:
        local = moment.astimezone(self.renderer.tz)
        pattern = "MMMM d, y" if self.english else "d MMMM y"
        return format_date(local, pattern, locale=self.renderer.locale)

    def time(self, moment: datetime) -> str:
        return self.renderer.time_words(moment)

    def _category_url(self, slug: str) -> str:
        found = self.store.category(slug)
        return f"{self.site}/c/{found.slug}/{found.id}" if found else f"{self.site}/c/{slug}"

    def _new_topic_url(self, slug: str) -> str:
        found = self.store.category(slug)
        return (
            f"{self.site}/new-topic?category_id={found.id}" if found else self._category_url(slug)
        )
