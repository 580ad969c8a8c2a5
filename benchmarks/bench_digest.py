"""What planning and rendering one weekly digest costs, from a big store and from a small one.

    .venv/bin/python benchmarks/bench_digest.py                   # 2,000 topics, 50,000 posts
    .venv/bin/python benchmarks/bench_digest.py --topics 200 --posts 5000 --runs 3

The stores are filled through the store's own save methods (as a sync would), with topics over
the past year in the watched category and its subcategories, replies scattered over them, 500
members joining through the year, and toolbox entries and cards. The digest is that of the last
complete week, planned and rendered `--runs` times (the median is shown); every query it sends
is then shown with SQLite's `EXPLAIN QUERY PLAN`, to check each one uses an index.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge.config import Config  # noqa: E402
from bridge.demo import demo_config  # noqa: E402
from bridge.digest.plan import build_digest  # noqa: E402
from bridge.digest.week import Week  # noqa: E402
from bridge.entries import CartographyCard, ToolboxEntry  # noqa: E402
from bridge.models import Category, GroupMember, Post, TopicSummary  # noqa: E402
from bridge.render import Renderer  # noqa: E402
from bridge.store import Store  # noqa: E402

NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)
SITE = "https://passerelles.encommun.io"
COMMUNITY = "innovation-sociale-estrie"
TARGET_S = 0.5
SUBCATEGORIES = {11: "discussions", 12: "boite-a-outils", 13: "cartographie", 14: "bienvenue"}


def fill(store: Store, topics: int, posts: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    store.save_categories(
        [Category(10, COMMUNITY, "CdP 2isE", None, 0, tuple(SUBCATEGORIES))]
        + [Category(i, slug, slug, 10, 0, ()) for i, slug in SUBCATEGORIES.items()]
    )
    people = [(i, f"membre{i:04d}", f"Membre {i}") for i in range(1, 501)]
    store.save_people(people)
    store.save_group_members(
        "cdp-2ise",
        [
            GroupMember(i, u, n, NOW - timedelta(days=rng.uniform(0, 365)), None)
            for i, u, n in people
        ],
    )
    starts = sorted(NOW - timedelta(days=rng.uniform(0.1, 365)) for _ in range(topics))
    replies = [0] * topics
    for _ in range(posts - topics):
        replies[rng.randrange(topics)] += 1
    post_id = 0
    with store.atomic():
        for number, (start, count) in enumerate(zip(starts, replies, strict=True)):
            topic_id = number + 1
            category = rng.choice([10, 11, 11, 11, 12, 13, 14])
            times = [start] + sorted(start + (NOW - start) * rng.random() for _ in range(count))
            rows = []
            for n, at in enumerate(times, start=1):
                post_id += 1
                user_id, username, name = rng.choice(people)
                raw = f"Message {n} du sujet {topic_id} : Merci pour ce partage, @membre0001 !"
                rows.append(
                    Post(
                        post_id,
                        topic_id,
                        n,
                        username,
                        user_id,
                        name,
                        raw,
                        "",
                        at,
                        at,
                        None,
                        0,
                        0,
                        False,
                    )
                )
            summary = TopicSummary(
                topic_id,
                f"Sujet {topic_id} : évaluation en Estrie",
                f"sujet-{topic_id}",
                category,
                start,
                times[-1],
                times[-1],
                len(rows),
                len(rows) - 1,
                0,
                10,
                False,
                False,
                False,
                True,
                (),
                rows[-1].username,
            )
            store.save_topic(summary, rows, NOW)
            if category in (12, 13):
                entry_fields: dict[str, Any] = dict(
                    topic_id=topic_id,
                    title=summary.title,
                    themes=("évaluation",),
                    author=rows[0].username,
                    created_at=start,
                    last_activity_at=times[-1],
                    url=f"{SITE}/t/{summary.slug}/{topic_id}",
                    warnings=(),
                )
                if category == 12:
                    store.save_toolbox_entry(
                        ToolboxEntry(
                            links=("https://x.ca",),
                            description="",
                            summary="",
                            reply_count=count,
                            like_count=0,
                            **entry_fields,
                        )
                    )
                else:
                    warnings = (
                        ("Champ obligatoire manquant : territoire",) if count % 5 == 0 else ()
                    )
                    store.save_card(
                        CartographyCard(
                            organisation="Organisme",
                            territory="Sherbrooke",
                            territories=(),
                            territory_raw=None,
                            website=None,
                            contact=None,
                            description=None,
                            latitude=None,
                            longitude=None,
                            fields=(),
                            **{**entry_fields, "warnings": warnings},
                        )
                    )
    run = store.run_started("sync", NOW)
    from bridge.store import RunStatus

    store.run_finished(run, NOW, RunStatus.OK)


def config() -> Config:
    base = demo_config(SITE, "animation-2ise", "cle", Path("unused.db"))
    return replace(base, templates_dir=ROOT / "templates")


def measure(store: Store, runs: int) -> tuple[float, str]:
    cfg = config()
    renderer = Renderer(cfg.templates_dir, locale="fr_CA", timezone="America/Toronto")
    week = Week.containing(NOW, cfg.community.tz).shifted(-1)
    times, markdown = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        markdown = build_digest(store, cfg, renderer, week, NOW).markdown
        times.append(time.perf_counter() - started)
    return statistics.median(times), markdown


def query_plans(store: Store) -> list[tuple[str, list[str]]]:
    """Each distinct query one digest sends, with SQLite's plan for it."""
    seen: list[tuple[str, Any]] = []
    store.db._tracer = lambda sql, params: seen.append((sql, params))  # type: ignore[attr-defined]
    cfg = config()
    renderer = Renderer(cfg.templates_dir, locale="fr_CA", timezone="America/Toronto")
    build_digest(store, cfg, renderer, Week.containing(NOW, cfg.community.tz).shifted(-1), NOW)
    store.db._tracer = None  # type: ignore[attr-defined]
    plans, shown = [], set()
    for sql, params in seen:
        if sql in shown or sql.lstrip().lower().startswith(("pragma", "explain")):
            continue
        shown.add(sql)
        rows = store.db.execute("explain query plan " + sql, params or {}).fetchall()
        plans.append((" ".join(sql.split()), [row[-1] for row in rows]))
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topics", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=50000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    results = []
    for topics, posts in ((50, 500), (args.topics, args.posts)):
        store = Store.memory(SITE, COMMUNITY)
        started = time.perf_counter()
        fill(store, topics, posts)
        filled = time.perf_counter() - started
        seconds, markdown = measure(store, args.runs)
        results.append((topics, posts, filled, seconds, len(markdown.splitlines()), store))

    print(f"{'store':>24} | {'filled in':>9} | {'plan + render (median)':>22} | lines")
    print(f"{'-' * 24}-|-{'-' * 9}-|-{'-' * 22}-|------")
    for topics, posts, filled, seconds, lines, _ in results:
        print(
            f"{topics:>6} topics, {posts:>6} posts | {filled:>7.1f} s | "
            f"{seconds * 1000:>19.1f} ms | {lines:>5}"
        )
    verdict = "OK" if results[-1][3] < TARGET_S else "TOO SLOW"
    print(f"\ntarget: under {TARGET_S * 1000:.0f} ms for the big store: {verdict}\n")

    print("EXPLAIN QUERY PLAN of each query of one digest (big store):")
    for sql, plan in query_plans(results[-1][5]):
        print(f"\n  {sql[:160]}{'…' if len(sql) > 160 else ''}")
        for step in plan:
            print(f"    - {step}")


if __name__ == "__main__":
    main()
