"""The community's health over a week, and over eight: the digest's indicators.

Definitions (the README repeats them for the facilitators). A contribution is a live post by a
member (not the bridge's account) in a listed topic of the category or its subcategories; a
week is `[start, end)` and everything is counted as of its end:

- contributors: distinct people who posted in the week;
- first-time contributors: those of them whose first post the store knows of (deleted ones
  included) is in the week;
- answered within 48 h: of the topics opened in the week, the share that got a reply from
  someone other than their author within 48 h, and before the week's end;
- median time to a first reply: over the topics opened in the week that got a reply from
  someone else before the week's end, the median delay, in hours;
- reciprocity: of the people who posted in the four weeks up to the week's end, how many both
  opened a topic and replied in a topic opened by another member.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.numbers import format_decimal, format_percent

from bridge.digest.week import Week
from bridge.store import ActivityPost, OpenedTopic, WeekFigures

ANSWER_WITHIN = timedelta(hours=48)
RECIPROCITY_WEEKS = 4
TREND_WEEKS = 8
_BARS = "▁▂▃▄▅▆▇█"
# A week the store cannot tell (no figures, nothing to compute them from).
UNKNOWN = "·"

Person = int | str


def person(user_id: int | None, username: str | None) -> Person:
    """Who posted: the account's id, or its name when the store lost the id."""
    return user_id if user_id is not None else username or ""


class Activity:
    """What the store holds over the stretch the figures of several weeks need: posts and
    opened topics in time order, sliced by time with a binary search (a digest reads eight
    weeks of them, a big community tens of thousands of posts)."""

    def __init__(
        self,
        posts: Sequence[ActivityPost],
        opened: Sequence[OpenedTopic],
        first_posts: dict[int, datetime],
        bridge_account: str,
    ):
        self.posts = sorted(posts, key=lambda p: p.created_at)
        self.opened = sorted(opened, key=lambda t: t.created_at)
        self.first_posts = {u: at.timestamp() for u, at in first_posts.items()}
        # Replying in the bridge's topics (welcome threads, announcements) is not answering a
        # member.
        self.bridge_account = bridge_account
        self._post_times = [p.created_at.timestamp() for p in self.posts]
        self._opened_times = [t.created_at.timestamp() for t in self.opened]

    def posts_between(self, start: datetime, end: datetime) -> Sequence[ActivityPost]:
        times = self._post_times
        return self.posts[
            bisect_left(times, start.timestamp()) : bisect_left(times, end.timestamp())
        ]

    def opened_between(self, start: datetime, end: datetime) -> Sequence[OpenedTopic]:
        times = self._opened_times
        return self.opened[
            bisect_left(times, start.timestamp()) : bisect_left(times, end.timestamp())
        ]


def first_replies(
    opened: Sequence[OpenedTopic], posts: Sequence[ActivityPost]
) -> dict[int, datetime]:
    """topic id -> the first reply from someone other than its author, among `posts`."""
    authors = {t.id: person(t.user_id, t.username) for t in opened}
    found: dict[int, datetime] = {}
    for p in posts:
        if p.post_number <= 1 or p.topic_id not in authors:
            continue
        if person(p.user_id, p.username) == authors[p.topic_id]:
            continue
        if p.topic_id not in found or p.created_at < found[p.topic_id]:
            found[p.topic_id] = p.created_at
    return found


def compute_week(week: Week, activity: Activity) -> WeekFigures:
    """A week's figures from the store's activity (which must cover the 4 weeks before its end)."""
    start, end = week.start, week.end
    in_week = activity.posts_between(start, end)
    people = {person(p.user_id, p.username) for p in in_week}
    since = start.timestamp()
    first_timers = {
        p.user_id
        for p in in_week
        if p.user_id is not None and activity.first_posts.get(p.user_id, since) >= since
    }
    opened = activity.opened_between(start, end)
    # A reply to a topic opened in the week comes after the week's start.
    replied = first_replies(opened, in_week)
    delays = [replied[t.id] - t.created_at for t in opened if t.id in replied]
    answered = sum(1 for d in delays if d <= ANSWER_WITHIN)
    median = statistics.median(d.total_seconds() / 3600 for d in delays) if delays else None

    window = end - timedelta(weeks=RECIPROCITY_WEEKS)
    recent = activity.posts_between(window, end)
    starters = {person(t.user_id, t.username) for t in activity.opened_between(window, end)}
    answerers = {
        person(p.user_id, p.username)
        for p in recent
        if p.post_number > 1
        and p.topic_username not in (None, activity.bridge_account)
        and person(p.topic_user_id, p.topic_username) != person(p.user_id, p.username)
    }
    return WeekFigures(
        week=week.name,
        contributors=len(people),
        first_timers=len(first_timers),
        new_topics=len(opened),
        answered_topics=answered,
        median_first_reply_hours=None if median is None else round(median, 2),
        reciprocal=len(starters & answerers),
        recent_contributors=len({person(p.user_id, p.username) for p in recent}),
        replies=sum(1 for p in in_week if p.post_number > 1),
    )


# --- the indicators as the digest shows them ---------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """One line of the health table: its name, this week's value, the change from the week
    before and the trend over eight weeks (one bar a week, oldest first)."""

    label: str
    value: str
    change: str
    trend: str


def sparkline(values: Sequence[float | None]) -> str:
    """One bar a week, scaled between the lowest and highest known values; `·` where unknown."""
    known = [v for v in values if v is not None]
    if not known:
        return UNKNOWN * len(values)
    low, high = min(known), max(known)
    bars = []
    for v in values:
        if v is None:
            bars.append(UNKNOWN)
        elif high == low:
            bars.append(_BARS[0] if high == 0 else _BARS[3])
        else:
            bars.append(_BARS[round((v - low) / (high - low) * (len(_BARS) - 1))])
    return "".join(bars)


def answered_share(f: WeekFigures) -> float | None:
    return f.answered_topics / f.new_topics if f.new_topics else None


def reciprocity_share(f: WeekFigures) -> float | None:
    return f.reciprocal / f.recent_contributors if f.recent_contributors else None


class IndicatorWords:
    """Numbers in the community's language (Babel): « 67 % », « 5,5 h », « +2 », « −10 pts »."""

    def __init__(self, locale: str):
        self.locale = locale
        self.en = not locale.lower().startswith("fr")

    def number(self, value: float) -> str:
        return format_decimal(round(value, 1), format="#,##0.#", locale=self.locale)

    def percent(self, share: float | None) -> str:
        return "—" if share is None else format_percent(share, locale=self.locale)

    def hours(self, value: float | None) -> str:
        return "—" if value is None else f"{self.number(value)} h"

    def change(self, now: float | None, before: float | None, unit: str = "") -> str:
        if now is None or before is None:
            return "—"
        delta = round(now - before, 1)
        if delta == 0:
            return "="
        sign = "+" if delta > 0 else "−"  # a real minus sign, as typeset
        return f"{sign}{self.number(abs(delta))}{unit}"

    def indicators(self, weeks: Sequence[WeekFigures | None]) -> list[Indicator]:
        """The five indicators of the last of `weeks` (8 weeks, oldest first; None = unknown)."""
        this = weeks[-1]
        if this is None:
            raise ValueError("the digest's own week always has figures")
        before = weeks[-2] if len(weeks) > 1 else None
        en = self.en

        def line(label: str, value: str, get: Measure, unit: str = "") -> Indicator:
            return Indicator(
                label,
                value,
                self.change(get(this), None if before is None else get(before), unit),
                sparkline([None if w is None else get(w) for w in weeks]),
            )

        answered = this.answered_topics, this.new_topics
        return [
            line(
                "Distinct contributors" if en else "Personnes qui ont contribué",
                str(this.contributors),
                lambda w: w.contributors,
            ),
            line(
                "First-time contributors" if en else "Premières contributions",
                str(this.first_timers),
                lambda w: w.first_timers,
            ),
            line(
                "New topics answered within 48 h" if en else "Nouveaux sujets répondus en 48 h",
                self.percent(answered_share(this))
                + (" ({}/{})".format(*answered) if this.new_topics else ""),
                lambda w: _points(answered_share(w)),
                " pts",
            ),
            line(
                "Median time to a first reply" if en else "Délai médian de première réponse",
                self.hours(this.median_first_reply_hours),
                lambda w: w.median_first_reply_hours,
                " h",
            ),
            line(
                "Reciprocity (4 weeks)" if en else "Réciprocité (4 semaines)",
                f"{this.reciprocal} / {this.recent_contributors} "
                f"({self.percent(reciprocity_share(this))})",
                lambda w: _points(reciprocity_share(w)),
                " pts",
            ),
        ]


Measure = Callable[[WeekFigures], float | None]


def _points(share: float | None) -> float | None:
    """A share in percentage points, as its change is said (« +12 pts »)."""
    return None if share is None else share * 100
