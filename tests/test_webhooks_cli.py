"""`bridge webhooks` as it runs in production: a process listening on loopback, Discourse's
signed events, the mirror catching up within seconds, a clean stop on SIGTERM, no secret in
sight."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sandboxcli import write_config as sandbox_config
from storerows import count_rows

from bridge.cli import cli
from bridge.sandbox import Sandbox
from bridge.sandbox.webhook import webhook_delivery
from bridge.store import Store

SECRET = "secret-de-webhook-Q7f3xK9pLm2v"
TITLE = "Mobiliser les citoyens autour d'un projet de quartier"


def write_config(
    tmp_path: Path, url: str, webhooks: str = "webhooks:\n  listen: 127.0.0.1:0\n"
) -> Path:
    return sandbox_config(tmp_path, url, extra=webhooks)


def wait_for(condition: Callable[[], object], seconds: float = 30.0) -> object:
    """Poll until `condition` gives something true, or fail at the deadline."""
    pause = threading.Event()
    for _ in range(int(seconds / 0.05)):
        found = condition()
        if found:
            return found
        pause.wait(0.05)
    raise AssertionError(f"still waiting after {seconds} s")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # The real clock: the process under test reads the time itself.
    with Sandbox() as sb:
        yield sb


def post_ids(store_path: Path, site: str, topic_id: int) -> list[int]:
    store = Store.snapshot(store_path, site, "innovation-sociale-estrie")
    try:
        return [p.id for p in store.posts_of(topic_id)]
    finally:
        store.close()


def sync_runs(store_path: Path, site: str) -> int:
    store = Store.snapshot(store_path, site, "innovation-sociale-estrie")
    try:
        return count_rows(store, "job_runs")
    finally:
        store.close()


def listening(
    tmp_path: Path, config: Path, env: dict[str, str], *command: str
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`bridge COMMAND` in its own process, once it listens: the process, the endpoint's
    address, and the file its stderr goes to."""
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bridge", "--config", str(config), *command],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        found = wait_for(
            lambda: re.search(
                r"en écoute sur (http://127\.0\.0\.1:\d+/)",
                stderr_path.read_text(encoding="utf-8", errors="replace"),
            )
        )
    except AssertionError:
        process.kill()
        process.wait()
        raise
    assert isinstance(found, re.Match)
    return process, found.group(1), stderr_path


@pytest.mark.slow
def test_a_signed_post_created_updates_the_mirror_and_sigterm_stops_cleanly(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = write_config(tmp_path, sandbox.url)
    store_path = tmp_path / "bridge.db"
    first = CliRunner().invoke(
        cli, ["--config", str(config), "sync"], env={"DISCOURSE_API_KEY": sandbox.api_key}
    )
    assert first.exit_code == 0, first.output
    world = sandbox.world
    topic = world.find_topic_by_title(TITLE)
    assert topic is not None
    new_post = world.add_reply(topic.id, "yves_parent", "On a essayé la fête de ruelle, succès!")
    assert new_post not in post_ids(store_path, sandbox.url, topic.id)

    env = {
        **os.environ,
        "DISCOURSE_API_KEY": sandbox.api_key,
        "DISCOURSE_WEBHOOK_SECRET": SECRET,
    }
    process, url, stderr_path = listening(tmp_path, config, env, "-vv", "webhooks")
    try:
        sandbox.reset_requests()

        # A new reply as Discourse announces it, and an event the bridge does not follow.
        for name, kind, status in (
            ("post_created", "post", 200),
            ("post_liked", "like", 202),
            ("post_edited", "post", 200),
        ):
            headers, body = webhook_delivery(
                SECRET, kind, name, {"id": new_post, "topic_id": topic.id}, instance=sandbox.url
            )
            answer = requests.post(url, data=body, headers=headers, timeout=10)
            assert answer.status_code == status, answer.text
        wrong = dict(headers, **{"X-Discourse-Event-Signature": "sha256=" + "0" * 64})
        assert requests.post(url, data=body, headers=wrong, timeout=10).status_code == 401

        wait_for(lambda: new_post in post_ids(store_path, sandbox.url, topic.id))

        # A deletion does not move the order of activity: its event runs the reconciliation.
        world.delete_post(new_post)
        headers, body = webhook_delivery(
            SECRET, "post", "post_destroyed", {"id": new_post, "topic_id": topic.id}, event_id=9
        )
        assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 200
        wait_for(lambda: new_post not in post_ids(store_path, sandbox.url, topic.id))
        # The webhook only made the bridge read: nothing was written to Discourse.
        assert [m for m, _ in sandbox.requests if m != "GET"] == []
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    log = stderr_path.read_text(encoding="utf-8", errors="replace")
    assert code == 0, log
    assert "Traceback" not in log
    assert "Webhooks : arrêtés." in log
    # Two events within a second: one pass; the deletion, another; and the first `bridge sync`.
    assert sync_runs(store_path, sandbox.url) == 3, log

    # No secret anywhere: the log at -vv, the store's bytes (and its write-ahead log).
    for secret in (SECRET, sandbox.api_key):
        assert secret not in log
        for path in tmp_path.glob("bridge.db*"):
            assert secret.encode() not in path.read_bytes(), path


def run(config: Path, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), "webhooks"], env=env)
    return result.exit_code, result.stderr


def test_without_a_webhooks_section_it_says_what_to_add(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", webhooks="")
    code, err = run(config, {"DISCOURSE_WEBHOOK_SECRET": SECRET, "DISCOURSE_API_KEY": "k"})
    assert code == 2
    assert err == (
        "Erreur : config.yaml n'a pas de section webhooks: (ajoutez « webhooks: » et, en "
        "dessous, « listen: 127.0.0.1:8765 », comme dans le config.yaml d'exemple)\n"
    )


def test_without_the_secret_it_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    code, err = run(config, {"DISCOURSE_WEBHOOK_SECRET": "", "DISCOURSE_API_KEY": "k"})
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("Erreur : DISCOURSE_WEBHOOK_SECRET n'est pas défini")


def test_without_the_api_key_it_does_not_start_listening(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    code, err = run(config, {"DISCOURSE_WEBHOOK_SECRET": SECRET, "DISCOURSE_API_KEY": ""})
    assert code == 2
    assert err.startswith("Erreur : DISCOURSE_API_KEY n'est pas défini")
    assert "écoute" not in err


def test_a_bad_listen_address_names_the_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", "webhooks:\n  listen: partout\n")
    code, err = run(config, {"DISCOURSE_WEBHOOK_SECRET": SECRET, "DISCOURSE_API_KEY": "k"})
    assert code == 2
    assert "webhooks.listen : adresse:port attendu" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("events", "full"),
    [
        (frozenset({"post_created", "topic_created"}), False),
        (frozenset({"post_edited", "user_added_to_group", "user_created"}), False),
        (frozenset({"post_created", "post_destroyed"}), True),
        (frozenset({"user_anonymized"}), True),
        (frozenset({"user_removed_from_group"}), True),
        (frozenset({"topic_destroyed"}), True),
        (frozenset({"user_destroyed"}), True),
    ],
)
def test_what_an_incremental_pass_cannot_see_runs_the_reconciliation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, events: frozenset[str], full: bool
) -> None:
    import bridge.runs
    from bridge.config import load_config
    from bridge.webhooks.standalone import sync_once

    passes: list[bool] = []
    monkeypatch.setattr(bridge.runs, "run_sync", lambda parts, full: passes.append(full))
    sync_once(load_config(write_config(tmp_path, "http://127.0.0.1:9"), env={}), events)
    assert passes == [full]


@pytest.mark.slow
def test_inside_bridge_run_an_event_wakes_the_sync_long_before_its_time(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    schedule = "schedule:\n  sync: toutes les 60 minutes\n  announce: jamais\n  digest: jamais\n"
    config = write_config(
        tmp_path, sandbox.url, webhooks="webhooks:\n  listen: 127.0.0.1:0\n" + schedule
    )
    store_path = tmp_path / "bridge.db"
    env = {**os.environ, "DISCOURSE_API_KEY": sandbox.api_key, "DISCOURSE_WEBHOOK_SECRET": SECRET}
    # A sync and the welcome that follows it, by hand: the service owes nothing at start-up.
    for command in ("sync", "welcome"):
        first = CliRunner().invoke(cli, ["--config", str(config), command], env=env)
        assert first.exit_code == 0, first.output
    topic = sandbox.world.find_topic_by_title(TITLE)
    assert topic is not None
    new_post = sandbox.world.add_reply(topic.id, "yves_parent", "Une ruelle verte, enfin!")

    process, url, stderr_path = listening(tmp_path, config, env, "run")
    try:
        # The next scheduled sync is an hour away: only the event can bring the reply in.
        assert new_post not in post_ids(store_path, sandbox.url, topic.id)
        headers, body = webhook_delivery(
            SECRET, "post", "post_created", {"id": new_post, "topic_id": topic.id}
        )
        answer = requests.post(url, data=body, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        wait_for(lambda: new_post in post_ids(store_path, sandbox.url, topic.id))
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    log = stderr_path.read_text(encoding="utf-8", errors="replace")
    assert code == 0, log
    assert "Traceback" not in log
    assert SECRET not in log and sandbox.api_key not in log


def test_a_sync_that_fails_after_an_event_is_one_french_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import bridge.runs
    from bridge.config import load_config
    from bridge.errors import UnavailableError
    from bridge.webhooks.standalone import sync_once
    from bridge.webhooks.waker import Waker

    refusal = "Discourse ne répond pas correctement ; réessayez plus tard"

    def unreachable(parts: object, full: bool) -> None:
        raise UnavailableError(refusal)

    monkeypatch.setattr(bridge.runs, "run_sync", unreachable)
    config = load_config(write_config(tmp_path, "http://127.0.0.1:9"), env={})
    now = [0.0]
    waker = Waker(lambda events: sync_once(config, events), clock=lambda: now[0])
    waker.wake("post_created")
    now[0] += 60
    with caplog.at_level(logging.INFO):
        assert waker.run_due()
    assert [(r.levelno, r.getMessage(), r.exc_info) for r in caplog.records] == [
        (logging.ERROR, f"Webhooks : la synchronisation a échoué : {refusal}", None)
    ]
