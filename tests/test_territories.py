"""Territories of Estrie as members name them, and positions as members write them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.territories import (
    MUNICIPALITY_ADDITIONS,
    OTHER_NAMES,
    Territory,
    find_territories,
    fold_words,
    in_estrie,
    load_territories,
    names_whole_region,
    parse_coordinates,
)

SHARED_TERRITORIES = Path(__file__).resolve().parents[2] / "shared/context/estrie-territoires.yaml"
PACKAGED = Path(__file__).resolve().parents[1] / "bridge/data/estrie-territoires.yaml"

TERRITORIES = load_territories()


def first_territory(text: str, territories: Iterable[Territory]) -> Territory | None:
    """The first territory the text names, as the card parser takes it."""
    found = find_territories(text, territories)
    return found[0] if found else None


def test_packaged_territories():
    assert [t.name for t in TERRITORIES] == [
        "Sherbrooke",
        "Memphrémagog",
        "Coaticook",
        "Le Val-Saint-François",
        "Le Haut-Saint-François",
        "Le Granit",
        "Les Sources",
        "Brome-Missisquoi",
        "La Haute-Yamaska",
    ]
    assert TERRITORIES[1] == Territory(
        name="Memphrémagog",
        seat="Magog",
        approx=(45.27, -72.15),
        aliases=("MRC de Memphrémagog", "Memphremagog"),
    )


@pytest.mark.skipif(not SHARED_TERRITORIES.exists(), reason="shared/ is not next to the repository")
def test_packaged_copy_matches_the_shared_file():
    assert PACKAGED.read_bytes() == SHARED_TERRITORIES.read_bytes()


def test_load_from_a_path(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "territories:\n  - name: Ailleurs\n    seat: Là\n    approx: [46, -72.5]\n",
        encoding="utf-8",
    )
    assert load_territories(path) == (
        Territory(name="Ailleurs", seat="Là", approx=(46.0, -72.5), aliases=()),
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("territories: []\n", "liste « territories: » attendue"),
        ("- a\n", "liste « territories: » attendue"),
        ("territories:\n  - name: A\n    approx: [1, 2]\n", "territoire n° 1 (A): seat manquant"),
        ("territories:\n  - name: A\n    seat: B\n    approx: [1]\n", "approx doit être"),
        ("territories: [\n", "YAML invalide .fin du fichier avant une valeur"),
    ],
)
def test_load_refuses_a_malformed_file(tmp_path, text, message):
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_territories(path)


def test_load_names_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="absent.yaml: lecture impossible"):
        load_territories(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    "text, folded",
    [
        ("Le Val-Saint-François", "le val saint francois"),
        ("L’Île\u00a0d'Orléans", "l ile d orleans"),
        ("  MRC\u202fdu   GRANIT ", "mrc du granit"),
        ("Coaticook—Compton", "coaticook compton"),
        ("", ""),
    ],
)
def test_fold_words(text, folded):
    assert fold_words(text) == folded


@pytest.mark.parametrize(
    "text, name",
    [
        ("Sherbrooke", "Sherbrooke"),
        ("SHERBROOKE", "Sherbrooke"),
        ("la Ville de Sherbrooke", "Sherbrooke"),
        ("Memphrémagog", "Memphrémagog"),
        ("Memphremagog", "Memphrémagog"),
        ("MRC de Memphrémagog", "Memphrémagog"),
        ("Magog", "Memphrémagog"),
        ("Coaticook", "Coaticook"),
        ("MRC de Coaticook", "Coaticook"),
        ("Le Val-Saint-François", "Le Val-Saint-François"),
        ("Val Saint-François", "Le Val-Saint-François"),
        ("val saint francois", "Le Val-Saint-François"),
        ("MRC du Val-Saint-François", "Le Val-Saint-François"),
        ("Val-St-François", "Le Val-Saint-François"),
        ("Richmond", "Le Val-Saint-François"),
        ("Le Haut-Saint-François", "Le Haut-Saint-François"),
        ("Haut Saint François", "Le Haut-Saint-François"),
        ("Haut-St-François", "Le Haut-Saint-François"),
        ("MRC du Haut-Saint-François", "Le Haut-Saint-François"),
        ("Cookshire-Eaton", "Le Haut-Saint-François"),
        ("Le Granit", "Le Granit"),
        ("MRC du Granit", "Le Granit"),
        ("granit", "Le Granit"),
        ("Lac-Mégantic", "Le Granit"),
        ("Lac Megantic", "Le Granit"),
        ("Les Sources", "Les Sources"),
        ("MRC des Sources", "Les Sources"),
        ("Val-des-Sources", "Les Sources"),
        ("Brome-Missisquoi", "Brome-Missisquoi"),
        ("Brome Missisquoi", "Brome-Missisquoi"),
        ("MRC Brome-Missisquoi", "Brome-Missisquoi"),
        ("Cowansville", "Brome-Missisquoi"),
        ("La Haute-Yamaska", "La Haute-Yamaska"),
        ("haute yamaska", "La Haute-Yamaska"),
        ("MRC de La Haute-Yamaska", "La Haute-Yamaska"),
        ("Granby", "La Haute-Yamaska"),
        (
            "Partout dans la MRC du Haut-Saint-François, surtout à East Angus",
            "Le Haut-Saint-François",
        ),
    ],
)
def test_first_territory(text, name):
    found = first_territory(text, TERRITORIES)
    assert found is not None and found.name == name


@pytest.mark.parametrize(
    "text, name",
    [
        ("Windsor", "Le Val-Saint-François"),
        ("Valcourt", "Le Val-Saint-François"),
        ("Asbestos", "Les Sources"),
        ("Ville d'Asbestos", "Les Sources"),
        ("Val-des-Sources", "Les Sources"),
        ("Danville", "Les Sources"),
        ("Saint-Georges-de-Windsor", "Les Sources"),
        ("St-Georges-de-Windsor", "Les Sources"),
        ("Bromont", "Brome-Missisquoi"),
        ("Cowansville", "Brome-Missisquoi"),
        ("Sutton", "Brome-Missisquoi"),
        ("Lac-Brome", "Brome-Missisquoi"),
        ("Knowlton", "Brome-Missisquoi"),
        ("Granby", "La Haute-Yamaska"),
        ("Waterloo", "La Haute-Yamaska"),
        ("East Angus", "Le Haut-Saint-François"),
        ("Cookshire-Eaton", "Le Haut-Saint-François"),
        ("Weedon", "Le Haut-Saint-François"),
        ("Lac-Mégantic", "Le Granit"),
        ("Magog", "Memphrémagog"),
        ("Stanstead", "Memphrémagog"),
        ("North Hatley", "Memphrémagog"),
        ("Ayer’s Cliff", "Memphrémagog"),
        ("Stanstead-Est", "Coaticook"),
        ("Coaticook", "Coaticook"),
        ("Compton", "Coaticook"),
        ("Richmond", "Le Val-Saint-François"),
        ("Lennoxville", "Sherbrooke"),
    ],
)
def test_match_territory_by_municipality(text, name):
    found = first_territory(text, TERRITORIES)
    assert found is not None and found.name == name


def test_municipality_additions_each_name_one_packaged_territory():
    by_name = {t.name: t for t in TERRITORIES}
    assert set(MUNICIPALITY_ADDITIONS) <= set(by_name)
    for name, towns in MUNICIPALITY_ADDITIONS.items():
        for town in towns:
            assert find_territories(town, TERRITORIES) == (by_name[name],), town


def test_other_names_each_name_one_packaged_territory():
    by_name = {t.name: t for t in TERRITORIES}
    assert set(OTHER_NAMES) <= set(by_name)
    for name, others in OTHER_NAMES.items():
        for other in others:
            assert find_territories(other, TERRITORIES) == (by_name[name],), other


@pytest.mark.parametrize(
    "text, names",
    [
        ("Memphré", ("Memphrémagog",)),
        ("HSF", ("Le Haut-Saint-François",)),
        ("Racine, Bonsecours et Maricourt (VSF)", ("Le Val-Saint-François",)),
        ("Granit", ("Le Granit",)),
        ("MRC d'Asbestos", ("Les Sources",)),
        ("Cookshire", ("Le Haut-Saint-François",)),
        ("Ste-Catherine-de-Hatley", ("Memphrémagog",)),
        ("Saint-Élie-d'Orford", ("Sherbrooke",)),
        ("Ascot Corner et Ascot", ("Le Haut-Saint-François", "Sherbrooke")),
        ("Stanstead-Est, Stanstead", ("Coaticook", "Memphrémagog")),
    ],
)
def test_short_old_and_municipal_names(text, names):
    assert tuple(t.name for t in find_territories(text, TERRITORIES)) == names


def test_municipality_additions_leave_other_territory_files_alone():
    ours = (Territory("Ailleurs", "Là", (46.0, -72.5), ()),)
    assert first_territory("Windsor", ours) is None


def test_find_territories_through_municipalities():
    found = find_territories("Windsor, Asbestos et Bromont", TERRITORIES)
    assert tuple(t.name for t in found) == (
        "Le Val-Saint-François",
        "Les Sources",
        "Brome-Missisquoi",
    )


@pytest.mark.parametrize(
    "text",
    ["", "Montréal", "Saint-François", "ressources humaines", "Magogville", "Haute", "Estrie"],
)
def test_match_territory_none(text):
    assert first_territory(text, TERRITORIES) is None


@pytest.mark.parametrize(
    "text, names",
    [
        ("Sherbrooke et Magog", ("Sherbrooke", "Memphrémagog")),
        ("Magog, Sherbrooke", ("Memphrémagog", "Sherbrooke")),
        ("Granby et La Haute-Yamaska", ("La Haute-Yamaska",)),
        (
            "Val-Saint-François et Haut-Saint-François",
            ("Le Val-Saint-François", "Le Haut-Saint-François"),
        ),
        (
            "Haut-Saint-François / Val-Saint-François",
            ("Le Haut-Saint-François", "Le Val-Saint-François"),
        ),
    ],
)
def test_find_territories_in_order(text, names):
    assert tuple(t.name for t in find_territories(text, TERRITORIES)) == names


@pytest.mark.parametrize(
    "text, whole",
    [("Toute l'Estrie", True), ("Cantons-de-l'Est", True), ("Sherbrooke", False)],
)
def test_names_whole_region(text, whole):
    assert names_whole_region(text) is whole


@pytest.mark.parametrize(
    "text, expected",
    [
        ("45.40, -71.89", (45.40, -71.89)),
        ("45,40 ; -71,89", (45.40, -71.89)),
        ("45,40,-71,89", (45.40, -71.89)),
        ("45.4,-71.89", (45.4, -71.89)),
        ("lat 45.4 long -71.89", (45.4, -71.89)),
        ("Latitude : 45,4 / Longitude : \u221271,89", (45.4, -71.89)),
        ("long. -71.89, lat. 45.4", (45.4, -71.89)),
        ("45.4 N, 71.89 O", (45.4, -71.89)),
        ("45°24′N 71°53′24″O", (45.4, -71.89)),
        ("-71.89, 45.40", (45.40, -71.89)),  # written longitude first: put back
        ("48.45, -68.52", (48.45, -68.52)),  # Rimouski: valid, not in Estrie
        ("https://www.google.com/maps/@45.4012,-71.8929,15z", (45.4012, -71.8929)),
        (
            "https://www.google.com/maps/place/Magog/@45.26,-72.14,13z"
            "/data=!4m6!3m5!8m2!3d45.2667!4d-72.15",
            (45.2667, -72.15),
        ),
        (
            "https://www.openstreetmap.org/?mlat=45.4&mlon=-71.89#map=15/45.41/-71.80",
            (45.4, -71.89),
        ),
        ("https://www.openstreetmap.org/#map=15/45.4/-71.89", (45.4, -71.89)),
        ("[carte](https://maps.google.com/?q=45.4,-71.89)", (45.4, -71.89)),
    ],
)
def test_parse_coordinates(text, expected):
    assert parse_coordinates(text) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "près du parc Jacques-Cartier",
        "45.4",
        "145, -271",
        "95.5, 10.1",
        "45, -72",
        "12, rue King Ouest, 2e étage",
        "https://www.cdc-sherbrooke.org",
    ],
)
def test_parse_coordinates_none(text):
    assert parse_coordinates(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("lat" + " " * 20_000 + "x", None),
        ("latitude\u00a0" + "\u00a0" * 20_000 + ": x", None),
        ("long" + "\t" * 20_000 + "x", None),
        ("Lat : 45,4 long" + " " * 20_000 + ":" + " " * 20_000 + "x", None),
        ("1" + " " * 20_000 + "°" + " " * 20_000 + "x", None),
        ("1.5" + " \u202f" * 10_000 + "N", None),
        ("1.5 " * 10_000, (1.5, 1.5)),
        ("1°" * 20_000, None),
        ("@1" * 20_000, None),
        ("https://x.org/?q=" + "1" * 20_000, None),
    ],
)
def test_parse_coordinates_on_long_runs_is_quick(text, expected):
    start = time.perf_counter()
    assert parse_coordinates(text) == expected
    assert time.perf_counter() - start <= 2.0  # a guard against runaway regexes, not a benchmark


def test_parse_coordinates_with_long_runs_of_spaces():
    text = "lat" + " " * 20_000 + ":" + "\u00a0" * 20_000 + "45,4 long" + "\t" * 20_000 + "-71,89"
    start = time.perf_counter()
    assert parse_coordinates(text) == pytest.approx((45.4, -71.89))
    assert time.perf_counter() - start <= 2.0


@pytest.mark.parametrize(
    "position, inside",
    [
        ((45.40, -71.89), True),
        ((45.58, -70.88), True),
        ((45.50, -73.57), False),
        ((44.5, -72.0), False),
    ],
)
def test_in_estrie(position, inside):
    assert in_estrie(*position) is inside
