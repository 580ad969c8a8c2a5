"""The catalog: toolbox entries, cartography cards, and the full-text search index.

Entries come in and go out as the parser's own values (`ToolboxEntry`, `CartographyCard`), so
nothing outside the store sees a row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from bridge.entries import CartographyCard, ToolboxEntry, TopicInput
from bridge.models import topic_url
from bridge.store.base import StoreBase, iso, searchable

# Words French elides before a vowel: « l'Estrie », « qu'elle », « jusqu'à ».
_ELIDED = {"qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}
_TOOLBOX, _CARDS = "toolbox_entries", "cartography_cards"
E = TypeVar("E", ToolboxEntry, CartographyCard)


@dataclass(frozen=True)
class SearchHit:
    kind: str  # sujet, outil, fiche
    topic_id: int
    title: str
    url: str
    snippet: str


def _encode(entry: ToolboxEntry | CartographyCard) -> dict[str, Any]:
    """An entry as a row: lists and pairs as JSON text, times as UTC ISO text."""
    values: dict[str, Any] = {}
    for key, value in asdict(entry).items():
        if isinstance(value, list | tuple):
            value = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, datetime):
            value = iso(value)
        values[key] = value
    return values


def _decode(cls: type[E], row: dict[str, Any]) -> E:
    values: dict[str, Any] = {}
    for spec in fields(cls):
        value = row[spec.name]
        if spec.name in ("links", "themes", "territories", "warnings"):
            value = tuple(json.loads(value or "[]"))
        elif spec.name == "fields":
            value = tuple(tuple(pair) for pair in json.loads(value or "[]"))
        elif spec.name in ("created_at", "last_activity_at"):
            value = datetime.fromisoformat(value)
        values[spec.name] = value
    return cls(**values)


class CatalogMixin(StoreBase):
    # --- entries and search ------------------------------------------------------------------

    def topic_inputs(self, topic_ids: Sequence[int]) -> list[TopicInput]:
        """Live topics as the entry parsers read them: category slug, author, first post's raw
        Markdown, and the topic's address on the forum."""
        if not topic_ids:
            return []
        marks = ", ".join(str(int(i)) for i in topic_ids)
        rows = self.db.query(
            "select t.id, t.title, t.slug, t.tags, t.created_at, t.bumped_at, t.reply_count, "
            "t.like_count, c.slug as category_slug, p.id as first_post_id, "
            "p.raw as first_post_raw, "
            "p.username as author from topics t "
            "left join categories c on c.site = t.site and c.community = t.community "
            "and c.id = t.category_id "
            "left join posts p on p.site = t.site and p.community = t.community "
            "and p.topic_id = t.id and p.post_number = 1 and p.deleted = 0 and p.hidden = 0 "
            f"where t.site = :site and t.community = :community and t.id in ({marks}) "
            "and t.deleted = 0",
            self._scope,
        )
        return [
            TopicInput(
                topic_id=row["id"],
                title=row["title"],
                slug=row["slug"] or "",
                category_slug=row["category_slug"] or "",
                tags=tuple(json.loads(row["tags"] or "[]")),
                author=row["author"] or "",
                created_at=datetime.fromisoformat(row["created_at"]),
                last_activity_at=datetime.fromisoformat(row["bumped_at"]),
                reply_count=row["reply_count"] or 0,
                like_count=row["like_count"] or 0,
                first_post_raw=row["first_post_raw"] or "",
                url=topic_url(self.site, row["slug"] or "", row["id"]),
                first_post_shown=row["first_post_id"] is not None,
            )
            for row in rows
        ]

    def replies_text(self, topic_id: int) -> str:
        return "\n\n".join(
            r["raw"] or ""
            for r in self.db.query(
                f"select raw from posts where {self._WHERE} and topic_id = :t and deleted = 0 "
                "and hidden = 0 and post_number > 1 order by post_number",
                {**self._scope, "t": topic_id},
            )
        )

    def save_toolbox_entry(self, entry: ToolboxEntry) -> None:
        self._save_entry(_TOOLBOX, _CARDS, entry)

    def save_card(self, card: CartographyCard) -> None:
        self._save_entry(_CARDS, _TOOLBOX, card)

    def _save_entry(self, table: str, other: str, entry: ToolboxEntry | CartographyCard) -> None:
        # A topic moved between subcategories changes kind.
        self.db.execute(
            f"delete from [{other}] where {self._WHERE} and topic_id = :t",
            {**self._scope, "t": entry.topic_id},
        )
        self.db.table(table).upsert(
            {**self._scope, **_encode(entry)}, pk=("site", "community", "topic_id")
        )

    def drop_entries(self, topic_ids: Sequence[int]) -> None:
        """Forget these topics' entries and search documents (not toolbox nor cartography any
        more, or gone)."""
        for topic_id in topic_ids:
            params = {**self._scope, "t": topic_id}
            for table in (_TOOLBOX, _CARDS, "search_documents"):
                self.db.execute(
                    f"delete from [{table}] where {self._WHERE} and topic_id = :t", params
                )

    def save_search_document(
        self, doc_id: str, kind: str, topic_id: int, title: str, body: str, url: str
    ) -> None:
        """Index a document; its text is folded as queries are (see `searchable`)."""
        self.db.table("search_documents").upsert(
            {
                **self._scope,
                "doc_id": doc_id,
                "kind": kind,
                "topic_id": topic_id,
                "title": searchable(title),
                "body": searchable(body),
                "url": url,
            },
            pk=("site", "community", "doc_id"),
        )

    def toolbox_entries(self) -> list[ToolboxEntry]:
        """The toolbox, newest activity first."""
        return [_decode(ToolboxEntry, row) for row in self._entry_rows(_TOOLBOX)]

    def cards(self) -> list[CartographyCard]:
        """The cartography's cards, newest activity first."""
        return [_decode(CartographyCard, row) for row in self._entry_rows(_CARDS)]

    def _entry_rows(self, table: str) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                f"select * from [{table}] where {self._WHERE} order by last_activity_at desc",
                self._scope,
            )
        )

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Full-text search, each word matched as a prefix; accents and ligatures folded.

        The query is reduced to words, so FTS5's own syntax (quotes, AND, *, parentheses)
        never reaches the index; French elisions (« l'Estrie ») keep only the word.
        """
        words = [
            w
            for w in "".join(ch if ch.isalnum() else " " for ch in searchable(query)).split()
            if len(w) > 1 and w.lower() not in _ELIDED
        ]
        if not words:
            return []
        match = " ".join(f'"{w}"*' for w in words)
        rows = self.db.query(
            "select d.kind, d.topic_id, coalesce(t.title, d.title) as title, d.url, "
            "snippet(search_documents_fts, 1, '[', ']', '…', 12) as snippet "
            "from search_documents_fts join search_documents d "
            "on d.rowid = search_documents_fts.rowid "
            "left join topics t on t.site = d.site and t.community = d.community "
            "and t.id = d.topic_id "
            "where search_documents_fts match :match and d.site = :site "
            "and d.community = :community order by rank limit :limit",
            {**self._scope, "match": match, "limit": limit},
        )
        return [
            SearchHit(
                kind=row["kind"],
                topic_id=row["topic_id"],
                title=row["title"],
                url=row["url"],
                snippet=" ".join(row["snippet"].split()),
            )
            for row in rows
        ]
