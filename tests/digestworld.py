"""A small community week in an in-memory store, for the digest's tests (2025-W16, Sherbrooke).

Week 2025-W16 is Monday 14 April 00:00 EDT (04:00 UTC) to Monday 21 April 00:00 EDT.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bridge.config import Config, DigestConfig
from bridge.demo import demo_config
from bridge.drafts import Draft, DraftKind
from bridge.entries import CartographyCard, ToolboxEntry
from bridge.models import Category, GroupMember, Post, TopicSummary
from bridge.render import Renderer
from bridge.store import AnnouncementFields, Store

ROOT = Path(__file__).resolve().parents[1]
SITE = "https://passerelles.encommun.io"
COMMUNITY = "innovation-sociale-estrie"
BRIDGE = "animation-2ise"
# Just after the week, once a sync has run.
AFTER = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)


def at(day: int, hour: int = 12, month: int = 4) -> datetime:
    return datetime(2025, month, day, hour, 0, tzinfo=UTC)


def digest_config(**digest: Any) -> Config:
    config = demo_config(SITE, BRIDGE, "cle", Path("unused.db"))
    return replace(config, templates_dir=ROOT / "templates", digest=DigestConfig(**digest))


def renderer(config: Config) -> Renderer:
    return Renderer(
        config.templates_dir, locale=config.community.locale, timezone=config.community.timezone
    )


class Forum:
    """Writes a tiny forum into a store through its own save methods."""

    def __init__(self, store: Store):
        self.store = store
        self.next_post = 5000
        store.save_categories(
            [
                Category(
                    10, COMMUNITY, "Impact et innovation sociale en Estrie", None, 0, (11, 12)
                ),
                Category(11, "discussions", "Discussions", 10, 0, ()),
                Category(12, "bienvenue", "Bienvenue", 10, 0, ()),
                Category(3, "general", "Général", None, 0, ()),
            ]
        )
        self.people = {
            "marie": (1, "Marie Gagnon"),
            "sondes": (2, "Sondès Allal"),
            "julie": (3, "Julie Tremblay"),
            "kevin": (4, None),
            BRIDGE: (99, "Équipe d'animation 2isE"),
        }
        store.save_people([(i, u, n) for u, (i, n) in self.people.items() if n])
        self.posts: dict[int, list[Post]] = {}

    def topic(
        self, topic_id: int, title: str, author: str, when: datetime, raw: str, category: int = 11
    ) -> None:
        self.posts[topic_id] = []
        self.reply(topic_id, author, when, raw, category=category, title=title)

    def reply(
        self,
        topic_id: int,
        author: str,
        when: datetime,
        raw: str = "Merci !",
        *,
        category: int | None = None,
        title: str | None = None,
    ) -> None:
        user_id, name = self.people[author]
        posts = self.posts[topic_id]
        self.next_post += 1
        posts.append(
            Post(
                self.next_post,
                topic_id,
                len(posts) + 1,
                author,
                user_id,
                name,
                raw,
                "",
                when,
                when,
                None,
                0,
                0,
                False,
            )
        )
        first = posts[0]
        stored = self.store.topic_state(topic_id)
        self.store.save_topic(
            TopicSummary(
                id=topic_id,
                title=title or (stored.title if stored else ""),
                slug=f"sujet-{topic_id}",
                category_id=category or (stored.category_id if stored else 11),
                created_at=first.created_at,
                bumped_at=when,
                last_posted_at=when,
                posts_count=len(posts),
                reply_count=len(posts) - 1,
                like_count=0,
                views=1,
                pinned=False,
                closed=False,
                archived=False,
                visible=True,
                tags=(),
                last_poster_username=author,
            ),
            posts,
            when,
        )

    def joined(self, group: str, who: str, when: datetime) -> None:
        user_id, name = self.people[who]
        self.store.save_group_members(group, [GroupMember(user_id, who, name, when, None)])


def small_week(store: Store) -> Forum:
    """W15: Marie opens a topic. W16: Sondès answers it and opens one Marie answers in 20 h;
    Marie opens one nobody answers; Julie joins and introduces herself in the welcome thread
    the bridge opened; Kevin joins and says nothing; a tool and a card are added."""
    forum = Forum(store)
    forum.topic(100, "Financement des projets en milieu rural", "marie", at(10), "Des idées ?")
    forum.reply(100, "sondes", at(15, 9), "Le Fonds régional, voir https://exemple.ca")
    forum.topic(101, "Évaluer l'impact social", "sondes", at(14, 14), "Quels **outils** ?")
    forum.reply(101, "marie", at(15, 10), "La théorie du changement.")
    forum.topic(102, "Question sans réponse", "marie", at(16), "Qui connaît un local à Magog ?")
    forum.topic(103, "Bienvenue Julie", BRIDGE, at(17, 13), "Bienvenue !", category=12)
    forum.reply(103, "julie", at(17, 15), "Bonjour, je travaille à Sherbrooke.")
    forum.reply(100, BRIDGE, at(18), "Message de la passerelle, laissé de côté.")
    forum.joined("cdp-2ise", "marie", at(1, month=3))
    forum.joined("cdp-2ise", "sondes", at(1, month=3))
    forum.joined("cdp-2ise", "julie", at(16, 20))
    forum.joined("cdp-2ise", "kevin", at(18, 20))
    store.save_toolbox_entry(
        ToolboxEntry(
            topic_id=104,
            title="Guide d'évaluation participative",
            links=("https://x.ca",),
            description="",
            summary="",
            themes=("évaluation", "participation"),
            author="sondes",
            created_at=at(17),
            last_activity_at=at(17),
            reply_count=0,
            like_count=0,
            url=f"{SITE}/t/guide/104",
            warnings=(),
        )
    )
    store.save_card(
        CartographyCard(
            topic_id=105,
            title="Collectif Jeunesse engagée",
            organisation="Collectif",
            territory=None,
            territories=(),
            territory_raw=None,
            themes=("jeunesse",),
            website=None,
            contact=None,
            description=None,
            latitude=None,
            longitude=None,
            author="marie",
            created_at=at(18),
            last_activity_at=at(18),
            url=f"{SITE}/t/collectif/105",
            fields=(),
            warnings=("Champ obligatoire manquant : territoire",),
        )
    )
    announce(store, "webinaire-2025-05-01", "Webinaire : mesurer l'impact", at(1, 16, month=5), 200)
    announce(store, "rassemblement", "Rassemblement annuel", at(20, 16, month=6), 201)
    return forum


def announce(store: Store, job: str, title: str, start: datetime, topic_id: int) -> None:
    """A published announcement, as `bridge announce` leaves it in the store."""
    key = f"announce:{job}"
    store.save_announcements(
        [
            AnnouncementFields(
                job,
                "",
                "webinaire",
                title,
                start,
                start + timedelta(hours=1),
                None,
                None,
                None,
                False,
                key,
            )
        ],
        AFTER,
    )
    store.record_announcement(job, "", AFTER, published_hash="abc", published_starts_at=start)
    draft = Draft(key, DraftKind.TOPIC, raw="x", title=title, category="annonces")
    store.ledger_intend(draft, AFTER)
    store.ledger_done(key, AFTER, topic_id=topic_id, post_id=1, post_number=1)
