"""`bridge run` killed with SIGKILL at 20 seeded moments, restarted each time (issue 14).

A real `bridge run` process, on the real clock, against a sandbox that kills it from inside its
request handler (`Faults.on_request`): at a seeded request of each life, reads and writes alike,
some of them writes the sandbox then performs for a process that will never hear the answer.
The service starts with work due: a store whose service never ran (a sync), three newcomers to
welcome, an announcement past its publication time with a reminder due, and a digest due within
its grace. After the last kill the service is left to finish; then the store passes an integrity
check and the forum holds exactly what one uninterrupted run wrote on a twin forum.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import storecheck
from faultworld import ROOT, FlowingClock, Forum, use_test_parts
from reliability import KILL, Case, cases

from bridge.sandbox import STAFF_KEY

TZ = ZoneInfo("America/Toronto")
SEED = 20250421
KILLS = 20
JOBS = ("sync", "welcome", "announce", "digest")
NEWCOMERS = (
    "Aïcha Benali",
    "Mathieu Gagnon",
    "Josée Tremblay",
    "Kevin Nguyen",
    "Marie-Ève Roy",
    "Samuel Côté",
    "Fatou Diallo",
    "Guillaume Bélanger",
    "Nadia Ouellet",
)
# Topics of the watched category that members answer while the service is down: the sync
# has them to read.
ANSWERED = tuple(range(9, 30))
DEADLINE = 30.0  # seconds for one life to finish its work: far more than it needs


def config_tail(now: datetime) -> str:
    # The digest's time of day an hour ago: due at start-up, within its 12 hours of grace.
    digest_at = (now - timedelta(hours=1)).astimezone(TZ)
    return (
        "schedule:\n  sync: toutes les 10 minutes\n  announce: toutes les 5 minutes\n"
        f"  digest: tous les jours {digest_at:%H:%M}\n"
        # One welcome topic each: nine writes, not one collective topic.
        "welcome: {quiet_minutes: 0, collective_threshold: 10}\n"
    )


def announcement(now: datetime, days: int, title: str) -> str:
    """An activity in `days` days, published eight days ahead (late), pinned, with reminders."""
    start = (now + timedelta(days=days)).astimezone(TZ)
    return (
        f'kind: webinaire\ntitle: "{title}"\n'
        f'start: {start:%Y-%m-%d} 12:00\nend: "13:00"\n'
        "link: https://visio.exemple.ca/cdp-2ise\n"
        "description: Un partage d'outils simples pour documenter l'impact social.\n"
        "publish: 8 jours avant\npin: oui\nreminders: [7 jours, 1 jour]\n"
    )


def prepare(forum: Forum, now: datetime) -> None:
    """The hand pass an hour ago (the welcome's first pass only learns who is there), then the
    newcomers and the announcement: work for the service's start-up."""
    assert forum.bridge("sync").exit_code == 0
    assert forum.bridge("welcome").exit_code == 0
    forum.clock.at = now
    world = forum.sandbox.world
    # Discourse answers an identical create within two minutes with the first post: a restart
    # may come hours later, so a write sent twice must show here as two posts.
    world.create_memo_seconds = 0
    for i, name in enumerate(NEWCOMERS):
        world.add_member(f"nouveau.{i}", name, world.now())
    for topic in ANSWERED:
        world.add_reply(topic, "sondes.allal", f"Merci pour ce sujet, j'y reviens ({topic}).")
    jobs = forum.workdir / "jobs"
    (jobs / "webinaire.yaml").write_text(
        announcement(now, 5, "Mesurer l'impact social de nos projets"), encoding="utf-8"
    )
    (jobs / "atelier.yaml").write_text(
        announcement(now, 2, "Atelier : animer une communauté de pratique"), encoding="utf-8"
    )
    (jobs / "cinq-a-sept.yaml").write_text(
        announcement(now, 6, "Cinq à sept des partenaires de l'Estrie"), encoding="utf-8"
    )


def start(forum: Forum, life: int) -> subprocess.Popen[bytes]:
    log = (forum.workdir / f"vie-{life:02d}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bridge", "--config", str(forum.config), "run"],
        env={**os.environ, "DISCOURSE_API_KEY": STAFF_KEY},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


def work_done(forum: Forum, since: datetime) -> bool:
    """Every job's latest run ended well, and started after `since`."""
    latest = {
        job: (status, started)
        for job, status, started in forum.rows(
            "select job, status, started_at from job_runs where id in "
            "(select max(id) from job_runs group by job)"
        )
    }
    return all(
        job in latest and latest[job][0] == "ok" and datetime.fromisoformat(latest[job][1]) >= since
        for job in JOBS
    )


def wait_for(process: subprocess.Popen[bytes], forum: Forum, since: datetime) -> bool:
    """Until the work is done (True) or the process died (False); a deadline for both."""
    deadline = datetime.now(UTC) + timedelta(seconds=DEADLINE)
    while datetime.now(UTC) < deadline:
        try:
            process.wait(timeout=0.05)
            return False
        except subprocess.TimeoutExpired:
            if work_done(forum, since):
                return True
    raise AssertionError(f"ni fini ni tué en {DEADLINE} s : {log_of(forum)}")


def log_of(forum: Forum) -> str:
    logs = sorted(forum.workdir.glob("vie-*.log"))
    return logs[-1].read_text(encoding="utf-8", errors="replace") if logs else ""


def stop(process: subprocess.Popen[bytes], forum: Forum) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, log_of(forum)


@pytest.fixture
def forums(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Forum, Forum]]:
    use_test_parts(monkeypatch)
    now = datetime.now(UTC).replace(microsecond=0)
    hour_ago = now - timedelta(hours=1)
    made = []
    try:
        for name in ("clean", "killed"):
            forum = Forum(tmp_path / name, hour_ago, config_tail(now), FlowingClock(hour_ago))
            made.append(forum)
        for forum in made:
            prepare(forum, now)
        yield made[0], made[1]
    finally:
        for forum in made:
            forum.close()


class Killer:
    """Kills the running `bridge run` from the sandbox's request handler: life after life, at
    a seeded request of that life (1 to `most`). Some kills wait for a write (POST or PUT) from
    that request on: the sandbox then performs it for a process that is gone. Each write can
    be lost that way only once (the next life finds it), hence a third of the kills only."""

    def __init__(self, seed: int, most: int, kills: int = KILLS) -> None:
        rng = random.Random(seed)
        writes = set(rng.sample(range(kills), kills // 3))
        self.plan = [(rng.randint(1, most), i in writes) for i in range(kills)]
        self.process: subprocess.Popen[bytes] | None = None
        self.count = 0
        self.kills: list[tuple[int, str, str]] = []

    def new_life(self, process: subprocess.Popen[bytes]) -> None:
        self.process, self.count = process, 0

    def __call__(self, _: int, method: str, path: str) -> None:
        self.count += 1
        if self.process is None or len(self.kills) == len(self.plan):
            return
        at, write = self.plan[len(self.kills)]
        if self.count >= at and (not write or method in ("POST", "PUT")):
            os.kill(self.process.pid, signal.SIGKILL)
            self.kills.append((self.count, method, path))
            self.process = None


def published(forum: Forum) -> list[tuple[object, ...]]:
    """The bridge's posts without their ids: each store orders its newcomers by a hash keyed
    with its own secret, so two stores write the same welcomes in different orders."""
    return sorted(post[2:] for post in forum.published())


def mirror_counts(forum: Forum) -> dict[str, int]:
    return {table: len(rows) for table, rows in forum.mirror().items()}


@pytest.mark.slow
@pytest.mark.parametrize("case", cases(KILL))
def test_killed_at_twenty_moments_ends_as_one_clean_run(
    case: Case, forums: tuple[Forum, Forum]
) -> None:
    clean, killed = forums
    since = datetime.now(UTC).replace(microsecond=0)
    first = len(clean.sandbox.requests)
    process = start(clean, 0)
    assert wait_for(process, clean, since), log_of(clean)
    stop(process, clean)
    requests = len(clean.sandbox.requests) - first

    killer = Killer(SEED, requests // 8)
    killed.sandbox.faults.on_request = killer
    lives = 0
    while True:
        process = start(killed, lives)
        killer.new_life(process)
        lives += 1
        if wait_for(process, killed, since):
            break
        assert process.returncode == -signal.SIGKILL, log_of(killed)
    stop(process, killed)
    killed.sandbox.faults.clear()

    # Twenty kills, each in its own life, several of them with a write in flight.
    assert len(killer.kills) == KILLS and lives == KILLS + 1, killer.kills
    assert sum(method != "GET" for _, method, _ in killer.kills) >= KILLS // 3, killer.kills
    assert storecheck.problems(killed.workdir / "bridge.db", killed.sandbox.world) == []
    # What the clean run wrote: three announcements (pinned), the digest, a welcome each.
    written = published(clean)
    texts = [post for post in written if post[1]]
    assert len(texts) == 3 + 1 + len(NEWCOMERS), written
    assert sum(pinned for *_, pinned in texts) == 3
    # And, without text, the small action each pin writes on Discourse: once each.
    assert len(written) - len(texts) == 3, written
    # The same posts: nothing doubled, nothing missed.
    assert published(killed) == written
    assert killed.ledger() == clean.ledger()
    # One more pass on each, and the mirrors hold as many rows.
    assert clean.bridge("sync").exit_code == killed.bridge("sync").exit_code == 0
    assert mirror_counts(killed) == mirror_counts(clean)


def test_the_integrity_check_sees_each_kind_of_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_parts(monkeypatch)
    now = datetime.now(UTC)
    forum = Forum(tmp_path, now)
    try:
        assert forum.bridge("sync").exit_code == 0
        db = tmp_path / "bridge.db"
        assert storecheck.problems(db, forum.sandbox.world) == []
        with sqlite3.connect(db) as conn:
            first = "(select min(id) from posts)"
            conn.execute(f"update posts set topic_id = 999999 where id = {first}")
            conn.execute("update cursors set value = '2999-01-01' where name = 'topics_bumped_at'")
            site, community = conn.execute("select site, community from cursors").fetchone()
            # Two replies recorded as one post that the forum does not have.
            for key in ("a", "b"):
                conn.execute(
                    "insert into ledger (site, community, key, kind, state, topic_id, post_id, "
                    "post_number) values (?, ?, ?, 'reply', 'done', 11, 999998, 1)",
                    (site, community, key),
                )
        found = storecheck.problems(db, forum.sandbox.world)
    finally:
        forum.close()
    assert [line.split(" : ")[0].split(" ")[0] for line in found] == [
        "messages",
        "curseur",
        "registre",
        "registre",
        "registre",
    ], found
