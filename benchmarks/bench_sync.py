"""What `bridge sync` costs against a big sandboxed forum, beside a naive pydiscourse loop.

    .venv/bin/python benchmarks/bench_sync.py                 # 2,000 topics, 20,000 posts
    .venv/bin/python benchmarks/bench_sync.py --topics 200 --posts 2000 --json figures.json

Requests are the cost that matters (admin keys share about 60 a minute per site), so every pass
is counted by the sandbox, which logs each request it receives. The sandbox runs unpaced.

Three kinds of processes, so that each client's CPU time and memory are its own:

- the sandbox (`--serve`): `build_world` served on loopback; it also bumps topics on command;
- the client under test (`--bridge`, then `--naive`), each against a fresh sandbox with the same
  world and the same bumps: CPU is `time.process_time()` of that process alone, memory its peak
  resident size (`ru_maxrss`, interpreter and imports included);
- this orchestrator, which drives both over pipes (JSON lines) and prints the table.

The passes: the first sync, an idle sync (nothing changed, no sweep due), a sync after k = 10
and k = 100 topics were bumped (each gets one reply), and a forced sweep (`bridge sync --full`,
which also reads whole the topics active in the last 14 days, `sync.recheck_days`).
The naive loop re-reads everything on every pass: each list page, each topic's posts with raw
(20 a read), every member page, upserted with sqlite-utils.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)
WATCHED_ID = 10
GROUP = "cdp-2ise"
TOPICS_PER_PAGE, POSTS_PER_READ, MEMBERS_PER_PAGE = 30, 20, 50
RECHECK_DAYS = 14  # sync.recheck_days, by default
PASS_EVERY = timedelta(minutes=10)  # the bridge's clock between passes
CPU_LIMIT_MS, MEMORY_LIMIT_MB = 50.0, 150.0


@dataclass(frozen=True)
class Phase:
    name: str
    bump: int = 0
    full: bool = False


PHASES = (
    Phase("first sync"),
    Phase("idle sync"),
    Phase("k=10 bumped", bump=10),
    Phase("k=100 bumped", bump=100),
    Phase("sweep (--full)", full=True),
)


# --- plumbing: JSON lines over pipes -------------------------------------------------------------


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def commands() -> Iterator[dict[str, Any]]:
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "quit":
            return
        yield command


class Child:
    """A subprocess of this script, spoken to in JSON lines."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"child {self.process.args[2:]} ended: {self.process.wait()}")
        return dict(json.loads(line))

    def call(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
        self.process.stdin.close()
        self.process.wait(timeout=60)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


# --- the sandbox process -------------------------------------------------------------------------


def serve(topics: int, posts: int) -> None:
    from bridge.sandbox import Sandbox, build_world

    moment = [NOW]
    world = build_world(NOW, topics=topics, posts=posts)
    with Sandbox(world, now=lambda: moment[0]) as sandbox:
        send({"url": sandbox.url, "user": sandbox.api_username, "key": sandbox.api_key})
        for command in commands():
            op = command["op"]
            if op == "facts":
                send(_facts(world))
            elif op == "recheck":
                send(_recheck_facts(world, datetime.fromisoformat(command["at"])))
            elif op == "bump":
                chosen = random.Random(command["k"]).sample(_listed(world), command["k"])
                for topic in chosen:
                    moment[0] += timedelta(seconds=30)
                    world.add_reply(
                        topic.id, "membre0001", f"Une réponse de plus au sujet {topic.id}."
                    )
                send({"bumped": [t.id for t in chosen]})
            elif op == "reset":
                sandbox.reset_requests()
                send({})
            elif op == "count":
                send({"requests": len(sandbox.requests), "kinds": dict(sandbox.request_kinds())})


def _listed(world: Any) -> list[Any]:
    """The watched category's list: its topics and its subcategories' (not their "À propos")."""
    with world.lock:
        family = world.descendant_ids(WATCHED_ID)
        hidden = {
            c.topic_id for c in world.categories.values() if c.id != WATCHED_ID and c.topic_id
        }
        return sorted(
            (
                t
                for t in world.topics.values()
                if t.category_id in family
                and t.deleted_at is None
                and not t.is_private_message
                and t.id not in hidden
            ),
            key=lambda t: t.id,
        )


def _facts(world: Any) -> dict[str, Any]:
    listed = _listed(world)
    entry_ids = {world.category("boite-a-outils").id, world.category("cartographie").id}
    return {
        "topics": len(listed),
        # What people wrote: the mirror keeps no small action ("pinned the topic").
        "posts": sum(len(world.posts_written(t.id)) for t in listed),
        "list_pages": math.ceil(len(listed) / TOPICS_PER_PAGE),
        "post_reads": sum(math.ceil(len(world.posts_in(t.id)) / POSTS_PER_READ) for t in listed),
        "floated": sum(1 for t in listed if t.pinned and t.category_id == WATCHED_ID),
        "members": len(world.group(GROUP).members),
        "entries": sum(1 for t in listed if t.category_id in entry_ids),
        "unseen_authors": len(_unseen_authors(world, listed, entry_ids)),
    }


def _recheck_facts(world: Any, at: datetime) -> dict[str, Any]:
    """What a sweep at `at` reads besides the lists: every post of the topics active in the
    last RECHECK_DAYS days, the first posts of the other entries, and the unseen authors."""
    listed = _listed(world)
    entry_ids = {world.category("boite-a-outils").id, world.category("cartographie").id}
    since = at - timedelta(days=RECHECK_DAYS)
    recent = {t.id for t in listed if max(t.bumped_at, t.last_posted_at) >= since}
    return {
        "recent_topics": len(recent),
        "recheck_reads": sum(
            math.ceil(len(world.posts_in(i)) / POSTS_PER_READ) for i in sorted(recent)
        ),
        "old_entries": sum(1 for t in listed if t.category_id in entry_ids and t.id not in recent),
        "unseen_authors": len(_unseen_authors(world, listed, entry_ids, recent)),
    }


def _unseen_authors(
    world: Any, listed: list[Any], entry_ids: set[int], recent: set[int] | None = None
) -> set[str]:
    """Authors who are not members and whose name a sweep does not see otherwise (not a listed
    topic's last poster, not among the first 20 posts of an entry, not in a recent topic, read
    whole): one profile read each."""
    members = {m.user.id for m in world.group(GROUP).members.values()}
    posts = {t.id: (t, world.posts_written(t.id)) for t in listed}
    authors = {p.user.username for _, ps in posts.values() for p in ps if p.user.id not in members}
    last = {ps[-1].user.username for _, ps in posts.values() if ps}
    seen = {
        p.user.username for t, ps in posts.values() if t.category_id in entry_ids for p in ps[:20]
    }
    reread = {p.user.username for t, ps in posts.values() if t.id in (recent or ()) for p in ps}
    return authors - last - seen - reread


# --- the clients under test ----------------------------------------------------------------------


def bridge_client(url: str, user: str, key: str, store_path: str) -> None:
    from bridge.demo import demo_config
    from bridge.discourse import DiscourseClient
    from bridge.runs import run_sync
    from bridge.wiring import Parts

    moment = [NOW]
    config = demo_config(url, user, key, Path(store_path))
    client = DiscourseClient(url, user, key, requests_per_minute=0)
    parts = Parts.build(config, now=lambda: moment[0], client=client)
    send({})
    for command in commands():
        moment[0] += PASS_EVERY  # never 24 hours: the sweep only when forced

        def work(full: bool = bool(command["full"])) -> int:
            return run_sync(parts, full=full).requests

        figures = _measure(work)
        counts = parts.store.counts()
        figures["stored"] = [counts.topics, counts.posts]
        send(figures)


def naive_client(url: str, user: str, key: str, store_path: str) -> None:
    """What a first script would do: re-read the whole category on every pass."""
    from pydiscourse import DiscourseClient
    from sqlite_utils import Database

    api = DiscourseClient(url, user, key, timeout=30)
    db = Database(store_path)
    send({})
    for _ in commands():
        send(_measure(lambda: _naive_pass(api, db)))


def _naive_pass(api: Any, db: Any) -> int:
    requests = 0
    page = 0
    while True:
        # The category's canonical path: `/c/{id}.json` answers a redirect to it (a request more).
        listing = api._get(f"/c/innovation-sociale-estrie/{WATCHED_ID}.json", page=page)
        requests += 1
        topics = listing["topic_list"]["topics"]
        db["topics"].insert_all(
            (
                {k: t.get(k) for k in ("id", "title", "category_id", "bumped_at", "posts_count")}
                for t in topics
            ),
            pk="id",
            replace=True,
        )
        for topic in topics:
            chunk = api.topic_posts(topic["id"], include_raw=1)["post_stream"]["posts"]
            requests += 1
            posts = list(chunk)
            while len(chunk) == POSTS_PER_READ:
                chunk = api.topic_posts(
                    topic["id"], include_raw=1, post_number=chunk[-1]["post_number"], asc="true"
                )["post_stream"]["posts"]
                requests += 1
                posts += chunk
            db["posts"].insert_all(
                (
                    {
                        k: p.get(k)
                        for k in ("id", "topic_id", "post_number", "username", "raw", "cooked")
                    }
                    for p in posts
                ),
                pk="id",
                replace=True,
            )
        if not topics or not listing["topic_list"].get("more_topics_url"):
            break
        page += 1
    members = api.group_members(GROUP, limit=MEMBERS_PER_PAGE)
    requests += math.ceil(len(members) / MEMBERS_PER_PAGE) or 1
    db["members"].insert_all(
        ({k: m.get(k) for k in ("id", "username", "name", "added_at")} for m in members),
        pk="id",
        replace=True,
    )
    return requests


def _measure(work: Callable[[], int]) -> dict[str, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    requests = work()
    return {
        "client_requests": requests,
        "cpu": time.process_time() - cpu,
        "wall": time.perf_counter() - wall,
        "maxrss_mb": maxrss_mb(),
    }


# --- the orchestrator ----------------------------------------------------------------------------


def run_scenario(
    kind: str, topics: int, posts: int, folder: Path
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    sandbox = Child("--serve", str(topics), str(posts))
    try:
        site = sandbox.read()
        facts = sandbox.call(op="facts")
        client = Child(
            f"--{kind}", site["url"], site["user"], site["key"], str(folder / f"{kind}.db")
        )
        try:
            client.read()
            rows = []
            for number, phase in enumerate(PHASES, start=1):
                if phase.bump:
                    sandbox.call(op="bump", k=phase.bump)
                if phase.full:
                    at = NOW + number * PASS_EVERY  # the bridge's clock at this pass
                    facts.update(sandbox.call(op="recheck", at=at.isoformat()))
                sandbox.call(op="reset")
                figures = client.call(op="sync", full=phase.full)
                seen = sandbox.call(op="count")
                if figures["client_requests"] != seen["requests"]:
                    raise RuntimeError(f"{kind}, {phase.name}: {figures} vs {seen}")
                rows.append({"phase": phase.name, **figures, **seen})
        finally:
            client.close()
    finally:
        sandbox.close()
    return facts, rows


def target(phase: Phase, facts: dict[str, Any]) -> int:
    if phase.name == "first sync":
        return facts["list_pages"] + facts["post_reads"]
    if phase.name == "idle sync":
        return 2
    if phase.bump:
        return phase.bump + math.ceil((phase.bump + facts["floated"]) / TOPICS_PER_PAGE) + 2
    # The sweep's stated cost when nothing is missing from the lists: categories (the category
    # and its subcategories: 2), every list page, every member page, every post of the topics
    # active in the last 14 days, one read per other toolbox entry or card, one profile per
    # author who is not a member and whose name nothing else the sweep reads shows.
    return (
        2
        + facts["list_pages"]
        + math.ceil(facts["members"] / MEMBERS_PER_PAGE)
        + facts["recheck_reads"]
        + facts["old_entries"]
        + facts["unseen_authors"]
    )


def report(
    facts: dict[str, Any], bridge: list[dict[str, Any]], naive: list[dict[str, Any]]
) -> list[str]:
    lines = [
        f"World: {facts['topics']} listed topics, {facts['posts']} posts, {facts['members']} "
        f"members, {facts['entries']} toolbox entries and cards, {facts['floated']} pinned at "
        "the top. Sandbox unpaced, in its own process.",
        "",
        "| pass | bridge requests | target | naive requests | bridge CPU ms/request | "
        "naive CPU ms/request | bridge peak MB | naive peak MB | bridge s | naive s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for phase, b, n in zip(PHASES, bridge, naive, strict=True):
        goal = target(phase, facts)
        if phase.name == "first sync":
            counted = b["kinds"].get("list", 0) + b["kinds"].get("posts", 0)
            extra = b["requests"] - counted
            shown = f"{b['requests']} ({counted} + {extra})"
            goal_text = f"≤ {goal * 1.05:.0f} (bound {goal})"
            ok = counted <= 1.05 * goal
            verdicts.append(
                f"first sync: {counted} list pages and post reads for a lower bound of {goal} "
                f"({counted / goal:.3f}×), plus {b['kinds'].get('categories', 0)} categories read "
                f"and {b['kinds'].get('members', 0)} member pages: " + ("OK" if ok else "MISSED")
            )
        else:
            shown = str(b["requests"])
            goal_text = f"{'=' if phase.full else '≤'} {goal}"
            if phase.full:
                verdicts.append(
                    f"sweep: {facts['recent_topics']} topics active in the last {RECHECK_DAYS} "
                    f"days read whole ({facts['recheck_reads']} reads), "
                    f"{facts['old_entries']} other entries"
                )
            ok = b["requests"] == goal if phase.full else b["requests"] <= goal
            verdicts.append(
                f"{phase.name}: {b['requests']} for {goal_text}: " + ("OK" if ok else "MISSED")
            )
        lines.append(
            f"| {phase.name} | {shown} | {goal_text} | {n['requests']} | "
            f"{1000 * b['cpu'] / b['requests']:.1f} | {1000 * n['cpu'] / n['requests']:.1f} | "
            f"{b['maxrss_mb']:.0f} | {n['maxrss_mb']:.0f} | {b['wall']:.1f} | {n['wall']:.1f} |"
        )
    worst_cpu = max(1000 * b["cpu"] / b["requests"] for b in bridge)
    peak = max(b["maxrss_mb"] for b in bridge)
    verdicts.append(
        f"bridge CPU per request at most {worst_cpu:.1f} ms (limit {CPU_LIMIT_MS:.0f}): "
        + ("OK" if worst_cpu < CPU_LIMIT_MS else "MISSED")
    )
    verdicts.append(
        f"bridge peak memory {peak:.0f} MB (limit {MEMORY_LIMIT_MB:.0f}): "
        + ("OK" if peak < MEMORY_LIMIT_MB else "MISSED")
    )
    stored = bridge[0]["stored"]
    verdicts.append(
        f"mirror after the first sync: {stored[0]} topics, {stored[1]} posts "
        + ("(all of them)" if stored == [facts["topics"], facts["posts"]] else "(MISSING SOME)")
    )
    return lines + [""] + verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=2_000)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        facts, bridge = run_scenario("bridge", args.topics, args.posts, Path(tmp))
        facts_again, naive = run_scenario("naive", args.topics, args.posts, Path(tmp))
    assert facts == facts_again, "the two sandboxes differ"
    print("\n".join(report(facts, bridge, naive)))
    if args.json:
        args.json.write_text(
            json.dumps({"facts": facts, "bridge": bridge, "naive": naive}, indent=2),
            encoding="utf-8",
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--bridge":
        bridge_client(*sys.argv[2:6])
    elif len(sys.argv) > 1 and sys.argv[1] == "--naive":
        naive_client(*sys.argv[2:6])
    else:
        main()
