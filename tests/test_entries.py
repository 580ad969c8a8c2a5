"""Toolbox entries and cartography cards parsed from members' Markdown, in the shapes they write."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hostile import card_text, hostile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability import HOSTILE, cases

from bridge.config import DEFAULT_CARD_LABELS
from bridge.entries import CartographyCard, ToolboxEntry, TopicInput, parse_card, parse_toolbox

CREATED = datetime(2025, 4, 10, 14, 30, tzinfo=UTC)
ACTIVE = datetime(2025, 4, 18, 9, 0, tzinfo=UTC)


def topic(
    raw: str, *, title: str = "Fiche", tags: tuple[str, ...] = (), category: str = "cartographie"
) -> TopicInput:
    return TopicInput(
        topic_id=42,
        title=title,
        slug="fiche",
        category_slug=category,
        tags=tags,
        author="julie.gagnon",
        created_at=CREATED,
        last_activity_at=ACTIVE,
        reply_count=2,
        like_count=3,
        first_post_raw=raw,
        url="https://passerelles.encommun.io/t/fiche/42",
    )


def card(**values: object) -> CartographyCard:
    """The expected card: topic values, and None / () for whatever the test does not name."""
    base: dict[str, object] = dict(
        topic_id=42,
        title="Fiche",
        organisation=None,
        territory=None,
        territories=(),
        territory_raw=None,
        themes=(),
        website=None,
        contact=None,
        description=None,
        latitude=None,
        longitude=None,
        author="julie.gagnon",
        created_at=CREATED,
        last_activity_at=ACTIVE,
        url="https://passerelles.encommun.io/t/fiche/42",
        fields=(),
        warnings=(),
    )
    base.update(values)
    return CartographyCard(**base)  # type: ignore[arg-type]


# --- toolbox ------------------------------------------------------------------------------------


def test_toolbox_entry_with_links():
    raw = (
        "Voici un guide très utile pour évaluer l'impact social de vos projets.\n"
        "\n"
        "https://www.tiess.ca/guide-evaluation.pdf\n"
        "Lien : <https://www.tiess.ca/guide-evaluation.pdf>\n"
        "- [Version anglaise](https://www.tiess.ca/en/guide)\n"
        "\n"
        "![capture d'écran](https://passerelles.encommun.io/uploads/capture.png)\n"
        "Voir aussi https://territoires.quebec/outil, et [la fiche](https://tiess.ca/f).\n"
        "\n"
        "```\n"
        "https://exemple.org/dans-du-code\n"
        "```\n"
    )
    entry = parse_toolbox(
        topic(
            raw,
            title="Guide d'évaluation",
            tags=("evaluation", "outils"),
            category="boite-a-outils",
        )
    )
    assert entry == ToolboxEntry(
        topic_id=42,
        title="Guide d'évaluation",
        links=(
            "https://www.tiess.ca/guide-evaluation.pdf",
            "https://www.tiess.ca/en/guide",
            "https://territoires.quebec/outil",
            "https://tiess.ca/f",
        ),
        description=(
            "Voici un guide très utile pour évaluer l'impact social de vos projets.\n"
            "\n"
            "![capture d'écran](https://passerelles.encommun.io/uploads/capture.png)\n"
            "Voir aussi https://territoires.quebec/outil, et [la fiche](https://tiess.ca/f).\n"
            "\n"
            "```\n"
            "https://exemple.org/dans-du-code\n"
            "```"
        ),
        summary=(
            "Voici un guide très utile pour évaluer l'impact social de vos projets. Voir aussi "
            "https://territoires.quebec/outil, et la fiche. https://exemple.org/dans-du-code"
        ),
        themes=("evaluation", "outils"),
        author="julie.gagnon",
        created_at=CREATED,
        last_activity_at=ACTIVE,
        reply_count=2,
        like_count=3,
        url="https://passerelles.encommun.io/t/fiche/42",
        warnings=(),
    )


def test_toolbox_entry_without_link():
    entry = parse_toolbox(
        topic("Quelqu'un connaît un bon gabarit de **plan d'affaires** pour une coop ?")
    )
    assert entry.links == ()
    assert (
        entry.description
        == "Quelqu'un connaît un bon gabarit de **plan d'affaires** pour une coop ?"
    )
    assert entry.summary == "Quelqu'un connaît un bon gabarit de plan d'affaires pour une coop ?"
    assert entry.warnings == ("Aucun lien vers la ressource",)


def test_toolbox_entry_of_links_only():
    entry = parse_toolbox(
        topic("<https://ciriec.uqam.ca>\n* [Rapport](http://ciriec.uqam.ca/rapport.pdf).\n")
    )
    assert entry.links == ("https://ciriec.uqam.ca", "http://ciriec.uqam.ca/rapport.pdf")
    assert (entry.description, entry.summary) == ("", "")
    assert entry.warnings == ("Description absente",)


def test_toolbox_image_links_are_not_resources():
    entry = parse_toolbox(
        topic("Affiche : https://x.org/affiche.JPG et [le site](https://x.org/page?a=1).\n")
    )
    assert entry.links == ("https://x.org/page?a=1",)


def test_toolbox_summary_is_cut_at_a_word():
    raw = "Un outil " + "très " * 80 + "pratique."
    summary = parse_toolbox(topic(raw + "\n\nhttps://x.org")).summary
    assert len(summary) <= 280
    assert summary.startswith("Un outil très très") and summary.endswith("très…")


# --- cartography: shapes of cards ---------------------------------------------------------------


def test_card_bold_labels_with_french_spacing():
    raw = (
        "**Organisation\u00a0:** Centre d'action bénévole de Magog\n"
        "**Territoire\u202f:** MRC de Memphrémagog\n"
        "**Thématiques :** Sécurité alimentaire, entraide et bénévolat\n"
        "**Site web :** [cabmagog.org](https://www.cabmagog.org)\n"
        "**Contact :** Julie Gagnon, julie@cabmagog.org\n"
        "**Coordonnées GPS :** 45,266 ; -72,148\n"
        "**Description :** Le CAB soutient les aînés\n"
        "et les familles de la région.\n"
        "\n"
        "Nous offrons aussi la popote roulante.\n"
    )
    assert parse_card(topic(raw, tags=("aines",))) == card(
        organisation="Centre d'action bénévole de Magog",
        territory="Memphrémagog",
        territories=("Memphrémagog",),
        territory_raw="MRC de Memphrémagog",
        # The card lists its themes: the topic's tags do not add to them.
        themes=("Sécurité alimentaire", "entraide", "bénévolat"),
        website="https://www.cabmagog.org",
        contact="Julie Gagnon, julie@cabmagog.org",
        description=(
            "Le CAB soutient les aînés\net les familles de la région.\n\n"
            "Nous offrons aussi la popote roulante."
        ),
        latitude=45.266,
        longitude=-72.148,
        fields=(
            ("Organisation", "Centre d'action bénévole de Magog"),
            ("Territoire", "MRC de Memphrémagog"),
            ("Thématiques", "Sécurité alimentaire, entraide et bénévolat"),
            ("Site web", "[cabmagog.org](https://www.cabmagog.org)"),
            ("Contact", "Julie Gagnon, julie@cabmagog.org"),
            ("Coordonnées GPS", "45,266 ; -72,148"),
            (
                "Description",
                "Le CAB soutient les aînés\net les familles de la région.\n\n"
                "Nous offrons aussi la popote roulante.",
            ),
        ),
    )


def test_card_bold_label_then_colon_underscores_italics_and_loose_bullets():
    raw = (
        "**Territoire** : Granby\n"
        "__Site Internet__: https://groupebeta.org.\n"
        "*Organisme* : Groupe Beta\n"
        "• Description – Un projet d'agriculture urbaine.\n"
        "• Public cible : jeunes de 12 à 17 ans\n"
    )
    assert parse_card(topic(raw)) == card(
        organisation="Groupe Beta",
        territory="La Haute-Yamaska",
        territories=("La Haute-Yamaska",),
        territory_raw="Granby",
        website="https://groupebeta.org",
        description="Un projet d'agriculture urbaine.",
        fields=(
            ("Territoire", "Granby"),
            ("Site Internet", "https://groupebeta.org."),
            ("Organisme", "Groupe Beta"),
            ("Description", "Un projet d'agriculture urbaine."),
            ("Public cible", "jeunes de 12 à 17 ans"),
        ),
    )


def test_card_as_a_bullet_list():
    raw = (
        "Voici notre fiche :\n"
        "\n"
        "- Organisme : Solidarité Granit\n"
        "- Territoire : Lac-Mégantic\n"
        "- Thèmes : Logement / Environnement\n"
        "- Site : www.solidarite-granit.ca\n"
        "- Courriel : <info@solidarite-granit.ca>\n"
        "- Mission : Offrir du logement abordable.\n"
        "- Fondé en : 2019\n"
    )
    assert parse_card(topic(raw, tags=("environnement", "logement-social"))) == card(
        organisation="Solidarité Granit",
        territory="Le Granit",
        territories=("Le Granit",),
        territory_raw="Lac-Mégantic",
        themes=("Logement", "Environnement"),
        website="https://www.solidarite-granit.ca",
        contact="info@solidarite-granit.ca",
        description="Offrir du logement abordable.",
        fields=(
            ("Organisme", "Solidarité Granit"),
            ("Territoire", "Lac-Mégantic"),
            ("Thèmes", "Logement / Environnement"),
            ("Site", "www.solidarite-granit.ca"),
            ("Courriel", "<info@solidarite-granit.ca>"),
            ("Mission", "Offrir du logement abordable."),
            ("Fondé en", "2019"),
        ),
    )


def test_card_as_a_numbered_list():
    raw = (
        "1. Nom de l'organisme : Corporation de développement communautaire du Granit\n"
        "2. Territoire(s) desservi(s) : MRC du Granit\n"
        "3) Thématique : développement social\n"
        "4. Personne-ressource : Line Roy (819 555-0101)\n"
    )
    result = parse_card(topic(raw))
    assert result.organisation == "Corporation de développement communautaire du Granit"
    assert (result.territory, result.territory_raw) == ("Le Granit", "MRC du Granit")
    assert result.themes == ("développement social",)
    assert result.contact == "Line Roy (819 555-0101)"
    assert result.fields[1] == ("Territoire(s) desservi(s)", "MRC du Granit")
    assert result.warnings == ("Champ obligatoire manquant : description",)


def test_card_as_a_label_value_table():
    raw = (
        "| Champ | Valeur |\n"
        "|---|---|\n"
        "| **Organisation** | La Ruche |\n"
        "| Territoire : | Sherbrooke et Magog |\n"
        "| Thématique(s) | Innovation sociale; Économie sociale |\n"
        "| Site web | <https://laruche.quebec> |\n"
        "| Réseaux sociaux | facebook.com/laruche |\n"
        "\n"
        "Nous sommes une coopérative de solidarité.\n"
    )
    assert parse_card(topic(raw, tags=("economie-sociale",))) == card(
        organisation="La Ruche",
        territory="Sherbrooke",
        territories=("Sherbrooke", "Memphrémagog"),
        territory_raw="Sherbrooke et Magog",
        themes=("Innovation sociale", "Économie sociale"),
        website="https://laruche.quebec",
        description="Nous sommes une coopérative de solidarité.",
        fields=(
            ("Organisation", "La Ruche"),
            ("Territoire", "Sherbrooke et Magog"),
            ("Thématique(s)", "Innovation sociale; Économie sociale"),
            ("Site web", "<https://laruche.quebec>"),
            ("Réseaux sociaux", "facebook.com/laruche"),
        ),
    )


def test_card_as_a_table_with_labels_in_the_header():
    raw = (
        "| Organisation | Territoire | Site web | Description |\n"
        "|:---|:---|:---|:---|\n"
        "| Coop Alpha | Val Saint-François | https://alpha.coop | Épicerie coopérative |\n"
        "| Coop Bêta | Coaticook | | |\n"
    )
    assert parse_card(topic(raw)) == card(
        organisation="Coop Alpha",
        territory="Le Val-Saint-François",
        territories=("Le Val-Saint-François",),
        territory_raw="Val Saint-François",
        website="https://alpha.coop",
        description="Épicerie coopérative",
        fields=(
            ("Organisation", "Coop Alpha"),
            ("Territoire", "Val Saint-François"),
            ("Site web", "https://alpha.coop"),
            ("Description", "Épicerie coopérative"),
        ),
        warnings=("Tableau à plusieurs lignes : seule la première ligne est lue",),
    )


def test_card_with_headings_as_labels():
    raw = (
        "## Organisation\n"
        "Table de concertation du Haut\n"
        "\n"
        "### Territoire\n"
        "\n"
        "Haut-St-François\n"
        "\n"
        "### Thématiques\n"
        "- Mobilité\n"
        "- Sécurité alimentaire\n"
        "\n"
        "### Description\n"
        "Premier paragraphe.\n"
        "\n"
        "- un point\n"
        "- Aide : un autre point\n"
        "\n"
        "Deuxième paragraphe avec un [lien](https://x.org).\n"
        "\n"
        "### Coordonnées\n"
        "[Sur la carte](https://www.google.com/maps/place/Cookshire/@45.42,-71.63,15z)\n"
    )
    description = (
        "Premier paragraphe.\n\n- un point\n- Aide : un autre point\n\n"
        "Deuxième paragraphe avec un [lien](https://x.org)."
    )
    assert parse_card(topic(raw)) == card(
        organisation="Table de concertation du Haut",
        territory="Le Haut-Saint-François",
        territories=("Le Haut-Saint-François",),
        territory_raw="Haut-St-François",
        themes=("Mobilité", "Sécurité alimentaire"),
        description=description,
        latitude=45.42,
        longitude=-71.63,
        fields=(
            ("Organisation", "Table de concertation du Haut"),
            ("Territoire", "Haut-St-François"),
            ("Thématiques", "- Mobilité\n- Sécurité alimentaire"),
            ("Description", description),
            (
                "Coordonnées",
                "[Sur la carte](https://www.google.com/maps/place/Cookshire/@45.42,-71.63,15z)",
            ),
        ),
    )


def test_card_with_values_on_the_following_lines():
    raw = (
        "**Organisation :**\n"
        "Récolte Coaticook\n"
        "\n"
        "**Thématiques**\n"
        "\n"
        "* Gaspillage alimentaire\n"
        "* Agriculture\n"
        "\n"
        "Contact :\n"
        "Marie Côté\n"
        "[marie@recolte.org](mailto:marie@recolte.org)\n"
        "\n"
        "Territoire : MRC de Coaticook\n"
        "Description : Nous récupérons les invendus.\n"
        "\n"
        "Nos services :\n"
        "- Paniers : chaque jeudi\n"
        "- Cuisines collectives : le mardi\n"
        "\n"
        "**Site web :** https://recolte.org\n"
    )
    description = (
        "Nous récupérons les invendus.\n\nNos services :\n"
        "- Paniers : chaque jeudi\n- Cuisines collectives : le mardi"
    )
    assert parse_card(topic(raw)) == card(
        organisation="Récolte Coaticook",
        territory="Coaticook",
        territories=("Coaticook",),
        territory_raw="MRC de Coaticook",
        themes=("Gaspillage alimentaire", "Agriculture"),
        website="https://recolte.org",
        contact="Marie Côté, marie@recolte.org",
        description=description,
        fields=(
            ("Organisation", "Récolte Coaticook"),
            ("Thématiques", "* Gaspillage alimentaire\n* Agriculture"),
            ("Contact", "Marie Côté\n[marie@recolte.org](mailto:marie@recolte.org)"),
            ("Territoire", "MRC de Coaticook"),
            ("Description", description),
            ("Site web", "https://recolte.org"),
        ),
    )


def test_card_without_labels_for_organisation_and_description():
    raw = (
        "Bonjour à toutes et à tous !\n"
        "\n"
        "Nous accompagnons les personnes immigrantes à leur arrivée.\n"
        "\n"
        "**Territoire : la Ville de Sherbrooke**\n"
        "Horaires : lundi au vendredi\n"
        "\n"
        "Écrivez-nous : accueil@sanc.org\n"
    )
    assert parse_card(topic(raw, title="Service d'aide aux Néo-Canadiens")) == card(
        title="Service d'aide aux Néo-Canadiens",
        organisation="Service d'aide aux Néo-Canadiens",
        territory="Sherbrooke",
        territories=("Sherbrooke",),
        territory_raw="la Ville de Sherbrooke",
        contact="accueil@sanc.org",
        # The greeting opens the message, it does not describe the service.
        description="Nous accompagnons les personnes immigrantes à leur arrivée.",
        fields=(
            ("Territoire", "la Ville de Sherbrooke"),
            ("Horaires", "lundi au vendredi"),
            ("Écrivez-nous", "accueil@sanc.org"),
        ),
    )


def test_card_with_problems_gives_warnings():
    raw = (
        "Organisation : Entraide Montréal-Estrie\n"
        "Territoire : Montréal\n"
        "Coordonnées GPS : près de l'église\n"
        "Site web : notre page Facebook\n"
    )
    result = parse_card(topic(raw))
    assert (result.territory, result.territories, result.territory_raw) == (None, (), "Montréal")
    assert (result.latitude, result.longitude, result.website) == (None, None, None)
    assert result.warnings == (
        "Champ obligatoire manquant : description",
        "Territoire non reconnu : « Montréal »",
        "Site web illisible : « notre page Facebook »",
        "Coordonnées illisibles : « près de l'église »",
    )


def test_card_coordinates_meaning_contact_details():
    raw = (
        "Organisme : Le Pont\nTerritoire : Coaticook\n"
        "Coordonnées : 819 555-1234, 12 rue Child\nDescription : Halte-répit."
    )
    result = parse_card(topic(raw))
    assert result.contact == "819 555-1234, 12 rue Child"
    assert (result.latitude, result.longitude, result.warnings) == (None, None, ())


@pytest.mark.parametrize(
    "written",
    ["12, rue Wellington Nord, 2e étage", "Case postale 12, Coaticook", "info@lepont.org"],
)
def test_card_coordinates_with_an_address_or_email(written):
    result = parse_card(topic(f"Organisme : Le Pont\nCoordonnées : {written}"))
    assert (result.contact, result.latitude) == (written, None)
    assert result.warnings == (
        "Champ obligatoire manquant : territoire",
        "Champ obligatoire manquant : description",
    )


def test_card_outside_estrie_is_kept_with_a_warning():
    raw = (
        "Organisation : Antenne\nTerritoire : Brome-Missisquoi\n"
        "GPS : 45.50, -73.57\nDescription : Bureau satellite."
    )
    result = parse_card(topic(raw))
    assert (result.latitude, result.longitude) == (45.5, -73.57)
    assert result.warnings == ("Coordonnées hors de l'Estrie : 45.5, -73.57",)


def test_card_position_from_separate_labels_or_a_map_link():
    separate = parse_card(topic("Latitude : 45,77\nLongitude : -71,93\n"))
    assert (separate.latitude, separate.longitude) == (45.77, -71.93)
    linked = parse_card(
        topic(
            "Notre local : [carte](https://www.openstreetmap.org/"
            "?mlat=45.1340&mlon=-71.8050#map=17/45.13/-71.80)"
        )
    )
    assert (linked.latitude, linked.longitude) == (45.134, -71.805)


def test_card_heading_with_value_and_whole_line_bold():
    raw = (
        "### Territoire : Val-des-Sources\n\n"
        "**Organisation : Coop de l'Amiante**\n\nDescription\nUne coop."
    )
    result = parse_card(topic(raw))
    assert (result.organisation, result.territory, result.description) == (
        "Coop de l'Amiante",
        "Les Sources",
        "Une coop.",
    )
    assert result.warnings == ()


def test_card_for_the_whole_region_is_not_an_unknown_territory():
    result = parse_card(topic("Territoire : toute l'Estrie\nDescription : Réseau régional."))
    assert (result.territory, result.territory_raw, result.warnings) == (None, "toute l'Estrie", ())


def test_empty_card():
    assert parse_card(topic("  \n\n")) == card(organisation="Fiche", warnings=("Fiche vide",))


def test_card_of_prose_only():
    result = parse_card(
        topic("Nous sommes un OBNL qui fait de l'alphabétisation.", tags=("alphabetisation",))
    )
    assert result.description == "Nous sommes un OBNL qui fait de l'alphabétisation."
    assert result.themes == ("alphabetisation",)
    assert result.warnings == ("Champ obligatoire manquant : territoire",)


def test_card_labels_after_emoji_and_in_html_bold():
    raw = (
        "📍 Territoire : Sherbrooke\n"
        "🌐 Site web : https://alpha.coop\n"
        "✉️ Contact : info@alpha.coop\n"
        "☎️ Téléphone : 819 555-0101\n"
        "<b>Organisme :</b> Coop Alpha\n"
        "<strong>Thématiques</strong> : Logement, Mobilité\n"
        "\n"
        "**📝 Description**\n"
        "Une coop d'habitation.\n"
    )
    assert parse_card(topic(raw)) == card(
        organisation="Coop Alpha",
        territory="Sherbrooke",
        territories=("Sherbrooke",),
        territory_raw="Sherbrooke",
        themes=("Logement", "Mobilité"),
        website="https://alpha.coop",
        contact="info@alpha.coop, 819 555-0101",  # « Téléphone » is a contact line
        description="Une coop d'habitation.",
        fields=(
            ("Territoire", "Sherbrooke"),
            ("Site web", "https://alpha.coop"),
            ("Contact", "info@alpha.coop"),
            ("Téléphone", "819 555-0101"),
            ("Organisme", "Coop Alpha"),
            ("Thématiques", "Logement, Mobilité"),
            ("Description", "Une coop d'habitation."),
        ),
    )


@pytest.mark.parametrize(
    "line",
    [
        "📍 Territoire : Magog",
        "📍Territoire: Magog",
        "👉🏽 Territoire : Magog",
        "1️⃣ Territoire : Magog",
        "• 📍 Territoire : Magog",
        "📍 **Territoire :** Magog",
        "**📍 Territoire :** Magog",
        "<b>Territoire :</b> Magog",
        "<B>Territoire</B>: Magog",
        '<strong class="x">Territoire</strong> : Magog',
        "<b>Territoire : Magog</b>",
        "<b><i>Territoire</i></b> : Magog",
        "<em>Territoire</em> – Magog",
        "📍 <b>Territoire :</b> Magog",
        "Territoire\u00a0\u00a0\t :\u202f\u202f Magog",
    ],
)
def test_label_after_emoji_or_in_html_emphasis(line):
    result = parse_card(topic(line))
    assert (result.territory_raw, result.territory) == ("Magog", "Memphrémagog")
    assert result.fields == (("Territoire", "Magog"),)


@pytest.mark.parametrize("raw", ["📍 Territoire\nMagog", "<b>Territoire</b>\n\nMagog"])
def test_label_alone_after_emoji_or_in_html_bold(raw):
    assert parse_card(topic(raw)).territory_raw == "Magog"


def test_emoji_in_prose_stays_prose():
    raw = "🎉 Bienvenue à toutes et à tous !\n\nTerritoire : Magog"
    result = parse_card(topic(raw))
    assert (result.description, result.territory_raw) == (
        "🎉 Bienvenue à toutes et à tous !",
        "Magog",
    )


@pytest.mark.parametrize(
    "written, territory",
    [
        ("Windsor", "Le Val-Saint-François"),
        ("Asbestos", "Les Sources"),
        ("Ville de Val-des-Sources (anciennement Asbestos)", "Les Sources"),
        ("Bromont", "Brome-Missisquoi"),
        ("Stanstead-Est", "Coaticook"),
    ],
)
def test_card_territory_named_by_its_municipality(written, territory):
    result = parse_card(topic(f"Territoire : {written}\nDescription : Épicerie solidaire."))
    assert (result.territory, result.warnings) == (territory, ())


# --- configuration ------------------------------------------------------------------------------


def test_custom_label_alias():
    raw = "Secteur : Magog\nDescription : Friperie."
    assert parse_card(topic(raw)).territory is None
    labels = {**DEFAULT_CARD_LABELS, "territory": (*DEFAULT_CARD_LABELS["territory"], "Secteur")}
    result = parse_card(topic(raw), labels=labels)
    assert (result.territory, result.territory_raw, result.warnings) == (
        "Memphrémagog",
        "Magog",
        (),
    )


def test_custom_required_fields():
    raw = "Territoire : Sherbrooke"
    result = parse_card(
        topic(raw), required=("territory", "website", "contact", "themes", "coordinates")
    )
    assert result.warnings == (
        "Champ obligatoire manquant : site web",
        "Champ obligatoire manquant : contact",
        "Champ obligatoire manquant : thématiques",
        "Champ obligatoire manquant : coordonnées GPS",
    )


def test_custom_territories():
    from bridge.territories import Territory

    ours = (Territory("Compton", "Compton", (45.23, -71.82), ("Municipalité de Compton",)),)
    result = parse_card(topic("Territoire : Compton\nDescription : Marché."), territories=ours)
    assert (result.territory, result.territories) == ("Compton", ("Compton",))


def test_cards_are_hashable_values():
    result = parse_card(topic("Territoire : Magog"))
    assert hash(result) == hash(dataclasses.replace(result))


# --- long runs: text pasted from a word processor -----------------------------------------------

_HANG = 10.0  # a regression fails the test here rather than hang the suite


@contextlib.contextmanager
def _guard(seconds: float = 2.0) -> Iterator[None]:
    """Fail, rather than hang, when parsing is slow: a guard against runaway regexes, no benchmark.

    The regex engine checks for signals as it backtracks, so the alarm interrupts a runaway match.
    """
    alarm = getattr(signal, "SIGALRM", None)

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"toujours en cours après {_HANG:g} s")

    previous = signal.signal(alarm, expired) if alarm is not None else None
    if alarm is not None:
        signal.setitimer(signal.ITIMER_REAL, _HANG)
    start = time.perf_counter()
    try:
        yield
    finally:
        if alarm is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(alarm, previous)
    elapsed = time.perf_counter() - start
    assert elapsed <= seconds, f"{elapsed:.2f} s"


_WIDE = 20_000
_RUN_CHARS = [" ", "\u00a0", "\u202f", "\t", "*", "_", "|", "-", ":", "1", "a"]


@pytest.mark.parametrize("space", [" ", "\u00a0", "\u202f", "\t", " \u00a0\t"])
def test_card_with_a_long_run_of_spaces_between_words(space):
    raw = "Organisme" + space * (_WIDE // len(space)) + "x"
    with _guard():
        result = parse_card(topic(raw))
    assert (result.organisation, result.description, result.fields) == ("Fiche", raw, ())
    with _guard():
        assert parse_toolbox(topic(raw)).description == raw


def test_card_with_long_runs_inside_labelled_lines():
    gap = " \u00a0\t" * 300
    raw = (
        f"**Organisme{gap}:**{gap}Coop Alpha\n"
        f"Territoire{gap}:{gap}Sherbrooke{gap}\n"
        f"Thématiques :{gap}Logement{gap},{gap}Mobilité\n"
        f"Site web{gap}: alpha.coop\n"
        f"Description{gap}–{gap}Une coop.\n"
        f"Latitude{gap}:{gap}45,40\nLongitude :{gap}-71,89\n"
    )
    with _guard():
        result = parse_card(topic(raw))
    assert (result.organisation, result.territory, result.themes, result.website) == (
        "Coop Alpha",
        "Sherbrooke",
        ("Logement", "Mobilité"),
        "https://alpha.coop",
    )
    assert (result.description, result.latitude, result.longitude) == ("Une coop.", 45.4, -71.89)
    assert result.warnings == ()


def _adversarial() -> list[object]:
    """Member content at its worst: long runs of one character, alone or between words; with
    what the card must read from each, when it reads anything."""
    nothing = {"organisation": "Fiche", "territory_raw": None}
    cases: list[tuple[str, str, dict[str, object]]] = []
    for c in _RUN_CHARS:
        run = c * _WIDE
        name = f"U+{ord(c):04X}"
        space = c.isspace()
        cases += [
            (f"run of {name}", run, {"organisation": "Fiche"}),
            (f"label, run of {name}", "Organisme" + run + "x", {"fields": ()} if space else {}),
            (
                f"label, run of {name}, colon",
                "Organisme" + run + ": x",
                {"organisation": "x"} if space else {},
            ),
            (f"bold, run of {name}", "**" + run + "!", nothing),
            (f"label alone, run of {name}", "**Territoire" + run + ":**", {}),
            (
                f"value, run of {name}",
                "Territoire : Sherbrooke" + run + "x",
                {"territory_raw": "Sherbrooke x", "territory": "Sherbrooke"} if space else {},
            ),
            (f"a and {name}", ("a" + c) * (_WIDE // 2) + "!", {"territory_raw": None}),
            (f"1 and {name}", ("1" + c) * (_WIDE // 2) + "!", nothing),
        ]
    cases += [
        ("mixed spaces", " \u00a0\t\u202f" * (_WIDE // 4) + "x", nothing),
        ("email-like", "a" * _WIDE + "@" + "b." * (_WIDE // 2) + "!", {"contact": None}),
        ("domain-like", "Site web : " + "a-" * (_WIDE // 2) + "!", {"website": None}),
        ("themes", "Thématiques : a" + " " * _WIDE + "b", {"themes": ("a b",)}),
        (
            "coordinates",
            "Coordonnées : lat" + " " * _WIDE + "x long" + " " * _WIDE + "y",
            {"latitude": None},
        ),
        ("latitude", "lat" + "\u00a0" * _WIDE + "x", {"latitude": None, "fields": ()}),
        (
            "map links",
            "https://google." + "a." * (_WIDE // 2) + "/x " + "google." * 2000,
            {"latitude": None},
        ),
        ("html", "<a " * (_WIDE // 3) + "href", nothing),
        ("html bold", "<b>" * (_WIDE // 3) + "Territoire", nothing),
        ("emoji", "📍" * _WIDE + " Territoire : Magog", {"territory": "Memphrémagog"}),
        ("emphasis", "*_" * (_WIDE // 2) + "x", nothing),
        ("lines just too long to be a label", ("Organisme" + " " * 130 + "x\n") * 150, nothing),
        ("a long section", "### Description\n" + "a\n" * 20_000, {"organisation": "Fiche"}),
        ("many fields", "Organisme : Alpha\n" * 5_000, {"organisation": "Alpha"}),
        ("50 000 spaces", "Organisme" + " " * 50_000 + "x", {"fields": ()}),
        ("many closings", "Une coop.\n" + "Merci !\n" * 20_000, {"description": "Une coop."}),
        (
            "many signatures",
            "Une coop.\n\nAu plaisir !\n" + "— Julie\n" * 20_000,
            {"description": "Une coop."},
        ),
        ("many notes", "Mise à jour : x\n" * 10_000 + "\nUne coop.", {"description": "Une coop."}),
        ("html blocks", "<div>" + "<p>" * (_WIDE // 3) + "x</p>" * (_WIDE // 4), nothing),
        ("html block lines", "<div>\n" + "<li><b>Thème :</b> a</li>\n" * 10_000, nothing),
    ]
    return [pytest.param(raw, expected, id=name) for name, raw, expected in cases]


@pytest.mark.slow
@pytest.mark.parametrize("raw, expected", _adversarial())
def test_member_content_of_adversarial_shapes_is_read_in_time(raw, expected):
    with _guard():
        result = parse_card(topic(raw))
    assert {name: getattr(result, name) for name in expected} == expected
    assert all(isinstance(w, str) and w for w in result.warnings)
    with _guard():
        entry = parse_toolbox(topic(raw))
    assert isinstance(entry, ToolboxEntry) and len(entry.summary) <= 280


# --- never an error -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases(HOSTILE, "hostile-cards"))
@pytest.mark.slow
@settings(
    max_examples=1000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    raw=st.one_of(card_text, hostile),
    tags=st.lists(st.text(max_size=12), max_size=3),
    title=st.one_of(st.text(max_size=20), hostile),
)
def test_member_content_never_raises(case, raw, tags, title):
    """The card and toolbox parsers on 1,000 messy posts (derandomized: CI sees the same)."""
    t = dataclasses.replace(topic(raw, tags=tuple(tags)), title=title)
    with _guard():
        result = parse_card(t)
    assert isinstance(result, CartographyCard)
    assert all(isinstance(w, str) and w for w in result.warnings)
    if result.latitude is not None:
        assert -90 <= result.latitude <= 90 and -180 <= result.longitude <= 180
    with _guard():
        entry = parse_toolbox(t)
    assert isinstance(entry, ToolboxEntry) and len(entry.summary) <= 280


@pytest.mark.parametrize("separator", [":", " :", "\u00a0:", "\u202f:", " – ", " — ", " - "])
def test_separators(separator):
    result = parse_card(topic(f"Territoire{separator} Coaticook"))
    assert result.territory_raw == "Coaticook"
