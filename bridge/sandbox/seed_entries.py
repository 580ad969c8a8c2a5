"""The seed's toolbox entries and cartography cards, written the way members really write them.

Cards are deliberately inconsistent: labels vary (Organisation/Organisme, Territoire/MRC,
Thématique(s)/Thèmes, Site web/Site Internet, Contact/Courriel, Description/Mission), some are
bold, French spacing puts a space before the colon — sometimes a no-break space (U+00A0) or a
narrow no-break space (U+202F), which Discourse stores as a plain one —, some use bullets, one
is a Markdown table, territory names come with or without accents and hyphens, one card has no
territory and one has coordinates.
Web addresses use `exemple` domains: the organisations are fictional.

Each entry: (author, days ago, title, raw, tags, likes, replies), a reply being
(author, days ago, raw, likes).
"""

from __future__ import annotations

NBSP = "\u00a0"
NNBSP = "\u202f"

Reply = tuple[str, float, str, int]
Entry = tuple[str, float, str, str, tuple[str, ...], int, tuple[Reply, ...]]

TOOLBOX: tuple[Entry, ...] = (
    (
        "audrey.demars",
        45,
        "Grille d'autoévaluation de l'impact social",
        "Bonjour à toutes et à tous,\n\n"
        "Je partage la grille que nous utilisons pour faire le bilan annuel de nos projets. "
        "Elle tient sur deux pages et aide à nommer les retombées sur les personnes, "
        "sur les organisations et sur le territoire.\n\n"
        "**Lien :** https://outils.exemple.ca/grille-autoevaluation-impact-social.pdf\n\n"
        "**Pour qui :** équipes de petits et moyens organismes, sans expertise en évaluation.\n\n"
        "**Format :** PDF à remplir, environ 1 h en équipe.\n\n"
        "N'hésitez pas à l'adapter et à partager vos versions ici !",
        ("evaluation",),
        6,
        (
            (
                "mgagnon",
                30,
                "Merci Audrey ! Je l'ai adaptée pour les organismes de moins de cinq personnes : "
                "j'ai retiré la section sur les indicateurs financiers et ajouté des exemples.\n\n"
                "Version simplifiée : https://outils.exemple.ca/grille-impact-petits-organismes.docx",
                4,
            ),
            (
                "melyssa.mongeau",
                29,
                "Très utile. Nous l'avons testée avec un comité de citoyens à Magog, "
                "ça a donné une belle discussion sur ce qu'on veut vraiment changer.",
                2,
            ),
        ),
    ),
    (
        "pphen",
        38,
        "Modèle de budget pour une demande de financement",
        "Un gabarit de budget (Excel) que j'ai peaufiné au fil des dépôts de projets auprès "
        "des fondations et des programmes régionaux.\n\n"
        "- Onglets séparés : dépenses, revenus confirmés, contributions en nature\n"
        "- Calcul automatique des frais indirects\n"
        "- Notes sur ce que les bailleurs demandent souvent\n\n"
        "Lien : https://outils.exemple.ca/modele-budget-projet.xlsx",
        ("financement",),
        5,
        (
            (
                "yves_parent",
                36,
                "Super outil. Petite astuce : ajoutez une colonne « année 2 » quand le "
                "programme finance sur plusieurs années, les bailleurs l'apprécient.",
                3,
            ),
        ),
    ),
    (
        "melyssa.mongeau",
        33,
        "Charte de gouvernance partagée pour un collectif",
        "Notre collectif a rédigé une charte pour clarifier qui décide quoi, comment on "
        "accueille de nouveaux membres et comment on gère les désaccords.\n\n"
        "Je la partage comme point de départ : [Charte du collectif (PDF)]"
        "(https://collectif-memphre.exemple.ca/charte.pdf)\n\n"
        "On s'est inspirés de la sociocratie, en plus simple.",
        ("gouvernance", "mobilisation"),
        3,
        (),
    ),
    (
        "dfoley",
        20,
        "Canevas de théorie du changement (version Estrie)",
        "Voici le canevas présenté lors de l'atelier : une page pour relier les actions, "
        "les résultats attendus à court et moyen terme et le changement visé.\n\n"
        "Lien : https://outils.exemple.ca/canevas-theorie-du-changement.pdf\n"
        "Gabarit modifiable : https://outils.exemple.ca/canevas-theorie-du-changement.pptx\n\n"
        "Idéal pour préparer une demande de financement ou un plan d'évaluation.",
        ("evaluation", "mobilisation"),
        7,
        (
            (
                "sondes.allal",
                18,
                "Merci David. Pour aller plus loin, on peut y ajouter les hypothèses : "
                "« si… alors… parce que… ». Ça aide beaucoup au moment d'évaluer.",
                4,
            ),
            (
                "audrey.demars",
                17,
                "Je l'ai utilisé avec notre CA la semaine dernière, ça a très bien fonctionné.",
                1,
            ),
        ),
    ),
    (
        "sondes.allal",
        9,
        "Guide d'animation d'un forum citoyen",
        "Un guide pas à pas pour organiser un forum citoyen d'une demi-journée : "
        "invitation, déroulement, techniques d'animation, compte rendu.\n\n"
        "Guide : https://recherche.exemple.ca/guide-forum-citoyen.pdf\n"
        "Fiches d'animation : https://recherche.exemple.ca/fiches-animation.zip\n\n"
        "Produit avec trois organismes de Sherbrooke dans le cadre d'une recherche-action.",
        ("mobilisation",),
        4,
        (),
    ),
    (
        "vnault",
        3,
        "Répertoire des programmes de financement en Estrie 2025",
        "J'ai compilé les programmes de financement ouverts aux organismes de l'Estrie "
        "(fonds régionaux, fondations, programmes municipaux), avec les dates de dépôt.\n\n"
        "Lien : https://outils.exemple.ca/repertoire-financement-estrie-2025.xlsx\n\n"
        "Je le mets à jour chaque mois. Si vous voyez un programme manquant, dites-le ici.",
        ("financement",),
        5,
        (
            (
                "kevin_bouchard",
                1,
                "Merci ! Il manque le programme d'aide aux entreprises d'économie sociale "
                "de la Ville de Sherbrooke, dépôt en continu.",
                1,
            ),
        ),
    ),
)

CARDS: tuple[Entry, ...] = (
    (
        "yves_parent",
        44,
        "Fiche : Coopérative de solidarité Le Grenier partagé",
        f"**Organisme{NBSP}:** Coopérative de solidarité Le Grenier partagé\n"
        f"**Territoire{NBSP}:** Val Saint-François\n"
        f"**Thématiques{NBSP}:** sécurité alimentaire, économie sociale, circuits courts\n"
        f"**Site web{NBSP}:** https://grenierpartage.exemple.ca\n"
        f"**Contact{NBSP}:** info@grenierpartage.exemple.ca\n\n"
        f"**Description{NBSP}:**\n"
        "Épicerie coopérative et cuisine collective à Richmond. Les membres-consommateurs, "
        "les producteurs et les travailleurs partagent la gouvernance.",
        ("securite-alimentaire",),
        3,
        (),
    ),
    (
        "audrey.demars",
        41,
        "Carrefour d'initiatives citoyennes de Sherbrooke",
        "Voici la fiche de notre organisme :\n\n"
        "| Champ | Valeur |\n"
        "|---|---|\n"
        "| Organisation | Carrefour d'initiatives citoyennes (CIC) |\n"
        "| Territoire | Sherbrooke |\n"
        "| Thèmes | participation citoyenne, logement, vie de quartier |\n"
        "| Site Internet | https://cic-sherbrooke.exemple.org |\n"
        "| Courriel | bonjour@cic-sherbrooke.exemple.org |\n"
        "| Mission | Soutenir les comités de citoyens dans leurs projets de quartier |",
        (),
        2,
        (
            (
                "dfoley",
                40,
                "Belle fiche ! On devrait se parler, on a un projet semblable à Coaticook.",
                1,
            ),
        ),
    ),
    (
        "vnault",
        37,
        "Table de développement social du Granit",
        f"- Organisme{NNBSP}: Table de développement social du Granit\n"
        f"- MRC{NNBSP}: MRC du Granit\n"
        f"- Thématique{NNBSP}: lutte à la pauvreté, transport collectif\n"
        f"- Site web{NNBSP}: https://tds-granit.exemple.ca\n"
        f"- Contact{NNBSP}: Véronique Nault, direction@tds-granit.exemple.ca\n\n"
        "Mission : rassembler les acteurs du milieu autour d'un plan d'action concerté "
        "en développement social pour les 20 municipalités du territoire.",
        ("transport",),
        2,
        (),
    ),
    (
        "melyssa.mongeau",
        31,
        "Fiche — Laboratoire rural d'innovation sociale",
        "* Organisme: Laboratoire rural d'innovation sociale (LRIS)\n"
        "* Territoire: Memphremagog\n"
        "* Thèmes: évaluation, agriculture de proximité, mobilisation\n"
        "* Site web: https://lris.exemple.ca\n"
        "* Courriel: equipe@lris.exemple.ca\n\n"
        "Description: Le LRIS accompagne les municipalités et les organismes dans "
        "l'expérimentation de solutions locales, de l'idée au projet pilote.",
        ("evaluation",),
        4,
        (),
    ),
    (
        "mgagnon",
        24,
        "Maison des jeunes L'Accès",
        "**Organisme** : Maison des jeunes L'Accès\n"
        "**MRC** : Haut Saint-François\n"
        "**Thématique(s)** : jeunesse, loisirs, prévention\n"
        "**Site Internet** : https://mdj-lacces.exemple.org\n"
        "**Courriel** : mdj.lacces@exemple.org\n\n"
        "**Mission** : offrir aux 12-17 ans un lieu de rencontre animé, "
        "et les accompagner dans leurs projets.",
        ("jeunesse",),
        2,
        (),
    ),
    (
        "sondes.allal",
        13,
        "Fiche : Pôle universitaire en innovation sociale territoriale",
        "Organisme : Pôle universitaire en innovation sociale territoriale (PIST)\n"
        "Territoire : Sherbrooke\n"
        "Coordonnées GPS : 45.3784, -71.9279\n"
        "Thématiques : recherche-action, évaluation, transfert de connaissances\n"
        "Site Internet : https://pist.exemple.ca\n"
        "Contact : Sondès Allal, sondes.allal@pist.exemple.ca\n\n"
        "Description : le Pôle réalise des projets de recherche-action avec les "
        "organismes de la région et offre des ateliers sur l'évaluation participative.",
        ("evaluation", "recherche"),
        3,
        (),
    ),
    (
        "jmorissette",
        4,
        "Collectif Jeunesse engagée",
        "Organisation : Collectif Jeunesse engagée\n"
        "Thématiques : jeunesse, engagement citoyen, santé mentale\n"
        "Site web : https://jeunesseengagee.exemple.org\n"
        "Contact : Jordan Morissette (jordan@jeunesseengagee.exemple.org)\n\n"
        "Le collectif anime des ateliers dans les écoles secondaires et accompagne "
        "les jeunes qui veulent lancer un projet dans leur communauté.",
        ("jeunesse",),
        1,
        (
            (
                "julie.tremblay",
                2,
                "Vous intervenez aussi en dehors de Sherbrooke ? "
                "Ce serait génial dans les Sources.",
                0,
            ),
        ),
    ),
    (
        "dfoley",
        1,
        "Fiche : Réseau d'entraide de la Vallée",
        "Organisme / initiative : Réseau d'entraide de la Vallée\n"
        "Territoire / MRC : MRC de Coaticook\n"
        "Thèmes : proche aidance, aînés, bénévolat\n"
        "Site web: reseau-entraide.exemple.ca\n"
        "Contact : 819 555-0142 / info@reseau-entraide.exemple.ca\n\n"
        "Description\n"
        "Le Réseau jumelle des bénévoles avec des personnes aînées isolées et offre du "
        "répit aux proches aidants.",
        ("aines",),
        0,
        (),
    ),
)
