"""The `schedule:` section of `config.yaml`: when each job of `bridge run` runs, in people's words.

One key per job, in the forms facilitators read: « toutes les 10 minutes » / « every 10
minutes », « lundi 08:00 » / « mon 08:00 », « tous les jours 07:30 », a crontab line, « après
sync » / « after sync » (right after each sync), or « jamais » / « never » (off). A job may also
be a mapping `{at: …, grace: 12 heures}`. Times are the community's (`community.timezone`):
APScheduler's triggers keep « 08:00 » at 08:00 across daylight-saving changes.

The grace period says how late a missed run may still happen (after downtime, or when the
service was busy): 12 hours for the digest (a morning outage still sends Monday's digest in the
afternoon), one interval for the others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bridge.jobvalues import lower_without_accents, parse_duration
from bridge.yamlfile import BadValue, Reader

# Every job `bridge run` knows, in the order a pass runs them; the `welcome` job is registered
# in `bridge/jobtable.py` once it exists.
JOB_NAMES = ("sync", "welcome", "announce", "digest")
AFTER_SYNC = "after sync"
DEFAULTS: Mapping[str, str] = {
    "sync": "toutes les 10 minutes",
    "welcome": "après sync",
    "announce": "toutes les 5 minutes",
    "digest": "lundi 08:00",
}
DIGEST_GRACE = timedelta(hours=12)

_DAYS = {
    **dict.fromkeys(("lundi", "lun", "monday", "mon"), "mon"),
    **dict.fromkeys(("mardi", "mar", "tuesday", "tue"), "tue"),
    **dict.fromkeys(("mercredi", "mer", "wednesday", "wed"), "wed"),
    **dict.fromkeys(("jeudi", "jeu", "thursday", "thu"), "thu"),
    **dict.fromkeys(("vendredi", "ven", "friday", "fri"), "fri"),
    **dict.fromkeys(("samedi", "sam", "saturday", "sat"), "sat"),
    **dict.fromkeys(("dimanche", "dim", "sunday", "sun"), "sun"),
    **dict.fromkeys(("tous les jours", "chaque jour", "every day", "daily"), "*"),
}
_AT = re.compile(r"^(?P<day>[a-z ]+?)\s+(?:a\s+|at\s+)?(?P<h>\d{1,2})\s*(?:[:h]\s*(?P<m>\d{2})?)?$")
_EVERY = re.compile(r"^(?:toutes les|tous les|chaque|every)\s+(?:(?P<n>\d+)\s*)?(?P<unit>[a-z]+)$")
_UNITS = {
    **dict.fromkeys(("minute", "minutes", "min"), "minutes"),
    **dict.fromkeys(("heure", "heures", "hour", "hours", "h"), "hours"),
    **dict.fromkeys(("jour", "jours", "day", "days"), "days"),
}
_AFTER = {"apres sync", "apres la sync", "after sync"}
_OFF = {"jamais", "never", "non", "off", "aucun"}
EXAMPLES = (
    "« toutes les 10 minutes », « lundi 08:00 », « après sync », « jamais » ou une ligne "
    "crontab comme « */10 * * * * »"
)


@dataclass(frozen=True)
class Timing:
    """When one job runs: a trigger, or right after each sync (`after_sync`), or never."""

    text: str
    trigger: BaseTrigger | None = None
    after_sync: bool = False
    grace: timedelta | None = None

    @property
    def enabled(self) -> bool:
        return self.trigger is not None or self.after_sync


@dataclass(frozen=True)
class Schedule:
    timings: Mapping[str, Timing] = field(default_factory=dict)

    def __getitem__(self, job: str) -> Timing:
        return self.timings[job]

    def after_sync(self) -> list[str]:
        return [job for job in JOB_NAMES if job in self.timings and self.timings[job].after_sync]


def parse_timing(job: str, text: Any, tz: ZoneInfo, grace: timedelta | None = None) -> Timing:
    """One job's schedule from its words; `BadValue` in French when they cannot be read."""
    if text is False or (isinstance(text, str) and lower_without_accents(text.strip()) in _OFF):
        return Timing(str(text))
    if not isinstance(text, str) or not text.strip():
        raise BadValue(f"horaire attendu, comme {EXAMPLES}")
    words = re.sub(r"\s+", " ", lower_without_accents(text.strip()))
    if words in _AFTER:
        if job == "sync":
            raise BadValue("la synchronisation ne peut pas suivre elle-même : donnez un horaire")
        return Timing(text, after_sync=True, grace=grace)
    trigger = _trigger(words, text, tz)
    return Timing(text, trigger, grace=grace or default_grace(job, trigger))


def _trigger(words: str, text: str, tz: ZoneInfo) -> BaseTrigger:
    every = _EVERY.match(words)
    if every and every["unit"] in _UNITS:
        n = int(every["n"] or 1)
        if n < 1:
            raise BadValue(f"intervalle de 1 ou plus attendu, trouvé « {text} »")
        return IntervalTrigger(**{_UNITS[every["unit"]]: n}, timezone=tz)
    at = _AT.match(words)
    if at and at["day"] in _DAYS:
        hour, minute = int(at["h"]), int(at["m"] or 0)
        if hour > 23 or minute > 59:
            raise BadValue(f"heure invalide dans « {text} » (de 00:00 à 23:59)")
        return CronTrigger(day_of_week=_DAYS[at["day"]], hour=hour, minute=minute, timezone=tz)
    if len(text.split()) == 5:
        *fields, weekdays = text.split()
        try:
            return CronTrigger.from_crontab(
                " ".join([*fields, cron_weekdays(weekdays)]), timezone=tz
            )
        except ValueError:
            # APScheduler's own words are English: the fields are said instead.
            raise BadValue(
                f"ligne crontab invalide « {text} » : cinq champs attendus, minute heure "
                "jour-du-mois mois jour-de-la-semaine, comme « 0 8 * * 1 » (lundi 8 h)"
            ) from None
    raise BadValue(f"horaire illisible « {text} » : écrivez par exemple {EXAMPLES}")


_CRON_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_weekdays(field: str) -> str:
    """A crontab day-of-week field with its numbers as names. In crontab 0 (and 7) is Sunday and
    1 Monday, but APScheduler's `from_crontab` reads numbers its own way (0 is Monday): « 0 8 *
    * 1 » would run on Tuesdays. Names mean the same to both. A field it cannot read is left
    as written, for APScheduler to refuse."""
    if field == "*" or not re.fullmatch(r"[0-7*,/-]+", field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        match = re.fullmatch(r"(\*|([0-7])(?:-([0-7]))?)(?:/([1-7]))?", part)
        if match is None:
            return field
        star, first, last, step = match.groups()
        if star == "*":
            low, high = 0, 6
        else:
            low = int(first)
            high = int(last) if last is not None else (6 if step else low)
        if low > high:
            return field
        days.update(d % 7 for d in range(low, high + 1, int(step or 1)))
    return ",".join(_CRON_NAMES[d] for d in sorted(days))


def default_grace(job: str, trigger: BaseTrigger) -> timedelta:
    if job == "digest":
        return DIGEST_GRACE
    return interval_of(trigger)


def interval_of(trigger: BaseTrigger) -> timedelta:
    """The time between two runs (for a crontab line: between its next two, from a fixed
    Monday, so that the same line always gives the same grace)."""
    if isinstance(trigger, IntervalTrigger):
        return trigger.interval
    tz = getattr(trigger, "timezone", None)
    first = trigger.get_next_fire_time(None, datetime(2025, 1, 6, tzinfo=tz))
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    return (second - first) if first and second else timedelta(days=7)


def read_schedule(reader: Reader, data: Any, tz: ZoneInfo) -> Schedule:
    """The `schedule:` section (absent: the defaults), each mistake placed in the file."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise reader.fail(("schedule",), "section attendue (une clé par tâche en dessous)")
    timings: dict[str, Timing] = {}
    for key in data:
        if str(key) not in JOB_NAMES:
            raise reader.fail(
                ("schedule", str(key)), f"tâche inconnue (tâches : {', '.join(JOB_NAMES)})"
            )
    for job in JOB_NAMES:
        value = data.get(job, DEFAULTS[job])
        keys: tuple[str, ...] = ("schedule", job)
        grace = None
        if isinstance(value, dict):
            unknown = set(map(str, value)) - {"at", "grace"}
            if unknown:
                raise reader.fail(keys + (sorted(unknown)[0],), "clé inconnue (at ou grace)")
            if value.get("grace") is not None:
                grace = reader.read(keys + ("grace",), _read_grace, value["grace"])
            value = value.get("at", DEFAULTS[job])
            keys += ("at",)
        timings[job] = reader.read(keys, parse_timing, job, value, tz, grace)
    return Schedule(timings)


def _read_grace(value: Any) -> timedelta:
    found = parse_duration(str(value)) if isinstance(value, str) else None
    if found is None or found == timedelta.max:
        raise BadValue(f"durée attendue, comme « 12 heures » ou « 30 minutes », trouvé « {value} »")
    return found


# --- when a job is due -----------------------------------------------------------------------


def missed_run(timing: Timing, last_started: datetime | None, now: datetime) -> datetime | None:
    """The time a run should have happened while nobody ran it, if it is still within its
    grace period: the service runs it once at start-up. None when nothing was missed.

    An interval counts from the job's last run (the first start of all runs it at once); a
    time of day is missed if it fell after the last run and no longer than the grace ago.
    """
    trigger, grace = timing.trigger, timing.grace or timedelta()
    if trigger is None:
        return None
    if isinstance(trigger, IntervalTrigger):
        if last_started is None:
            return now
        ticks = math.floor((now - last_started) / trigger.interval)
        latest = last_started + ticks * trigger.interval
        return latest if ticks >= 1 and now - latest <= grace else None
    start = now - grace if last_started is None else max(last_started, now - grace)
    fire = trigger.get_next_fire_time(None, start + timedelta(microseconds=1))
    return fire if fire is not None and fire <= now else None


def next_run(timing: Timing, last_started: datetime | None, now: datetime) -> datetime | None:
    """When the job runs next, as `bridge status` shows it (None: after sync, or never)."""
    trigger = timing.trigger
    if trigger is None:
        return None
    if isinstance(trigger, IntervalTrigger):
        if last_started is None:
            return now
        return max(now, last_started + trigger.interval)
    # A run at the fire time itself (or just after) has done that one.
    start = now if last_started is None else max(now, last_started + timedelta(microseconds=1))
    fire: datetime | None = trigger.get_next_fire_time(None, start)
    return fire
