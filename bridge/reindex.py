"""Keeping the toolbox, the cartography and the search index in step with the mirror.

After a sync pass saves topics, their entries are parsed again (pure parsing in `entries.py`)
and their search documents rewritten. Parse warnings are stored with the entry, for the
facilitators; members' content never makes this fail.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.config import Config
from bridge.entries import parse_card, parse_toolbox
from bridge.store import Store
from bridge.territories import load_territories


def refresh_entries(store: Store, config: Config, topic_ids: Sequence[int]) -> int:
    """Re-parse the given topics into entries and search documents; return how many."""
    sub = config.community.subcategories
    territories = load_territories()
    topics = store.topic_inputs(sorted(set(topic_ids)))
    with store.atomic():
        for topic in topics:
            if not topic.first_post_shown:
                store.drop_entries([topic.topic_id])
                continue
            kind = "sujet"
            if topic.category_slug == sub.toolbox:
                store.save_toolbox_entry(parse_toolbox(topic))
                kind = "outil"
            elif topic.category_slug == sub.cartography:
                card = parse_card(
                    topic,
                    labels=config.cartography.labels,
                    required=config.cartography.required,
                    territories=territories,
                )
                store.save_card(card)
                kind = "fiche"
            else:
                store.drop_entries([topic.topic_id])
            body = "\n\n".join([topic.first_post_raw, store.replies_text(topic.topic_id)])
            store.save_search_document(
                f"topic:{topic.topic_id}", kind, topic.topic_id, topic.title, body, topic.url
            )
    return len(topics)
