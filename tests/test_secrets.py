"""The API key and the webhook secret never appear where people or files can read them.

Every command a facilitator runs (check, sync, sync --full, digest, announce, status,
status --details, status --json), at the most talkative log level, against the sandbox on
loopback, with a recognisable key and webhook secret; and the ways they fail (a wrong key:
403, a refused write: 422, an unreachable forum, a broken config.yaml). Then both secrets are
looked for in the log records at every level (messages, arguments and tracebacks), stdout,
stderr, the store's bytes (its -wal and -shm too), and the messages of the errors raised.
The webhook process itself: `tests/test_webhooks_cli.py`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.discourse import DiscourseClient
from bridge.sandbox import Sandbox, seed_world
from bridge.sandbox.server import STAFF_USERNAME

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)
KEY = "cle-API-SECRETE-7f3a9c1e5b2d4f60"
WRONG_KEY = "cle-API-FAUSSE-0d8e6b4a2c1f9e73"
WEBHOOK_SECRET = "secret-WEBHOOK-4b7d1e9a3c5f2a80"
SECRETS = (KEY, WRONG_KEY, WEBHOOK_SECRET)
JOB = """\
kind: webinaire
title: Comprendre ce qu'est une communauté de pratique
start: 2031-04-17 12:00
end: "13:00"
link: https://us02web.zoom.us/j/81234567890
description: Notre tout premier webinaire.
publish: maintenant
pin: non
"""


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed_world(NOW), now=lambda: NOW) as sb:
        sb.world.add_api_key(KEY, STAFF_USERNAME)
        yield sb


def write_config(folder: Path, url: str, extra: str = "") -> Path:
    path = folder / "config.yaml"
    path.write_text(
        f"discourse: {{url: '{url}', api_username: {STAFF_USERNAME}, requests_per_minute: 0}}\n"
        "community: {name: CdP 2isE, category: innovation-sociale-estrie, group: cdp-2ise, "
        "facilitators_group: animation-2ise}\n"
        f"paths: {{templates: '{ROOT / 'templates'}', jobs: '{folder / 'jobs'}'}}\n"
        f"store: {{path: '{folder / 'bridge.db'}'}}\n"
        "webhooks: {listen: '127.0.0.1:0'}\n" + extra,
        encoding="utf-8",
    )
    (folder / "jobs").mkdir(exist_ok=True)
    return path


class Seen:
    """Everything a run showed or left behind, to be searched for secrets."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, text: str) -> None:
        self.texts.append(text)

    def leaks(self) -> list[str]:
        return [s for s in SECRETS for text in self.texts if s in text]


@pytest.fixture
def seen(caplog: pytest.LogCaptureFixture) -> Iterator[Seen]:
    caplog.set_level(logging.DEBUG)
    found = Seen()
    yield found
    for record in caplog.records:
        # The message as formatted, its raw arguments, and the traceback logged with it.
        found.add(logging.Formatter().format(record))
        found.add(repr(record.args))
        found.add(repr(record.__dict__))
    assert found.leaks() == []


def test_the_search_is_not_blind(caplog: pytest.LogCaptureFixture) -> None:
    found = Seen()
    found.add(f"Api-Key: {KEY}")
    assert found.leaks() == [KEY]
    caplog.set_level(logging.DEBUG)
    logging.getLogger("bridge.discourse.transport").debug("headers %s", {"Api-Key": KEY})
    assert KEY in repr(caplog.records[-1].args)


def bridge(config: Path, key: str, *args: str, seen: Seen) -> tuple[int, str]:
    env = {"DISCOURSE_API_KEY": key, "DISCOURSE_WEBHOOK_SECRET": WEBHOOK_SECRET}
    result = CliRunner().invoke(cli, ["-vv", "--config", str(config), *args], env=env)
    seen.add(result.stdout)
    seen.add(result.stderr)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        seen.add(f"{result.exception!r} {result.exception}")
        raise result.exception
    return result.exit_code, result.stdout + result.stderr


def store_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.glob("bridge.db*") if p.is_file()) + b"".join(
        p.read_bytes() for p in folder.rglob("*.db-*") if p.is_file()
    )


def assert_store_clean(folder: Path) -> None:
    data = store_bytes(folder)
    assert data, "the store was written"
    for secret in SECRETS:
        assert secret.encode() not in data
        assert secret.encode("utf-16-le") not in data


def test_every_command_at_debug_level_keeps_the_secrets(
    tmp_path: Path, sandbox: Sandbox, seen: Seen, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, sandbox.url)
    (tmp_path / "jobs" / "webinaire.yaml").write_text(JOB, encoding="utf-8")
    for args in (
        ["check"],
        ["sync"],
        ["sync", "--full"],
        ["digest"],
        ["announce"],
        ["status"],
        ["status", "--details"],
    ):
        code, out = bridge(config, KEY, *args, seen=seen)
        assert code == 0, (args, out)
    code, out = bridge(config, KEY, "status", "--json", seen=seen)
    assert code == 0 and json.loads(out[out.index("{") :])
    assert any(m == "POST" for m, _ in sandbox.requests), "something was published"
    assert any(r.levelno == logging.DEBUG and r.name.startswith("bridge") for r in caplog.records)
    # The store is read while the process that wrote it may still be running: -wal included.
    assert_store_clean(tmp_path)


def test_a_wrong_key_is_refused_without_showing_it(
    tmp_path: Path, sandbox: Sandbox, seen: Seen
) -> None:
    config = write_config(tmp_path, sandbox.url)
    (tmp_path / "jobs" / "webinaire.yaml").write_text(JOB, encoding="utf-8")
    for args in (["check"], ["sync"], ["announce"]):
        code, out = bridge(config, WRONG_KEY, *args, seen=seen)
        assert code == 2, (args, out)
        assert "clé d'API a été refusée" in out


def test_a_refused_write_keeps_the_secrets(tmp_path: Path, sandbox: Sandbox, seen: Seen) -> None:
    config = write_config(tmp_path, sandbox.url)
    (tmp_path / "jobs" / "webinaire.yaml").write_text(JOB, encoding="utf-8")
    assert bridge(config, KEY, "sync", seen=seen)[0] == 0
    sandbox.faults.fail_paths["/posts"] = 422
    code, out = bridge(config, KEY, "announce", seen=seen)
    assert code != 0 and "422" in out
    bridge(config, KEY, "status", seen=seen)
    code, out = bridge(config, KEY, "status", "--json", seen=seen)
    assert code == 0 and json.loads(out[out.index("{") :])
    assert_store_clean(tmp_path)


def test_an_unreachable_forum_keeps_the_secrets(
    tmp_path: Path, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The retries' waits are recorded, not slept (the CLI builds its own client).
    waits: list[float] = []
    build = DiscourseClient.__init__

    def unslept(self: DiscourseClient, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **{**kwargs, "sleep": waits.append})

    monkeypatch.setattr(DiscourseClient, "__init__", unslept)
    config = write_config(tmp_path, "http://127.0.0.1:9")
    for args in (["check"], ["sync"]):
        code, out = bridge(config, KEY, *args, seen=seen)
        assert code != 0, (args, out)
    assert waits, "the reads were retried"
    code, out = bridge(config, KEY, "status", "--json", seen=seen)
    assert code == 0 and json.loads(out[out.index("{") :])


def test_a_broken_config_keeps_the_secrets(tmp_path: Path, seen: Seen) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", "digest: {day: jamais}\n")
    code, out = bridge(config, KEY, "sync", seen=seen)
    assert code == 2 and out.startswith("Erreur")
    write_config(tmp_path, "http://127.0.0.1:9", "webhooks_typo: 1\n")
    code, out = bridge(config, KEY, "check", seen=seen)
    assert code == 2
