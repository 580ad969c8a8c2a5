"""`bridge run` driven in-process with an injected clock and injected jobs (no sleeping): the
scheduler's set-up, catch-up after downtime, jobs one at a time, a command by hand waiting its
turn, a failing job that stops nothing else, reloading the config."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
from click.testing import CliRunner, Result

from bridge import wiring
from bridge.cli import cli
from bridge.config import Config, load_config
from bridge.errors import AuthError, BridgeError, Stopping
from bridge.service import Service
from bridge.store import RunStatus, Store, StoreBusy, file_lock
from bridge.wiring import Parts

ROOT = Path(__file__).resolve().parents[1]
# Monday 2025-04-21, 14:00 in Sherbrooke: the digest's 08:00 was missed this morning.
MONDAY_AFTERNOON = datetime(2025, 4, 21, 18, 0, tzinfo=UTC)


@dataclass
class Done:
    text: str
    ok: bool = True

    def describe(self) -> str:
        return self.text


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def write_config(tmp_path: Path, schedule: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "discourse:\n  url: http://127.0.0.1:9\n  api_username: passerelle\n"
        "community:\n  name: CdP 2isE\n  category: innovation-sociale-estrie\n  group: cdp-2ise\n"
        f"paths:\n  templates: {ROOT / 'templates'}\n  jobs: {tmp_path}\n"
        "store:\n  path: data/bridge.db\n" + schedule,
        encoding="utf-8",
    )
    return path


def recording(job: str, calls: list[str], fail: Exception | None = None) -> Callable[[Parts], Done]:
    """A job that records its run in the store as the real runners do (`Parts.run_job`)."""

    def work() -> Done:
        calls.append(job)
        if fail is not None:
            raise fail
        return Done(f"{job} fait")

    return lambda parts: parts.run_job(job, work)


def make_service(
    tmp_path: Path, clock: Clock, calls: list[str], schedule: str = "", **fails: Exception
) -> Service:
    config = load_config(write_config(tmp_path, schedule))
    jobs = {j: recording(j, calls, fails.get(j)) for j in ("sync", "announce", "digest")}
    return Service(config, now=clock, jobs=jobs)


def store_of(config: Config) -> Store:
    return Store.open(config.store_path, config.site, config.community.category)


def seed_run(config: Config, job: str, at: datetime) -> None:
    store = store_of(config)
    run_id = store.run_started(job, at)
    store.run_finished(run_id, at + timedelta(seconds=5), RunStatus.OK, summary="ok")
    store.close()


# --- the scheduler's set-up -----------------------------------------------------------------


def test_every_job_is_coalesced_single_and_late_by_its_grace_at_most(tmp_path: Path) -> None:
    service = make_service(tmp_path, Clock(MONDAY_AFTERNOON), [])
    planned = service.install()
    assert planned == [
        "sync : toutes les 10 minutes",
        "announce : toutes les 5 minutes",
        "digest : lundi 08:00",
    ]
    jobs = {job.id: job for job in service.scheduler.get_jobs()}
    assert set(jobs) == {"sync", "announce", "digest"}
    assert all(j.coalesce and j.max_instances == 1 for j in jobs.values())
    assert jobs["digest"].misfire_grace_time == 12 * 3600
    assert jobs["sync"].misfire_grace_time == 600
    assert service.scheduler._executors["default"]._pool._max_workers == 1  # one job at a time


def test_welcome_is_skipped_until_it_is_registered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []
    clock = Clock(MONDAY_AFTERNOON)
    service = make_service(tmp_path, clock, calls)
    caplog.set_level(logging.DEBUG, logger="bridge.service")
    service.run("sync")
    assert calls == ["sync"]
    assert "welcome : aucune tâche enregistrée sous ce nom" in caplog.text

    # Registering it is one entry in the table: it then runs right after each sync.
    service.jobs = {**service.jobs, "welcome": recording("welcome", calls)}
    service.run("sync")
    assert calls == ["sync", "sync", "welcome"]
    store = store_of(service.config)
    assert store.last_run("welcome") is not None
    assert "welcome : après chaque sync" in service.install()


def test_webhook_events_run_a_sync_now_and_a_full_one_after_a_deletion(tmp_path: Path) -> None:
    calls: list[str] = []
    service = make_service(tmp_path, Clock(MONDAY_AFTERNOON), calls)
    fulls: list[bool] = []
    service.jobs = {**service.jobs, "sync": lambda parts: fulls.append(False) or Done("sync")}
    with patch("bridge.service.run_sync", lambda parts, full: fulls.append(full) or Done("full")):
        service.on_events(frozenset({"post_created", "topic_created"}))
        service.on_events(frozenset({"post_created", "post_destroyed"}))
        service.stopping.set()
        service.on_events(frozenset({"post_created"}))  # stopping: nothing new starts
    assert fulls == [False, True]


# --- catch-up after downtime ------------------------------------------------------------------


def test_after_a_morning_outage_the_digest_runs_once_at_start_up(tmp_path: Path) -> None:
    clock = Clock(MONDAY_AFTERNOON)
    calls: list[str] = []
    service = make_service(tmp_path, clock, calls)
    config = service.config
    seed_run(config, "digest", datetime(2025, 4, 14, 12, 0, 1, tzinfo=UTC))  # last Monday
    seed_run(config, "sync", MONDAY_AFTERNOON - timedelta(minutes=3))
    seed_run(config, "announce", MONDAY_AFTERNOON - timedelta(hours=9))

    service.install()
    due_now = {
        j.id for j in service.scheduler.get_jobs() if getattr(j, "next_run_time", None) == clock.at
    }
    assert due_now == {"digest", "announce"}  # sync ran 3 minutes ago: not due
    service.run("digest")
    assert calls == ["digest"]

    # Started again an hour later: the digest is not caught up twice.
    clock.at += timedelta(hours=1)
    again = make_service(tmp_path, clock, calls)
    again.install()
    digest = again.scheduler.get_job("digest")
    assert getattr(digest, "next_run_time", None) is None
    assert digest.trigger.get_next_fire_time(None, clock.at) == datetime(
        2025, 4, 28, 8, 0, tzinfo=config.community.tz
    )


def test_past_its_grace_the_missed_digest_is_not_sent(tmp_path: Path) -> None:
    tuesday = MONDAY_AFTERNOON + timedelta(days=1)
    service = make_service(tmp_path, Clock(tuesday), [])
    seed_run(service.config, "digest", datetime(2025, 4, 14, 12, 0, 1, tzinfo=UTC))
    service.install()
    assert getattr(service.scheduler.get_job("digest"), "next_run_time", None) is None


def cut_run(config: Config, job: str, at: datetime) -> None:
    """A run whose process died under it (kill -9): started, never ended."""
    store = store_of(config)
    store.run_started(job, at)
    store.close()


def due_at(service: Service, at: datetime) -> set[str]:
    return {j.id for j in service.scheduler.get_jobs() if getattr(j, "next_run_time", None) == at}


def test_a_run_cut_short_by_a_dead_process_runs_again_at_start_up(tmp_path: Path) -> None:
    clock = Clock(MONDAY_AFTERNOON)
    service = make_service(tmp_path, clock, [])
    config = service.config
    # This morning's digest was killed half-way: its 08:00 is behind its last start, so only
    # the cut tells that it is owed (else the next one is a week away).
    cut_run(config, "digest", MONDAY_AFTERNOON - timedelta(hours=5))
    seed_run(config, "sync", MONDAY_AFTERNOON - timedelta(minutes=3))
    seed_run(config, "welcome", MONDAY_AFTERNOON - timedelta(minutes=3))
    cut_run(config, "announce", MONDAY_AFTERNOON - timedelta(minutes=1))

    service.install(starting=True)
    assert due_at(service, clock.at) == {"digest", "announce"}
    # A reload (SIGHUP) is not a start-up: a run without an end is then running, not cut.
    service.install()
    assert due_at(service, clock.at) == set()


def test_a_run_stopped_by_sigterm_is_taken_up_at_the_next_start(tmp_path: Path) -> None:
    clock = Clock(MONDAY_AFTERNOON)
    config = load_config(write_config(tmp_path))

    def stopped(parts: Parts) -> Done:
        def work() -> Done:
            raise Stopping()

        return parts.run_job("digest", work)

    jobs = {j: recording(j, []) for j in ("sync", "announce")}
    service = Service(config, now=clock, jobs={**jobs, "digest": stopped})
    service.run("digest")  # systemctl stop, half-way through Monday's digest
    store = store_of(config)
    assert store.last_run("digest").status is RunStatus.RUNNING  # no end: interrupted
    store.close()
    seed_run(config, "sync", MONDAY_AFTERNOON - timedelta(minutes=2))
    seed_run(config, "welcome", MONDAY_AFTERNOON - timedelta(minutes=2))
    restarted = make_service(tmp_path, clock, [])
    restarted.install(starting=True)
    assert "digest" in due_at(restarted, clock.at)


def test_a_welcome_left_behind_brings_the_sync_at_start_up(tmp_path: Path) -> None:
    clock = Clock(MONDAY_AFTERNOON)
    service = make_service(tmp_path, clock, [])
    config = service.config
    seed_run(config, "welcome", MONDAY_AFTERNOON - timedelta(minutes=4))
    # The digest's own sync ran after it; the process died before the welcome's turn.
    seed_run(config, "sync", MONDAY_AFTERNOON - timedelta(minutes=2))
    service.install(starting=True)
    assert due_at(service, clock.at) == {"sync", "announce", "digest"}

    # The welcome itself killed: the sync, which it follows, runs at once.
    (tmp_path / "again").mkdir()
    again = make_service(tmp_path / "again", clock, [])
    seed_run(again.config, "sync", MONDAY_AFTERNOON - timedelta(minutes=2))
    cut_run(again.config, "welcome", MONDAY_AFTERNOON - timedelta(minutes=2))
    seed_run(again.config, "announce", MONDAY_AFTERNOON - timedelta(minutes=2))
    again.install(starting=True)
    assert "sync" in due_at(again, clock.at) and "announce" not in due_at(again, clock.at)

    # Both ended well, in order: nothing is owed.
    (tmp_path / "calm").mkdir()
    calm = make_service(tmp_path / "calm", clock, [])
    seed_run(calm.config, "sync", MONDAY_AFTERNOON - timedelta(minutes=2))
    seed_run(calm.config, "welcome", MONDAY_AFTERNOON - timedelta(minutes=2))
    calm.install(starting=True)
    assert "sync" not in due_at(calm, clock.at)


# --- failures ---------------------------------------------------------------------------------


def test_a_failing_job_is_recorded_and_stops_nothing_else(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []
    clock = Clock(MONDAY_AFTERNOON)
    wrong_key = AuthError("Discourse a refusé la clé d'API (403) : mauvaise clé")
    service = make_service(tmp_path, clock, calls, sync=wrong_key)
    caplog.set_level(logging.INFO, logger="bridge.service")

    service.run("sync")
    service.run("announce")
    assert calls == ["sync", "announce"]
    assert "sync : échec : Discourse a refusé la clé d'API (403) : mauvaise clé" in caplog.text
    assert "announce : announce fait (" in caplog.text  # its counts and duration
    store = store_of(service.config)
    last_sync = store.last_run("sync")
    assert last_sync is not None and last_sync.status is RunStatus.FAILED
    assert last_sync.error == "Discourse a refusé la clé d'API (403) : mauvaise clé"

    # Shown loudly in bridge status.
    result = CliRunner().invoke(cli, ["--config", str(service.config.source), "status"])
    assert "À CORRIGER :" in result.stdout
    assert "  sync (1 échec(s) de suite) : Discourse a refusé la clé d'API" in result.stdout


def test_repeated_failures_back_off(tmp_path: Path) -> None:
    calls: list[str] = []
    clock = Clock(MONDAY_AFTERNOON)
    service = make_service(tmp_path, clock, calls, announce=BridgeError("Discourse injoignable"))
    for _ in range(3):  # every 5 minutes, as scheduled
        service.run("announce")
        clock.at += timedelta(minutes=5)
    # Failed at 0 and 5 (then paused 10 minutes: 10 skipped), failed at 15 (paused 20 minutes).
    assert calls == ["announce", "announce"]
    clock.at += timedelta(minutes=5)
    service.run("announce")
    assert len(calls) == 3
    clock.at += timedelta(minutes=10)
    service.run("announce")
    assert len(calls) == 3  # in its 20-minute pause
    clock.at += timedelta(minutes=15)
    service.jobs = {**service.jobs, "announce": recording("announce", calls)}
    service.run("announce")
    assert len(calls) == 4 and service.failures == {} and service.resume_at == {}


# --- one job at a time on a store ---------------------------------------------------------------


def test_a_command_by_hand_waits_its_turn_then_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path)
    config = load_config(path)
    store_of(config).close()
    monkeypatch.setattr(wiring, "JOB_WAIT_SECONDS", 0.0)
    with file_lock(config.store_path, "jobs"):  # the service is in the middle of a job
        result = CliRunner().invoke(cli, ["--config", str(path), "digest"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Erreur : {config.store_path} : une autre tâche de la ")
    assert "l'utilise depuis plus de 0 s ; réessayez quand elle aura fini" in result.stderr
    assert store_of(config).last_run("digest") is None  # it did not run


def test_a_waiting_job_runs_as_soon_as_the_other_ends(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    store_of(config).close()
    holder = file_lock(config.store_path, "jobs")
    holder.__enter__()
    waits: list[float] = []

    def other_job_ends(seconds: float) -> None:
        waits.append(seconds)
        holder.__exit__(None, None, None)

    with file_lock(config.store_path, "jobs", wait=60, sleep=other_job_ends):
        pass
    assert len(waits) == 1


def test_the_service_does_not_run_a_job_while_a_command_holds_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []
    service = make_service(tmp_path, Clock(MONDAY_AFTERNOON), calls)
    store_of(service.config).close()
    monkeypatch.setattr(wiring, "JOB_WAIT_SECONDS", 0.0)
    with file_lock(service.config.store_path, "jobs"):
        service.run("sync")
    assert calls == []
    assert "sync : pas lancée" in caplog.text
    with pytest.raises(StoreBusy):
        with file_lock(service.config.store_path, "jobs", wait=0):
            with file_lock(service.config.store_path, "jobs", wait=0):
                pass


# --- reloading the config (SIGHUP) ------------------------------------------------------------


def test_a_good_new_config_is_taken_and_a_broken_one_refused(tmp_path: Path) -> None:
    calls: list[str] = []
    service = make_service(tmp_path, Clock(MONDAY_AFTERNOON), calls)
    service.config_path = service.config.source
    service.install()
    path = service.config.source
    assert path is not None

    write_config(tmp_path, "schedule:\n  announce: toutes les 15 minutes\n")
    service.ask_reload()
    assert service.reload_asked
    assert service.reload() is True
    assert service.scheduler.get_job("announce").trigger.interval == timedelta(minutes=15)

    write_config(tmp_path, "schedule:\n  announce: toutes les quinze minutes\n")
    assert service.reload() is False
    assert service.config.schedule["announce"].text == "toutes les 15 minutes"
    assert service.scheduler.get_job("announce").trigger.interval == timedelta(minutes=15)

    # bridge status says so (once the file is readable again; until then it names the error).
    broken = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert broken.exit_code == 2
    assert "(un service déjà lancé garde sa configuration)" in broken.stderr
    write_config(tmp_path, "schedule:\n  announce: toutes les 15 minutes\n")
    shown = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert "À CORRIGER :" in shown.stdout
    assert "nouvelle configuration refusée, la précédente reste en service : " in shown.stdout
    assert "schedule.announce : horaire illisible « toutes les quinze minutes »" in shown.stdout


# --- backup and status --json --------------------------------------------------------------


def test_backup_copies_the_store_while_it_is_in_use(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    config = load_config(path)
    seed_run(config, "sync", MONDAY_AFTERNOON)
    busy = store_of(config)  # the service, holding the file open in WAL mode
    target = tmp_path / "copie.db"
    result = CliRunner().invoke(cli, ["--config", str(path), "backup", str(target)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Copie écrite : {target} (")
    copy = Store.open(target, config.site, config.community.category)
    last = copy.last_run("sync")
    assert last is not None and last.started_at == MONDAY_AFTERNOON
    busy.close()

    itself = CliRunner().invoke(cli, ["--config", str(path), "backup", str(config.store_path)])
    assert itself.exit_code == 2
    assert "c'est la base elle-même" in itself.stderr

    def backup(target: Path) -> Result:
        return CliRunner().invoke(cli, ["--config", str(path), "backup", str(target)])

    # Tonight's copy replaces last week's (rotation); someone's file is never overwritten.
    assert backup(target).exit_code == 0
    mine = path.read_bytes()
    over = backup(path)
    assert over.exit_code == 2 and path.read_bytes() == mine
    assert over.stderr == (
        f"Erreur : {path} existe déjà et n'est pas une copie de la base : rien n'est écrasé ; "
        "choisissez un autre nom\n"
    )
    nowhere = backup(tmp_path / "sauvegardes" / "copie.db")
    assert nowhere.exit_code == 2
    assert nowhere.stderr == (
        f"Erreur : {tmp_path / 'sauvegardes' / 'copie.db'} : le dossier "
        f"{tmp_path / 'sauvegardes'} n'existe pas ; créez-le d'abord\n"
    )


def test_status_json_has_the_documented_shape(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    config = load_config(path)
    seed_run(config, "digest", datetime(2025, 4, 14, 12, 0, 1, tzinfo=UTC))
    result = CliRunner().invoke(cli, ["--config", str(path), "status", "--json"])
    assert result.exit_code == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert data["version"] == 1
    assert set(data) == {
        "version", "site", "community", "timezone", "generated_at", "service", "config", "jobs",
        "counts",
    }  # fmt: skip
    assert data["service"] == {"running": False, "pid": None}
    assert list(data["jobs"]) == ["sync", "welcome", "announce", "digest"]
    digest = data["jobs"]["digest"]
    assert digest["last_run"]["started_at"] == "2025-04-14T08:00:01-04:00"
    assert digest["schedule"] == "lundi 08:00"
    assert data["jobs"]["welcome"]["registered"] is True
    assert set(data["counts"]) == {
        "mirrored_topics", "entries_with_warnings", "welcomes_done", "welcomes_pending",
        "digests_published", "announcements_published",
    }  # fmt: skip
