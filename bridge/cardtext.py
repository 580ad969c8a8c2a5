"""Reading label: value fields out of a card's Markdown.

A card names its fields however the member wrote them: « **Territoire :** Sherbrooke », a bullet
list, a two-column table or a table with the labels in its header, « ### Territoire » headings,
or a label alone on its line with the value below, maybe after an emoji (« 📍 Territoire : ») or in
HTML bold (« <b>Territoire :</b> »). `read_fields` finds them all, matched against
the configured label aliases whatever the accents, case or plural, and keeps what is not a field
as free text. Pure: Markdown in, fields out; `bridge.entries` builds the card from them.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from markdown_it import MarkdownIt
from markdown_it.token import Token

from bridge.cardhtml import html_as_markdown
from bridge.cardprose import is_update_note
from bridge.territories import fold_words

# One parser for cards and toolbox entries: MarkdownIt holds configuration only, no per-document
# state. CommonMark (what Discourse's markdown-it follows) plus tables, which cards often use.
MD = MarkdownIt("commonmark").enable("table")

NEWLINE_RE = re.compile(r"\r\n?|\n")  # the line breaks markdown-it counts, so `map` lines agree
# Bullets Markdown does not know, typed or pasted from a word processor.
LOOSE_BULLET_RE = re.compile(r"^[•·▪◦‣●■➢➤✓✔→]\s*+")
# Runs of spaces, tabs and non-breaking spaces, as text pasted from a word processor has them.
_SPACE_RUN_RE = re.compile(r"[^\S\n]{2,}")
# A line longer than this is prose: it is never a label alone on its line.
_LABEL_LINE_MAX = 120
# After an unknown label, a value of this many words ending as a sentence is prose.
_SENTENCE_WORDS = 8


def inline_children(text: str) -> list[Token]:
    """The inline tokens of a line of Markdown."""
    tokens = MD.parseInline(text)
    return (tokens[0].children or []) if tokens else []


def plain_text(text: str) -> str:
    """The readable text of inline Markdown: no emphasis marks, links as their text."""
    parts: list[str] = []
    for child in inline_children(text):
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "\n".join(" ".join(line.split()) for line in "".join(parts).split("\n")).strip()


def tidy(text: str) -> str:
    """The text with at most one blank line in a row, and none at either end."""
    return re.sub(r"\n[ \t]*(?:\n[ \t]*)+\n", "\n\n", text).strip()


@dataclass
class _Line:
    """One source line as Markdown sees it: its inline text without block markup, and its block."""

    index: int
    text: str
    block: int
    group: int  # the top-level block holding it: a whole list, a quote, a paragraph
    kind: str  # "para", "item" (in a list item), "heading", "table", "rule", "other" (code, html)
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
        elif tok.type == "hr":
            lines.extend(_Line(j, "", block, group, "rule", j == start) for j in range(start, end))
        elif tok.type in ("fence", "code_block", "html_block"):
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


# The name `Labels.lookup` gives the fields a card may hold beyond its model (social networks,
# opening hours, founding year…): read as fields, so that they never end up in the description.
EXTRA = "extra"
# Words that open prose rather than a label (« Notre mission », « Nous offrons : »).
_PROSE_OPENERS = frozenset(
    {"notre", "nos", "votre", "vos", "nou", "vou", "on", "je", "il", "elle", "ce", "cette"}
)


class Labels:
    """The configured label aliases, matched whatever the accents, case, plural or extra words."""

    def __init__(self, labels: Mapping[str, Sequence[str]], extra: Sequence[str] = ()) -> None:
        self.exact: dict[tuple[str, ...], str] = {}
        self.aliases: list[tuple[tuple[str, ...], str]] = []
        for name, aliases in [*labels.items(), (EXTRA, extra)]:
            for alias in aliases:
                key = label_key(alias)
                if key:
                    self.exact.setdefault(key, name)
                    self.aliases.append((key, name))

    def lookup(self, label: str) -> tuple[str | None, bool]:
        """The field a label stands for, and whether it names it exactly."""
        key = label_key(label)
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

    def lookup_alone(self, label: str) -> str | None:
        """The field a label alone on its line names: exactly, or after a possessive (« Notre
        mission »); a field beyond the model (« Nos heures », « Pour nous suivre ») in any words.
        """
        key = label_key(label)
        if key in self.exact:
            return self.exact[key]
        if len(key) > 1 and key[0] in _PROSE_OPENERS and key[1:] in self.exact:
            return self.exact[key[1:]]
        # A few words (« Fondé en 2008. »), not a sentence: « Le Fonds vit des dons de la
        # communauté. » is prose.
        if len(key) > 4:
            return None
        name = self.lookup(label)[0]
        return name if name == EXTRA else None


def _field_like(label: str) -> bool:
    """Whether a label reads as a field's name (« Année de fondation ») rather than prose."""
    key = label_key(label)
    return 0 < len(key) <= 4 and key[0] not in _PROSE_OPENERS


def label_key(label: str) -> tuple[str, ...]:
    # « Thématique(s) », « Thèmes » and « thème » are one label: drop plural marks, then a
    # final s or x on longer words (on both sides, so odd singulars still agree).
    words = re.findall(r"\w+", re.sub(r"\((?:e?s|x|e)\)", "", fold_words(label)))
    return tuple(w[:-1] if len(w) > 3 and w[-1] in "sx" else w for w in words)


# « **Territoire :** », « **Territoire** : », « __Territoire__: », « _Territoire :_ »,
# « Territoire – ». Written so that no two neighbouring parts can take the same characters (the
# label never ends with a space, emphasis marks are one optional group, spaces are possessive):
# a long run of spaces cannot make the match backtrack without end.
_LABEL_RE = re.compile(
    r"^(?P<open>[*_]{0,3})\s*+(?P<label>[^\W\d_](?:[^:：*_\n]{0,58}?[^\s:：*_])??)\s*+"
    r"(?:(?P<close>[*_]{1,3})\s*+)?(?P<sep>[:：]|[–—-](?=\s))(?!//)"
    r"\s*+(?:(?P<close2>[*_]{1,3})\s*+)?(?P<value>.*)$"
)
# « **Territoire** », « Territoire : », « _Territoire :_ » alone on their line: the shortest label
# that leaves only spaces, colons and the closing marks, the label starting and ending on neither.
_EMPHASIS_ONLY_RE = re.compile(
    r"^(?P<open>[*_]{0,3})\s*+(?P<label>[^*_\s](?:[^*_]*?[^*_\s])??)"
    r"\s*+[:：]?\s*+(?P=open)\s*+[:：]?$"
)
# « <b>Territoire :</b> », « <strong>Territoire</strong> : »: HTML emphasis opening the line.
_HTML_EMPHASIS_RE = re.compile(r"<(b|strong|i|em)(?:\s[^<>]{0,200})?>", re.I)
_HTML_EMPHASIS_CLOSE = {
    tag: re.compile(rf"</{tag}\s*+>", re.I) for tag in ("b", "strong", "i", "em")
}
# A keycap emoji (« 1️⃣ »): a digit, maybe a variation selector, the enclosing keycap.
_KEYCAP_RE = re.compile(r"[0-9#*]\ufe0f?\u20e3")


class FieldMode(StrEnum):
    """How far a field's value reaches after its label."""

    LINE = "line"  # the rest of its paragraph
    GROUP = "group"  # the next block, or the whole list that follows
    SECTION = "section"  # everything up to the next label (descriptions, labels as headings)


@dataclass
class Field:
    """A label as read, the field it names (None when unknown) and the value it took."""

    label: str
    name: str | None
    index: int  # source line of the label
    block: int
    group: int
    mode: FieldMode
    texts: list[str]  # the value on the label's line, then each line taken, as inline Markdown
    last: int = -1
    taken_group: int | None = None
    table: bool = False
    value_md: str = ""

    def accepts(self, line: _Line) -> bool:
        if self.mode == FieldMode.SECTION or line.block == self.block:
            return True
        if self.mode == FieldMode.GROUP:
            if self.taken_group is None and not any(t.strip() for t in self.texts):
                self.taken_group = line.group
            return line.group == self.taken_group
        return False


@dataclass
class Reading:
    """A card's fields in order, the text outside them, and table rows left unread."""

    fields: list[Field] = field(default_factory=list)
    free_text: str = ""
    table_rows_left: int = 0
    heading: str | None = None  # a heading opening the card that is not a label: its name


def read_fields(raw: str, labels: Labels) -> Reading:
    """The labelled fields of a card, in order, and the free text around them."""
    raw = html_as_markdown(raw)
    source = NEWLINE_RE.split(raw)
    reading = Reading()
    used: set[int] = set()
    current: Field | None = None
    table_read = False
    for line in _lines(MD.parse(raw)):
        if line.kind == "rule" or (line.text and is_update_note(line.text)):
            # A thematic break or a « Mise à jour : … » note ends a field; a note is not text.
            current = None
            if line.kind != "rule":
                used.add(line.index)
            continue
        if line.kind == "table":
            current = None
            if line.first and line.rows is not None:
                pairs, left = _table_pairs(line.rows, labels)
                reading.table_rows_left += left
                table_read = bool(pairs)
                for label, value in pairs:
                    name = labels.lookup(label)[0]
                    reading.fields.append(
                        Field(
                            label,
                            name,
                            line.index,
                            line.block,
                            line.group,
                            FieldMode.LINE,
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
        elif line.kind == "heading" and not reading.fields and reading.heading is None:
            # « # Les Cuisines du Marais » above the fields names the card: not free text.
            reading.heading = plain_text(_without_pictograms(line.text.strip())) or None
            used.add(line.index)
            current = None
        elif line.kind == "heading" or current is None or not current.accepts(line):
            current = None  # an unknown heading or a new block ends the field: free text follows
        else:
            current.texts.append(line.text)
            # The lines since the last one taken (blank ones included): each line is added once,
            # or a long section would cost the square of its length.
            used.update(range(current.last + 1, line.index + 1))
            current.last = line.index
    for f in reading.fields:
        if f.table or f.mode == FieldMode.LINE:
            f.value_md = "\n".join(t.strip() for t in f.texts).strip()
        else:  # Markdown kept as written, lists and paragraphs included
            rest = textwrap.dedent("\n".join(source[f.index + 1 : f.last + 1]))
            f.value_md = tidy(f.texts[0].strip() + "\n" + rest)
    reading.free_text = tidy("\n".join(ln for i, ln in enumerate(source) if i not in used))
    return reading


def _open_field(line: _Line, current: Field | None, labels: Labels) -> Field | None:
    """The field this line opens if it is a label (« Territoire : … », « ### Territoire »)."""
    text = _label_text(line.text)
    m = _LABEL_RE.match(text)
    if m and (line.kind != "heading" or m.group("value").strip()):
        label, value = m.group("label").strip(), m.group("value").strip().rstrip("\\").strip()
        name, exact = labels.lookup(label)
        emphasised = bool(m.group("open") or m.group("close"))
        if m.group("open") and not (m.group("close") or m.group("close2")):
            value = value.removesuffix(m.group("open")).strip()  # « **Territoire : Sherbrooke** »
        if name is None and (not value or m.group("sep") not in ":：" or not _plausible(label)):
            return None
        if name is None and len(value.split()) >= _SENTENCE_WORDS and value.endswith((".", "!")):
            # « Entreprise d'insertion : des jeunes y apprennent le métier de cuisinier. » is a
            # sentence with a colon, not a field.
            return None
        # « Heures d'ouverture : 9 h à 17 h » in a paragraph of its own reads as a field, whatever
        # its label; « Notre mission : … » and « Nous offrons : … » read as prose.
        field_like = bool(value) and line.kind == "para" and line.first and _field_like(label)
        if (
            current is not None
            and current.name == "description"
            and current.mode == FieldMode.SECTION
            and not (exact or emphasised or field_like or name == EXTRA)
            and line.block != current.block
            and not (line.kind == "item" and line.group == current.group)
        ):
            # Prose or a list of services (« - Paniers : chaque jeudi ») stays in the
            # description; the next item of the list the description itself is in is a sibling.
            return None
        mode = (
            FieldMode.SECTION
            if name == "description"
            else FieldMode.LINE
            if value
            else FieldMode.GROUP
        )
        return Field(
            label, name, line.index, line.block, line.group, mode, [value], last=line.index
        )
    if len(text) > _LABEL_LINE_MAX:
        return None
    alone = _EMPHASIS_ONLY_RE.match(text)
    if alone is None or not (line.first or alone.group("open")):
        return None
    # Alone on its line, a label must be exact: « ## Organisme Alpha » is a title, not a label.
    name = labels.lookup_alone(alone.group("label"))
    if name is None:
        return None
    mode = FieldMode.SECTION if line.kind == "heading" or name == "description" else FieldMode.GROUP
    label = alone.group("label").strip()
    return Field(label, name, line.index, line.block, line.group, mode, [""], last=line.index)


def _label_text(text: str) -> str:
    """A line as labels are looked for in it: without a loose bullet, emoji or pictogram before
    the label, HTML emphasis as Markdown's, runs of spaces as one.

    « • 📍 Territoire : Sherbrooke » reads « Territoire : Sherbrooke », « <b>Organisme :</b> Alpha »
    reads « **Organisme :** Alpha ».
    """
    text = _SPACE_RUN_RE.sub(" ", LOOSE_BULLET_RE.sub("", text.strip()))
    text = _html_emphasis(_without_pictograms(text))
    marks = len(text) - len(text.lstrip("*_"))  # « **📍 Territoire :** »
    return text[:marks] + _without_pictograms(text[marks:])


def _without_pictograms(text: str) -> str:
    """The text without the emoji or pictograms opening it (« 📍 », « ✉️ », « 👉🏽 », « 1️⃣ »)."""
    i, seen = 0, False
    while i < len(text):
        keycap = _KEYCAP_RE.match(text, i)
        category = unicodedata.category(text[i])
        if keycap:
            i, seen = keycap.end(), True
        elif category in ("So", "Sk", "Cf"):  # symbols, skin tones, joiners and invisible marks
            i, seen = i + 1, True
        elif category in ("Mn", "Me") or text[i].isspace():  # variation selectors, spaces
            i += 1
        else:
            break
    return text[i:] if seen else text


def _html_emphasis(text: str, depth: int = 2) -> str:
    """« <b>Territoire :</b> … » as « **Territoire :** … »: HTML emphasis opening the line."""
    opening = _HTML_EMPHASIS_RE.match(text) if depth else None
    if opening is None:
        return text
    tag = opening.group(1).lower()
    closing = _HTML_EMPHASIS_CLOSE[tag].search(text, opening.end())
    if closing is None:
        return text
    mark = "**" if tag in ("b", "strong") else "*"
    # « <b><i>Territoire</i></b> »: one level inside, no more (« *** » is as far as marks go).
    inner = _html_emphasis(text[opening.end() : closing.start()], depth - 1)
    return f"{mark}{inner}{mark}{text[closing.end() :]}"


def _plausible(label: str) -> bool:
    # An unknown label is a few words, not a sentence nor an address.
    return (
        len(label) <= 40
        and len(label.split()) <= 4
        and not re.search(r"[!?\[\]()<>`/]|http", label)
    )


def _table_pairs(rows: list[list[str]], labels: Labels) -> tuple[list[tuple[str, str]], int]:
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
    return plain_text(cell).rstrip(" :：").strip()
