"""Keeping the toolbox, the cartography and the search index in step with the mirror.

After a sync pass saves topics, their entries are parsed again (pure parsing in `entries.py`)
and their search documents rewritten. Parse warnings are stored with the entry, for the
facilitators; members' content never makes this fail.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    sources = store.topic_sources(sorted(set(topic_ids)))
    with store.atomic():
        for source in sources:
            url = topic_url(store.site, source.slug, source.id)
            topic = TopicInput(
                topic_id=source.id,
                title=source.title,
                slug=source.slug,
                category_slug=source.category_slug,
                tags=source.tags,
                author=source.author,
                created_at=source.created_at,
                last_activity_at=source.bumped_at,
                reply_count=source.reply_count,
                like_count=source.like_count,
                first_post_raw=source.first_post_raw,
                url=url,
            )
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
                f"topic:{topic.topic_id}", kind, topic.topic_id, topic.title, body, url
            )
    return len(sources)
