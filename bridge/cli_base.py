"""The command line's plumbing: the group that turns the bridge's errors into one French line
and their exit code, the log on stderr, and the progress of a long pass."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from bridge.cli_words import install as install_french
from bridge.errors import BridgeError


class BridgeGroup(click.Group):
    """Maps the bridge's errors to one plain line and their exit code; click's own messages
    (usage errors, help) in French."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        install_french()
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BridgeError as exc:
            click.echo(f"Erreur : {exc}", err=True)
            ctx.exit(exc.exit_code)


_LEVEL_WORDS = {"DEBUG": "détail", "INFO": "info", "WARNING": "avertissement", "ERROR": "erreur"}


class LogLines(logging.Handler):
    """The log on stderr, never mixed with what a command prints (stdout): plain French lines
    by default; with -v, the time and level too (for a service's log)."""

    def __init__(self, verbose: bool):
        super().__init__()
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if not self.verbose:
            return message
        when = self.formatter.formatTime(record) if self.formatter else ""
        level = _LEVEL_WORDS.get(record.levelname, record.levelname.lower())
        return f"{when} {level} {record.name} : {message}"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # click's stderr at this moment: the one a test runner captures, too.
            click.echo(self.format(record), err=True)
        except Exception:
            self.handleError(record)


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, LogLines)]:
        root.removeHandler(old)
    handler = LogLines(verbose > 0)
    handler.setFormatter(logging.Formatter())
    root.addHandler(handler)
    root.setLevel(level)
    # pydiscourse logs whole response bodies at DEBUG.
    logging.getLogger("pydiscourse.client").setLevel(max(level, logging.INFO))
    # APScheduler's own lines are English and for developers: shown with -vv only; the service
    # says in French what it runs (one line per job run).
    logging.getLogger("apscheduler").setLevel(level if verbose >= 2 else logging.WARNING)


class TopicProgress:
    """A progress bar on stderr when the pass reads every topic, else a running count."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.seen = 0

    def start(self, total: int | None) -> None:
        if total:
            self.bar = click.progressbar(length=total, label="Sujets lus", file=sys.stderr)
            self.bar.__enter__()

    def tick(self, topic: object) -> None:
        self.seen += 1
        if self.bar is not None:
            self.bar.update(1)
        else:
            click.echo(f"\rSujets lus : {self.seen}", nl=False, err=True)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        elif self.seen:
            click.echo("", err=True)
