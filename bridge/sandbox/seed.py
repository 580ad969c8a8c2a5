"""The French seed world: the CdP 2isE's corner of En Commun, a few weeks into its life.

Every date is relative to `now`, so the same seed always has "2-3 members who joined this
week", "a discussion bumped yesterday", and so on, whatever day the demo or test runs.

- Categories: `uncategorized` (1), `general` (2, unrelated), `site-feedback` (3), and the
  watched `innovation-sociale-estrie` (10) with `boite-a-outils` (11), `cartographie` (12),
  `bienvenue` (13), `annonces` (14), `discussions` (15). Each has its "À propos" topic.
- Groups: `cdp-2ise` (12 members, 3 of them joined in the last 7 days), `animation-2ise`
  (the bridge account, a moderator, and the facilitators Catherine Lafleur, Stéphane Dubuc).
- The staff key `sandbox-staff-key` belongs to `animation-2ise`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import datetime, timedelta

from .seed_entries import CARDS, TOOLBOX, Entry
from .world import World

STAFF_USERNAME = "animation-2ise"
STAFF_KEY = "sandbox-staff-key"
WATCHED = "innovation-sociale-estrie"

# (username, name, joined days ago, bio, location)
MEMBERS: tuple[tuple[str, str, float, str, str], ...] = (
    ("audrey.demars", "Audrey Demars", 56, "Conseillère en développement social.", "Sherbrooke"),
    ("dfoley", "David Foley", 56, "Agent de mobilisation des communautés.", "Coaticook"),
    (
        "yves_parent",
        "Yves Parent",
        55,
        "Coordonnateur d'une table en sécurité alimentaire.",
        "Richmond",
    ),
    (
        "melyssa.mongeau",
        "Mélyssa Mongeau",
        55,
        "Chargée de projets en évaluation d'impact.",
        "Magog",
    ),
    ("pphen", "Philippe Phen", 53, "Conseiller en financement de projets collectifs.", "Granby"),
    ("sondes.allal", "Sondès Allal", 49, "Chercheuse en innovation sociale.", "Sherbrooke"),
    (
        "vnault",
        "Véronique Nault",
        42,
        "Directrice d'une table de développement social.",
        "Lac-Mégantic",
    ),
    ("mgagnon", "Marie Gagnon", 35, "Intervenante de milieu.", "East Angus"),
    ("jmorissette", "Jordan Morissette", 28, "", ""),
    ("julie.tremblay", "Julie Tremblay", 6, "Agente de développement rural.", "Val-des-Sources"),
    ("kevin_bouchard", "Kevin Bouchard", 3, "Entrepreneur social.", "Sherbrooke"),
    ("nadia.ouellet", "Nadia Ouellet", 0.3, "", ""),
)

SUBCATEGORIES = (
    (
        "Boîte à outils",
        "boite-a-outils",
        "Partagez les outils qui vous servent : grilles, "
        "gabarits, guides. Un sujet par outil, avec le lien, une description et des étiquettes.",
    ),
    (
        "Cartographie",
        "cartographie",
        "Une fiche par initiative ou organisation de l'Estrie : "
        "organisme, territoire (MRC), thématiques, site web, contact.",
    ),
    ("Bienvenue", "bienvenue", "Présentez-vous ! Les nouveaux membres sont accueillis ici."),
    (
        "Annonces",
        "annonces",
        "Webinaires, 5 à 7, rassemblement annuel : les annonces du comité de pilotage.",
    ),
    ("Discussions", "discussions", "Questions, enjeux communs, retours d'expérience."),
)

FONCTIONNEMENT = (
    "Bienvenue dans l'espace de la CdP 2isE !\n\n"
    "Quelques repères pour bien démarrer :\n\n"
    "- **Boîte à outils** : un sujet par outil, avec le lien, une courte description et des "
    "étiquettes (evaluation, financement, gouvernance, mobilisation).\n"
    "- **Cartographie** : une fiche par initiative ou organisation (organisme, territoire, "
    "thématiques, site web, contact).\n"
    "- **Discussions** : vos questions et vos retours d'expérience.\n"
    "- **Annonces** : les webinaires, les 5 à 7 et le rassemblement annuel.\n\n"
    "L'équipe d'animation publie chaque semaine un résumé des échanges. Pour toute question, "
    "écrivez à @catherine.lafleur ou à @stephane.dubuc."
)

# (author, days ago, title, raw, likes, replies); a reply: (author, days ago, raw, likes).
DISCUSSIONS: tuple[
    tuple[str, float, str, str, int, tuple[tuple[str, float, str, int], ...]], ...
] = (
    (
        "audrey.demars",
        40,
        "Comment mesurer l'impact social d'un petit projet ?",
        "Nous terminons un projet de cuisine collective et le bailleur demande un bilan "
        "d'impact. Avec une équipe de deux personnes, par où commencer ? Des indicateurs "
        "simples à recommander ?",
        3,
        (
            (
                "melyssa.mongeau",
                39,
                "Commencez par trois ou quatre changements que vous "
                "observez chez les participantes, et documentez-les avec de courts témoignages.",
                4,
            ),
            (
                "sondes.allal",
                38,
                "Je rejoins @melyssa.mongeau : mieux vaut peu d'indicateurs "
                "bien suivis. La grille partagée dans la boîte à outils peut aider.",
                2,
            ),
            (
                "audrey.demars",
                36,
                "Merci à vous deux, on part là-dessus et je vous redonne "
                "des nouvelles après le bilan.",
                0,
            ),
        ),
    ),
    (
        "yves_parent",
        26,
        "Financement des projets collectifs en milieu rural",
        "En milieu rural, les projets portés par plusieurs organismes ont du mal à trouver "
        "du financement récurrent. Comment faites-vous pour durer après la phase pilote ?",
        2,
        (
            (
                "pphen",
                25,
                "Le financement par mission reste rare. On combine souvent fonds "
                "régionaux, fondation et contributions municipales, avec un budget par phases.",
                3,
            ),
            (
                "vnault",
                24,
                "Au Granit, la MRC a accepté de porter le projet le temps de trouver "
                "un financement stable. Ça vaut la peine de leur en parler tôt.",
                2,
            ),
            (
                "lbeaulieu",
                22,
                "Même constat de notre côté. Les ententes sectorielles de "
                "développement sont aussi une piste à explorer.",
                0,
            ),
            (
                "kevin_bouchard",
                2,
                "Je relance le sujet : quelqu'un a déjà essayé le "
                "financement participatif pour compléter un montage financier ?",
                1,
            ),
        ),
    ),
    (
        "dfoley",
        15,
        "Mobiliser les citoyens autour d'un projet de quartier",
        "On prépare un projet de ruelle verte et la participation reste faible aux "
        "rencontres. Quelles stratégies ont marché chez vous pour rejoindre les gens ?",
        2,
        (
            (
                "mgagnon",
                14,
                "Aller là où les gens sont déjà : fête de quartier, sortie d'école, "
                "épicerie. Les rencontres formelles viennent ensuite.",
                3,
            ),
            (
                "jmorissette",
                12,
                "Avec les jeunes, on passe par les réseaux sociaux et par "
                "des projets concrets. @dfoley, je peux te mettre en contact avec le collectif.",
                1,
            ),
            (
                "catherine.lafleur",
                11,
                "Beau sujet ! J'invite toute la communauté @cdp-2ise à "
                "partager ses bons coups ici : on en fera le thème du prochain 5 à 7.",
                2,
            ),
        ),
    ),
    (
        "melyssa.mongeau",
        5,
        "Retour sur l'atelier sur la théorie du changement",
        "Merci à celles et ceux qui étaient à l'atelier de mardi. Voici ce que je retiens : "
        "partir du changement visé, remonter vers les actions, et nommer les hypothèses.",
        2,
        (
            (
                "audrey.demars",
                4,
                "Très bel atelier. Le canevas de David nous a servi dès "
                "le lendemain avec notre conseil d'administration.",
                1,
            ),
            (
                "julie.tremblay",
                2,
                "Nouvelle dans la CdP, j'ai beaucoup appris ! Est-ce que "
                "les diapositives seront partagées ?",
                0,
            ),
            (
                "stephane.dubuc",
                1,
                "Bienvenue @julie.tremblay ! Oui, les diapositives sont "
                "dans le sujet d'annonce. Merci @audrey.demars pour ton témoignage.",
                1,
            ),
        ),
    ),
    (
        "sondes.allal",
        2,
        "Recherche de partenaires pour un projet de recherche-action",
        "Nous déposons une demande pour un projet de recherche-action sur l'accès aux "
        "services en milieu rural. Des organismes des MRC des Sources ou du Granit "
        "seraient-ils intéressés à y participer ?",
        1,
        (
            (
                "pphen",
                1.5,
                "Je crois que le Granit serait partant, je fais le lien avec Véronique.",
                0,
            ),
            ("kevin_bouchard", 0.8, "Pas en milieu rural, mais intéressé à suivre le projet !", 0),
        ),
    ),
)


def seed_world(now: datetime) -> World:
    """The realistic French seed world, with dates relative to `now` (timezone-aware)."""
    world = World(now)

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    with world.lock:
        add_base_accounts(world, ago)
        _members(world, ago)
        add_category_layout(world, ago)
        _content(world, ago)
    return world


def add_base_accounts(world: World, ago: Callable[[float], datetime]) -> None:
    """The site admin, the bridge's staff account (and its key), the facilitators, the groups."""
    world.add_user(
        "encommun-admin", "Équipe En Commun", created_at=ago(120), admin=True, trust_level=4
    )
    world.add_user(
        STAFF_USERNAME, "Équipe d'animation 2isE", created_at=ago(70), moderator=True, trust_level=4
    )
    world.add_user(
        "catherine.lafleur",
        "Catherine Lafleur",
        created_at=ago(64),
        trust_level=3,
        bio_raw="Experte de processus, équipe d'animation de la CdP 2isE.",
        location="Sherbrooke",
    )
    world.add_user(
        "stephane.dubuc",
        "Stéphane Dubuc",
        created_at=ago(64),
        trust_level=3,
        bio_raw="Expert de processus, équipe d'animation de la CdP 2isE.",
        location="Magog",
    )
    world.add_user("lbeaulieu", "Louise Beaulieu", created_at=ago(90), trust_level=2)
    world.add_group("cdp-2ise", "CdP Impact et innovation sociale en Estrie")
    # Its members and the moderators may message it: the digest goes there.
    world.add_group("animation-2ise", "Équipe d'animation de la CdP 2isE", messageable_level=3)
    world.add_member(STAFF_USERNAME, None, ago(70), "animation-2ise")
    world.add_member("catherine.lafleur", None, ago(60), "animation-2ise")
    world.add_member("stephane.dubuc", None, ago(60), "animation-2ise")
    world.add_api_key(STAFF_KEY, STAFF_USERNAME)


def _members(world: World, ago: Callable[[float], datetime]) -> None:
    for username, name, days, bio, location in MEMBERS:
        user = world.add_member(username, name, ago(days))
        user.bio_raw, user.location = bio, location
        user.last_seen_at = ago(min(days, 1.5) / 2)


def add_category_layout(world: World, ago: Callable[[float], datetime]) -> None:
    """The site's categories: unrelated ones (1-3) and the watched one (10) with its five."""
    world.add_category("Non classé", "uncategorized", color="0088CC")
    world.add_category(
        "Général",
        "general",
        color="25AAE2",
        created_by="encommun-admin",
        at=ago(120),
        description="Discussions générales sur En Commun.",
    )
    world.add_category(
        "Commentaires sur le site",
        "site-feedback",
        color="808281",
        created_by="encommun-admin",
        at=ago(120),
        description="Vos commentaires sur la plateforme En Commun.",
    )
    # Other communities' categories took ids 4-9 on the real site.
    world.add_category(
        "Impact et innovation sociale en Estrie",
        WATCHED,
        color="3AB54A",
        id=10,
        created_by="encommun-admin",
        at=ago(70),
        description="L'espace de la communauté de pratique Impact et innovation "
        "sociale en Estrie (CdP 2isE).",
    )
    for name, slug, description in SUBCATEGORIES:
        world.add_category(
            name,
            slug,
            parent=WATCHED,
            created_by="encommun-admin",
            at=ago(70),
            description=description,
            color="3AB54A",
        )


def _content(world: World, ago: Callable[[float], datetime]) -> None:
    pinned = world.add_topic(
        "catherine.lafleur",
        WATCHED,
        "À lire : fonctionnement de la CdP",
        FONCTIONNEMENT,
        at=ago(54),
        views=48,
    )
    world.topics[pinned].pinned_at = ago(54)

    for author, days, title, raw, likes, replies in DISCUSSIONS:
        entry: Entry = (author, days, title, raw, (), likes, tuple(replies))
        _entry(world, ago, "discussions", entry)
    # Edited later without bumping; and a reply its author deleted.
    mobiliser = world.find_topic_by_title("Mobiliser les citoyens autour d'un projet de quartier")
    assert mobiliser is not None
    first = world.posts_in(mobiliser.id)[0]
    world.edit_post(
        first.id,
        first.raw + "\n\nMise à jour : la prochaine rencontre a lieu "
        "le 12 au centre communautaire.",
        at=ago(10),
        edit_reason="date ajoutée",
    )
    partenaires = world.find_topic_by_title(
        "Recherche de partenaires pour un projet de recherche-action"
    )
    assert partenaires is not None
    oops = world.add_reply(
        partenaires.id, "pphen", "Message publié dans le mauvais sujet, désolé !", at=ago(1.4)
    )
    world.delete_post(oops, at=ago(1.3))
    draft = world.add_topic(
        "catherine.lafleur",
        "discussions",
        "Brouillon : ordre du jour du prochain 5 à 7",
        "Points à confirmer avec Stéphane avant "
        "publication : accueil, tour de table, thème mobilisation.",
        at=ago(3),
    )
    world.topics[draft].visible = False

    for entry in TOOLBOX:
        _entry(world, ago, "boite-a-outils", entry)
    for entry in CARDS:
        _entry(world, ago, "cartographie", entry)

    webinaire = world.add_topic(
        "catherine.lafleur",
        "annonces",
        "Webinaire de lancement de la CdP 2isE : présentation et enregistrement",
        "Merci d'avoir participé au tout premier webinaire de la CdP 2isE !\n\n"
        "Au programme : ce qu'est une communauté de pratique, les rôles attendus des membres, "
        "la découverte du forum et un échange sur vos besoins.\n\n"
        "L'enregistrement et les diapositives : https://cdp2ise.exemple.ca/webinaire-lancement",
        at=ago(50),
        views=61,
    )
    world.like(world.topics[webinaire].post_ids[0], 8)
    world.add_reply(
        webinaire,
        "yves_parent",
        "Merci pour ce beau lancement, hâte aux prochaines rencontres !",
        at=ago(49),
    )

    world.add_topic(
        "encommun-admin",
        "general",
        "Bienvenue sur En Commun, la plateforme des communautés",
        "En Commun héberge les espaces de plusieurs communautés "
        "de pratique. Lisez les règles de la plateforme avant de publier.",
        at=ago(119),
        views=230,
    )
    world.add_topic(
        "encommun-admin",
        "general",
        "Maintenance prévue de la plateforme",
        "La plateforme sera indisponible dimanche de 6 h à 8 h pour une mise à jour.",
        at=ago(1),
        views=35,
    )
    world.add_topic(
        "lbeaulieu",
        "general",
        "Covoiturage pour le colloque de Québec",
        "Je pars de Sherbrooke jeudi matin, deux places disponibles. Écrivez-moi !",
        at=ago(3),
        views=12,
    )

    pm = world.add_private_message(
        "catherine.lafleur",
        ["stephane.dubuc"],
        "Préparation du prochain 5 à 7",
        "On se parle jeudi pour l'ordre du jour ? J'aimerais proposer le thème de la mobilisation.",
        at=ago(6),
    )
    world.add_reply(
        pm, "stephane.dubuc", "Parfait pour jeudi, 10 h ? Le thème me plaît.", at=ago(5)
    )


def _entry(world: World, ago: Callable[[float], datetime], category: str, entry: Entry) -> int:
    author, days, title, raw, tags, likes, replies = entry

    def at(days: float, text: str) -> datetime:
        # People post at all hours: a stable offset of up to two hours either way.
        return ago(days) + timedelta(minutes=zlib.crc32(text.encode()) % 240 - 120)

    topic_id = world.add_topic(
        author,
        category,
        title,
        raw,
        at=at(days, title),
        tags=tags,
        views=12 + 7 * len(replies) + 3 * likes,
    )
    world.like(world.topics[topic_id].post_ids[0], likes)
    for reply_author, reply_days, reply_raw, reply_likes in replies:
        post_id = world.add_reply(topic_id, reply_author, reply_raw, at=at(reply_days, reply_raw))
        world.like(post_id, reply_likes)
    return topic_id
