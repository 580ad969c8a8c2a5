"""HTML in a card, as Markdown: members paste cards from web pages and word processors.

Markdown reads a block opening with « <p> », « <div> » or « <ul> » as raw HTML up to the next
blank line, so the labels in it (« <p><strong>Territoire :</strong> Sherbrooke</p> ») would go
unseen. `html_as_markdown` rewrites such blocks line by line: paragraphs and headings on their
own, list items as Markdown items; text outside HTML blocks is left as it is. Pure and linear.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

# The same reading of blocks as bridge.cardtext's (CommonMark plus tables).
_MD = MarkdownIt("commonmark").enable("table")
_NEWLINE_RE = re.compile(r"\r\n?|\n")

# Block-level HTML tags in an HTML block: « <p><strong>Territoire :</strong> Sherbrooke</p> »
# is a paragraph, « <li>…</li> » a list item, « <h3>…</h3> » a heading. Inline tags (<b>, <a>)
# stay: the label and link readers know them.
_HTML_BLOCK_TAG_RE = re.compile(
    r"<(/?)(p|div|section|article|ul|ol|li|br|h[1-6]|table|tbody|thead|tr|td|th|span)\b[^<>]{0,300}>",
    re.I,
)


def html_as_markdown(raw: str) -> str:
    """The card with its HTML blocks as Markdown: each paragraph, heading and list item on its own.

    Markdown reads a block opening with « <p> » or « <div> » as raw HTML up to the next blank
    line, so labels in it would go unseen. Text outside HTML blocks is left as it is.
    """
    if "<" not in raw:
        return raw  # most cards: no second reading
    tokens = _MD.parse(raw)
    spans = [t.map for t in tokens if t.type == "html_block" and t.map]
    if not spans:
        return raw
    lines = _NEWLINE_RE.split(raw)
    for start, end in spans:
        for i in range(start, min(end, len(lines))):
            lines[i] = _html_line(lines[i])
    return "\n".join(lines)


def _html_line(line: str) -> str:
    ends_block = False

    def tag(m: re.Match[str]) -> str:
        nonlocal ends_block
        closing, name = m.group(1), m.group(2).lower()
        if name[0] == "h" and name[1:].isdigit():
            if closing:
                ends_block = True
                return ""
            return "#" * int(name[1:]) + " "
        if name == "li":
            return "" if closing else "- "
        if closing and name in ("p", "div", "section", "article", "ul", "ol", "table"):
            ends_block = True
        return ""

    text = _HTML_BLOCK_TAG_RE.sub(tag, line).strip()
    # A blank line after a closed paragraph or heading keeps the next one apart from it.
    return f"{text}\n" if ends_block and text else text
