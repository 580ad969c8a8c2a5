"""`build_world`: a big synthetic world for benchmarks, with the seed's category layout.

Topics are spread over the watched category and its subcategories across the past year, replies
are scattered over them (so some topics are long and need several post chunks), a few topics
are pinned, toolbox topics carry tags. Deterministic for a given `seed`.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from .seed import WATCHED, add_base_accounts, add_category_layout
from .world import World

_THEMES = (
    "évaluation",
    "financement",
    "gouvernance",
    "mobilisation",
    "jeunesse",
    "aînés",
    "sécurité alimentaire",
    "logement",
    "transport",
    "recherche-action",
)
_TAGS = ("evaluation", "financement", "gouvernance", "mobilisation")
_SENTENCES = (
    "Merci pour ce partage, c'est exactement ce qu'il nous fallait.",
    "Nous avons vécu une situation semblable l'an dernier à Sherbrooke.",
    "Est-ce que quelqu'un a déjà adapté cette démarche pour un petit organisme ?",
    "Je vous mets en lien avec la table de concertation de notre MRC.",
    "Le comité de pilotage en discutera à la prochaine rencontre.",
    "Voici un lien vers notre dernier rapport : https://exemple.ca/rapport.pdf",
    "On pourrait en faire le thème d'un prochain 5 à 7.",
    "Les bailleurs de fonds demandent de plus en plus ce genre d'indicateurs.",
)
# Where topics land: (category slug, weight).
_SPREAD = (
    ("discussions", 5),
    ("boite-a-outils", 2),
    ("cartographie", 2),
    ("annonces", 1),
    ("bienvenue", 1),
    (WATCHED, 1),
)


def build_world(now: datetime, *, topics: int, posts: int, seed: int = 0) -> World:
    """A world of about `topics` topics and `posts` posts (first posts included)."""
    rng = random.Random(seed)
    world = World(now)

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    with world.lock:
        add_base_accounts(world, ago)
        add_category_layout(world, ago)
        members = [
            world.add_member(f"membre{i:04d}", f"Membre {i}", ago(rng.uniform(0, 400))).username
            for i in range(max(20, min(500, topics // 5)))
        ]
        slugs = [slug for slug, weight in _SPREAD for _ in range(weight)]
        starts = sorted((rng.uniform(0.01, 365) for _ in range(topics)), reverse=True)
        reply_counts = [0] * topics
        for _ in range(max(0, posts - topics)):
            reply_counts[rng.randrange(topics)] += 1
        for number, (days, replies) in enumerate(zip(starts, reply_counts, strict=True)):
            slug = rng.choice(slugs)
            theme = rng.choice(_THEMES)
            tags = rng.sample(_TAGS, rng.randint(1, 2)) if slug == "boite-a-outils" else ()
            topic_id = world.add_topic(
                rng.choice(members),
                slug,
                f"Sujet {number + 1} : {theme} en Estrie",
                f"{rng.choice(_SENTENCES)} Thème : {theme}.\n\n{rng.choice(_SENTENCES)}",
                at=ago(days),
                tags=tags,
                views=rng.randint(5, 300),
            )
            for reply_days in sorted((rng.uniform(0, days) for _ in range(replies)), reverse=True):
                post_id = world.add_reply(
                    topic_id, rng.choice(members), rng.choice(_SENTENCES), at=ago(reply_days)
                )
                if rng.random() < 0.3:
                    world.like(post_id, rng.randint(1, 6))
            if number % 400 == 0:
                world.topics[topic_id].pinned_at = ago(days)
    return world
