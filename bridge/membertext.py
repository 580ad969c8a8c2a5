"""Members' words made safe to copy into a post the bridge writes.

A title, a name or an excerpt copied from the forum must not notify anyone nor change the
post's layout, wherever a facilitator's template prints it: on one line, with mentions
neutralised (`render.neutralise_mentions`), raw HTML, BBCode tags (`[quote]`, `[poll]`,
`[date=…]`, …), links and emphasis escaped, and nothing left that would open a heading, a list,
a quote or a table. What people read stays the same: accents, right-to-left scripts and emoji
pass through, and a right-to-left run is isolated so that it cannot reorder the line around it.
"""

from __future__ import annotations

import re
import unicodedata

from bridge.render import MemberText, neutralise_mentions

# Markdown's inline punctuation (emphasis, code, links, HTML, tables, strike-through), and `&`
# (an entity such as `&lt;b&gt;` would come back as markup), escaped with a backslash:
# CommonMark shows the character itself.
_ESCAPED = re.compile(r"([\\`*_\[\]<>|~&])")
# At the start of the text only: what would open a block if a template put it at a line's
# start (a list `-`, `+`, `1.`, `1)`, a setext underline `=`, a heading `#`; `>` and `*` are
# escaped everywhere already).
_BLOCK_START = re.compile(r"^(\d{1,9})([.)])|^([-+=#])")
# BBCode: Discourse parses `[tag]`, `[tag=…]` and `[/tag]`; a zero-width space after the
# bracket keeps the words and breaks the tag (the bracket is escaped as well).
_BBCODE = re.compile(r"\[(?=/?[A-Za-z])")
_ZWSP = "\u200b"
# Explicit direction controls (embeddings, overrides, isolates): dropped, since an unpaired
# one reorders everything after it; the text's own direction is kept by an isolate instead.
_BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]
)
_FSI, _PDI = "\u2068", "\u2069"
# Marks that belong to the character before them: a cut must not fall just before one.
_JOINERS = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}
# Markdown that starts where an excerpt is taken from: fences, images, HTML, tags, emphasis.
_CODE_BLOCK = re.compile(r"```.*?(```|$)|~~~.*?(~~~|$)", re.DOTALL)
_HTML_TAG = re.compile(r"<[^>\n]{0,200}>")
_BBCODE_TAG = re.compile(r"\[/?[A-Za-z][^\]\n]{0,200}\]")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_LINE_MARKS = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-+*]\s+|\d{1,9}[.)]\s+)", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|~~|`)")


def _is_rtl(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("R", "AL")


def one_line(text: str) -> str:
    """Text on one line: control and direction characters dropped, spaces collapsed."""
    text = unicodedata.normalize("NFC", text or "").translate(_BIDI_CONTROLS)
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
    )
    return " ".join(kept.split())


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with « … » when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    else:
        # One long word: do not split an emoji sequence or a letter from its accent.
        while cut and (
            cut[-1] in _JOINERS
            or text[len(cut)] in _JOINERS
            or unicodedata.combining(text[len(cut)])
        ):
            cut = cut[:-1]
    return cut.rstrip(" ,;:.-") + "…"


def safe_inline(text: str, limit: int | None = None) -> MemberText:
    """A member's text, safe to print anywhere in a line of Markdown (see the module's doc)."""
    line = one_line(text)
    if limit is not None:
        line = shorten(line, limit)
    line = neutralise_mentions(line)
    line = _BBCODE.sub("[" + _ZWSP, line)
    line = _ESCAPED.sub(r"\\\1", line)
    line = _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", line)
    if any(_is_rtl(ch) for ch in line):
        line = _FSI + line + _PDI
    return MemberText(line)


def plain_excerpt(raw: str, limit: int) -> MemberText:
    """The start of a post as plain text: code, HTML, BBCode, images and Markdown marks
    dropped, links reduced to their words; cut at a word boundary, then made safe."""
    text = _CODE_BLOCK.sub(" ", raw or "")
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _BBCODE_TAG.sub(" ", text)
    text = _LINE_MARKS.sub("", text)
    text = _EMPHASIS.sub("", text)
    return safe_inline(text, limit)
