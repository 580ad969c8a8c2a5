"""Keeping the toolbox, the cartography and the search index in step with the mirror.

After a sync pass saves topics, their entries are parsed again (pure parsing in `entries.py`)
and their search documents rewritten. Parse warnings are stored with the entry, for the
facilitators; members' content never makes this fail.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from bridge.config import Config
from bridge.entries import TopicInput, parse_card, parse_toolbox
from bridge.store import Store
from bridge.territories import load_territories


def topic_url(site: str, slug: str, topic_id: int) -> str:
    return f"{site}/t/{slug}/{topic_id}"


def refresh_entries(store: Store, config: Config, topic_ids: Sequence[int]) -> int:
    """Re-parse the given topics into entries and search documents; return how many."""
    sub = config.community.subcategories
    territories = load_territories()
    rows = store.topics_with_first_post(sorted(set(topic_ids)))
    with store.atomic():
        for row in rows:
            url = topic_url(store.site, row["slug"], row["id"])
            topic = TopicInput(
                topic_id=row["id"],
                title=row["title"],
                slug=row["slug"],
                category_slug=row["category_slug"] or "",
                tags=tuple(_json_list(row["tags"])),
                author=row["author"] or "",
                created_at=datetime.fromisoformat(row["created_at"]),
                last_activity_at=datetime.fromisoformat(row["bumped_at"]),
                reply_count=row["reply_count"] or 0,
                like_count=row["like_count"] or 0,
                first_post_raw=row["first_post_raw"] or "",
                url=url,
            )
            kind = "sujet"
            if topic.category_slug == sub.toolbox:
                store.save_entry("toolbox_entries", asdict(parse_toolbox(topic)))
                kind = "outil"
            elif topic.category_slug == sub.cartography:
                card = parse_card(
                    topic,
                    labels=config.cartography.labels,
                    required=config.cartography.required,
                    territories=territories,
                )
                store.save_entry("cartography_cards", asdict(card))
                kind = "fiche"
            else:
                store.drop_entries([topic.topic_id])
            body = "\n\n".join([topic.first_post_raw, store.replies_text(topic.topic_id)])
            store.save_search_document(
                f"topic:{topic.topic_id}", kind, topic.topic_id, topic.title, body, url
            )
    return len(rows)


def _json_list(value: str | None) -> list[str]:
    return list(json.loads(value)) if value else []
