"""Search and export as facilitators use them: French words, spreadsheets, maps."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from bridge.entries import CartographyCard
from bridge.export import CsvStyle, render_export, to_csv, to_geojson
from bridge.store import Store
from bridge.territories import load_territories

TZ = __import__("zoneinfo").ZoneInfo("America/Toronto")


@pytest.fixture
def indexed(store: Store) -> Store:
    store.save_search_document(
        "topic:1",
        "fiche",
        1,
        "Main-d’œuvre et cœur de l'Estrie",
        "Le ﬁnancement des organismes, seulement Estrie ici.\n\nDeuxième paragraphe.",
        "https://forum/t/main-d-oeuvre/1",
    )
    store.save_search_document(
        "topic:2", "outil", 2, "Équipe de bénévoles", "Mobilisation à Sherbrooke", "u2"
    )
    return store


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("oeuvre", [1]),
        ("œuvre", [1]),
        ("coeur", [1]),
        ("financement", [1]),  # the card holds the pasted ligature « ﬁ »
        ("l'Estrie", [1]),  # the elided « l' » is not a word of its own
        ("equipe", [2]),
        ("ÉQUIPE", [2]),
        ("benev", [2]),  # words match as prefixes
        ("mobilisation sherbrooke", [2]),
    ],
)
def test_search_folds_french(indexed: Store, query: str, found: list[int]) -> None:
    assert [r.topic_id for r in indexed.search(query)] == found


@pytest.mark.parametrize("query", ['"foo', "AND", "*", "(", "-", "NEAR(x y)", "title:x", "^x", "'"])
def test_search_syntax_characters_never_crash(indexed: Store, query: str) -> None:
    assert indexed.search(query) == []


def test_snippets_are_one_line(indexed: Store) -> None:
    [row] = indexed.search("paragraphe")
    assert "\n" not in row.snippet
    assert "[paragraphe]" in row.snippet


def test_csv_cells_never_run_as_formulas_and_dates_are_local() -> None:
    rows = [
        {
            "organisation": '=HYPERLINK("https://evil.example","Cliquez")',
            "contact": "+1 819 555-0142",
            "territory": "Sherbrooke",
            "themes": ["-entraide", "logement"],
            "latitude": -71.5,
            "last_activity_at": datetime(2025, 4, 21, 13, 0, tzinfo=UTC).isoformat(),
            "warnings": [],
        }
    ]
    text = to_csv("cartography", rows, TZ, CsvStyle.for_locale("fr_CA"))
    [row] = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert row["Organisation"] == '\'=HYPERLINK("https://evil.example","Cliquez")'
    assert row["Contact"] == "'+1 819 555-0142"
    assert row["Thématiques"] == "'-entraide ; logement"
    assert row["Latitude"] == "-71,5"  # numbers stay numbers, with a decimal comma
    assert row["Dernière activité"] == "2025-04-21 09:00"
    english = to_csv("cartography", rows, TZ, CsvStyle.for_locale("en_CA"))
    [row] = list(csv.DictReader(io.StringIO(english.lstrip("\ufeff"))))
    assert row["Latitude"] == "-71.5"


def test_an_empty_store_exports_headers_only(store: Store) -> None:
    text = render_export("toolbox", "csv", store.toolbox_entries(), TZ)
    assert text.splitlines() == [
        "\ufeffTitre;Liens;Résumé;Thèmes;Auteur·e;Créé le;Dernière activité;Réponses;J'aime;"
        "Lien vers le forum;Avertissements"
    ]
    assert render_export("cartography", "geojson", [], TZ) == (
        '{\n  "type": "FeatureCollection",\n  "features": []\n}\n'
    )


def test_geojson_positions_exact_approximate_or_unknown() -> None:
    rows = [
        {"organisation": "A", "latitude": 45.4, "longitude": -71.9, "territory": "Sherbrooke"},
        {"organisation": "B", "latitude": None, "longitude": None, "territory": "Le Granit"},
        {"organisation": "C", "latitude": None, "longitude": None, "territory": None},
    ]
    features = to_geojson(rows, load_territories())["features"]
    assert [f["geometry"] for f in features] == [
        {"type": "Point", "coordinates": [-71.9, 45.4]},
        {"type": "Point", "coordinates": [-70.88, 45.58]},
        None,
    ]
    assert [f["properties"]["position"] for f in features] == [
        "exacte",
        "approximative (territoire)",
        "inconnue",
    ]
    # An unplaced card claims no precision at all.
    assert [f["properties"].get("approximate") for f in features] == [False, True, None]
    assert "approximate" not in features[2]["properties"]


def test_xlsx_is_a_real_spreadsheet_with_dates_links_and_no_formulas(store: Store) -> None:
    from openpyxl import load_workbook

    card = CartographyCard(
        topic_id=7,
        title="Fiche : Coop",
        organisation='=HYPERLINK("https://evil.example","Cliquez")',
        territory="Sherbrooke",
        territories=("Sherbrooke",),
        territory_raw="Sherbrooke",
        themes=("entraide", "logement"),
        website="https://coop.exemple.ca",
        contact="+1 819 555-0142",
        description="Une coopérative.",
        latitude=45.4,
        longitude=-71.9,
        author="marie",
        created_at=datetime(2025, 4, 1, 12, 0, tzinfo=UTC),
        last_activity_at=datetime(2025, 4, 21, 13, 0, tzinfo=UTC),
        url="https://forum.exemple.ca/t/fiche-coop/7",
        fields=(),
        warnings=(),
    )
    data = render_export("cartography", "xlsx", [card], TZ)
    assert isinstance(data, bytes)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "Cartographie"
    headings = [c.value for c in sheet[1]]
    assert headings[:3] == ["Organisation", "Territoire", "Thématiques"]
    row = {h: c for h, c in zip(headings, sheet[2], strict=True)}
    assert row["Organisation"].value == '=HYPERLINK("https://evil.example","Cliquez")'
    assert row["Organisation"].data_type == "s"  # text, never a formula
    assert row["Dernière activité"].value == datetime(2025, 4, 21, 9, 0)  # a date, local time
    assert row["Latitude"].value == 45.4
    assert row["Site web"].hyperlink.target == "https://coop.exemple.ca"
    assert row["Lien vers le forum"].hyperlink.target == card.url
    assert row["Thématiques"].value == "entraide ; logement"
    assert sheet.column_dimensions["A"].width > len("Organisation")
