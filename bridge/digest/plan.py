"""Planning the weekly digest: the store and a week → its Markdown and its one Draft.

Pure: no Discourse, no publisher, no wiring (running it is `bridge/runs.py`). Everything comes
from the store as of the week's end, over the watched category and its subcategories, leaving
out the bridge's own posts (private messages are not mirrored). The Draft's key is
`digest:<ISO week>`, whatever the target: one digest per week and community.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.config import Config
from bridge.digest.figures import (
    RECIPROCITY_WEEKS,
    TREND_WEEKS,
    Activity,
    Indicator,
    IndicatorWords,
    compute_week,
    first_replies,
    person,
)
from bridge.digest.items import (
    EXCERPT_LIMIT,
    FIELD_LIMIT,
    NAME_LIMIT,
    TITLE_LIMIT,
    CardItem,
    EventItem,
    MemberItem,
    ToolItem,
    TopicItem,
)
from bridge.digest.week import Week
from bridge.drafts import Draft, DraftKind
from bridge.entries import CartographyCard
from bridge.membertext import plain_excerpt, safe_inline
from bridge.models import topic_url
from bridge.render import Renderer
from bridge.store import ActivityPost, OpenedTopic, Store, WeekFigures

TEMPLATE = "digest.md.j2"
KEY_PREFIX = "digest:"
# A topic waits for an answer once it is this old, and is followed for this long.
WAITING_AFTER = timedelta(hours=48)
WAITING_WINDOW = timedelta(days=30)
COMING_UP = timedelta(days=30)
FACILITATORS = "facilitators"


def digest_key(week: Week) -> str:
    return f"{KEY_PREFIX}{week.name}"


@dataclass(frozen=True)
class DigestPlan:
    """A week's digest: its figures (recorded once it is published), whether the week was
    quiet, and the Draft (None for a quiet week with `digest.quiet_week: none`)."""

    week: Week
    figures: WeekFigures
    quiet: bool
    title: str
    markdown: str
    draft: Draft | None


def build_digest(
    store: Store, config: Config, renderer: Renderer, week: Week, now: datetime
) -> DigestPlan:
    return _Planner(store, config, renderer, week, now).plan()


class _Planner:
    def __init__(self, store: Store, config: Config, renderer: Renderer, week: Week, now: datetime):
        self.store, self.config, self.renderer, self.week = store, config, renderer, week
        self.site = config.site
        self.me = config.discourse.api_username
        # The week under way (a dry run) is read as of now.
        self.as_of = min(week.end, now)
        root = store.category(config.community.category)
        self.family = [root.id, *store.subcategory_ids(root.id)] if root else []
        welcome = store.category(config.community.subcategories.welcome)
        self.welcome_id = welcome.id if welcome else None

    def plan(self) -> DigestPlan:
        week, store = self.week, self.store
        first = week.shifted(-(TREND_WEEKS - 1))
        since = first.shifted(-(RECIPROCITY_WEEKS - 1)).start
        posts = store.activity_posts(self.family, since, week.end, leave_out=self.me)
        opened = store.topics_opened(self.family, since, week.end, leave_out=self.me)
        users = sorted({p.user_id for p in posts if p.user_id is not None})
        activity = Activity(posts, opened, store.first_post_times(users), self.me)

        series = [week.shifted(-i) for i in range(TREND_WEEKS - 1, -1, -1)]
        stored = store.week_figures([w.name for w in series])
        figures = [stored.get(w.name) or compute_week(w, activity) for w in series]
        this = figures[-1]
        quiet = this.new_topics == 0 and this.replies == 0

        in_week = activity.posts_between(week.start, week.end)
        new = activity.opened_between(week.start, week.end)
        english = self.renderer.language != "fr"
        words = self.renderer.week_words(week.monday, week.sunday)
        title = (
            f"{self.config.community.name}: digest for the {words}"
            if english
            else f"{self.config.community.name} : résumé de la {words}"
        )
        context: dict[str, Any] = {
            "community": self.config.community.name,
            "forum_url": self.site,
            "week": week.name,
            "week_words": words,
            "week_start": week.start,
            "week_end": week.end,
            "title": title,
            "quiet": quiet,
            "new_topics": self.new_topics(new, posts),
            "most_active": self.most_active(in_week),
            "waiting": self.waiting(opened, posts),
            "toolbox": self.toolbox(),
            "cards": self.cards(),
            "cards_to_follow": self.cards_to_follow(),
            "new_members": self.new_members(),
            "coming_up": self.coming_up(),
            "indicators": self.indicators(figures),
        }
        markdown = self.renderer.render(TEMPLATE, **context)
        skip = quiet and self.config.digest.quiet_week == "none"
        return DigestPlan(
            week, this, quiet, title, markdown, None if skip else self.draft(title, markdown)
        )

    def draft(self, title: str, markdown: str) -> Draft:
        target = self.config.digest.target
        label = f"Résumé de la semaine {self.week.name}"
        if target == FACILITATORS:
            return Draft(
                digest_key(self.week),
                DraftKind.PRIVATE_MESSAGE,
                raw=markdown,
                title=title,
                recipients=(self.config.community.facilitators_group,),
                label=label,
            )
        return Draft(
            digest_key(self.week),
            DraftKind.TOPIC,
            raw=markdown,
            title=title,
            category=target,
            label=label,
        )

    # --- the lists -------------------------------------------------------------------------------

    def names(self, people: Sequence[tuple[int | None, str | None]]) -> dict[int | str, str]:
        """Display names (never an @username): the name people chose, else their username."""
        ids = sorted({i for i, _ in people if i is not None})
        shown = self.store.display_names(ids)
        return {person(i, u): shown.get(i or -1) or u or "?" for i, u in people}

    def new_topics(
        self, new: Sequence[OpenedTopic], posts: Sequence[ActivityPost]
    ) -> list[TopicItem]:
        names = self.names([(t.user_id, t.username) for t in new])
        replies = Counter(p.topic_id for p in posts if p.post_number > 1)
        people: dict[int, set[int | str]] = {}
        for p in posts:
            people.setdefault(p.topic_id, set()).add(person(p.user_id, p.username))
        return [
            TopicItem(
                title=safe_inline(t.title, TITLE_LIMIT),
                url=topic_url(self.site, t.slug, t.id),
                author=safe_inline(names[person(t.user_id, t.username)], NAME_LIMIT),
                replies=replies[t.id],
                participants=len(people.get(t.id, ())),
                excerpt=plain_excerpt(t.first_raw, EXCERPT_LIMIT),
            )
            for t in new
        ]

    def most_active(self, in_week: Sequence[ActivityPost]) -> list[TopicItem]:
        replies = Counter(p.topic_id for p in in_week if p.post_number > 1)
        people: dict[int, set[int | str]] = {}
        for p in in_week:
            people.setdefault(p.topic_id, set()).add(person(p.user_id, p.username))
        ranked = sorted(replies, key=lambda t: (-replies[t], -len(people[t]), t))
        items = []
        for topic_id in ranked[: self.config.digest.most_active]:
            topic = self.store.topic_state(topic_id)
            if topic is None:
                continue
            items.append(
                TopicItem(
                    title=safe_inline(topic.title, TITLE_LIMIT),
                    url=topic_url(self.site, topic.slug, topic.id),
                    author=safe_inline("", NAME_LIMIT),
                    replies=replies[topic_id],
                    participants=len(people[topic_id]),
                    excerpt=safe_inline(""),
                )
            )
        return items

    def waiting(
        self, opened: Sequence[OpenedTopic], posts: Sequence[ActivityPost]
    ) -> list[TopicItem]:
        as_of = self.as_of
        candidates = [
            t for t in opened if as_of - WAITING_WINDOW <= t.created_at <= as_of - WAITING_AFTER
        ]
        # Posts come up to the week's end, and no later than now: all were made by `as_of`.
        answered = first_replies(candidates, posts)
        left = [t for t in candidates if t.id not in answered]
        names = self.names([(t.user_id, t.username) for t in left])
        return [
            TopicItem(
                title=safe_inline(t.title, TITLE_LIMIT),
                url=topic_url(self.site, t.slug, t.id),
                author=safe_inline(names[person(t.user_id, t.username)], NAME_LIMIT),
                replies=0,
                participants=1,
                excerpt=plain_excerpt(t.first_raw, EXCERPT_LIMIT),
                waiting_days=(as_of - t.created_at).days,
            )
            for t in left
        ]

    def toolbox(self) -> list[ToolItem]:
        return [
            ToolItem(
                title=safe_inline(e.title, TITLE_LIMIT),
                url=e.url,
                author=safe_inline(e.author, NAME_LIMIT),
                themes=safe_inline(", ".join(e.themes), FIELD_LIMIT),
            )
            for e in self.store.toolbox_added(self.week.start, self.week.end)
        ]

    def cards(self) -> list[CardItem]:
        changed = self.store.cards_changed(self.week.start, self.week.end)
        return [self._card_item(c) for c in changed]

    def cards_to_follow(self) -> list[CardItem]:
        return [self._card_item(c) for c in self.store.cards_with_warnings(self.week.end)]

    def _card_item(self, card: CartographyCard) -> CardItem:
        return CardItem(
            title=safe_inline(card.title, TITLE_LIMIT),
            url=card.url,
            territory=safe_inline(card.territory or card.territory_raw or "", FIELD_LIMIT),
            added=card.created_at >= self.week.start,
            warnings=safe_inline("; ".join(card.warnings), EXCERPT_LIMIT),
        )

    def new_members(self) -> list[MemberItem]:
        joins = [
            j
            for j in self.store.group_joins(
                self.config.community.group, self.week.start, self.week.end
            )
            if j.username != self.me
        ]
        names = self.names([(j.user_id, j.username) for j in joins])
        places = self.store.posting_places([j.user_id for j in joins], self.family, self.as_of)
        return [
            MemberItem(
                name=safe_inline(names[j.user_id], NAME_LIMIT),
                introduced=self.welcome_id in places.get(j.user_id, set()),
                posted_elsewhere=bool(places.get(j.user_id, set()) - {self.welcome_id}),
            )
            for j in joins
        ]

    def coming_up(self) -> list[EventItem]:
        end = self.week.end
        items = []
        for a in self.store.upcoming_announcements(end):
            if a.starts_at >= end + COMING_UP:
                continue
            if a.topic_id is None:
                continue  # published, but the ledger lost its topic: nothing to link to
            topic = self.store.topic_state(a.topic_id)
            url = topic_url(self.site, topic.slug if topic else "", a.topic_id)
            items.append(
                EventItem(
                    safe_inline(a.title, TITLE_LIMIT), url, self.renderer.datetime_long(a.starts_at)
                )
            )
        return items

    def indicators(self, figures: Sequence[WeekFigures | None]) -> list[Indicator]:
        return IndicatorWords(self.renderer.locale).indicators(figures)
