"""The catalog: toolbox entries, cartography cards, and the full-text search index."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bridge.errors import StoreError
from bridge.store.base import StoreBase, iso, searchable

# Words French elides before a vowel: « l'Estrie », « qu'elle », « jusqu'à ».
_ELIDED = {"qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}


class CatalogMixin(StoreBase):
    # --- entries and search ------------------------------------------------------------------

    def topics_with_first_post(self, topic_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Live topics with their category slug, author and first post's raw Markdown."""
        if not topic_ids:
            return []
        marks = ", ".join(str(int(i)) for i in topic_ids)
        return list(
            self.db.query(
                "select t.*, c.slug as category_slug, p.raw as first_post_raw, "
                "p.username as author from topics t "
                "left join categories c on c.site = t.site and c.id = t.category_id "
                "left join posts p on p.site = t.site and p.topic_id = t.id "
                "and p.post_number = 1 and p.deleted = 0 "
                f"where t.site = :site and t.community = :community and t.id in ({marks}) "
                "and t.deleted = 0",
                self._scope,
            )
        )

    def replies_text(self, topic_id: int) -> str:
        return "\n\n".join(
            r["raw"] or ""
            for r in self.db.query(
                "select raw from posts where site = :site and topic_id = :t and deleted = 0 "
                "and post_number > 1 order by post_number",
                {"site": self.site, "t": topic_id},
            )
        )

    def save_entry(self, table: str, row: dict[str, Any]) -> None:
        """Save a parsed toolbox entry or card (lists and pairs stored as JSON)."""
        if table not in ("toolbox_entries", "cartography_cards"):
            raise StoreError(f"table d'entrées inconnue : {table}")
        other = "cartography_cards" if table == "toolbox_entries" else "toolbox_entries"
        values = {
            k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | tuple) else v
            for k, v in row.items()
        }
        for key, value in values.items():
            if isinstance(value, datetime):
                values[key] = iso(value)
        # A topic moved between subcategories changes kind.
        self.db.execute(
            f"delete from [{other}] where site = :site and topic_id = :t",
            {"site": self.site, "t": row["topic_id"]},
        )
        self.db.table(table).upsert({**self._scope, **values}, pk=("site", "topic_id"))

    def drop_entries(self, topic_ids: Sequence[int]) -> None:
        for topic_id in topic_ids:
            params = {"site": self.site, "t": topic_id}
            for table in ("toolbox_entries", "cartography_cards"):
                self.db.execute(
                    f"delete from [{table}] where site = :site and topic_id = :t", params
                )
            self.db.execute(
                "delete from search_documents where site = :site and topic_id = :t", params
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
            pk=("site", "doc_id"),
        )

    def entries(self, table: str) -> list[dict[str, Any]]:
        """Toolbox entries or cartography cards, JSON columns decoded, newest activity first."""
        if table not in ("toolbox_entries", "cartography_cards"):
            raise StoreError(f"table d'entrées inconnue : {table}")
        rows = []
        for row in self.db.query(
            f"select * from [{table}] where {self._WHERE} order by last_activity_at desc",
            self._scope,
        ):
            for key in ("themes", "warnings", "links", "territories", "fields"):
                if key in row and row[key] is not None:
                    row[key] = json.loads(row[key])
            rows.append(row)
        return rows

    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
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
            "left join topics t on t.site = d.site and t.id = d.topic_id "
            "where search_documents_fts match :match and d.site = :site "
            "and d.community = :community order by rank limit :limit",
            {**self._scope, "match": match, "limit": limit},
        )
        return [{**row, "snippet": " ".join(row["snippet"].split())} for row in rows]
