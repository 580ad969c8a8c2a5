"""Announcement job files (`jobs/*.yaml`): reading, validating, and the dates they describe.

The steering committee writes these files by hand, so every mistake becomes one `JobFileError`
line in French naming the file, the line, the field and what is expected, and one bad file never
stops the others (`load_jobs` returns the good jobs and the errors side by side). A job is one
activity, or a series (an RRULE, python-dateutil) of which each date is announced on its own.
Nothing here renders text or touches the store: `announce.py` plans from these values.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from dateutil.rrule import rruleset, rrulestr

from bridge.errors import JobFileError

log = logging.getLogger(__name__)

# Canonical kind → (French label, English label); a kind picks `announcement-<kind>.md.j2`.
KINDS: dict[str, tuple[str, str]] = {
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
FIELDS = (
    "kind",
    "title",
    "start",
    "end",
    "timezone",
    "place",
    "link",
    "description",
    "registration",
    "publish",
    "reminders",
    "pin",
    "category",
    "tags",
    "rrule",
    "skip",
    "cancelled",
    "template",
)
DEFAULT_TEMPLATE = "announcement.md.j2"
DEFAULT_DURATION = timedelta(hours=1)
# A series is expanded this far ahead (further if it is announced earlier than that).
HORIZON = timedelta(days=60)
# Discourse refuses shorter topic titles (min_topic_title_length's default).
MIN_TITLE = 15
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
# PyYAML's most frequent complaints about hand-written files, in the committee's words.
_YAML_WORDS = {
    "mapping values are not allowed": "deux-points inattendu : mettez ce texte entre guillemets",
    "found character '\\t'": "tabulation : indentez avec des espaces",
    "found unexpected end of stream": "guillemet jamais refermé",
}


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates and times as text, so `13:30` is not 810 (YAML 1.1)."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag.rsplit(":", 1)[-1] not in ("timestamp", "int", "float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)


@dataclass(frozen=True)
class Reminder:
    """A reminder `before` the start, or at a fixed time `at` (one-off activities only)."""

    label: str  # in keys: "7j", "2h", "30min", or "20250514-0900"
    before: timedelta | None = None
    at: datetime | None = None

    def due(self, start: datetime) -> datetime:
        return self.at if self.at is not None else start - (self.before or timedelta())


@dataclass(frozen=True)
class Job:
    """One job file, validated. Datetimes are aware, in the job's timezone."""

    id: str  # the file name without .yaml: part of every key, so never rename a published file
    path: Path
    kind: str
    title: str
    start: datetime
    end: datetime
    timezone: str
    place: str | None = None
    link: str | None = None
    description: str = ""
    registration_url: str | None = None
    publish_before: timedelta | None = None
    publish_at: datetime | None = None
    reminders: tuple[Reminder, ...] = ()
    pin: bool = True
    pin_until: date | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    rrule: str | None = None
    skip: tuple[date, ...] = ()
    cancelled: bool = False
    template: str = DEFAULT_TEMPLATE

    @property
    def recurring(self) -> bool:
        return self.rrule is not None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _wall(self, value: datetime) -> datetime:
        return value.astimezone(self.tz).replace(tzinfo=None)

    def _rule(self) -> rruleset:
        assert self.rrule is not None
        return build_rule(self.rrule, self._wall(self.start), self.skip)

    def _occurrence(self, naive_start: datetime) -> Occurrence:
        # Recurrence runs on wall-clock time: a 17 h–19 h series stays so across DST changes.
        naive_end = naive_start + (self._wall(self.end) - self._wall(self.start))
        occurrence_id = naive_start.date().isoformat() if self.recurring else ""
        start, end = naive_start.replace(tzinfo=self.tz), naive_end.replace(tzinfo=self.tz)
        return Occurrence(self, occurrence_id, start, end)

    def occurrences(self, now: datetime) -> list[Occurrence]:
        """The dates not over yet and starting within the horizon (a one-off: its only one)."""
        if self.rrule is None:
            return [Occurrence(self, "", self.start, self.end)]
        lead = max(HORIZON, self.publish_before or timedelta())
        if self.publish_at is not None:
            lead = max(lead, self.start - self.publish_at)
        local_now = self._wall(now)
        since = local_now - (self.end - self.start) - timedelta(days=1)
        window = self._rule().between(since, local_now + lead, inc=True)
        return [o for o in map(self._occurrence, window) if o.end > now]

    def occurrence_on(self, day: date) -> Occurrence | None:
        """The date the rule holds on `day` (local), if any."""
        if self.rrule is None:
            return None
        found = self._rule().between(
            datetime.combine(day, time()), datetime.combine(day, time.max), inc=True
        )
        return self._occurrence(found[0]) if found else None

    def publish_time(self, occurrence: Occurrence) -> datetime | None:
        """When to announce `occurrence`; None means at once.

        Without `publish`, a series announces each date once the previous one is over, so
        only the next date is ever announced.
        """
        if self.publish_at is not None:
            return self.publish_at
        if self.publish_before is not None:
            return occurrence.start - self.publish_before
        if self.rrule is not None:
            previous = self._rule().before(self._wall(occurrence.start))
            return self._occurrence(previous).end if previous is not None else None
        return None


@dataclass(frozen=True)
class Occurrence:
    """One date of a job: the whole job for a one-off, one RRULE date for a series."""

    job: Job
    id: str  # "" for a one-off, the local date (2025-05-01) for a series
    start: datetime
    end: datetime
    # A published date the rule no longer holds (rule changed, date skipped): to be cancelled.
    cancelled: bool = False

    @property
    def key(self) -> str:
        """The key of the announcement's topic; its replies' keys extend it."""
        return f"announce:{self.job.id}" + (f":{self.id}" if self.id else "")


# --- loading ---------------------------------------------------------------------------------


def job_files(jobs_dir: Path) -> list[Path]:
    """The job files of a folder; names starting with `_` are models to copy, never published."""
    if not jobs_dir.is_dir():
        return []
    found = [*jobs_dir.glob("*.yaml"), *jobs_dir.glob("*.yml")]
    return sorted(p for p in found if not p.name.startswith(("_", ".")))


def load_jobs(
    jobs_dir: Path | Sequence[Path],
    now: datetime,
    *,
    known_published: Collection[str] = frozenset(),
    timezone: str = "America/Toronto",
    templates_dir: Path | None = None,
    known_category: Callable[[str], bool] | None = None,
) -> tuple[list[Job], list[JobFileError]]:
    """Every job of a folder (or the files given), and one error per bad file.

    `known_published` holds the ids of jobs already on the forum: only a new job may not start
    in the past. Two files with one id (`x.yaml` and `x.yml`) would share their keys: both are
    refused, in one error naming them. `known_category` says whether a `category:` exists
    (None: anything goes, the publisher will tell).
    """
    paths = job_files(jobs_dir) if isinstance(jobs_dir, Path) else list(jobs_dir)
    unique: dict[Path, Path] = {}
    for path in paths:
        unique.setdefault(path.resolve(), path)
    by_id: dict[str, list[Path]] = {}
    for path in unique.values():
        by_id.setdefault(path.stem, []).append(path)
    jobs: list[Job] = []
    errors: list[JobFileError] = []
    reported: set[str] = set()
    for path in unique.values():
        same = by_id[path.stem]
        if len(same) > 1:
            if path.stem not in reported:
                reported.add(path.stem)
                errors.append(
                    JobFileError(
                        f"{' et '.join(display_path(p) for p in same)} : deux fichiers pour la "
                        f"même annonce « {path.stem} » (le nom du fichier l'identifie) ; "
                        "renommez ou retirez celui qui n'est pas encore publié"
                    )
                )
            continue
        try:
            jobs.append(
                load_job(
                    path,
                    now,
                    known_published=known_published,
                    timezone=timezone,
                    templates_dir=templates_dir,
                    known_category=known_category,
                )
            )
        except JobFileError as exc:
            errors.append(exc)
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the others
            log.debug("%s", path, exc_info=True)
            errors.append(
                JobFileError(
                    f"{display_path(path)} : fichier illisible ({type(exc).__name__} : {exc})"
                )
            )
    return jobs, errors


def load_job(
    path: Path,
    now: datetime,
    *,
    known_published: Collection[str] = frozenset(),
    timezone: str = "America/Toronto",
    templates_dir: Path | None = None,
    known_category: Callable[[str], bool] | None = None,
) -> Job:
    """One job file, validated; raise JobFileError naming the file, line and field."""
    where = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except (OSError, UnicodeDecodeError) as exc:
        raise JobFileError(f"{where} : lecture impossible ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", ligne {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problem = next((fr for en, fr in _YAML_WORDS.items() if problem.startswith(en)), problem)
        raise JobFileError(f"{where}{line} : YAML invalide ({problem})") from None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise JobFileError(f"{where}, ligne 1 : des clés sont attendues (title:, start:, …)")
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    items = {
        str(k.value): [i.start_mark.line + 1 for i in v.value]
        for k, v in node.value
        if isinstance(v, yaml.SequenceNode)
    }
    reader = _Reader(path, where, data, lines, items, node.start_mark.line + 1)
    return reader.job(now, set(known_published), timezone, templates_dir, known_category)


def display_path(path: Path) -> str:
    """The path as the committee sees it: relative to the current folder when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _q(value: Any) -> str:
    return f"« {value} »"


class _Reader:
    """Checks one parsed job file field by field; the first mistake is raised."""

    def __init__(
        self,
        path: Path,
        where: str,
        data: dict[Any, Any],
        lines: dict[str, int],
        items: dict[str, list[int]],
        first_line: int,
    ):
        self.path, self.where, self.data = path, where, data
        self.lines, self.items, self.first_line = lines, items, first_line

    def fail(self, name: str, message: str, item: int | None = None) -> JobFileError:
        line = self.lines.get(name, self.first_line)
        if item is not None and item < len(self.items.get(name, ())):
            line = self.items[name][item]
        return JobFileError(f"{self.where}, ligne {line}, {name} : {message}")

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(name, "valeur manquante (un texte attendu)")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(name, f"un texte attendu, trouvé {_q(value)}")
        return str(value).strip()

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not re.match(r"^https?://\S+$", value):
            raise self.fail(name, f"adresse commençant par https:// attendue, trouvé {_q(value)}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if isinstance(value, str) and _fold(value) in _TRUE | _FALSE:
            return _fold(value) in _TRUE
        if not isinstance(value, bool):
            raise self.fail(name, f"oui ou non attendu, trouvé {_q(value)}")
        return value

    def moment(self, name: str, tz: ZoneInfo) -> datetime:
        value = self.data.get(name)
        parsed = parse_datetime(value, tz) if isinstance(value, str) else None
        if parsed is None:
            found = "rien" if value is None else _q(value)
            raise self.fail(name, f"date et heure attendues, {_EXAMPLE_DATE}, trouvé {found}")
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            # Year 9999 would overflow as soon as an hour is added to it.
            raise self.fail(
                name, f"année entre {MIN_YEAR} et {MAX_YEAR} attendue, trouvé {_q(value)}"
            )
        return parsed

    def job(
        self,
        now: datetime,
        known: set[str],
        default_tz: str,
        templates: Path | None,
        known_category: Callable[[str], bool] | None = None,
    ) -> Job:
        for key in self.data:
            if str(key) not in FIELDS:
                raise self.fail(str(key), f"clé inconnue (clés permises : {', '.join(FIELDS)})")
        title = self.text("title", required=True) or ""
        if len(title) < MIN_TITLE:
            raise self.fail("title", f"titre trop court ({MIN_TITLE} caractères au moins)")
        kind = normalise_kind(self.text("kind") or "autre")
        if kind is None:
            raise self.fail(
                "kind",
                f"type inconnu {_q(self.data['kind'])} (types permis : "
                "webinaire, 5 à 7, rassemblement annuel, autre)",
            )
        timezone = self.text("timezone") or default_tz
        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            # OSError: « America » is a folder of the zone database, not a zone.
            raise self.fail(
                "timezone", f"fuseau horaire inconnu {_q(timezone)} (exemple : America/Toronto)"
            ) from None
        start = self.moment("start", tz)
        end = self.end(start, tz)
        rule, skip = self.rule(start), self.skip()
        cancelled = self.flag("cancelled", False)
        if not cancelled and self.path.stem not in known:
            if rule is None and start < now:
                raise self.fail(
                    "start",
                    f"date dans le passé ({start:%Y-%m-%d %H:%M}) pour une nouvelle annonce",
                )
            local_now = now.astimezone(tz).replace(tzinfo=None)
            if rule and build_rule(rule, start.replace(tzinfo=None), skip).after(local_now) is None:
                raise self.fail("rrule", "aucune date à venir pour une nouvelle annonce")
        place, link = self.text("place"), self.url("link")
        if place is None and link is None:
            raise self.fail("place", "un lieu (place:) ou un lien de rencontre (link:) est attendu")
        publish_before, publish_at = self.publish(start, tz)
        pin, pin_until = self.pin()
        return Job(
            id=self.path.stem,
            path=self.path,
            kind=kind,
            title=title,
            start=start,
            end=end,
            timezone=timezone,
            place=place,
            link=link,
            description=self.text("description") or "",
            registration_url=self.url("registration"),
            publish_before=publish_before,
            publish_at=publish_at,
            reminders=self.reminders(start, tz, rule, publish_before),
            pin=pin,
            pin_until=pin_until,
            category=self.category(known_category),
            tags=self.tags(),
            rrule=rule,
            skip=skip,
            cancelled=cancelled,
            template=self.template(kind, templates),
        )

    def end(self, start: datetime, tz: ZoneInfo) -> datetime:
        value = self.data.get("end")
        if value is None:
            return start + DEFAULT_DURATION
        hour = _TIME.match(value.strip()) if isinstance(value, str) else None
        if hour and int(hour[1]) < 24 and int(hour[2]) < 60:
            end = datetime.combine(start.date(), time(int(hour[1]), int(hour[2])), tz)
        else:
            end = self.moment("end", tz)
        if end <= start:
            raise self.fail(
                "end",
                f"la fin ({end:%Y-%m-%d %H:%M}) doit venir après le début ({start:%Y-%m-%d %H:%M})",
            )
        return end

    def rule(self, start: datetime) -> str | None:
        text = self.text("rrule")
        if text is None:
            return None
        if "DTSTART" in text.upper() or "\n" in text:
            raise self.fail("rrule", "une seule ligne RRULE, sans DTSTART (le début : start)")
        try:
            text = _local_until(re.sub(r"^RRULE:", "", text, flags=re.I), start)
            rrulestr(text, dtstart=start.replace(tzinfo=None))
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            raise self.fail(
                "rrule", f"règle de récurrence invalide ({exc}), exemple : FREQ=MONTHLY;BYDAY=1TH"
            ) from None
        # Hourly (or finer) announcements would flood the forum.
        freq = re.search(r"(?:^|;)FREQ=([A-Z]+)", text.upper())
        if freq is None or freq[1] not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
            raise self.fail("rrule", "FREQ=DAILY, WEEKLY, MONTHLY ou YEARLY attendu")
        return text

    def skip(self) -> tuple[date, ...]:
        value = self.data.get("skip") or []
        days = []
        for i, v in enumerate(value if isinstance(value, list) else [value]):
            try:
                days.append(date.fromisoformat(str(v).strip()))
            except ValueError:
                raise self.fail(
                    "skip", f"date attendue, comme « 2025-07-03 », trouvé {_q(v)}", i
                ) from None
        return tuple(days)

    def publish(self, start: datetime, tz: ZoneInfo) -> tuple[timedelta | None, datetime | None]:
        value = self.data.get("publish")
        if value is None or (isinstance(value, str) and _fold(value) in _NOW_WORDS):
            return None, None
        if isinstance(value, str) and parse_datetime(value, tz) is None:
            before = parse_duration(value)
            if before is None:
                raise self.fail(
                    "publish",
                    f"« 14 jours avant », « maintenant » ou une date attendus, trouvé {_q(value)}",
                )
            if before > MAX_DURATION:
                raise self.fail(
                    "publish",
                    f"publication trop tôt ({value.strip()}) : {MAX_DURATION_WORDS} avant le "
                    "début au plus",
                )
            return before, None
        at = self.moment("publish", tz)
        if at >= start:
            raise self.fail("publish", f"publication ({at:%Y-%m-%d %H:%M}) après le début")
        return None, at

    def reminders(
        self, start: datetime, tz: ZoneInfo, rule: str | None, publish_before: timedelta | None
    ) -> tuple[Reminder, ...]:
        value = self.data.get("reminders") or []
        found: list[Reminder] = []
        for i, v in enumerate(value if isinstance(value, list) else [value]):
            text = str(v).strip() if isinstance(v, str | int) and not isinstance(v, bool) else ""
            at = parse_datetime(text, tz)
            if re.search(r"\b(apr[eè]s|after)\b", text, re.I) or (at and at >= start):
                raise self.fail(
                    "reminders",
                    f"rappel après le début de l'activité ({text}) : "
                    "un rappel vient avant, comme « 1 jour »",
                    i,
                )
            if at is not None:
                if rule is not None:
                    raise self.fail(
                        "reminders",
                        "une série a des rappels en durées, comme « 1 jour », pas à date fixe",
                        i,
                    )
                reminder = Reminder(f"{at:%Y%m%d-%H%M}", at=at)
            else:
                before = parse_duration(text)
                if before is None:
                    raise self.fail(
                        "reminders",
                        "durée attendue, comme « 7 jours », « 2 heures » "
                        f"ou « 30 minutes », trouvé {_q(v)}",
                        i,
                    )
                if before > MAX_DURATION:
                    raise self.fail(
                        "reminders",
                        f"rappel trop tôt ({text}) : {MAX_DURATION_WORDS} avant le début au plus",
                        i,
                    )
                if publish_before is not None and before > publish_before:
                    raise self.fail("reminders", f"rappel ({text}) avant la publication", i)
                reminder = Reminder(duration_label(before), before=before)
            if any(r.label == reminder.label for r in found):
                raise self.fail("reminders", f"rappel en double ({text})", i)
            found.append(reminder)
        return tuple(found)

    def pin(self) -> tuple[bool, date | None]:
        value = self.data.get("pin", True)
        if isinstance(value, str) and _fold(value) not in _TRUE | _FALSE:
            try:
                return True, date.fromisoformat(value.strip()[:10])
            except ValueError:
                raise self.fail(
                    "pin", f"oui, non ou une date (2025-05-15) attendus, trouvé {_q(value)}"
                ) from None
        return self.flag("pin", True), None

    def category(self, known: Callable[[str], bool] | None) -> str | None:
        value = self.text("category")
        if value is not None and known is not None and not known(value):
            raise self.fail(
                "category",
                f"catégorie inconnue {_q(value)} (ni la sous-catégorie des annonces, ni une "
                "catégorie de la communauté lue par bridge sync)",
            )
        return value

    def tags(self) -> tuple[str, ...]:
        value = self.data.get("tags") or []
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(t, str) and t.strip() for t in values):
            raise self.fail(
                "tags", f"liste d'étiquettes attendue, comme [webinaire], trouvé {_q(value)}"
            )
        return tuple(t.strip() for t in values)

    def template(self, kind: str, templates: Path | None) -> str:
        name = self.text("template")
        folder = display_path(templates) if templates is not None else "templates"
        if name is not None:
            if "/" in name or "\\" in name or (templates and not (templates / name).is_file()):
                raise self.fail(
                    "template",
                    f"gabarit inconnu {_q(name)} (aucun fichier de ce nom dans {folder})",
                )
            return name
        own = f"announcement-{kind}.md.j2"
        if templates is None or (templates / own).is_file():
            return own
        if not (templates / DEFAULT_TEMPLATE).is_file():
            raise self.fail("kind", f"ni {own} ni {DEFAULT_TEMPLATE} dans {folder}")
        return DEFAULT_TEMPLATE


# --- values ----------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case without accents: « Immédiatement » matches « immediatement »."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_kind(value: str) -> str | None:
    """The canonical kind for what the committee wrote (« 5 à 7 », « Webinaire »…), or None."""
    slug = re.sub(r"[^a-z0-9]+", "-", _fold(value)).strip("-")
    slug = _KIND_ALIASES.get(slug, slug)
    return slug if slug in KINDS else None


def parse_duration(text: str) -> timedelta | None:
    """« 7 jours », « 1 jour et 12 heures », « 2h », « 30 minutes avant » → timedelta, or None.

    A duration too long for a timedelta (« 99999999999 jours ») comes back as `timedelta.max`,
    for the caller to refuse as too long.
    """
    folded = re.sub(r"\s+(avant|before)$", "", _fold(text))
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


def parse_datetime(text: str, tz: ZoneInfo) -> datetime | None:
    """« 2025-05-15 12:00 », « 2025-05-15T12h00 », an optional offset; a bare date is midnight."""
    match = _DATETIME.match(text.strip())
    if not match:
        return None
    y, mo, d, h, mi, s, offset = match.groups()
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
    rules = rrulestr(text, dtstart=dtstart, forceset=True)
    assert isinstance(rules, rruleset)
    for day in skip:
        rules.exdate(datetime.combine(day, dtstart.time()))
    return rules
