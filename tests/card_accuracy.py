"""How well `parse_card` reads the cartography corpus, field by field, against a facilitator.

    .venv/bin/python -m tests.card_accuracy                  # the accuracy table (Markdown)
    .venv/bin/python -m tests.card_accuracy --failures       # and every card a field misses
    .venv/bin/python -m tests.card_accuracy --update-readme  # rewrite the README's table

The corpus is `tests/fixtures/cartography/cards-*.yaml` (its README says how each expected field
is read). Values are compared as a person would: names as written, themes without case or
accents and in any order, contact and description word by word without Markdown or HTML marks,
positions to three decimals (about 100 m).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from bridge.entries import CartographyCard, TopicInput, parse_card
from bridge.territories import fold_words

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "cartography"
README = ROOT / "README.md"
FIELDS = (
    "organisation",
    "territory",
    "territories",
    "themes",
    "website",
    "contact",
    "description",
    "coordinates",
)
THRESHOLD = 0.97
# The README's table sits between these two lines, so that it can be regenerated in place.
TABLE_START = "<!-- card-accuracy:start -->"
TABLE_END = "<!-- card-accuracy:end -->"

_WHEN = datetime(2025, 4, 17, tzinfo=UTC)
# An independent reading of Markdown for the comparison: the parser's own helpers would hide
# its mistakes.
_MD = MarkdownIt("commonmark").enable("table")
_TAG_RE = re.compile(r"<[^<>]{0,300}>")


@dataclass(frozen=True)
class Case:
    source: str  # file and position, to find the card again
    topic: TopicInput
    expect: dict[str, Any]


def load_corpus(directory: Path = CORPUS) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("cards-*.yaml")):
        for number, item in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")), 1):
            topic = TopicInput(
                topic_id=len(cases) + 1,
                title=item["title"],
                slug=f"fiche-{len(cases) + 1}",
                category_slug="cartographie",
                tags=tuple(item.get("tags") or ()),
                author="membre",
                created_at=_WHEN,
                last_activity_at=_WHEN,
                reply_count=0,
                like_count=0,
                first_post_raw=item["raw"],
                url=f"https://forum.invalid/t/{len(cases) + 1}",
            )
            cases.append(Case(f"{path.name} #{number}", topic, _expected(item["expect"])))
    return cases


def _expected(expect: dict[str, Any]) -> dict[str, Any]:
    territories = tuple(expect.get("territories") or ())
    coordinates = expect.get("coordinates")
    return {
        "organisation": expect.get("organisation"),
        "territory": expect.get("territory", territories[0] if territories else None),
        "territories": territories,
        "themes": tuple(expect.get("themes") or ()),
        "website": expect.get("website"),
        "contact": expect.get("contact"),
        "description": expect.get("description"),
        "coordinates": tuple(coordinates) if coordinates else None,
    }


def read(card: CartographyCard) -> dict[str, Any]:
    """The card's fields in the corpus's terms."""
    position = (
        (card.latitude, card.longitude)
        if card.latitude is not None and card.longitude is not None
        else None
    )
    return {
        "organisation": card.organisation,
        "territory": card.territory,
        "territories": card.territories,
        "themes": card.themes,
        "website": card.website,
        "contact": card.contact,
        "description": card.description,
        "coordinates": position,
    }


def comparable(field: str, value: Any) -> Any:
    """A value as the comparison sees it."""
    if value is None or value == () or value == "":
        return None
    if field == "organisation":
        return " ".join(str(value).split())
    if field == "territories":
        return tuple(value)
    if field == "themes":
        return tuple(sorted({fold_words(str(t)) for t in value}))
    if field == "website":
        return str(value).rstrip("/")
    if field in ("contact", "description"):
        return tuple(re.findall(r"\w+", _text_of(str(value)).casefold())) or None
    if field == "coordinates":
        return (round(float(value[0]), 3), round(float(value[1]), 3))
    return value


def _text_of(markdown: str) -> str:
    """The words a reader sees in Markdown: text and code, link texts, HTML without its tags."""
    parts: list[str] = []
    for token in _MD.parse(markdown):
        if token.type == "inline":
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
            parts.append("\n")
        elif token.type in ("fence", "code_block"):
            parts.append(token.content)
        elif token.type == "html_block":
            parts.append(_TAG_RE.sub(" ", token.content))
    return " ".join(parts)


@dataclass
class Score:
    right: dict[str, int]
    total: int
    misses: list[tuple[str, str, Any, Any]]  # card, field, expected, read

    def accuracy(self, field: str) -> float:
        return self.right[field] / self.total if self.total else 1.0


def score(cases: Sequence[Case]) -> Score:
    right = dict.fromkeys(FIELDS, 0)
    misses: list[tuple[str, str, Any, Any]] = []
    for case in cases:
        got = read(parse_card(case.topic))
        for field in FIELDS:
            if comparable(field, case.expect[field]) == comparable(field, got[field]):
                right[field] += 1
            else:
                misses.append((case.source, field, case.expect[field], got[field]))
    return Score(right, len(cases), misses)


_FIELD_NAMES_FR = {
    "organisation": "organisation",
    "territory": "territoire principal",
    "territories": "territoires",
    "themes": "thématiques",
    "website": "site web",
    "contact": "contact",
    "description": "description",
    "coordinates": "coordonnées GPS",
}


def table(result: Score) -> str:
    """The accuracy table, in French, as the README shows it."""
    lines = [
        f"| champ ({result.total} fiches) | justes | exactitude |",
        "|---|---:|---:|",
    ]
    for field in FIELDS:
        percent = f"{100 * result.accuracy(field):.1f}".replace(".", ",")
        lines.append(f"| {_FIELD_NAMES_FR[field]} | {result.right[field]} | {percent} % |")
    return "\n".join(lines)


def readme_table(text: str) -> str | None:
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        return None
    return text[start + len(TABLE_START) : end].strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--failures", action="store_true", help="list every field missed")
    parser.add_argument("--update-readme", action="store_true", help="rewrite README's table")
    args = parser.parse_args(argv)
    result = score(load_corpus())
    print(table(result))
    if args.failures:
        for source, field, expected, got in result.misses:
            print(f"\n{source} {field}\n  attendu : {expected!r}\n  lu      : {got!r}")
    if args.update_readme:
        text = README.read_text(encoding="utf-8")
        start, end = text.find(TABLE_START), text.find(TABLE_END)
        if start < 0 or end < start:
            print(f"README.md : repères {TABLE_START} / {TABLE_END} absents", file=sys.stderr)
            return 2
        between = f"{TABLE_START}\n{table(result)}\n"
        README.write_text(text[:start] + between + text[end:], encoding="utf-8")
    return 0 if all(result.accuracy(f) >= THRESHOLD for f in FIELDS) else 1


if __name__ == "__main__":
    sys.exit(main())
