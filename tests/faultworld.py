"""A forum and a bridge working on it through the real CLI, for the fault tests: the sandbox on
loopback with its fault switches, a config file, the store file, and a shared injected clock.

Each `Forum` is self-contained, so that a test can run a fault-free forum and a faulty one side
by side and compare what they end with.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from bridge.cli import cli
from bridge.discourse import DiscourseClient
from bridge.sandbox import STAFF_KEY, STAFF_USERNAME, Sandbox, seed_world
from bridge.wiring import Parts

ROOT = Path(__file__).resolve().parents[1]

# What the mirror holds, compared whole between two forums (runs and cursors left out: run
# records and attempt counts may differ).
MIRROR_TABLES = (
    "categories",
    "topics",
    "posts",
    "users",
    "group_members",
    "toolbox_entries",
    "cartography_cards",
    "announcements",
    "digest_weeks",
)

WEBINAIRE = """\
kind: webinaire
title: Comprendre ce qu'est une communauté de pratique
start: 2025-04-17 12:00
end: "13:00"
link: https://us02web.zoom.us/j/81234567890
description: Notre tout premier webinaire, ouvert à toutes et à tous.
publish: 14 jours avant
reminders: [7 jours, 1 jour]
"""
# When the bridge wrote a row, not what it holds: a retried pass writes it later.
BOOKKEEPING = {"synced_at", "recorded_at"}
BOOKKEEPING_IN = {"announcements": {"updated_at"}}


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class FlowingClock(Clock):
    """A clock that runs at the real pace from `at` (set `at` to jump): for a forum that a real
    `bridge run` process, on the real clock, works on as well."""

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "at":
            super().__setattr__("_set", time.monotonic())

    def __call__(self) -> datetime:
        return self.at + timedelta(seconds=time.monotonic() - self._set)


# The clock of each forum, by its sandbox's URL: the CLI builds its own parts.
_CLOCKS: dict[str, Clock] = {}
SLEPT: list[float] = []  # every wait the clients asked for: recorded, never slept


def _build_for_test(cls: type[Parts], config: Any, **kwargs: Any) -> Parts:
    url = config.discourse.url
    client = DiscourseClient(
        url,
        STAFF_USERNAME,
        STAFF_KEY,
        requests_per_minute=0,
        timeout=5,
        sleep=SLEPT.append,
    )
    build = _ORIGINAL_BUILD
    return build(  # type: ignore[no-any-return]
        cls, config, now=_CLOCKS[url], client=client, readonly=kwargs.get("readonly", False)
    )


_ORIGINAL_BUILD: Callable[..., Parts] = Parts.build.__func__  # type: ignore[attr-defined]


_KEYED = re.compile(r"^(welcome:(?:vague:)?)[0-9a-f]{16}")


class Forum:
    """One sandbox, one bridge working directory, one clock."""

    def __init__(
        self, workdir: Path, at: datetime, schedule: str = "", clock: Clock | None = None
    ) -> None:
        self.workdir = workdir
        self.clock = clock or Clock(at)
        self.sandbox = Sandbox(seed_world(at), now=self.clock).start()
        _CLOCKS[self.sandbox.url] = self.clock
        self.baseline = {p.id for p in self.sandbox.world.posts_by(STAFF_USERNAME)}
        (workdir / "jobs").mkdir(parents=True, exist_ok=True)
        self.config = workdir / "config.yaml"
        self.config.write_text(
            f"discourse: {{url: '{self.sandbox.url}', api_username: {STAFF_USERNAME}, "
            "requests_per_minute: 0}\n"
            "community: {name: CdP 2isE, category: innovation-sociale-estrie, group: cdp-2ise, "
            "facilitators_group: animation-2ise}\n"
            f"paths: {{templates: '{ROOT / 'templates'}', jobs: '{workdir / 'jobs'}'}}\n"
            f"store: {{path: '{workdir / 'bridge.db'}'}}\n" + schedule,
            encoding="utf-8",
        )

    def close(self) -> None:
        self.sandbox.stop()
        _CLOCKS.pop(self.sandbox.url, None)

    def bridge(self, *args: str) -> Result:
        return CliRunner().invoke(
            cli, ["--config", str(self.config), *args], catch_exceptions=False
        )

    def until_ok(self, *args: str, passes: int = 3) -> int:
        """Run the command again until it exits 0; how many passes it took (at most `passes`)."""
        outputs = []
        for attempt in range(1, passes + 1):
            result = self.bridge(*args)
            if result.exit_code == 0:
                return attempt
            outputs.append(result.output)
        raise AssertionError(f"bridge {' '.join(args)} : {passes} passes ratées : {outputs}")

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.workdir / "bridge.db") as conn:
            return conn.execute(query, params).fetchall()

    def mirror(self, by_place: bool = False) -> dict[str, list[str]]:
        """Every row of the mirror's tables, comparable whole; `by_place` names a post by its
        topic and number instead of its id (see test_faults.py, the hour of `bridge run`)."""
        found = {}
        with sqlite3.connect(self.workdir / "bridge.db") as conn:
            conn.row_factory = sqlite3.Row
            names = {r[0] for r in conn.execute("select name from sqlite_master")}
            for table in MIRROR_TABLES:
                if table in names:
                    rows = [dict(r) for r in conn.execute(f"select * from [{table}]")]
                    if by_place and table == "posts":
                        for r in rows:
                            r["id"] = f"{r['topic_id']}#{r['post_number']}"
                    skip = BOOKKEEPING | BOOKKEEPING_IN.get(table, set())
                    # Each forum has its own port and folder: left out.
                    found[table] = sorted(
                        json.dumps(
                            {k: r[k] for k in r.keys() if k not in skip},
                            sort_keys=True,
                            ensure_ascii=False,
                            default=str,
                        )
                        .replace(self.sandbox.url, "<site>")
                        .replace(str(self.workdir), "<dir>")
                        for r in rows
                    )
        return found

    def ledger(self) -> list[tuple[Any, ...]]:
        # The welcome's keys hold a hash keyed by each store's own random secret: two stores
        # name the same person differently, by design.
        rows = self.rows("select key, state, topic_id, post_id, post_number from ledger")
        return sorted((_KEYED.sub(r"\1<personne>", key), *rest) for key, *rest in rows)

    def published(self, by_place: bool = False) -> list[tuple[Any, ...]]:
        """What the bridge's account has on the forum: each post's topic, number, text, and its
        topic's state; ids included (the same writes in the same order give the same ids)."""
        world = self.sandbox.world
        with world.lock:
            posts = [p for p in world.posts_by(STAFF_USERNAME) if p.id not in self.baseline]
            return sorted(
                (
                    p.topic_id,
                    None if by_place else p.id,
                    p.post_number,
                    p.raw.replace(self.sandbox.url, "<site>"),
                    world.topics[p.topic_id].title,
                    world.topics[p.topic_id].pinned_at is not None,
                )
                for p in posts
            )


@contextmanager
def forum_at(workdir: Path, at: datetime, schedule: str = "") -> Iterator[Forum]:
    forum = Forum(workdir, at, schedule)
    try:
        yield forum
    finally:
        forum.close()


def use_test_parts(monkeypatch: Any) -> None:
    """Make the CLI's parts use each forum's clock and an unpaced client that never sleeps."""
    SLEPT.clear()
    monkeypatch.setattr(Parts, "build", classmethod(_build_for_test))
    monkeypatch.setenv("DISCOURSE_API_KEY", STAFF_KEY)
