"""Toolbox and cartography topics as structured entries: pure parsing of members' Markdown.

A toolbox topic (« boîte à outils ») shares a resource: its links, a description and its tags.
A cartography topic is a card describing an initiative (« Territoire : Sherbrooke »,
« Site web : … ») written as labelled lines, lists, a table or headings, in whatever shape the
member chose. Members' content is never an error here: what cannot be read becomes a short
French warning for the facilitators, and the entry is returned anyway. No HTTP, no SQL: topics
come in as plain values.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bridge.config import DEFAULT_CARD_LABELS, DEFAULT_CARD_REQUIRED
from bridge.territories import (
    Territory,
    find_territories,
    fold,
    in_estrie,
    load_territories,
    names_whole_region,
    parse_coordinates,
)

SUMMARY_LENGTH = 280

# Field names as facilitators read them in warnings.
FIELD_NAMES_FR = {
    "organisation": "organisation",
    "territory": "territoire",
    "themes": "thématiques",
    "website": "site web",
    "contact": "contact",
    "description": "description",
    "coordinates": "coordonnées GPS",
}

# One parser for the whole module: MarkdownIt holds configuration only, no per-document state.
# CommonMark (what Discourse's markdown-it follows) plus tables, which cards often use.
_MD = MarkdownIt("commonmark").enable("table")


@dataclass(frozen=True)
class TopicInput:
    """What the parsers need from a topic, as plain values (the HTTP layer builds it)."""

    topic_id: int
    title: str
    slug: str
    category_slug: str
    tags: tuple[str, ...]
    author: str
    created_at: datetime
    last_activity_at: datetime
    reply_count: int
    like_count: int
    first_post_raw: str
    url: str


@dataclass(frozen=True)
class ToolboxEntry:
    """A shared resource: its links, what the member wrote about it, and its tags as themes."""

    topic_id: int
    title: str
    links: tuple[str, ...]
    description: str
    summary: str
    themes: tuple[str, ...]
    author: str
    created_at: datetime
    last_activity_at: datetime
    reply_count: int
    like_count: int
    url: str
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class CartographyCard:
    """An initiative or organisation as its card describes it; `fields` keeps every label read."""

    topic_id: int
    title: str
    organisation: str | None
    territory: str | None
    territories: tuple[str, ...]
    territory_raw: str | None
    themes: tuple[str, ...]
    website: str | None
    contact: str | None
    description: str | None
    latitude: float | None
    longitude: float | None
    author: str
    created_at: datetime
    last_activity_at: datetime
    url: str
    fields: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]


# --- Markdown helpers ---------------------------------------------------------------------------

_NEWLINE_RE = re.compile(r"\r\n?|\n")  # the line breaks markdown-it counts, so `map` lines agree
_BARE_URL_RE = re.compile(r"https?://[^\s<>\"'`\[\]{}|\\^]+", re.I)
_HREF_RE = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']+)["']""", re.I)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.I)
_PHONE_RE = re.compile(r"\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}")
_ADDRESS_RE = re.compile(
    r"\b(?:rue|ch|chemin|boul|boulevard|av|avenue|route|rang|bureau|local|case postale)\b", re.I
)
_DOMAIN_RE = re.compile(
    r"(?<![@\w.])(?:www\.)?[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/\S*)?", re.I
)
_IMAGE_PATH_RE = re.compile(r"\.(?:png|jpe?g|gif|webp|svg|bmp|tiff?|heic|avif)$", re.I)
_MAP_URL_RE = re.compile(
    r"google\.[a-z.]+/maps|maps\.google\.|goo\.gl/maps|openstreetmap\.org", re.I
)
# Block markup at the start of a source line: quote markers, then a bullet or a list number.
_BLOCK_MARK_RE = re.compile(r"^(?:\s*>)*\s*(?:(?:[-*+•·▪◦‣●■➢➤✓✔]|\d{1,9}[.)])\s+)?")
# Bullets Markdown does not know, typed or pasted from a word processor.
_LOOSE_BULLET_RE = re.compile(r"^[•·▪◦‣●■➢➤✓✔→]\s*")


def _children(text: str) -> list[Token]:
    tokens = _MD.parseInline(text)
    return (tokens[0].children or []) if tokens else []


def _clean_url(url: str) -> str:
    # Sentence punctuation after a bare URL is not part of it; a closing parenthesis is, when
    # the URL opened one (Wikipedia-style addresses).
    url = url.rstrip(".,;:!?»*_'\"")
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1].rstrip(".,;:!?»")
    return url


def _links(children: Iterable[Token]) -> Iterator[str]:
    """http(s) addresses in inline tokens: Markdown links, autolinks, bare URLs, <a href>."""
    depth = 0
    for child in children:
        if child.type == "link_open":
            depth += 1
            href = str(child.attrs.get("href", ""))
            if href.lower().startswith(("http://", "https://")):
                yield href
        elif child.type == "link_close":
            depth = max(0, depth - 1)
        elif child.type == "text" and not depth:
            yield from (_clean_url(m.group()) for m in _BARE_URL_RE.finditer(child.content))
        elif child.type == "html_inline":
            yield from (m.group(1) for m in _HREF_RE.finditer(child.content))


def _plain(text: str) -> str:
    """The readable text of inline Markdown: no emphasis marks, links as their text."""
    parts: list[str] = []
    for child in _children(text):
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "\n".join(" ".join(line.split()) for line in "".join(parts).split("\n")).strip()


def _dedupe(items: Iterable[str], *, folded: bool) -> tuple[str, ...]:
    seen: set[str] = set()
    kept: list[str] = []
    for item in items:
        k = fold(item) if folded else item
        if item and k not in seen:
            seen.add(k)
            kept.append(item)
    return tuple(kept)


def _tidy(text: str) -> str:
    return re.sub(r"\n[ \t]*(?:\n[ \t]*)+\n", "\n\n", text).strip()


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"« {text if len(text) <= limit else text[: limit - 1] + '…'} »"


# --- toolbox ------------------------------------------------------------------------------------


def parse_toolbox(topic: TopicInput) -> ToolboxEntry:
    """The resource a toolbox topic shares: links in order, description without link-only lines."""
    raw = topic.first_post_raw or ""
    tokens = _MD.parse(raw)
    found = (url for tok in tokens if tok.type == "inline" for url in _links(tok.children or []))
    links = _dedupe((u for u in found if not _is_image(u)), folded=False)
    description = _without_link_lines(raw, tokens)
    warnings = []
    if not links:
        warnings.append("Aucun lien vers la ressource")
    if not description:
        warnings.append("Description absente")
    return ToolboxEntry(
        topic_id=topic.topic_id,
        title=topic.title,
        links=links,
        description=description,
        summary=_summary(description),
        themes=tuple(topic.tags),
        author=topic.author,
        created_at=topic.created_at,
        last_activity_at=topic.last_activity_at,
        reply_count=topic.reply_count,
        like_count=topic.like_count,
        url=topic.url,
        warnings=tuple(warnings),
    )


def _is_image(url: str) -> bool:
    return bool(_IMAGE_PATH_RE.search(urlsplit(url).path))


def _without_link_lines(raw: str, tokens: list[Token]) -> str:
    # Code blocks are quoted material, never judged as link lines.
    in_code = {
        i for t in tokens if t.type in ("fence", "code_block") and t.map for i in range(*t.map)
    }
    lines = _NEWLINE_RE.split(raw)
    return _tidy(
        "\n".join(ln for i, ln in enumerate(lines) if i in in_code or not _is_link_line(ln))
    )


def _is_link_line(line: str) -> bool:
    """A line holding only links, maybe after a short label (« Lien : https://… »)."""
    body = _BLOCK_MARK_RE.sub("", line, count=1)
    rest: list[str] = []
    has_link, depth = False, 0
    for child in _children(body):
        if child.type == "link_open":
            depth += 1
            has_link = True
        elif child.type == "link_close":
            depth = max(0, depth - 1)
        elif depth:
            continue
        elif child.type == "text":
            text, n = _BARE_URL_RE.subn("", child.content)
            has_link = has_link or n > 0
            rest.append(text)
        elif child.type == "image":
            rest.append("image")  # an illustration is content, not a link
        else:
            rest.append(child.content)
    leftover = " ".join("".join(rest).split())
    short_label = bool(re.fullmatch(r"[^\W\d_][^:：.!?]{0,40}[:：]\W*", leftover))
    return has_link and (not re.search(r"\w", leftover) or short_label)


def _summary(description: str) -> str:
    """Plain text of the description, cut at a word to SUMMARY_LENGTH characters."""
    parts = [
        _plain(tok.content) if tok.type == "inline" else tok.content
        for tok in _MD.parse(description)
        if tok.type in ("inline", "fence", "code_block")
    ]
    text = " ".join(" ".join(parts).split())
    if len(text) <= SUMMARY_LENGTH:
        return text
    cut = text[: SUMMARY_LENGTH - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.–-") + "…"


# --- cartography: reading labelled fields -------------------------------------------------------


@dataclass
class _Line:
    """One source line as Markdown sees it: its inline text without block markup, and its block."""

    index: int
    text: str
    block: int
    group: int  # the top-level block holding it: a whole list, a quote, a paragraph
    kind: str  # "para", "item" (in a list item), "heading", "table", "other" (code, rule, html)
    first: bool
    rows: list[list[str]] | None = None


def _lines(tokens: list[Token]) -> list[_Line]:
    lines: list[_Line] = []
    group = block = in_item = 0
    for i, tok in enumerate(tokens):
        if tok.level == 0 and tok.nesting != -1:
            group += 1
        if tok.type == "list_item_open":
            in_item += 1
        elif tok.type == "list_item_close":
            in_item -= 1
        if not tok.map or tok.nesting == -1 or tok.type in ("inline", "list_item_open"):
            continue
        start, end = tok.map
        block += 1
        if tok.type in ("paragraph_open", "heading_open") and i + 1 < len(tokens):
            texts = tokens[i + 1].content.split("\n")
            if tok.type == "heading_open":
                texts = [" ".join(texts)]
            kind = "heading" if tok.type == "heading_open" else "item" if in_item else "para"
            for k, text in enumerate(texts):
                lines.append(_Line(min(start + k, end - 1), text, block, group, kind, k == 0))
            lines.extend(
                _Line(j, "", block, group, "other", False) for j in range(start + len(texts), end)
            )
        elif tok.type == "table_open":
            rows = _table_rows(tokens, i)
            lines.extend(
                _Line(j, "", block, group, "table", j == start, rows) for j in range(start, end)
            )
        elif tok.type in ("fence", "code_block", "html_block", "hr"):
            lines.extend(_Line(j, "", block, group, "other", j == start) for j in range(start, end))
    return lines


def _table_rows(tokens: list[Token], start: int) -> list[list[str]]:
    rows: list[list[str]] = []
    for tok in tokens[start + 1 :]:
        if tok.type == "table_close":
            break
        if tok.type == "tr_open":
            rows.append([])
        elif tok.type == "inline" and rows:
            rows[-1].append(tok.content)
    return rows


class _Labels:
    """The configured label aliases, matched whatever the accents, case, plural or extra words."""

    def __init__(self, labels: Mapping[str, Sequence[str]]):
        self.exact: dict[tuple[str, ...], str] = {}
        self.aliases: list[tuple[tuple[str, ...], str]] = []
        for name, aliases in labels.items():
            for alias in aliases:
                key = _label_key(alias)
                if key:
                    self.exact.setdefault(key, name)
                    self.aliases.append((key, name))

    def lookup(self, label: str) -> tuple[str | None, bool]:
        """The field a label stands for, and whether it names it exactly."""
        key = _label_key(label)
        if key in self.exact:
            return self.exact[key], True
        # « Territoire desservi », « Site web de l'organisme »: the longest alias inside the
        # label wins, then the earliest (« Mission de l'organisme » is a description).
        best: tuple[tuple[int, int], str] | None = None
        for alias, name in self.aliases:
            for pos in range(len(key) - len(alias) + 1):
                if key[pos : pos + len(alias)] == alias:
                    rank = (len(alias), -pos)
                    if best is None or rank > best[0]:
                        best = (rank, name)
                    break
        return (best[1], False) if best else (None, False)


def _label_key(label: str) -> tuple[str, ...]:
    # « Thématique(s) », « Thèmes » and « thème » are one label: drop plural marks, then a
    # final s or x on longer words (on both sides, so odd singulars still agree).
    words = re.findall(r"\w+", re.sub(r"\((?:e?s|x|e)\)", "", fold(label)))
    return tuple(w[:-1] if len(w) > 3 and w[-1] in "sx" else w for w in words)


# « **Territoire :** », « **Territoire** : », « __Territoire__: », « _Territoire :_ »,
# « Territoire – »
_LABEL_RE = re.compile(
    r"^(?P<open>[*_]{0,3})\s*(?P<label>[^\W\d_][^:：*_\n]{0,59}?)\s*(?P<close>[*_]{0,3})\s*"
    r"(?P<sep>[:：]|[–—-](?=\s))(?!//)\s*(?P<close2>[*_]{0,3})\s*(?P<value>.*)$"
)
_EMPHASIS_ONLY_RE = re.compile(
    r"^(?P<open>[*_]{0,3})\s*(?P<label>[^*_]+?)\s*[:：]?\s*(?P=open)\s*[:：]?$"
)


@dataclass
class _Field:
    label: str
    name: str | None
    index: int  # source line of the label
    block: int
    group: int
    # "line": the rest of its paragraph; "group": the next block, or the whole list that follows;
    # "section": everything up to the next label (descriptions, and labels written as headings).
    mode: str
    texts: list[str]  # the value on the label's line, then each line taken, as inline Markdown
    last: int = -1
    taken_group: int | None = None
    table: bool = False
    value_md: str = ""

    def accepts(self, line: _Line) -> bool:
        if self.mode == "section" or line.block == self.block:
            return True
        if self.mode == "group":
            if self.taken_group is None and not any(t.strip() for t in self.texts):
                self.taken_group = line.group
            return line.group == self.taken_group
        return False


@dataclass
class _Reading:
    fields: list[_Field] = field(default_factory=list)
    free_text: str = ""
    table_rows_left: int = 0


def _read_fields(raw: str, labels: _Labels) -> _Reading:
    source = _NEWLINE_RE.split(raw)
    reading = _Reading()
    used: set[int] = set()
    current: _Field | None = None
    table_read = False
    for line in _lines(_MD.parse(raw)):
        if line.kind == "table":
            current = None
            if line.first and line.rows is not None:
                pairs, left = _table_pairs(line.rows, labels)
                reading.table_rows_left += left
                table_read = bool(pairs)
                for label, value in pairs:
                    name = labels.lookup(label)[0]
                    reading.fields.append(
                        _Field(
                            label,
                            name,
                            line.index,
                            line.block,
                            line.group,
                            "line",
                            [value],
                            table=True,
                        )
                    )
            if table_read:  # a table that is not a card (one column) stays in the free text
                used.add(line.index)
            continue
        opened = _open_field(line, current, labels) if line.kind != "other" else None
        if opened is not None:
            current = opened
            reading.fields.append(opened)
            used.add(line.index)
        elif line.kind == "heading" or current is None or not current.accepts(line):
            current = None  # an unknown heading or a new block ends the field: free text follows
        else:
            current.texts.append(line.text)
            current.last = line.index
            used.update(range(current.index, line.index + 1))
    for f in reading.fields:
        if f.table or f.mode == "line":
            f.value_md = "\n".join(t.strip() for t in f.texts).strip()
        else:  # Markdown kept as written, lists and paragraphs included
            rest = textwrap.dedent("\n".join(source[f.index + 1 : f.last + 1]))
            f.value_md = _tidy(f.texts[0].strip() + "\n" + rest)
    reading.free_text = _tidy("\n".join(ln for i, ln in enumerate(source) if i not in used))
    return reading


def _open_field(line: _Line, current: _Field | None, labels: _Labels) -> _Field | None:
    """The field this line opens if it is a label (« Territoire : … », « ### Territoire »)."""
    text = _LOOSE_BULLET_RE.sub("", line.text.strip())
    m = _LABEL_RE.match(text)
    if m and (line.kind != "heading" or m.group("value").strip()):
        label, value = m.group("label").strip(), m.group("value").strip().rstrip("\\").strip()
        name, exact = labels.lookup(label)
        emphasised = bool(m.group("open") or m.group("close"))
        if m.group("open") and not (m.group("close") or m.group("close2")):
            value = value.removesuffix(m.group("open")).strip()  # « **Territoire : Sherbrooke** »
        if name is None and (not value or m.group("sep") not in ":：" or not _plausible(label)):
            return None
        if (
            current is not None
            and current.name == "description"
            and current.mode == "section"
            and not (exact or emphasised or line.block == current.block)
            and not (line.kind == "item" and line.group == current.group)
        ):
            # Prose (« Notre mission : … ») or a list of services stays in the description;
            # the next item of the list the description itself is in is a sibling field.
            return None
        mode = "section" if name == "description" else "line" if value else "group"
        return _Field(
            label, name, line.index, line.block, line.group, mode, [value], last=line.index
        )
    alone = _EMPHASIS_ONLY_RE.match(text)
    if alone is None or not (line.first or alone.group("open")):
        return None
    # Alone on its line, a label must be exact: « ## Organisme Alpha » is a title, not a label.
    name, exact = labels.lookup(alone.group("label"))
    if name is None or not exact:
        return None
    mode = "section" if line.kind == "heading" or name == "description" else "group"
    label = alone.group("label").strip()
    return _Field(label, name, line.index, line.block, line.group, mode, [""], last=line.index)


def _plausible(label: str) -> bool:
    # An unknown label is a few words, not a sentence nor an address.
    return (
        len(label) <= 40
        and len(label.split()) <= 4
        and not re.search(r"[!?\[\]()<>`/]|http", label)
    )


def _table_pairs(rows: list[list[str]], labels: _Labels) -> tuple[list[tuple[str, str]], int]:
    """Label/value pairs of a card table, whichever way it is laid out; and rows not read."""
    if not rows or max(len(r) for r in rows) < 2:
        return [], 0
    header, body = rows[0], rows[1:]

    def name(cell: str) -> str | None:
        return labels.lookup(_cell_label(cell))[0]

    across = sum(1 for c in header if name(c))
    down = sum(1 for r in body if r and name(r[0]))
    if across >= 2 and across > down and body:  # labels in the header, values in the next row
        return [
            (_cell_label(h), v.strip())
            for h, v in zip(header, body[0], strict=False)
            if _cell_label(h)
        ], len(body) - 1
    # « | Champ | Valeur | »: the header is a caption, unless it already holds a field.
    rows = ([header] if name(header[0]) else []) + body
    return [
        (_cell_label(r[0]), " ".join(c.strip() for c in r[1:]).strip())
        for r in rows
        if _cell_label(r[0])
    ], 0


def _cell_label(cell: str) -> str:
    return _plain(cell).rstrip(" :：").strip()


# --- cartography: the card ----------------------------------------------------------------------

# Themes are listed with commas, semicolons, slashes, bullets, line breaks or « et ».
_THEME_SPLIT_RE = re.compile(r"\s*(?:[,;/|•·\n]|\bet\b)\s*", re.I)


def parse_card(
    topic: TopicInput,
    *,
    labels: Mapping[str, Sequence[str]] = DEFAULT_CARD_LABELS,
    required: Sequence[str] = DEFAULT_CARD_REQUIRED,
    territories: Sequence[Territory] | None = None,
) -> CartographyCard:
    """The card a cartography topic describes; never raises on what the member wrote.

    :param labels: field name → label aliases (config.yaml's ``cartography.labels``).
    :param territories: the territories to recognise (default: the packaged list of Estrie).
    """
    known = tuple(territories) if territories is not None else load_territories()
    raw = topic.first_post_raw or ""
    reading = _read_fields(raw, _Labels(labels))
    issues: list[str] = []
    values: dict[str, list[_Field]] = {}
    for f in reading.fields:
        if f.name is not None and f.value_md:
            values.setdefault(f.name, []).append(f)

    def plain(name: str) -> str | None:
        # One line per Markdown line, joined: « Sherbrooke\nMagog » reads « Sherbrooke, Magog ».
        first = values.get(name, [None])[0]
        if first is None:
            return None
        lines = (_plain(_LOOSE_BULLET_RE.sub("", t.strip())) for t in first.texts)
        return ", ".join(ln.strip(" ,;") for ln in lines if ln.strip(" ,;")) or None

    organisation = plain("organisation") or topic.title.strip() or None

    territory_raw = plain("territory")
    found = find_territories(territory_raw, known) if territory_raw else ()
    if territory_raw and not found and not names_whole_region(territory_raw):
        issues.append(f"Territoire non reconnu : {_quote(territory_raw)}")

    written = (_plain(t) for f in values.get("themes", []) for t in f.texts)
    parts = (p.strip(" .#-*") for text in written for p in _THEME_SPLIT_RE.split(text))
    themes = _dedupe([*parts, *topic.tags], folded=True)

    website = None
    if "website" in values:
        website = _website(values["website"][0].value_md)
        if website is None:
            issues.append(f"Site web illisible : {_quote(_plain(values['website'][0].value_md))}")

    contacts = [
        ", ".join(_plain(t) for t in f.texts if _plain(t)) for f in values.get("contact", [])
    ]
    contact = ", ".join(_dedupe(contacts, folded=True)) or None

    described = [f.value_md for f in values.get("description", [])]
    description = "\n\n".join(described) or reading.free_text or None

    position, contact_in_coordinates = _position(values, reading.fields, raw, issues)
    if contact is None:
        # « Coordonnées » also means address and phone in Québec French; else any email will do.
        email = _EMAIL_RE.search(raw)
        contact = contact_in_coordinates or (email.group() if email else None)

    present = {
        "organisation": organisation,
        "territory": territory_raw,
        "themes": themes,
        "website": "website" in values,
        "contact": contact,
        "description": description,
        "coordinates": position or "coordinates" in values,
    }
    missing = [
        f"Champ obligatoire manquant : {FIELD_NAMES_FR.get(name, name)}"
        for name in required
        if not present.get(name, name in values)
    ]
    if reading.table_rows_left:
        issues.append("Tableau à plusieurs lignes : seule la première ligne est lue")
    warnings = ["Fiche vide"] if not raw.strip() else missing + issues
    return CartographyCard(
        topic_id=topic.topic_id,
        title=topic.title,
        organisation=organisation,
        territory=found[0].name if found else None,
        territories=tuple(t.name for t in found),
        territory_raw=territory_raw,
        themes=themes,
        website=website,
        contact=contact,
        description=description,
        latitude=position[0] if position else None,
        longitude=position[1] if position else None,
        author=topic.author,
        created_at=topic.created_at,
        last_activity_at=topic.last_activity_at,
        url=topic.url,
        fields=tuple((f.label, f.value_md) for f in reading.fields),
        warnings=tuple(_dedupe(warnings, folded=False)),
    )


def _website(value_md: str) -> str | None:
    for tok in _MD.parse(value_md):
        for url in _links(tok.children or []) if tok.type == "inline" else ():
            return url
    domain = _DOMAIN_RE.search(_plain(value_md))
    return f"https://{_clean_url(domain.group())}" if domain else None


def _position(
    values: Mapping[str, list[_Field]], fields: Sequence[_Field], raw: str, issues: list[str]
) -> tuple[tuple[float, float] | None, str | None]:
    """The card's position, and the coordinates field's text when it holds contact details."""
    position: tuple[float, float] | None = None
    if "coordinates" in values:
        value = values["coordinates"][0].value_md
        position = parse_coordinates(value)
        if position is None:
            text = ", ".join(_plain(t) for t in values["coordinates"][0].texts if _plain(t))
            if _EMAIL_RE.search(text) or _PHONE_RE.search(text) or _ADDRESS_RE.search(text):
                return None, text
            issues.append(f"Coordonnées illisibles : {_quote(_plain(value))}")
    else:
        # « Latitude : 45.4 » and « Longitude : -71.89 » as two labels of their own.
        by_key = {_label_key(f.label): f.value_md for f in fields if f.name is None}
        lat = next((by_key[k] for k in (("latitude",), ("lat",)) if k in by_key), None)
        lon = next(
            (by_key[k] for k in (("longitude",), ("long",), ("lon",), ("lng",)) if k in by_key),
            None,
        )
        if lat is not None and lon is not None:
            position = parse_coordinates(f"lat {lat} long {lon}")
            if position is None:
                issues.append(f"Coordonnées illisibles : {_quote(f'{lat} ; {lon}')}")
        else:  # a map link anywhere in the card
            urls = (
                u for t in _MD.parse(raw) if t.type == "inline" for u in _links(t.children or [])
            )
            maps = (parse_coordinates(u) for u in urls if _MAP_URL_RE.search(u))
            position = next((p for p in maps if p is not None), None)
    if position is not None and not in_estrie(*position):
        issues.append(f"Coordonnées hors de l'Estrie : {position[0]:g}, {position[1]:g}")
    return position, None
