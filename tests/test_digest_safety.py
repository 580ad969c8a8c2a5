"""Nothing copied from members into the digest notifies anyone or breaks its layout.

Judged by the oracles of `tests/hostile.py`, independent of the neutraliser: markdown-it-py
(CommonMark with its table rule on) parses the digest rendered with hostile text and with plain
text in the same places, and the two must have the same blocks (no heading, list, table, quote
or code block opened by members' words), no raw HTML, no `@name` that Discourse would notify,
and no BBCode tag in the text as read. Right-to-left text and emoji stay.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import pytest
from digestworld import ROOT
from hostile import bbcode, blocks, hostile, html_tokens, mentions, texts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability import HOSTILE, Case, cases

from bridge.digest.plan import TEMPLATE
from bridge.digest.sample import sample_context
from bridge.membertext import plain_excerpt, safe_inline
from bridge.render import Renderer


def test_the_oracles_are_not_blind() -> None:
    bad = "[quote]x[/quote] @marie <b>x</b>\n\n# t\n\n- a\n\n| a | b |\n|---|---|\n"
    assert mentions(bad) == ["marie"]
    # Discourse's boundaries: `_` and emoji are punctuation to it, a letter is not.
    assert mentions("a_@marie 👍@julie info@x.ca `@code` [@lien](u)") == ["marie", "julie"]
    assert html_tokens(bad) == ["<b>", "</b>"]
    assert bbcode(bad) == ["[quote", "[/quote"]
    assert {"heading_open", "bullet_list_open", "table_open"} <= set(blocks(bad))


def digest_with(text: str) -> str:
    """The French digest with `text` as every member-written field of the sample week."""
    context = sample_context("CdP 2isE")
    for name in ("new_topics", "most_active", "waiting"):
        context[name] = [
            replace(
                t,
                title=safe_inline(text, 90),
                author=safe_inline(text, 40),
                excerpt=plain_excerpt(text, 140),
            )
            for t in context[name]
        ]
    context["toolbox"] = [
        replace(e, title=safe_inline(text, 90), themes=safe_inline(text, 60))
        for e in context["toolbox"]
    ]
    for name in ("cards", "cards_to_follow"):
        context[name] = [
            replace(
                c,
                title=safe_inline(text, 90),
                territory=safe_inline(text, 60),
                warnings=safe_inline(text, 140),
            )
            for c in context[name]
        ]
    context["new_members"] = [
        replace(m, name=safe_inline(text, 40)) for m in context["new_members"]
    ]
    context["coming_up"] = [replace(a, title=safe_inline(text, 90)) for a in context["coming_up"]]
    return RENDERER.render(TEMPLATE, **context)


RENDERER = Renderer(ROOT / "templates", locale="fr_CA", timezone="America/Toronto")
PLAIN = digest_with("Texte ordinaire")


@pytest.mark.parametrize("case", cases(HOSTILE, "hostile-digest"))
@pytest.mark.slow
@settings(
    max_examples=1000, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(text=hostile)
def test_member_text_in_the_digest_is_harmless(case: Case, text: str) -> None:
    out = digest_with(text)
    assert mentions(out) == []
    assert html_tokens(out) == []
    assert bbcode(out) == []
    # The same blocks as with ordinary words: nothing opened or closed by members' text (an
    # empty excerpt may leave an empty line inside its list item, which is not a new block).
    assert blocks(out) == blocks(PLAIN)


@pytest.mark.slow
@settings(max_examples=1000, derandomize=True, deadline=None)
@given(text=hostile, at_line_start=st.booleans())
def test_safe_text_anywhere_on_a_line(text: str, at_line_start: bool) -> None:
    """A facilitator may print a member's words at the start of a line: still one paragraph."""
    safe = safe_inline(text, 90)
    line = safe if at_line_start else f"- [{safe}](https://x.ca) — {safe}"
    markdown = f"Avant\n\n{line}\n\nAprès\n"
    expected = ["paragraph_open", "paragraph_close"] * 3
    if not at_line_start:
        expected = [
            "paragraph_open",
            "paragraph_close",
            "bullet_list_open",
            "list_item_open",
            "paragraph_open",
            "paragraph_close",
            "list_item_close",
            "bullet_list_close",
            "paragraph_open",
            "paragraph_close",
        ]
    if not safe:
        expected = ["paragraph_open", "paragraph_close"] * 2 if at_line_start else expected
    assert blocks(markdown) == expected
    assert mentions(markdown) == [] and html_tokens(markdown) == [] and bbcode(markdown) == []


@pytest.mark.slow
@settings(max_examples=1000, derandomize=True, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["مرحبا", "بالعالم", "שלום", "👩‍👩‍👧", "🇨🇦", "👍🏽", "Québec", "é"]),
        min_size=1,
        max_size=6,
    )
)
def test_right_to_left_text_and_emoji_are_kept(words: list[str]) -> None:
    text = " ".join(words)
    read = "".join(texts(digest_with(text)))
    for word in words:
        assert unicodedata.normalize("NFC", word) in read
