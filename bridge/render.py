"""Turning templates into the Markdown the bridge posts.

One Jinja environment, built once from the configured templates folder (facilitators edit those
files). Output is Markdown, not HTML, so there is no HTML autoescaping; instead every value a
template prints is made mention-safe: `@name` copied from a member's post must not notify anyone.
Only a value passed through the `mention` filter (the welcome thread's new member) may notify.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_datetime, format_time
from markupsafe import Markup

from bridge.errors import TemplateError

# Discourse's rule (discourse-markdown-it text-post-process.js `allowedBoundary`): an `@` after
# white space or punctuation, `_` included (`a_@x` notifies x), is a mention when a username or
# group name follows, wherever it stands (`@@x`, `a/@x`); after a letter or a digit it is an
# e-mail address. Whatever follows is broken, not only a word character: Markdown may turn it
# into one (`@\_x`, `@&#109;arie`). Neutralising inside code is harmless.
_MENTION = re.compile(r"(?<![^\W_])@(?!\u200b)", re.UNICODE)
# HTML entities for `@` that Discourse's Markdown turns back into one.
_AT_ENTITIES = re.compile(r"&(?:#0*64|#[xX]0*40|commat);?")
# A zero-width space after `@` breaks the mention while the text reads the same.
_ZWSP = "\u200b"


class Mention(str):
    """A username the template mentions on purpose."""


class MemberText(str):
    """A member's words already made safe for Markdown (`bridge.membertext.safe_inline`)."""


def neutralise_mentions(text: str) -> str:
    return _MENTION.sub("@" + _ZWSP, _AT_ENTITIES.sub("@", text))


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Mention | MemberText | Markup):
        return value
    if isinstance(value, str):
        return neutralise_mentions(value)
    return value


class Renderer:
    """The Jinja environment and the community's language and timezone."""

    def __init__(self, templates_dir: Path, *, locale: str = "fr_CA", timezone: str = "UTC"):
        self.templates_dir = Path(templates_dir)
        self.locale = locale
        self.tz = ZoneInfo(timezone)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.templates_dir)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=_finalize,
        )
        self.env.filters.update(
            {
                "mention": lambda name: Mention("@" + str(name)),
                "date_long": self.date_long,
                "datetime_long": self.datetime_long,
                "time_fr": self.time_words,
                "discourse_date": self.discourse_date,
                "quote": quote_markdown,
            }
        )

    @property
    def language(self) -> str:
        return self.locale.split("_")[0].lower()

    def template_name(self, name: str) -> str:
        """`digest.md.j2`, or its twin `digest.en.md.j2` when the community writes in English."""
        if self.language != "fr":
            stem, _, ext = name.partition(".")
            twin = f"{stem}.{self.language}.{ext}"
            if (self.templates_dir / twin).exists():
                return twin
        return name

    def render(self, name: str, **context: Any) -> str:
        name = self.template_name(name)
        try:
            template = self.env.get_template(name)
            return template.render(**context).strip() + "\n"
        except jinja2.TemplateNotFound:
            raise TemplateError(f"{self.templates_dir / name}: gabarit introuvable") from None
        except jinja2.TemplateSyntaxError as exc:
            where = f", ligne {exc.lineno}" if exc.lineno else ""
            raise TemplateError(
                f"{self.templates_dir / name}{where}: gabarit invalide ({exc.message})"
            ) from None
        except jinja2.UndefinedError as exc:
            line = _template_line(exc, name)
            where = f", ligne {line}" if line else ""
            raise TemplateError(
                f"{self.templates_dir / name}{where}: variable inconnue ({exc.message}); "
                "les variables permises sont listées dans le README"
            ) from None
        except Exception as exc:  # noqa: BLE001 - a facilitator's template may fail in any way
            line = _template_line(exc, name)
            where = f", ligne {line}" if line else ""
            raise TemplateError(
                f"{self.templates_dir / name}{where}: le gabarit a échoué "
                f"({type(exc).__name__} : {exc})"
            ) from None

    def check(self, names: Iterable[str]) -> None:
        """Parse each template; raise TemplateError on the first broken one."""
        for name in names:
            try:
                self.env.get_template(self.template_name(name))
            except jinja2.TemplateNotFound:
                raise TemplateError(f"{self.templates_dir / name}: gabarit introuvable") from None
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(
                    f"{self.templates_dir / name}, ligne {exc.lineno}: gabarit invalide "
                    f"({exc.message})"
                ) from None

    # --- filters -----------------------------------------------------------------------------

    def _local(self, value: datetime) -> datetime:
        return value.astimezone(self.tz) if value.tzinfo else value.replace(tzinfo=self.tz)

    def date_long(self, value: date | datetime) -> str:
        """« jeudi 17 avril 2025 »."""
        if isinstance(value, datetime):
            value = self._local(value)
        if self.language == "fr":
            return format_date(value, self._day_pattern(value, "EEEE d MMMM y"), locale=self.locale)
        return format_date(value, format="full", locale=self.locale)

    def week_words(self, first: date, last: date) -> str:
        """« semaine du 14 au 20 avril 2025 », « week of April 14 to 20, 2025 »."""

        def day(value: date, pattern: str) -> str:
            if self.language == "fr" and value.day == 1:
                pattern = "d'er'" + pattern[1:]  # every French pattern here starts with the day
            return format_date(value, pattern, locale=self.locale)

        if self.language == "fr":
            since = "d" if first.month == last.month and first.year == last.year else "d MMMM"
            if first.year != last.year:
                since = "d MMMM y"
            return f"semaine du {day(first, since)} au {day(last, 'd MMMM y')}"
        if first.year != last.year:
            return f"week of {day(first, 'MMMM d, y')} to {day(last, 'MMMM d, y')}"
        until = "d, y" if first.month == last.month else "MMMM d, y"
        return f"week of {day(first, 'MMMM d')} to {day(last, until)}"

    def _day_pattern(self, value: date, pattern: str) -> str:
        # French writes the first of the month as an ordinal: « 1er décembre ».
        return pattern.replace("d ", "d'er' ", 1) if value.day == 1 else pattern

    def time_words(self, value: datetime) -> str:
        """« 12 h 00 » in French, « 12:00 p.m. » in English."""
        local = self._local(value)
        if self.language == "fr":
            return format_time(local, "H 'h' mm", locale=self.locale)
        return format_time(local, format="short", locale=self.locale)

    def datetime_long(self, value: datetime) -> str:
        """« jeudi 17 avril 2025 à 12 h 00 »."""
        local = self._local(value)
        if self.language == "fr":
            pattern = self._day_pattern(local, "EEEE d MMMM y 'à' H 'h' mm")
            return format_datetime(local, pattern, locale=self.locale)
        return format_datetime(local, "EEEE, MMMM d, y 'at' h:mm a", locale=self.locale)

    def discourse_date(self, value: datetime) -> Markup:
        """Discourse's date markup: every reader sees the time in their own timezone."""
        local = self._local(value)
        return Markup(f'[date={local:%Y-%m-%d} time={local:%H:%M:%S} timezone="{self.tz.key}"]')


def _template_line(exc: BaseException, name: str) -> int | None:
    """The template line where rendering failed, from the traceback Jinja rewrites."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(name):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def quote_markdown(text: str) -> str:
    """A member's text as a Markdown quote block."""
    return "\n".join("> " + line if line else ">" for line in text.strip().splitlines())
