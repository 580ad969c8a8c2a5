"""The command line against the sandbox, as several test files run it: a config.yaml for the
sandbox's community, the CLI invoked in-process, and the parts the CLI builds given the test's
clock and an unpaced client (no test waits on the request pacing)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bridge.cli import cli
from bridge.discourse import DiscourseClient
from bridge.sandbox import STAFF_KEY, STAFF_USERNAME
from bridge.wiring import Parts

ROOT = Path(__file__).resolve().parents[1]


class Crash(BaseException):
    """The process dies here (a BaseException, so that no `except Exception` stops it)."""


class Clock:
    """The injected `now`: tests move it forward instead of sleeping."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def write_config(
    folder: Path,
    url: str,
    *,
    name: str = "CdP 2isE",
    category: str = "innovation-sociale-estrie",
    group: str = "cdp-2ise",
    facilitators: str = "",
    community: str = "",
    store: str | Path = "bridge.db",
    extra: str = "",
) -> Path:
    """config.yaml in `folder` (with its empty jobs folder) for the sandbox at `url`.

    `community` adds lines under `community:` (indented by the caller); `extra` adds top-level
    sections after `store:`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jobs").mkdir(exist_ok=True)
    facilitators_line = f"  facilitators_group: {facilitators}\n" if facilitators else ""
    path = folder / "config.yaml"
    path.write_text(
        f"""\
discourse:
  url: {url}
  api_username: {STAFF_USERNAME}
  requests_per_minute: 0
community:
  name: {name}
  category: {category}
  group: {group}
{facilitators_line}{community}paths:
  templates: {ROOT / "templates"}
  jobs: {folder / "jobs"}
store:
  path: {store}
{extra}""",
        encoding="utf-8",
    )
    return path


def enter_workdir(
    monkeypatch: pytest.MonkeyPatch, folder: Path, url: str, clock: Clock, **config: Any
) -> Path:
    """Run the CLI from `folder`, with `write_config(folder, url, **config)`, the sandbox's staff
    key in the environment and the parts patched (`use_sandbox_parts`)."""
    monkeypatch.chdir(folder)
    write_config(folder, url, **config)
    monkeypatch.setenv("DISCOURSE_API_KEY", STAFF_KEY)
    use_sandbox_parts(monkeypatch, clock)
    return folder


def use_sandbox_parts(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    """Make the parts the CLI builds read `clock` and talk to the sandbox as its staff account
    without pacing; a read-only build (bridge check) stays read-only."""
    build = Parts.build.__func__  # type: ignore[attr-defined]

    def build_for_test(cls: type[Parts], config: Any, **kwargs: Any) -> Parts:
        client = DiscourseClient(
            config.discourse.url,
            STAFF_USERNAME,
            STAFF_KEY,
            requests_per_minute=0,
            sleep=lambda s: None,
        )
        readonly = kwargs.get("readonly", False)
        return build(cls, config, now=clock, client=client, readonly=readonly)  # type: ignore[no-any-return]

    monkeypatch.setattr(Parts, "build", classmethod(build_for_test))


def bridge(*args: str) -> Result:
    """`bridge --config config.yaml ARGS` in the current folder; an exception propagates."""
    return CliRunner().invoke(cli, ["--config", "config.yaml", *args], catch_exceptions=False)


def ok(*args: str) -> Result:
    """`bridge(ARGS)`, which must exit 0."""
    result = bridge(*args)
    assert result.exit_code == 0, result.output
    return result
