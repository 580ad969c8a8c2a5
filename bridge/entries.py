"""Toolbox and cartography topics as structured entries: pure parsing of members' Markdown.

A toolbox topic (« boîte à outils ») shares a resource: its links, a description and its tags.
A cartography topic is a card describing an initiative (« Territoire : Sherbrooke »,
« Site web : … ») written as labelled lines, lists, a table or headings, in whatever shape the
member chose. Members' content is never an error here: what cannot be read becomes a short
French warning for the facilitators, and the entry is returned anyway. No HTTP, no SQL: topics
come in as plain values. Reading the labelled fields out of a card is `bridge.cardtext`'s part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from markdown_it.token import Token

from bridge.cardprose import description_text
from bridge.cardtext import (
    LOOSE_BULLET_RE,
    MD,
    NEWLINE_RE,
    Field,
    Labels,
    inline_children,
    label_key,
    plain_text,
    read_fields,
    tidy,
)
from bridge.config import DEFAULT_CARD_LABELS, DEFAULT_CARD_REQUIRED, DEFAULT_EXTRA_CARD_LABELS
from bridge.territories import (
    Territory,
    find_territories,
    fold_words,
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
    # False when the first post was withdrawn by its author or hidden by flags: then the topic
    # is no entry and no search document (`first_post_raw` is empty).
    first_post_shown: bool = True


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

# Each pattern below is searched through a whole card: none may try again from every character of
# a long run (« aaaa… », « a-a-a-… ») nor let two neighbouring parts take the same characters.
_BARE_URL_RE = re.compile(r"https?://[^\s<>\"'`\[\]{}|\\^]+", re.I)
_HREF_RE = re.compile(r"""<a\s[^<>]*?href\s*+=\s*+["']([^"']+)["']""", re.I)
# An address starts where its local part does, never inside it.
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.I)
_PHONE_RE = re.compile(r"\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}")
# A whole North American number, as a contact when the card has nothing better.
_PHONE_NUMBER_RE = re.compile(r"(?<!\d)(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\d)")
_ADDRESS_RE = re.compile(
    r"\b(?:rue|ch|chemin|boul|boulevard|av|avenue|route|rang|bureau|local|case postale)\b", re.I
)
# A domain starts where its word does (« info@mon-site.org » holds none; dashes before it are
# left out): a long « a-a-a-… » or « a.-a.-… » is tried once, not from each of its characters. Its
# labels start with a letter or digit and are at most 63 characters long, as in the DNS.
_DOMAIN_RE = re.compile(
    r"(?<![@\w.-])-*+(?P<domain>(?:www\.)?[a-z0-9][a-z0-9-]{0,62}"
    r"(?:\.[a-z0-9][a-z0-9-]{0,62})*\.[a-z]{2,63}(?:/\S*)?)",
    re.I,
)
_IMAGE_PATH_RE = re.compile(r"\.(?:png|jpe?g|gif|webp|svg|bmp|tiff?|heic|avif)$", re.I)
_MAP_URL_RE = re.compile(
    r"google\.[a-z.]{1,20}/maps|maps\.google\.|goo\.gl/maps|openstreetmap\.org", re.I
)
# Block markup at the start of a source line: quote markers, then a bullet or a list number.
_BLOCK_MARK_RE = re.compile(r"^(?:\s*>)*\s*(?:(?:[-*+•·▪◦‣●■➢➤✓✔]|\d{1,9}[.)])\s+)?")


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


def _dedupe(items: Iterable[str], *, folded: bool) -> tuple[str, ...]:
    seen: set[str] = set()
    kept: list[str] = []
    for item in items:
        k = fold_words(item) if folded else item
        if item and k not in seen:
            seen.add(k)
            kept.append(item)
    return tuple(kept)


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"« {text if len(text) <= limit else text[: limit - 1] + '…'} »"


# --- toolbox ------------------------------------------------------------------------------------


def parse_toolbox(topic: TopicInput) -> ToolboxEntry:
    """The resource a toolbox topic shares: links in order, description without link-only lines."""
    raw = topic.first_post_raw or ""
    tokens = MD.parse(raw)
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
    lines = NEWLINE_RE.split(raw)
    return tidy(
        "\n".join(ln for i, ln in enumerate(lines) if i in in_code or not _is_link_line(ln))
    )


def _is_link_line(line: str) -> bool:
    """A line holding only links, maybe after a short label (« Lien : https://… »)."""
    body = _BLOCK_MARK_RE.sub("", line, count=1)
    rest: list[str] = []
    has_link, depth = False, 0
    for child in inline_children(body):
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
        plain_text(tok.content) if tok.type == "inline" else tok.content
        for tok in MD.parse(description)
        if tok.type in ("inline", "fence", "code_block")
    ]
    text = " ".join(" ".join(parts).split())
    if len(text) <= SUMMARY_LENGTH:
        return text
    cut = text[: SUMMARY_LENGTH - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.–-") + "…"


# --- cartography: the card ----------------------------------------------------------------------

# Themes are listed with commas, semicolons, slashes, bullets, line breaks or « et ». The spaces
# around are trimmed from each part, not matched: a pattern starting with \s* would try again
# from every space of a long run.
_THEME_SPLIT_RE = re.compile(r"[,;/|•·\n]|\bet\b", re.I)
_THEME_TRIM = " .#-*\t\r\n\f\v\u00a0\u202f"


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
    reading = read_fields(raw, Labels(labels, DEFAULT_EXTRA_CARD_LABELS))
    issues: list[str] = []
    values: dict[str, list[Field]] = {}
    for f in reading.fields:
        if f.name is not None and f.value_md:
            values.setdefault(f.name, []).append(f)

    def plain(name: str) -> str | None:
        # One line per Markdown line, joined: « Sherbrooke\nMagog » reads « Sherbrooke, Magog ».
        first = values.get(name, [None])[0]
        if first is None:
            return None
        lines = (plain_text(LOOSE_BULLET_RE.sub("", t.strip())) for t in first.texts)
        # « Organisme\n: Partage » is a definition list: its colon opens the value.
        kept = (ln.strip(" ,;").lstrip(":：").strip() for ln in lines)
        return ", ".join(ln for ln in kept if ln) or None

    organisation = plain("organisation") or reading.heading or _title_name(topic.title)

    territory_raw = plain("territory")
    found = find_territories(territory_raw, known) if territory_raw else ()
    if territory_raw and not found and not names_whole_region(territory_raw):
        issues.append(f"Territoire non reconnu : {_quote(territory_raw)}")
    # A tag naming a territory (« memphremagog », « hsf ») says where, not what about.
    place_tags = [(tag, find_territories(tag, known)) for tag in topic.tags]
    found = tuple(dict.fromkeys([*found, *(t for _, named in place_tags for t in named)]))

    written = (plain_text(t) for f in values.get("themes", []) for t in f.texts)
    parts = (p.strip(_THEME_TRIM) for text in written for p in _THEME_SPLIT_RE.split(text))
    # The card's own themes first; its other tags only when it lists none.
    themes = _dedupe(parts, folded=True) or _dedupe(
        (tag for tag, named in place_tags if not named), folded=True
    )

    website = None
    if "website" in values:
        website = _website(values["website"][0].value_md)
        if website is None:
            issues.append(
                f"Site web illisible : {_quote(plain_text(values['website'][0].value_md))}"
            )

    contacts = [
        ", ".join(plain_text(t) for t in f.texts if plain_text(t))
        for f in values.get("contact", [])
    ]
    contact = ", ".join(_dedupe(contacts, folded=True)) or None

    described = [f.value_md for f in values.get("description", [])]
    names = [topic.title, organisation or ""]
    description = description_text("\n\n".join(described) or reading.free_text, names) or None

    position, contact_in_coordinates = _position(values, reading.fields, raw, issues)
    if contact is None:
        # « Coordonnées » also means address and phone in Québec French; else any email will do.
        email = _EMAIL_RE.search(raw) or _PHONE_NUMBER_RE.search(raw)
        contact = contact_in_coordinates or (email.group() if email else None)

    present = {
        "organisation": organisation,
        "territory": territory_raw or found,
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


# « Fiche – Coop Alpha », « Fiche : Coop Alpha », « [Cartographie] Coop Alpha »: the card's name
# is what follows.
_TITLE_PREFIX_RE = re.compile(r"^\s*(?:\[[^\]]{1,40}\]\s*|fiche\s*[:–—-]\s*)", re.I)


def _title_name(title: str) -> str | None:
    return _TITLE_PREFIX_RE.sub("", title, count=1).strip() or title.strip() or None


def _website(value_md: str) -> str | None:
    for tok in MD.parse(value_md):
        for url in _links(tok.children or []) if tok.type == "inline" else ():
            return url
    domain = _DOMAIN_RE.search(plain_text(value_md))
    return f"https://{_clean_url(domain.group('domain'))}" if domain else None


def _position(
    values: Mapping[str, list[Field]], fields: Sequence[Field], raw: str, issues: list[str]
) -> tuple[tuple[float, float] | None, str | None]:
    """The card's position, and the coordinates field's text when it holds contact details."""
    position: tuple[float, float] | None = None
    if "coordinates" in values:
        value = values["coordinates"][0].value_md
        position = parse_coordinates(value)
        if position is None:
            text = ", ".join(plain_text(t) for t in values["coordinates"][0].texts if plain_text(t))
            if _EMAIL_RE.search(text) or _PHONE_RE.search(text) or _ADDRESS_RE.search(text):
                return None, text
            issues.append(f"Coordonnées illisibles : {_quote(plain_text(value))}")
    else:
        # « Latitude : 45.4 » and « Longitude : -71.89 » as two labels of their own.
        by_key = {label_key(f.label): f.value_md for f in fields if f.name is None}
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
                u for t in MD.parse(raw) if t.type == "inline" for u in _links(t.children or [])
            )
            maps = (parse_coordinates(u) for u in urls if _MAP_URL_RE.search(u))
            position = next((p for p in maps if p is not None), None)
    if position is not None and not in_estrie(*position):
        issues.append(f"Coordonnées hors de l'Estrie : {position[0]:g}, {position[1]:g}")
    return position, None
