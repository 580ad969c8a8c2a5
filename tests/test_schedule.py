"""The `schedule:` section: the forms people write, the mistakes they make, and the times the
triggers give across daylight-saving changes and downtime (an injected `now`, no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.config import load_config
from bridge.errors import ConfigError
from bridge.schedule import Timing, missed_run, next_run, parse_timing

TZ = ZoneInfo("America/Toronto")
ROOT = Path(__file__).resolve().parents[1]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def write_config(tmp_path: Path, schedule: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "discourse:\n  url: https://forum.exemple.ca\n  api_username: passerelle\n"
        "community:\n  name: CdP\n  category: cdp\n  group: membres\n"
        f"paths:\n  templates: {ROOT / 'templates'}\n  jobs: {tmp_path}\n" + schedule,
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("text", "first_after_noon"),
    [
        ("toutes les 10 minutes", local(2025, 4, 21, 12, 10)),
        ("every 10 minutes", local(2025, 4, 21, 12, 10)),
        ("toutes les heures", local(2025, 4, 21, 13, 0)),
        ("lundi 08:00", local(2025, 4, 28, 8, 0)),
        ("mon 08:00", local(2025, 4, 28, 8, 0)),
        ("Lundi à 8h30", local(2025, 4, 28, 8, 30)),
        ("tous les jours 07:30", local(2025, 4, 22, 7, 30)),
        ("0 8 * * mon", local(2025, 4, 28, 8, 0)),
        # Numbers as crontab means them (0 and 7 Sunday, 1 Monday), not as APScheduler would.
        ("0 8 * * 1", local(2025, 4, 28, 8, 0)),
        ("0 8 * * 0", local(2025, 4, 27, 8, 0)),
        ("0 8 * * 7", local(2025, 4, 27, 8, 0)),
        ("0 8 * * 2-4", local(2025, 4, 22, 8, 0)),
        ("0 8 * * 6,0", local(2025, 4, 26, 8, 0)),
        ("*/15 * * * *", local(2025, 4, 21, 12, 15)),
    ],
)
def test_the_forms_people_write(text: str, first_after_noon: datetime) -> None:
    timing = parse_timing("digest", text, TZ)
    noon = local(2025, 4, 21, 12, 0)  # a Monday
    assert next_run(timing, noon, noon) == first_after_noon


def test_after_sync_and_never() -> None:
    assert parse_timing("welcome", "après sync", TZ).after_sync
    assert parse_timing("welcome", "After Sync", TZ).after_sync
    assert not parse_timing("digest", "jamais", TZ).enabled
    assert not parse_timing("digest", False, TZ).enabled  # YAML's `off`


def test_defaults_and_the_welcome_key(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    schedule = config.schedule
    assert [schedule[j].text for j in ("sync", "welcome", "announce", "digest")] == [
        "toutes les 10 minutes",
        "après sync",
        "toutes les 5 minutes",
        "lundi 08:00",
    ]
    assert schedule["digest"].grace == timedelta(hours=12)
    assert schedule["sync"].grace == timedelta(minutes=10)
    assert schedule.after_sync() == ["welcome"]

    custom = load_config(
        write_config(
            tmp_path,
            "schedule:\n  welcome: every 15 minutes\n  digest:\n    at: mon 09:00\n"
            "    grace: 6 heures\n",
        )
    )
    assert custom.schedule["welcome"].grace == timedelta(minutes=15)
    assert custom.schedule["digest"].grace == timedelta(hours=6)


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (
            "schedule:\n  sync: toutes les dix minutes\n",
            ", ligne 12, schedule.sync : horaire illisible « toutes les dix minutes »",
        ),
        ("schedule:\n  digest: lundi 25:00\n", ", ligne 12, schedule.digest : heure invalide"),
        (
            "schedule:\n  digest: 0 8 * * lundi\n",
            ", ligne 12, schedule.digest : ligne crontab invalide « 0 8 * * lundi » : cinq champs "
            "attendus, minute heure jour-du-mois mois jour-de-la-semaine",
        ),
        ("schedule:\n  sync: après sync\n", ", ligne 12, schedule.sync : la synchronisation"),
        ("schedule:\n  bienvenue: après sync\n", ", ligne 12, schedule.bienvenue : tâche inconnue"),
        (
            "schedule:\n  digest:\n    at: lundi 08:00\n    grace: bientôt\n",
            ", ligne 14, schedule.digest.grace : durée attendue",
        ),
    ],
)
def test_a_bad_schedule_is_one_line_with_file_line_and_key(
    tmp_path: Path, schedule: str, message: str
) -> None:
    path = write_config(tmp_path, schedule)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}{message}"), str(error.value)
    assert "\n" not in str(error.value)

    for command in (["check"], ["run"], ["status"]):
        result = CliRunner().invoke(cli, ["--config", str(path), *command])
        assert result.exit_code == 2
        assert result.stderr.startswith(f"Erreur : {path}{message}")
        assert "Traceback" not in result.output + result.stderr


# --- daylight saving -----------------------------------------------------------------------


def test_monday_eight_stays_eight_across_daylight_saving_changes() -> None:
    timing = parse_timing("digest", "lundi 08:00", TZ)
    # 2025-03-09: clocks go forward; 2025-11-02: back.
    before_spring = next_run(timing, None, local(2025, 3, 3, 9, 0))
    before_fall = next_run(timing, None, local(2025, 10, 27, 9, 0))
    assert before_spring is not None and before_fall is not None
    assert before_spring.astimezone(UTC) == datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # EDT
    assert before_fall.astimezone(UTC) == datetime(2025, 11, 3, 13, 0, tzinfo=UTC)  # EST
    assert before_spring.astimezone(TZ).hour == before_fall.astimezone(TZ).hour == 8


def test_an_interval_keeps_real_minutes_through_the_repeated_hour() -> None:
    from bridge.service import fresh_trigger

    timing = parse_timing("sync", "toutes les 10 minutes", TZ)
    # 1:55 EDT, then the hour from 1:00 to 2:00 happens twice.
    start = datetime(2025, 11, 2, 5, 55, tzinfo=UTC)
    trigger = fresh_trigger(timing, start - timedelta(minutes=10), start)
    times, previous = [], start
    for _ in range(12):
        previous = trigger.get_next_fire_time(previous, previous)
        times.append(previous.astimezone(UTC))
        previous = previous + timedelta(seconds=1)
        previous = times[-1]
    gaps = {b - a for a, b in zip(times, times[1:], strict=False)}
    assert gaps == {timedelta(minutes=10)}


# --- catch-up after downtime ---------------------------------------------------------------


DIGEST = parse_timing("digest", "lundi 08:00", TZ)
LAST_WEEK = local(2025, 4, 14, 8, 0, 2)


def test_a_morning_outage_still_sends_mondays_digest_in_the_afternoon() -> None:
    assert missed_run(DIGEST, LAST_WEEK, local(2025, 4, 21, 14, 0)) == local(2025, 4, 21, 8, 0)


def test_past_the_grace_period_the_digest_waits_for_next_monday() -> None:
    assert missed_run(DIGEST, LAST_WEEK, local(2025, 4, 21, 20, 30)) is None
    assert missed_run(DIGEST, LAST_WEEK, local(2025, 4, 22, 9, 0)) is None


def test_a_missed_run_is_never_run_twice() -> None:
    ran_at_start_up = local(2025, 4, 21, 14, 0, 1)
    assert missed_run(DIGEST, ran_at_start_up, local(2025, 4, 21, 15, 0)) is None


def test_an_interval_job_catches_up_once_whatever_the_downtime() -> None:
    sync = parse_timing("sync", "toutes les 10 minutes", TZ)
    last = local(2025, 4, 21, 9, 0)
    assert missed_run(sync, last, local(2025, 4, 21, 9, 5)) is None
    assert missed_run(sync, last, local(2025, 4, 21, 13, 7)) == local(2025, 4, 21, 13, 0)
    assert missed_run(sync, None, last) == last  # never ran: at once


def test_a_short_grace_lets_an_old_miss_go() -> None:
    timing = Timing(
        "x", parse_timing("sync", "toutes les heures", TZ).trigger, grace=timedelta(minutes=5)
    )
    last = local(2025, 4, 21, 9, 0)
    assert missed_run(timing, last, local(2025, 4, 21, 12, 3)) == local(2025, 4, 21, 12, 0)
    assert missed_run(timing, last, local(2025, 4, 21, 12, 30)) is None
