"""`bridge run` as a real process against the sandbox: one instance per store, and SIGTERM in
the middle of a write (through the documented test hook `BRIDGE_TEST_HOOK`, docs/service.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from bridge.config import load_config
from bridge.sandbox import Sandbox, seed_world
from bridge.store import LedgerState, RunStatus, Store

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)
TITLE = "Webinaire : mesurer l'impact social de nos projets"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed_world(NOW), now=lambda: NOW) as sb:
        yield sb


def write_config(tmp_path: Path, sandbox: Sandbox, schedule: str) -> Path:
    jobs = tmp_path / "jobs"
    jobs.mkdir(exist_ok=True)
    path = tmp_path / "config.yaml"
    path.write_text(
        f"discourse:\n  url: {sandbox.url}\n  api_username: {sandbox.api_username}\n"
        "  requests_per_minute: 0\n  timeout: 5\n"
        "community:\n  name: CdP 2isE\n  category: innovation-sociale-estrie\n  group: cdp-2ise\n"
        "  facilitators_group: animation-2ise\n"
        f"paths:\n  templates: {ROOT / 'templates'}\n  jobs: {jobs}\n"
        f"store:\n  path: bridge.db\nschedule:\n{schedule}",
        encoding="utf-8",
    )
    return path


def start(path: Path, sandbox: Sandbox, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bridge", "--config", str(path), "run"],
        env={**os.environ, "DISCOURSE_API_KEY": sandbox.api_key, **env},
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def read_until(stream: IO[str] | None, needle: str) -> list[str]:
    """Lines of stderr up to the one holding `needle` (a blocking read: no sleeping)."""
    assert stream is not None
    lines = []
    for line in stream:
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"« {needle} » jamais écrit : {''.join(lines)}")


@pytest.mark.slow
def test_a_second_service_on_the_same_store_refuses_to_start(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    path = write_config(tmp_path, sandbox, "  sync: jamais\n  announce: jamais\n  digest: jamais\n")
    first = start(path, sandbox)
    try:
        read_until(first.stderr, "service démarré")
        second = start(path, sandbox)
        out, err = second.communicate(timeout=30)
        assert second.returncode == 1
        store = load_config(path).store_path
        assert err == (
            f"Erreur : un autre « bridge run » utilise déjà {store} : un seul service par base "
            "(voir bridge status)\n"
        )
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    finally:
        first.kill()
        first.wait()
    # A process that dies without a word (kill -9) never leaves the lock stuck.
    crashed = start(path, sandbox)
    read_until(crashed.stderr, "service démarré")
    crashed.send_signal(signal.SIGKILL)
    crashed.wait(timeout=30)
    again = start(path, sandbox)
    try:
        read_until(again.stderr, "service démarré")
        again.send_signal(signal.SIGINT)  # Ctrl-C
        assert again.wait(timeout=30) == 0
    finally:
        again.kill()
        again.wait()


@pytest.mark.slow
def test_sigterm_during_a_write_lets_it_finish_and_record_then_exits_0(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    path = write_config(tmp_path, sandbox, "  sync: jamais\n  digest: jamais\n")
    start_at = datetime.now(UTC) + timedelta(days=3)
    (tmp_path / "jobs" / "webinaire.yaml").write_text(
        f'kind: webinaire\ntitle: "{TITLE}"\nstart: {start_at:%Y-%m-%d} 12:00\nend: "13:00"\n'
        "link: https://visio.exemple.ca/cdp-2ise\npublish: maintenant\npin: oui\n"
        "description: |\n  Un partage d'outils simples pour documenter l'impact social.\n",
        encoding="utf-8",
    )
    service = start(path, sandbox, BRIDGE_TEST_HOOK="pause:before_write")
    try:
        paused = read_until(service.stderr, "test-hook: before_write ")
        key = paused[-1].split("test-hook: before_write ")[1].strip()
        service.send_signal(signal.SIGTERM)
        read_until(service.stderr, "arrêt demandé")
        assert service.stdin is not None
        service.stdin.write("\n")  # the write in flight goes on
        service.stdin.flush()
        code = service.wait(timeout=60)
        rest = service.stderr.read() if service.stderr else ""
        assert code == 0, rest
    finally:
        service.kill()
        service.wait()

    config = load_config(path)
    store = Store.open(config.store_path, config.site, config.community.category)
    entry = store.ledger_get(key)
    assert entry is not None and entry.state is LedgerState.DONE and entry.topic_id, rest
    topic = sandbox.world.topics[entry.topic_id]
    assert topic.title == TITLE
    # The pin was the next draft: it did not start (the next run does it).
    assert not topic.pinned
    assert [s for s in (e.state for e in store.ledger_entries())] == [LedgerState.DONE]
    writes = [(m, p) for m, p in sandbox.requests if m in ("POST", "PUT")]
    assert writes == [("POST", "/posts.json")]
    assert "service arrêté" in rest
    assert sandbox.api_key not in rest


@pytest.mark.slow
def test_sighup_takes_a_good_config_and_refuses_a_broken_one(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    off = "  sync: jamais\n  announce: jamais\n  digest: jamais\n"
    path = write_config(tmp_path, sandbox, off)
    good = path.read_text(encoding="utf-8")
    service = start(path, sandbox)
    try:
        read_until(service.stderr, "service démarré")
        # A committee member saves a mistake, and the admin runs `systemctl reload`.
        path.write_text(good.replace("  sync: jamais", "  sync: toutes les dix minutes"))
        service.send_signal(signal.SIGHUP)
        refused = read_until(service.stderr, "nouvelle configuration refusée")[-1]
        assert "schedule.sync : horaire illisible « toutes les dix minutes »" in refused
        status = subprocess.run(
            [sys.executable, "-m", "bridge", "--config", str(path), "status"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert status.returncode == 2
        assert "(un service déjà lancé garde sa configuration)" in status.stderr

        path.write_text(good.replace("  sync: jamais", "  sync: toutes les 30 minutes"))
        service.send_signal(signal.SIGHUP)
        read_until(service.stderr, "configuration relue")
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0
    finally:
        service.kill()
        service.wait()
    store = Store.snapshot(load_config(path).store_path, sandbox.url, "innovation-sociale-estrie")
    try:
        last, refused_run = store.last_run("config"), store.last_run("config", RunStatus.FAILED)
    finally:
        store.close()
    assert last is not None and last.status is RunStatus.OK
    assert "configuration relue : sync : toutes les 30 minutes" in (last.summary or "")
    assert refused_run is not None and "toutes les dix minutes" in (refused_run.error or "")
