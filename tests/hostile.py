"""Members' words at their worst, and oracles that read a post as Discourse would.

Shared by the tests that check nothing the bridge posts notifies anyone, shows raw HTML or opens
a BBCode tag because of what a member wrote (`test_digest_safety`, `test_hostile_posts`). The
oracles are independent of the neutraliser (`bridge.membertext`, `bridge.render`): they parse
the post with markdown-it-py (CommonMark plus tables, as Discourse's markdown-it) and apply
Discourse's own rules to what it reads.
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

HOSTILE_PIECES = [
    "@marie.tremblay",
    "@here",
    "@cdp-2ise",
    "@_x",
    "a_@marie",
    "_@marie",
    "👍@marie",
    "@&#109;arie",
    "@\\_x",
    "*a*@marie",
    "&#64;admin",
    "&commat;tous",
    "<b>gras</b>",
    "<script>alert(1)</script>",
    "<!-- x -->",
    '<a href="https://x.ca">@marie</a>',
    "[quote]cité[/quote]",
    '[quote="marie, post:1, topic:2"]',
    "[poll type=regular]\n* a\n[/poll]",
    "[details=Résumé]x[/details]",
    "[date=2025-04-17 time=12:00:00]",
    "[wrap=toc]",
    "[b]gras[/b]",
    "[url=https://x.ca]lien[/url]",
    "[img]https://x.ca/i.png[/img]",
    "[email]a@x.ca[/email]",
    "[spoiler]x[/spoiler]",
    "[excerpt]x[/excerpt]",
    "# Titre",
    "## ",
    "- item",
    "* item",
    "+ item",
    "1. item",
    "2) item",
    "> cité",
    "| a | b |\n|---|---|",
    "---",
    "===",
    "```",
    "    code",
    "**gras**",
    "[lien](https://x.ca)",
    "![img](https://x.ca/i.png)",
    "\\",
    "\n",
    "\r\n",
    "\u202e",
    "\u2066",
    "\u200b",
    "مرحبا",
    "שלום",
    "👩‍👩‍👧",
    "🇨🇦",
    "é",
    "e\u0301",
    " ",
]
# Card and toolbox Markdown at its worst: labels, separators, lists, tables, links, coordinates,
# and the runs of spaces and marks a word processor pastes between them.
_CARD_PIECES = st.sampled_from(
    [
        "**",
        "__",
        "*",
        "_",
        "Territoire",
        "Description",
        "Organisation",
        "Coordonnées GPS",
        "Thématique(s)",
        "Site web",
        " : ",
        ":",
        " – ",
        "\n",
        "\n\n",
        "- ",
        "1. ",
        "• ",
        "| ",
        "|---|",
        "### ",
        "> ",
        "```",
        "    ",
        "\t",
        "\r",
        "\u00a0",
        "\u202f",
        "https://x.org/@45.4,-71.8",
        "<https://",
        "[a](",
        ")",
        "<",
        ">",
        "mailto:",
        "@",
        "45,4",
        "-71",
        "°",
        "lat",
        "long",
        "et",
        "Sherbrooke",
        "Val",
        "St",
        "\\",
        "!",
        "[",
        "]",
        "www.a.ca",
    ]
)
# Runs of spaces and marks as a word processor pastes them, between label words.
_RUNS = st.text(alphabet=" \u00a0\u202f\t*_:-|", max_size=2000)
_LABEL_WORDS = st.sampled_from(
    ["Territoire", "Organisme", "Site web", "Description", "Thématiques", "lat", "long", "x"]
)
card_text = st.one_of(
    st.text(),
    st.lists(st.one_of(_CARD_PIECES, st.text(max_size=4)), max_size=50).map("".join),
    st.lists(st.one_of(_LABEL_WORDS, _RUNS, _CARD_PIECES), max_size=12).map("".join),
)

hostile = st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=8)), max_size=8).map(
    "".join
)


def parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


def _inline_children(markdown: str) -> list[list[Token]]:
    return [t.children or [] for t in parser().parse(markdown) if t.type == "inline"]


def texts(markdown: str) -> list[str]:
    """The text people read, entities decoded once (as markdown-it does), outside code."""
    return [
        c.content for children in _inline_children(markdown) for c in children if c.type == "text"
    ]


# Discourse's username pattern after `@` (pretty-text engines/discourse-markdown/mentions.js,
# `mentionRegex`: `@(\w[\w.-]{0,58}[^\W_])|@(\w)`; Python's \w is Unicode, which covers the
# `unicode_usernames` variant as well).
_DISCOURSE_MENTION = re.compile(r"@(\w[\w.\-]{0,58}[^\W_])|@(\w)")


def _mention_boundary(char: str) -> bool:
    # discourse-markdown-it features/text-post-process.js `allowedBoundary`: white space or
    # punctuation (markdown-it's isPunctChar: Unicode P and S, so `_`, `/`, `@` and emoji are
    # boundaries). Anything but a letter, a digit or a mark counts here: slightly wider.
    return not (char.isalnum() or unicodedata.category(char).startswith("M"))


def mentions(markdown: str) -> list[str]:
    """The names Discourse would notify in this Markdown.

    Discourse looks for mentions in the text tokens of each paragraph, never inside a link (nor
    `<a>…</a>`), code, or an image's alt text (pretty-text text-replace.js `textReplace` with
    skipAllLinks), and only where the `@` follows a boundary within its text token (the start
    of the token is one). The character after the name is not checked here: wider again.
    """
    found = []
    for children in _inline_children(markdown):
        depth = 0
        for child in children:
            if child.type in ("link_open", "link_close"):
                depth += child.nesting
            elif child.type == "html_inline" and re.match(r"<a(\s.*)?>", child.content, re.I):
                depth += 1
            elif child.type == "html_inline" and child.content[:4].lower() == "</a>":
                depth -= 1
            elif child.type == "text" and depth <= 0:
                content = child.content
                for m in _DISCOURSE_MENTION.finditer(content):
                    if m.start() == 0 or _mention_boundary(content[m.start() - 1]):
                        found.append(m.group(1) or m.group(2))
    return found


def html_tokens(markdown: str) -> list[str]:
    """Raw HTML Discourse would render (its Markdown has `html: true`)."""
    found = []
    for token in parser().parse(markdown):
        if token.type == "html_block":
            found.append(token.content)
        for child in token.children or []:
            if child.type == "html_inline":
                found.append(child.content)
    return found


# discourse-markdown-it features/bbcode-block.js `parseBBCodeTag`: `[`, maybe `/`, then ASCII
# letters name the tag. The tags Discourse and its bundled plugins render: bbcode-inline.js (b,
# i, u, s, url, email, img, code), bbcode-block.js (code, excerpt), quotes (quote), details,
# poll, local dates (date, date-range), d-wrap (wrap), spoiler-alert, image-grid (grid), chat.
BBCODE = re.compile(
    r"\[/?(quote|poll|details|date|daterange|wrap|spoiler|code|img|url|email|excerpt|grid|chat"
    r"|b|i|u|s)(?![A-Za-z])",
    re.IGNORECASE,
)


def bbcode(markdown: str) -> list[str]:
    """BBCode tags in the text as Discourse's Markdown reads it (escapes applied)."""
    return [m.group(0) for t in texts(markdown) for m in BBCODE.finditer(t)]


def blocks(markdown: str) -> list[str]:
    return [t.type for t in parser().parse(markdown) if t.type != "inline"]


def assert_harmless(post: str, plain: str, *, welcomed: tuple[str, ...] = ()) -> None:
    """`post`, written with members' words, notifies no one, shows no HTML nor BBCode, beyond
    what the same post written with ordinary words (`plain`) does; a welcome may mention the
    members it welcomes (`welcomed`), and no one else."""
    assert sorted(mentions(post)) == sorted(mentions(plain)), mentions(post)
    assert set(mentions(post)) <= set(welcomed) | set(mentions(plain))
    assert html_tokens(post) == html_tokens(plain)
    assert bbcode(post) == bbcode(plain)
