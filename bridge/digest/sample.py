"""A sample week for `bridge check`: every list of the digest with one item, so that a template
a facilitator edited is rendered through every branch before any run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.digest.figures import Indicator
from bridge.digest.items import CardItem, EventItem, MemberItem, ToolItem, TopicItem
from bridge.render import MemberText

SITE = "https://forum.exemple.ca"


def sample_context(community: str) -> dict[str, Any]:
    """Every variable the digest templates receive (the README lists them), with sample values."""
    text = MemberText
    topic = TopicItem(
        title=text("Financement des projets collectifs"),
        url=f"{SITE}/t/financement/1",
        author=text("Marie Gagnon"),
        replies=2,
        participants=3,
        excerpt=text("Quels programmes connaissez-vous pour les projets en milieu rural…"),
        waiting_days=3,
    )
    indicator = Indicator("Personnes qui ont contribué", "12", "+2", "▁▂▃▄▅▆▇█")
    return {
        "community": community,
        "forum_url": SITE,
        "week": "2025-W16",
        "week_words": "semaine du 14 au 20 avril 2025",
        "week_start": datetime(2025, 4, 14, 4, tzinfo=UTC),
        "week_end": datetime(2025, 4, 21, 4, tzinfo=UTC),
        "title": f"{community} : résumé de la semaine du 14 au 20 avril 2025",
        "quiet": False,
        "new_topics": [topic],
        "most_active": [topic],
        "waiting": [topic],
        "toolbox": [
            ToolItem(
                text("Guide d'évaluation"), f"{SITE}/t/guide/2", text("Sondès"), text("évaluation")
            )
        ],
        "cards": [
            CardItem(
                text("Maison des jeunes"), f"{SITE}/t/mdj/3", text("Sherbrooke"), True, text("")
            )
        ],
        "cards_to_follow": [
            CardItem(
                text("Réseau d'entraide"),
                f"{SITE}/t/reseau/4",
                text(""),
                False,
                text("territoire manquant"),
            )
        ],
        "new_members": [MemberItem(text("Julie Tremblay"), True, False)],
        "coming_up": [
            EventItem(text("Webinaire"), f"{SITE}/t/webinaire/5", "jeudi 1er mai 2025 à 12 h 00")
        ],
        "indicators": [indicator],
    }
