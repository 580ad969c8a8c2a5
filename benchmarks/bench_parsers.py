"""Whether reading a card or a toolbox entry takes time in proportion to what the member wrote.

    .venv/bin/python benchmarks/bench_parsers.py               # n = 20,000 characters
    .venv/bin/python benchmarks/bench_parsers.py --size 5000 --runs 3

Each shape of member content (many labelled lines, one very long line, deeply nested lists,
many links, many emoji, long runs of spaces or punctuation that a careless regex would try
again from every character, …) is built at n, 2n and 4n characters, then read by
`parse_card` and `parse_toolbox` (the fastest of `--runs` timings is kept). Reading is linear
when 4n takes about four times n: the benchmark fails (exit code 1) when a ratio t(4n)/t(n)
passes `LIMIT`, which leaves room for a noisy machine but not for a quadratic pattern (16).
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridge.entries import TopicInput, parse_card, parse_toolbox  # noqa: E402

LIMIT = 6.0
MIN_TIMING = 0.01
WHEN = datetime(2025, 4, 10, 14, 30, tzinfo=UTC)


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def _nested(size: int) -> str:
    # Markdown nests a list in the one above with two more spaces; markdown-it stops nesting at
    # its own limit, so deep lines are read as text: both are met.
    lines, depth = [], 0
    while sum(map(len, lines)) < size:
        lines.append("  " * (depth % 40) + f"- Territoire : Magog {depth}")
        depth += 1
    return "\n".join(lines)


# name → the member's Markdown of about `size` characters
SHAPES: dict[str, Callable[[int], str]] = {
    "many labelled lines": lambda n: _repeat(
        "**Organisme :** Coop Alpha\nTerritoire : Sherbrooke\nThématiques : a, b et c\n", n
    ),
    "one long line": lambda n: _repeat("Une coop de Sherbrooke, active à Magog ; ", n),
    "a table": lambda n: (
        "| Champ | Valeur |\n|---|---|\n" + _repeat("| Territoire | Sherbrooke |\n", n)
    ),
    "nested lists": _nested,
    "many links": lambda n: _repeat("Lien : [outil](https://x.ca/a) https://y.ca/b\n", n),
    "many emoji": lambda n: _repeat("📍👩‍👩‍👧🇨🇦 Territoire : Magog ", n),
    "run of spaces": lambda n: "Organisme" + " \u00a0\t" * (n // 3) + "x",
    "run of punctuation": lambda n: _repeat("*_-:|", n) + "!",
    "label, run of spaces, colon": lambda n: "Territoire" + " " * n + ": x",
    "unclosed html": lambda n: _repeat("<a ", n) + "href",
    "email and domain-like": lambda n: "a" * (n // 2) + "@" + _repeat("b.", n // 2) + "!",
    "coordinates words": lambda n: _repeat("lat 45,4 long -71,8 ", n),
    "headings": lambda n: _repeat("### Description\nUne coop.\n", n),
    "many closings": lambda n: "Une coop.\n" + _repeat("Merci !\n", n),
}


def topic(raw: str) -> TopicInput:
    return TopicInput(
        topic_id=1,
        title="Fiche",
        slug="fiche",
        category_slug="cartographie",
        tags=("logement",),
        author="julie.gagnon",
        created_at=WHEN,
        last_activity_at=WHEN,
        reply_count=0,
        like_count=0,
        first_post_raw=raw,
        url="https://passerelles.encommun.io/t/fiche/1",
    )


PARSERS: dict[str, Callable[[TopicInput], object]] = {
    "card": parse_card,
    "toolbox": parse_toolbox,
}


def _timed(parse: Callable[[TopicInput], object], t: TopicInput, loops: int) -> float:
    # The cycle collector is off while timing, as `timeit` does: its full passes come with the
    # number of objects alive, not with the post being read.
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        for _ in range(loops):
            parse(t)
        return (time.perf_counter() - started) / loops
    finally:
        gc.enable()


def seconds(parse: Callable[[TopicInput], object], texts: list[str], runs: int) -> list[float]:
    """Seconds per reading of each text: the fastest of `runs` rounds, the least disturbed by
    other work on the machine. Each round times every size in turn, so that a busy spell
    slows them alike rather than one size alone; a fast shape is read several times per
    timing so that a timing lasts at least MIN_TIMING."""
    topics = [topic(raw) for raw in texts]
    once = _timed(parse, topics[0], 1)  # also warms the caches (territory index, patterns)
    loops = max(1, math.ceil(MIN_TIMING / max(once, 1e-6)))
    best = [float("inf")] * len(topics)
    for _ in range(runs):
        for i, t in enumerate(topics):
            best[i] = min(best[i], _timed(parse, t, loops))
    return best


def measure(size: int, runs: int) -> list[tuple[str, str, list[float]]]:
    """(shape, parser, [seconds at n, 2n, 4n]) for every shape and parser."""
    rows = []
    for shape, build in SHAPES.items():
        texts = [build(size * k) for k in (1, 2, 4)]
        for name, parse in PARSERS.items():
            rows.append((shape, name, seconds(parse, texts, runs)))
    return rows


def too_slow(rows: list[tuple[str, str, list[float]]], limit: float = LIMIT) -> list[str]:
    """The shapes whose 4n / n ratio passes `limit`: super-linear reading."""
    return [
        f"{shape} ({name}): ×{times[2] / times[0]:.1f}"
        for shape, name, times in rows
        if times[2] / max(times[0], 1e-6) > limit
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=20_000, help="n, in characters")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    rows = measure(args.size, args.runs)
    n = args.size
    print(
        f"{'shape':<28} | {'parser':<7} | {n:>7} ch | {2 * n:>7} ch | {4 * n:>7} ch | 2n/n | 4n/n"
    )
    print(f"{'-' * 28}-|-{'-' * 7}-|-{'-' * 10}-|-{'-' * 10}-|-{'-' * 10}-|------|-----")
    for shape, name, times in rows:
        ms = [f"{t * 1000:>7.1f} ms" for t in times]
        print(
            f"{shape:<28} | {name:<7} | {' | '.join(ms)} | "
            f"{times[1] / times[0]:>4.1f} | {times[2] / times[0]:>4.1f}"
        )
    slow = too_slow(rows)
    if slow:
        print(f"\nNOT LINEAR (4n/n above {LIMIT:g}): " + "; ".join(slow))
        return 1
    print(f"\nlinear: every 4n/n ratio is under {LIMIT:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
