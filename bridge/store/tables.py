"""The store's tables in people's words: the titles and descriptions `bridge browse` shows."""

from __future__ import annotations

TABLE_TITLES: dict[str, tuple[str, str]] = {
    "toolbox_entries": ("Boîte à outils", "Les outils partagés par les membres, tirés du forum."),
    "cartography_cards": (
        "Cartographie",
        "Les fiches des initiatives et organisations de l'Estrie; `warnings` dit ce qui manque.",
    ),
    "topics": ("Sujets", "Les sujets de la catégorie suivie."),
    "posts": ("Messages", "Les messages, en Markdown."),
    "group_members": ("Membres", "Les membres du groupe et la date où ils l'ont rejoint."),
    "ledger": ("Publications", "Tout ce que la passerelle a publié, une fois chacun."),
    "job_runs": ("Exécutions", "Chaque passe des tâches de la passerelle."),
    "announcements": ("Annonces", "Les annonces du comité de pilotage."),
    "digest_weeks": (
        "Semaines résumées",
        "Les indicateurs de santé de chaque semaine dont le résumé est parti.",
    ),
    "welcome_members": (
        "Accueil",
        "Chaque arrivée dans le groupe et son accueil ; `person` est une empreinte, pas un nom.",
    ),
    "forgotten_people": (
        "Oublis",
        "Les personnes oubliées à leur demande (bridge forget) : des empreintes, pas des noms.",
    ),
}
# Not listed by `bridge browse`: the welcome's secret keys the hashes that name members.
HIDDEN_TABLES = ("welcome_secrets",)
