"""Sample texts for `bridge check`: each welcome template rendered through every branch, in
French and (when its twin exists) English, so that a facilitator's mistake is found early."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.digest.items import EventItem
from bridge.errors import BridgeError
from bridge.render import MemberText, Renderer
from bridge.welcome.plan import (
    COLLECTIVE_TEMPLATE,
    FOLLOW_UP_TEMPLATE,
    TEMPLATE,
    Discussion,
    Newcomer,
)

SITE = "https://forum.exemple.ca"


def sample_context() -> dict[str, Any]:
    """Every variable the welcome templates receive (the README lists them)."""
    member = Newcomer("marie.gagnon", MemberText("Marie Gagnon"))
    return {
        "community": "CdP 2isE",
        "forum_url": SITE,
        "toolbox_url": f"{SITE}/c/boite-a-outils/11",
        "cartography_url": f"{SITE}/c/cartographie/12",
        "welcome_url": f"{SITE}/c/bienvenue/13",
        "add_card_url": f"{SITE}/new-topic?category_id=12",
        "guidelines_url": f"{SITE}/guidelines",
        "next_event": EventItem(MemberText("Webinaire"), f"{SITE}/t/w/4", "jeudi 15 mai 2025"),
        "member": member,
        "members": [member],
        "private": False,
        "discussions": [Discussion(MemberText("Financement"), f"{SITE}/t/f/5", 3)],
        "title": "Bienvenue",
    }


def welcome_problems(templates_dir: Path, timezone: str) -> list[str]:
    problems = []
    for locale in ("fr_CA", "en_CA"):
        renderer = Renderer(templates_dir, locale=locale, timezone=timezone)
        for name in (TEMPLATE, COLLECTIVE_TEMPLATE, FOLLOW_UP_TEMPLATE):
            if locale != "fr_CA" and renderer.template_name(name) == name:
                continue
            for private in (False, True):
                try:
                    renderer.render(name, **{**sample_context(), "private": private})
                except BridgeError as exc:
                    problems.append(str(exc))
    return list(dict.fromkeys(problems))  # the same mistake, found twice, said once
