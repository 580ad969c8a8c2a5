"""ISO weeks in the community's timezone: Monday 00:00 to the next Monday 00:00, local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from bridge.errors import UsageError

_WEEK = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")


@dataclass(frozen=True)
class Week:
    year: int
    number: int
    tz: ZoneInfo

    @property
    def name(self) -> str:
        """« 2025-W16 », as `--week` takes it and the ledger keys it."""
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @cached_property
    def start(self) -> datetime:
        return datetime.combine(self.monday, time(0), tzinfo=self.tz)

    @cached_property
    def end(self) -> datetime:
        # The next Monday's midnight, not start + 7 days: a week with a DST change is 167 or
        # 169 hours long.
        return datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=self.tz)

    def shifted(self, weeks: int) -> Week:
        """The week `weeks` later (earlier when negative)."""
        year, number, _ = (self.monday + timedelta(weeks=weeks)).isocalendar()
        return Week(year, number, self.tz)

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> Week:
        year, number, _ = moment.astimezone(tz).date().isocalendar()
        return cls(year, number, tz)


def weeks_in(year: int) -> int:
    """52 or 53: the ISO week of 28 December is always the year's last."""
    return date(year, 12, 28).isocalendar().week


def select_week(text: str | None, now: datetime, tz: ZoneInfo, *, current_ok: bool) -> Week:
    """The week `--week` names, or the last complete one; the week under way only when
    `current_ok` (a dry run). Bad input is one French line (a UsageError, exit code 2)."""
    current = Week.containing(now, tz)
    if text is None:
        return current.shifted(-1)
    match = _WEEK.match(text)
    if match is None:
        raise UsageError(
            f"--week « {text} » : semaine ISO attendue, comme 2025-W16 (année, W, numéro)"
        )
    year, number = int(match[1]), int(match[2])
    if not 1 <= number <= weeks_in(year):
        raise UsageError(
            f"--week « {text} » : l'année {year} compte {weeks_in(year)} semaines ISO "
            f"(de {year}-W01 à {year}-W{weeks_in(year)})"
        )
    week = Week(year, number, tz)
    if week.start > now:
        raise UsageError(f"--week « {text} » : cette semaine n'a pas encore commencé")
    if week == current and not current_ok:
        raise UsageError(
            f"--week « {text} » : la semaine n'est pas finie; son résumé ne se publie qu'une fois "
            "complète (essayez --dry-run pour la voir telle qu'elle est)"
        )
    return week
