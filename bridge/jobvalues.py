"""Reading the values a committee member writes in a job file, in French or in English.

Durations (« 7 jours », « 1 jour et 12 heures », « 2h », « 14 jours avant »), dates and times
with or without an offset (« 2025-05-15 12:00 »), yes/no words, activity kinds (« 5 à 7 »),
RRULE lines and the recurrences built from them, reminders. Each `read_*` function takes one
raw YAML value and returns the value it means, or raises `BadValue` saying in French what was
expected; the file's reader (`yamlfile.Reader`) adds the file, the line and the field. Nothing
here reads files. `config.py` reads the community's timezone with `read_timezone` too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rruleset, rrulestr

from bridge.yamlfile import BadValue

# Canonical kind → (French label, English label); a kind picks `announcement-<kind>.md.j2`.
ACTIVITY_KINDS: dict[str, tuple[str, str]] = {
    "webinaire": ("Webinaire", "Webinar"),
    "5-a-7": ("5 à 7", "5 à 7 (after-work meetup)"),
    "rassemblement-annuel": ("Rassemblement annuel", "Annual gathering"),
    "autre": ("Activité", "Activity"),
}
_KIND_ALIASES = {
    "webinar": "webinaire",
    "5a7": "5-a-7",
    "cinq-a-sept": "5-a-7",
    "rassemblement": "rassemblement-annuel",
    "other": "autre",
}
DEFAULT_DURATION = timedelta(hours=1)
# How far ahead of the start a reminder or the publication may be: beyond, it is a typo
# (« 99999999999 jours » would not even be a date).
MAX_DURATION = timedelta(days=2 * 365)
MAX_DURATION_WORDS = "2 ans"
MIN_YEAR, MAX_YEAR = 2000, 2999

_UNITS = {
    **dict.fromkeys(("semaine", "semaines", "sem", "w", "week", "weeks"), timedelta(weeks=1)),
    **dict.fromkeys(("j", "jour", "jours", "d", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("h", "heure", "heures", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
}
_PART = re.compile(r"(\d+)\s*([a-z]+)")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]+(\d{1,2})\s*[:h]\s*(\d{2})(?::(\d{2}))?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_TIME = re.compile(r"^(\d{1,2})\s*[:h]\s*(\d{2})$")
_NOW_WORDS = {"maintenant", "immediatement", "tout de suite", "now", "immediately"}
_TRUE, _FALSE = {"oui", "vrai", "yes", "true"}, {"non", "faux", "no", "false"}
_EXAMPLE_DATE = "comme « 2025-05-15 12:00 »"


@dataclass(frozen=True)
class Reminder:
    """A reminder `before` the start, or at a fixed time `at` (one-off activities only)."""

    label: str  # in keys: "7j", "2h", "30min", or "20250514-0900"
    before: timedelta | None = None
    at: datetime | None = None

    def due(self, start: datetime) -> datetime:
        return self.at if self.at is not None else start - (self.before or timedelta())


# --- one field at a time -----------------------------------------------------------------------


def quoted(value: Any) -> str:
    return f"« {value} »"


def read_flag(value: Any) -> bool:
    """`oui`/`non`, `vrai`/`faux`, `yes`/`no` or a YAML boolean."""
    if isinstance(value, str) and lower_without_accents(value) in _TRUE | _FALSE:
        return lower_without_accents(value) in _TRUE
    if not isinstance(value, bool):
        raise BadValue(f"oui ou non attendu, trouvé {quoted(value)}")
    return value


# The tz database's regions: a zone named « Area/Location » follows its place's rules, daylight
# saving included. Abbreviations (EST), POSIX-style names (EST5EDT) and Etc/ offsets are fixed
# offsets or ambiguous: an event in July would be an hour off.
_AREAS = {
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
}
_SUGGESTED = {
    "est": "America/Toronto",
    "edt": "America/Toronto",
    "est5edt": "America/Toronto",
    "canada/eastern": "America/Toronto",
    "us/eastern": "America/Toronto",
    "ast": "America/Halifax",
    "canada/atlantic": "America/Halifax",
    "cst": "America/Winnipeg",
    "cst6cdt": "America/Winnipeg",
    "canada/central": "America/Winnipeg",
    "mst": "America/Edmonton",
    "mst7mdt": "America/Edmonton",
    "canada/mountain": "America/Edmonton",
    "pst": "America/Vancouver",
    "pst8pdt": "America/Vancouver",
    "canada/pacific": "America/Vancouver",
}


def read_timezone(name: str) -> ZoneInfo:
    """A zone of the tz database named « Area/Location » (« America/Toronto »), or UTC."""
    text = str(name).strip()
    try:
        zone = ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: « America » is a folder of the zone database, not a zone.
        zone = None
    canonical = text == "UTC" or ("/" in text and text.split("/", 1)[0] in _AREAS)
    if zone is not None and canonical:
        return zone
    if zone is not None or text.lower() in _SUGGESTED:
        suggestion = _SUGGESTED.get(text.lower(), "America/Toronto")
        raise BadValue(
            f"fuseau horaire {quoted(name)} refusé : un nom « Région/Ville » suit l'heure "
            f"avancée de l'endroit, comme {suggestion} (ou UTC)"
        )
    raise BadValue(f"fuseau horaire inconnu {quoted(name)} (exemple : America/Toronto)")


def read_moment(value: Any, tz: ZoneInfo) -> datetime:
    """A date and time (`parse_local_datetime`) in a plausible year."""
    parsed = parse_local_datetime(value, tz) if isinstance(value, str) else None
    if parsed is None:
        found = "rien" if value is None else quoted(value)
        raise BadValue(f"date et heure attendues, {_EXAMPLE_DATE}, trouvé {found}")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        # Year 9999 would overflow as soon as an hour is added to it.
        raise BadValue(f"année entre {MIN_YEAR} et {MAX_YEAR} attendue, trouvé {quoted(value)}")
    return parsed


def read_end(value: Any, start: datetime, tz: ZoneInfo) -> datetime:
    """A time of the start's day (« 13:00 »), a date and time, or nothing: one hour."""
    if value is None:
        return start + DEFAULT_DURATION
    hour = _TIME.match(value.strip()) if isinstance(value, str) else None
    if hour and int(hour[1]) < 24 and int(hour[2]) < 60:
        end = datetime.combine(start.date(), time(int(hour[1]), int(hour[2])), tz)
    else:
        end = read_moment(value, tz)
    if end <= start:
        raise BadValue(
            f"la fin ({end:%Y-%m-%d %H:%M}) doit venir après le début ({start:%Y-%m-%d %H:%M})"
        )
    return end


def read_rule(text: str, start: datetime) -> str:
    """One RRULE line (`RRULE:` optional, a UTC UNTIL made local), at most daily."""
    if "DTSTART" in text.upper() or "\n" in text:
        raise BadValue("une seule ligne RRULE, sans DTSTART (le début : start)")
    try:
        text = _local_until(re.sub(r"^RRULE:", "", text, flags=re.I), start)
        rrulestr(text, dtstart=start.replace(tzinfo=None))
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise BadValue(
            f"règle de récurrence invalide ({exc}), exemple : FREQ=MONTHLY;BYDAY=1TH"
        ) from None
    # Hourly (or finer) announcements would flood the forum.
    freq = re.search(r"(?:^|;)FREQ=([A-Z]+)", text.upper())
    if freq is None or freq[1] not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        raise BadValue("FREQ=DAILY, WEEKLY, MONTHLY ou YEARLY attendu")
    return text


def read_skip(value: Any) -> tuple[date, ...]:
    """The dates a series skips: one date or a list of them."""
    value = value or []
    days = []
    for i, v in enumerate(value if isinstance(value, list) else [value]):
        try:
            days.append(date.fromisoformat(str(v).strip()))
        except ValueError:
            raise BadValue(f"date attendue, comme « 2025-07-03 », trouvé {quoted(v)}", i) from None
    return tuple(days)


def read_publish(
    value: Any, start: datetime, tz: ZoneInfo
) -> tuple[timedelta | None, datetime | None]:
    """(how long before the start, at what time): « maintenant » or nothing is (None, None)."""
    if value is None or (isinstance(value, str) and lower_without_accents(value) in _NOW_WORDS):
        return None, None
    if isinstance(value, str) and parse_local_datetime(value, tz) is None:
        before = parse_duration(value)
        if before is None:
            raise BadValue(
                f"« 14 jours avant », « maintenant » ou une date attendus, trouvé {quoted(value)}"
            )
        if before > MAX_DURATION:
            raise BadValue(
                f"publication trop tôt ({value.strip()}) : {MAX_DURATION_WORDS} avant le "
                "début au plus"
            )
        return before, None
    at = read_moment(value, tz)
    if at >= start:
        raise BadValue(f"publication ({at:%Y-%m-%d %H:%M}) après le début")
    return None, at


def read_reminders(
    value: Any,
    start: datetime,
    tz: ZoneInfo,
    rule: str | None,
    publish_before: timedelta | None,
) -> tuple[Reminder, ...]:
    """Durations before the start (« 7 jours »), or dates for a one-off; no two alike."""
    value = value or []
    found: list[Reminder] = []
    for i, v in enumerate(value if isinstance(value, list) else [value]):
        text = str(v).strip() if isinstance(v, str | int) and not isinstance(v, bool) else ""
        at = parse_local_datetime(text, tz)
        if re.search(r"\b(apr[eè]s|after)\b", text, re.I) or (at and at >= start):
            raise BadValue(
                f"rappel après le début de l'activité ({text}) : "
                "un rappel vient avant, comme « 1 jour »",
                i,
            )
        if at is not None:
            if rule is not None:
                raise BadValue(
                    "une série a des rappels en durées, comme « 1 jour », pas à date fixe", i
                )
            reminder = Reminder(f"{at:%Y%m%d-%H%M}", at=at)
        else:
            before = parse_duration(text)
            if before is None:
                raise BadValue(
                    "durée attendue, comme « 7 jours », « 2 heures » "
                    f"ou « 30 minutes », trouvé {quoted(v)}",
                    i,
                )
            if before > MAX_DURATION:
                raise BadValue(
                    f"rappel trop tôt ({text}) : {MAX_DURATION_WORDS} avant le début au plus", i
                )
            if publish_before is not None and before > publish_before:
                raise BadValue(f"rappel ({text}) avant la publication", i)
            reminder = Reminder(duration_label(before), before=before)
        if any(r.label == reminder.label for r in found):
            raise BadValue(f"rappel en double ({text})", i)
        found.append(reminder)
    return tuple(found)


def read_tags(value: Any) -> tuple[str, ...]:
    """One tag or a list of them, none empty."""
    value = value or []
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(t, str) and t.strip() for t in values):
        raise BadValue(f"liste d'étiquettes attendue, comme [webinaire], trouvé {quoted(value)}")
    return tuple(t.strip() for t in values)


def read_pin(value: Any) -> tuple[bool, date | None]:
    """(pinned, until when): yes/no, or a date to unpin at."""
    if isinstance(value, str) and lower_without_accents(value) not in _TRUE | _FALSE:
        try:
            return True, date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise BadValue(
                f"oui, non ou une date (2025-05-15) attendus, trouvé {quoted(value)}"
            ) from None
    return read_flag(value), None


# --- words, durations, dates, rules ------------------------------------------------------------


def lower_without_accents(text: str) -> str:
    """Lower case without accents: « Immédiatement » matches « immediatement »."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_kind(value: str) -> str | None:
    """The canonical kind for what the committee wrote (« 5 à 7 », « Webinaire »…), or None."""
    slug = re.sub(r"[^a-z0-9]+", "-", lower_without_accents(value)).strip("-")
    slug = _KIND_ALIASES.get(slug, slug)
    return slug if slug in ACTIVITY_KINDS else None


def parse_duration(text: str) -> timedelta | None:
    """« 7 jours », « 1 jour et 12 heures », « 2h », « 30 minutes avant » → timedelta, or None.

    A duration too long for a timedelta (« 99999999999 jours ») comes back as `timedelta.max`,
    for the caller to refuse as too long.
    """
    folded = re.sub(r"\s+(avant|before)$", "", lower_without_accents(text))
    total, pos = timedelta(), 0
    for match in _PART.finditer(folded):
        if folded[pos : match.start()].strip(" ,") not in ("", "et", "and"):
            return None
        if match[2] not in _UNITS:
            return None
        try:
            total += int(match[1]) * _UNITS[match[2]]
        except OverflowError:
            return timedelta.max
        pos = match.end()
    if folded[pos:].strip() or total <= timedelta():
        return None
    return total


def duration_label(value: timedelta) -> str:
    """The short form used in keys: 7j, 2h, 30min."""
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}j"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}min"


def parse_local_datetime(text: str, tz: ZoneInfo) -> datetime | None:
    """« 2025-05-15 12:00 », « 2025-05-15T12h00 » in `tz`, or None; a date without a time is
    refused (`BadValue`), never taken as midnight.

    A written offset (« 2025-05-15 12:00-04:00 ») is honoured, and the result converted to `tz`.
    """
    match = _DATETIME.match(text.strip())
    if not match:
        return None
    y, mo, d, h, mi, s, offset = match.groups()
    if h is None:
        # Taken as midnight, « 2027-01-21 » would send a 2-hour reminder at 22 h the day before.
        raise BadValue(
            f"date sans heure {quoted(text.strip())} : précisez l'heure, "
            f"comme « {y}-{mo}-{d} 12:00 »"
        )
    try:
        naive = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        return None
    if offset:
        stamp = naive.isoformat() + ("+00:00" if offset == "Z" else offset)
        try:
            return datetime.fromisoformat(stamp).astimezone(tz)
        except (ValueError, OverflowError):  # an offset of 24 hours or more, year 0 or 10000
            return None
    return naive.replace(tzinfo=tz)


def _local_until(rule: str, start: datetime) -> str:
    """dateutil refuses a UTC UNTIL with a local DTSTART: make it local wall time."""

    def local(match: re.Match[str]) -> str:
        try:
            utc = datetime.strptime(match[1], "%Y%m%dT%H%M%S").replace(tzinfo=ZoneInfo("UTC"))
            return f"UNTIL={utc.astimezone(start.tzinfo):%Y%m%dT%H%M%S}"
        except (ValueError, OverflowError):
            raise ValueError(f"invalid 'UNTIL': {match[1]}Z") from None

    return re.sub(r"UNTIL=(\d{8}T\d{6})Z", local, rule.strip(), flags=re.I)


def build_rule(text: str, dtstart: datetime, skip: Sequence[date] = ()) -> rruleset:
    """The recurrence on naive local wall times, without the skipped dates."""
    # forceset=True: always a set, even for a single rule.
    rules = cast(rruleset, rrulestr(text, dtstart=dtstart, forceset=True))
    for day in skip:
        rules.exdate(datetime.combine(day, dtstart.time()))
    return rules
