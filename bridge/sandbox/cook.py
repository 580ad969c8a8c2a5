"""A small Markdown-to-HTML "cooker", close enough to Discourse's `cooked` for the bridge.

It handles what members actually write in this community: paragraphs, line breaks, bullet lists,
headings, pipe tables, bold, inline code, links, bare URLs and @mentions. Anything else stays
escaped text. HTML comments are dropped, as Discourse's sanitizer drops them from cooked HTML
(the bridge's hidden markers therefore live only in `raw`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BLOCKS = re.compile(r"\n[ \t]*\n")
_BULLET = re.compile(r"^\s*[-*+]\s+")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
# One alternation, scanned left to right, so that a URL inside a link is not linked twice and a
# mention inside code is not a mention.
_INLINE = re.compile(
    r"`(?P<code>[^`]+)`"
    r"|\[(?P<label>[^\]]+)\]\((?P<href>[^)\s]+)\)"
    r"|(?P<url>https?://[^\s<>()]*[^\s<>().,;:!?»])"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|(?<![\w@/.])@(?P<mention>[\w][\w.-]*[\w]|[\w])"
)
_TAGS = re.compile(r"<[^>]+>")


def cook(raw: str, group_names: Collection[str] = ()) -> str:
    """Turn raw Markdown into HTML; `group_names` makes `@group` a group mention."""
    groups = {name.lower() for name in group_names}
    text = _COMMENT.sub("", raw).replace("\r\n", "\n").strip()
    if not text:
        return ""
    parts = [_block(block, groups) for block in _BLOCKS.split(text) if block.strip()]
    return "\n".join(parts)


def excerpt(cooked: str, limit: int = 220) -> str:
    """Discourse's topic excerpt: the first post's text without tags, cut with an ellipsis."""
    text = re.sub(r"\s+", " ", _TAGS.sub(" ", cooked)).strip()
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "&hellip;"


def _block(block: str, groups: set[str]) -> str:
    lines = [line.rstrip() for line in block.split("\n") if line.strip()]
    heading = _HEADING.match(lines[0])
    if heading and len(lines) == 1:
        level = len(heading.group(1))
        return f"<h{level}>{_inline(heading.group(2), groups)}</h{level}>"
    if all(_BULLET.match(line) for line in lines):
        items = "".join(f"<li>{_inline(_BULLET.sub('', line), groups)}</li>\n" for line in lines)
        return f"<ul>\n{items}</ul>"
    if len(lines) >= 2 and all(line.lstrip().startswith("|") for line in lines):
        return _table(lines, groups)
    return "<p>" + "<br>\n".join(_inline(line.strip(), groups) for line in lines) + "</p>"


def _table(lines: list[str], groups: set[str]) -> str:
    rows = [line for line in lines if not _TABLE_RULE.match(line)]

    def cells(line: str) -> list[str]:
        return [cell.strip() for cell in line.strip().strip("|").split("|")]

    head = "".join(f"<th>{_inline(c, groups)}</th>" for c in cells(rows[0]))
    body = "".join(
        "<tr>" + "".join(f"<td>{_inline(c, groups)}</td>" for c in cells(row)) + "</tr>\n"
        for row in rows[1:]
    )
    return (
        f'<div class="md-table">\n<table>\n<thead>\n<tr>{head}</tr>\n</thead>\n'
        f"<tbody>\n{body}</tbody>\n</table>\n</div>"
    )


def _inline(text: str, groups: set[str]) -> str:
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[position : match.start()], quote=False))
        position = match.end()
        if match.group("code") is not None:
            out.append(f"<code>{html.escape(match.group('code'), quote=False)}</code>")
        elif match.group("href") is not None:
            href = html.escape(match.group("href"))
            out.append(f'<a href="{href}">{html.escape(match.group("label"), quote=False)}</a>')
        elif match.group("url") is not None:
            url = html.escape(match.group("url"))
            out.append(f'<a href="{url}">{url}</a>')
        elif match.group("bold") is not None:
            out.append(f"<strong>{html.escape(match.group('bold'), quote=False)}</strong>")
        else:
            name = match.group("mention")
            if name.lower() in groups:
                out.append(f'<a class="mention-group" href="/groups/{name}">@{name}</a>')
            else:
                out.append(f'<a class="mention" href="/u/{name.lower()}">@{name}</a>')
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)
