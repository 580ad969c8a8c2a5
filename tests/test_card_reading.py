"""Cards read as a facilitator reads them: the corpus's accuracy, and the rules behind it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from card_accuracy import FIELDS, README, THRESHOLD, load_corpus, readme_table, score, table

from bridge.cardprose import description_text, is_update_note
from bridge.entries import TopicInput, parse_card

WHEN = datetime(2025, 4, 17, tzinfo=UTC)


def topic(raw: str, *, title: str = "Fiche", tags: tuple[str, ...] = ()) -> TopicInput:
    return TopicInput(
        topic_id=1,
        title=title,
        slug="fiche",
        category_slug="cartographie",
        tags=tags,
        author="membre",
        created_at=WHEN,
        last_activity_at=WHEN,
        reply_count=0,
        like_count=0,
        first_post_raw=raw,
        url="https://forum.invalid/t/1",
    )


# --- the corpus -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_score():
    return score(load_corpus())


def test_the_corpus_is_large_and_varied():
    cases = load_corpus()
    raws = [c.topic.first_post_raw for c in cases]
    assert len(cases) >= 120
    assert sum("|---" in r for r in raws) >= 10  # tables
    assert sum(r.lstrip().startswith("<") or "<b>" in r for r in raws) >= 5  # HTML
    assert sum("📍" in r for r in raws) >= 5  # emoji labels
    assert sum(r.lstrip().startswith("#") or "\n#" in r for r in raws) >= 10  # headings
    assert sum("au plaisir" in r.lower() for r in raws) >= 20  # sign-offs
    assert sum("mise à jour" in r.lower() for r in raws) >= 5
    assert sum(len(c.expect["territories"]) > 1 for c in cases) >= 10


@pytest.mark.parametrize("field", FIELDS)
def test_every_field_is_read_as_a_facilitator_reads_it(corpus_score, field):
    misses = [m for m in corpus_score.misses if m[1] == field]
    assert corpus_score.accuracy(field) >= THRESHOLD, misses


def test_the_readme_shows_the_current_table(corpus_score):
    shown = readme_table(README.read_text(encoding="utf-8"))
    assert shown == table(corpus_score), "python -m tests.card_accuracy --update-readme"


# --- the rules ----------------------------------------------------------------------------------


def test_a_territory_tag_goes_to_territories_and_other_tags_only_fill_missing_themes():
    card = parse_card(topic("Organisme : Alpha\nDescription : Une coop.", tags=("hsf", "aines")))
    assert (card.territory, card.territories, card.themes) == (
        "Le Haut-Saint-François",
        ("Le Haut-Saint-François",),
        ("aines",),
    )
    assert card.warnings == ()  # the tag says where: no missing territory
    listed = parse_card(topic("Thèmes : logement\nTerritoire : Magog", tags=("sherbrooke", "x")))
    assert listed.themes == ("logement",)
    assert listed.territories == ("Memphrémagog", "Sherbrooke")
    assert listed.territory == "Memphrémagog"  # the card's own line first


@pytest.mark.parametrize(
    "ending",
    [
        "Au plaisir de collaborer !\nJulie",
        "Au plaisir de collaborer !\n\n— Julie, coordonnatrice",
        "— Julie, coordonnatrice",
        "Merci !",
        "Cordialement,\nJulie Tremblay\nCoordonnatrice\nCoop Alpha",
        "Mise à jour : nouveau numéro de téléphone.",
        "_Dernière mise à jour : 3 mars 2025_",
        "Merci !\n\nMise à jour le 12 février : ajout du site.",
    ],
)
def test_sign_offs_and_update_notes_are_not_the_description(ending):
    card = parse_card(topic(f"Territoire : Coaticook\n\nUne coop d'habitation.\n\n{ending}\n"))
    assert card.description == "Une coop d'habitation."
    labelled = parse_card(topic(f"Description : Une coop d'habitation.\n\n{ending}\n"))
    assert labelled.description == "Une coop d'habitation."


def test_a_description_ending_with_a_list_or_a_short_line_keeps_it():
    text = "Nos services :\n- Paniers\n- Cuisines collectives"
    assert description_text(text) == text
    assert description_text("Ouvert les jeudis et samedis") == "Ouvert les jeudis et samedis"
    assert description_text("Bonjour, nous sommes une coop qui loue des vélos.") == (
        "Bonjour, nous sommes une coop qui loue des vélos."
    )


def test_greetings_and_a_repeated_name_open_nothing():
    text = "Bonjour à toutes et à tous !\nCoop Alpha\n\nUne coop."
    assert description_text(text, ["Coop Alpha"]) == "Une coop."


@pytest.mark.parametrize(
    "line", ["Mise à jour : x", "MàJ : x", "EDIT : x", "*Modifié le 3 mars*", "<i>Mise à jour</i>"]
)
def test_update_notes(line):
    assert is_update_note(line)


def test_extra_fields_never_spill_into_the_description():
    raw = (
        "Description : Une coop d'habitation.\n\n"
        "Heures d'ouverture : 9 h à 17 h\n"
        "Réseaux sociaux : facebook.com/alpha\n\n"
        "Année de fondation : 1984\n\n"
        "Superficie : 12 hectares\n\n"
        "**Nos heures**\nlundi au vendredi\n"
    )
    card = parse_card(topic(raw))
    assert card.description == "Une coop d'habitation."
    assert ("Superficie", "12 hectares") in card.fields


def test_prose_with_a_colon_stays_prose():
    raw = (
        "Territoire : Magog\n\n"
        "Entreprise d'insertion : des jeunes adultes y apprennent le métier de cuisinier.\n"
    )
    assert parse_card(topic(raw)).description == (
        "Entreprise d'insertion : des jeunes adultes y apprennent le métier de cuisinier."
    )


def test_html_blocks_are_read_as_paragraphs_headings_and_lists():
    raw = (
        "<h2>Coop Alpha</h2>\n<ul>\n<li><b>Territoire :</b> Lambton</li>\n"
        "<li><b>Thématiques :</b> culture, loisirs</li>\n</ul>\n\n"
        "<p><strong>Contact :</strong> info@alpha.coop</p>\n<p>Une coop culturelle.</p>\n"
    )
    card = parse_card(topic(raw, title="Fiche"))
    assert (card.organisation, card.territory, card.themes) == (
        "Coop Alpha",
        "Le Granit",
        ("culture", "loisirs"),
    )
    assert (card.contact, card.description) == ("info@alpha.coop", "Une coop culturelle.")


@pytest.mark.parametrize(
    "title", ["Fiche – Coop Alpha", "Fiche : Coop Alpha", "[Cartographie] Coop Alpha"]
)
def test_the_organisation_is_the_title_without_its_prefix(title):
    assert parse_card(topic("Une coop.", title=title)).organisation == "Coop Alpha"


def test_a_phone_number_is_the_contact_when_there_is_nothing_better():
    card = parse_card(topic("Une coop. Appelez-nous au 819 555-0101 !"))
    assert card.contact == "819 555-0101"
