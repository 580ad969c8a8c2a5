"""Announcement job files (`jobs/*.yaml`): reading, validating, and the dates they describe.

The steering committee writes these files by hand, so every mistake becomes one `JobFileError`
line in French naming the file, the line, the field and what is expected, and one bad file never
stops the others (`load_jobs` returns the good jobs and the errors side by side). A job is one
activity, or a series (an RRULE, python-dateutil) of which each date is announced on its own.
What each value means (« 7 jours », « 2025-05-15 12:00 », an RRULE…) is read by `jobvalues.py`;
this module finds the values in the files and says where a mistake is (placing it with
`yamlfile.py`, which `config.yaml` shares). Nothing here renders text or touches the store:
`announce.py` plans from these values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from dateutil.rrule import rruleset

from bridge.announce.keys import topic_key
from bridge.errors import JobFileError
from bridge.jobvalues import (
    Reminder,
    build_rule,
    normalise_kind,
    quoted,
    read_end,
    read_flag,
    read_moment,
    read_pin,
    read_publish,
    read_reminders,
    read_rule,
    read_skip,
    read_tags,
    read_timezone,
)
from bridge.yamlfile import Document, Reader, StrictLoader, load_document

log = logging.getLogger(__name__)

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
# A series is expanded this far ahead (further if it is announced earlier than that).
HORIZON = timedelta(days=60)
# Discourse refuses shorter topic titles (min_topic_title_length's default).
MIN_TITLE = 15


class _Loader(StrictLoader):
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

    def _rule(self, rrule: str) -> rruleset:
        return build_rule(rrule, self._wall(self.start), self.skip)

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
        window = self._rule(self.rrule).between(since, local_now + lead, inc=True)
        return [o for o in map(self._occurrence, window) if o.end > now]

    def occurrence_on(self, day: date) -> Occurrence | None:
        """The date the rule holds on `day` (local), if any."""
        if self.rrule is None:
            return None
        found = self._rule(self.rrule).between(
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
            previous = self._rule(self.rrule).before(self._wall(occurrence.start))
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
        return topic_key(self.job.id, self.id)


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
    document = load_document(path, where, JobFileError, loader=_Loader)
    if not isinstance(document.data, dict):
        raise JobFileError(f"{where}, ligne 1 : des clés sont attendues (title:, start:, …)")
    reader = _JobReader(path, where, document)
    return reader.job(now, set(known_published), timezone, templates_dir, known_category)


def display_path(path: Path) -> str:
    """The path as the committee sees it: relative to the current folder when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _JobReader(Reader):
    """Checks one parsed job file field by field; the first mistake is raised."""

    def __init__(self, path: Path, where: str, document: Document):
        super().__init__(where, document.lines, JobFileError, default_line=document.first_line)
        self.path, self.data = path, document.data

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(name, "valeur manquante (un texte attendu)")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(name, f"un texte attendu, trouvé {quoted(value)}")
        return str(value).strip()

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and not re.match(r"^https?://\S+$", value):
            raise self.fail(
                name, f"adresse commençant par https:// attendue, trouvé {quoted(value)}"
            )
        return value

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
                f"type inconnu {quoted(self.data['kind'])} (types permis : "
                "webinaire, 5 à 7, rassemblement annuel, autre)",
            )
        timezone = self.text("timezone") or default_tz
        tz = self.read("timezone", read_timezone, timezone)
        start = self.read("start", read_moment, self.data.get("start"), tz)
        end = self.read("end", read_end, self.data.get("end"), start, tz)
        text = self.text("rrule")
        rule = self.read("rrule", read_rule, text, start) if text is not None else None
        skip = self.read("skip", read_skip, self.data.get("skip"))
        cancelled = self.read("cancelled", read_flag, self.data.get("cancelled", False))
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
        publish_before, publish_at = self.read(
            "publish", read_publish, self.data.get("publish"), start, tz
        )
        pin, pin_until = self.read("pin", read_pin, self.data.get("pin", True))
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
            reminders=self.read(
                "reminders",
                read_reminders,
                self.data.get("reminders"),
                start,
                tz,
                rule,
                publish_before,
            ),
            pin=pin,
            pin_until=pin_until,
            category=self.category(known_category),
            tags=self.read("tags", read_tags, self.data.get("tags")),
            rrule=rule,
            skip=skip,
            cancelled=cancelled,
            template=self.template(kind, templates),
        )

    def category(self, known: Callable[[str], bool] | None) -> str | None:
        value = self.text("category")
        if value is not None and known is not None and not known(value):
            raise self.fail(
                "category",
                f"catégorie inconnue {quoted(value)} (ni la sous-catégorie des annonces, ni une "
                "catégorie de la communauté lue par bridge sync)",
            )
        return value

    def template(self, kind: str, templates: Path | None) -> str:
        name = self.text("template")
        folder = display_path(templates) if templates is not None else "templates"
        if name is not None:
            if "/" in name or "\\" in name or (templates and not (templates / name).is_file()):
                raise self.fail(
                    "template",
                    f"gabarit inconnu {quoted(name)} (aucun fichier de ce nom dans {folder})",
                )
            return name
        own = f"announcement-{kind}.md.j2"
        if templates is None or (templates / own).is_file():
            return own
        if not (templates / DEFAULT_TEMPLATE).is_file():
            raise self.fail("kind", f"ni {own} ni {DEFAULT_TEMPLATE} dans {folder}")
        return DEFAULT_TEMPLATE
