"""The territories of Estrie, and where things are: territories and positions as members write them.

Cartography cards name their territory in many ways (« MRC du Granit », « Memphremagog »,
« Haut-St-François », « la Ville de Sherbrooke », or just a town, « Magog », « Windsor »), and give
positions as decimal pairs, French decimal commas, degrees-minutes or a map link. This module turns
those into a canonical `Territory` and a `(latitude, longitude)` pair. Everything here is pure.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bridge.errors import ConfigError
from bridge.yamlfile import yaml_problem

PACKAGED_TERRITORIES = "data/estrie-territoires.yaml"

# Rough bounding box of Estrie (latitude, longitude): positions outside it are kept but flagged,
# since a member may well describe an initiative just across the border.
ESTRIE_LAT = (44.9, 46.2)
ESTRIE_LON = (-73.2, -70.3)


@dataclass(frozen=True)
class Territory:
    """One MRC of Estrie (or Sherbrooke); `approx` is its seat town's position, not a centroid."""

    name: str
    seat: str
    approx: tuple[float, float]
    aliases: tuple[str, ...]


# --- folding ------------------------------------------------------------------------------------

# Characters members use between words, which must not glue or split words differently from the
# reference list: hyphens and dashes, apostrophes, and the non-breaking spaces of French typography.
_SEPARATORS = str.maketrans(
    {c: " " for c in "-\u2010\u2011\u2012\u2013\u2014\u2015'\u2019\u02bc\u00a0\u202f\u2007"}
)


def fold_words(text: str) -> str:
    """Lowercase, strip accents, turn hyphens, apostrophes and non-breaking spaces into spaces.

    « Le Val-Saint-François » and « le val saint francois » fold to the same text; used for
    matching territories and card labels, and for telling themes and contacts apart.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_SEPARATORS))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


# Abbreviations in place names (« St-Élie », « Ste-Catherine ») read as the full word.
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_ARTICLES = {"le", "la", "les"}


def _words(text: str) -> tuple[str, ...]:
    return tuple(_ABBREVIATIONS.get(w, w) for w in re.findall(r"\w+", fold_words(text)))


# --- loading ------------------------------------------------------------------------------------


def load_territories(path: Path | None = None) -> tuple[Territory, ...]:
    """Read the territories file (default: the copy shipped with the package)."""
    if path is None:
        return _packaged_territories()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: lecture impossible ({exc})") from None
    return _parse_territories(text, str(path))


@functools.cache
def _packaged_territories() -> tuple[Territory, ...]:
    # Read once per process: the packaged file cannot change under us.
    text = resources.files("bridge").joinpath(PACKAGED_TERRITORIES).read_text(encoding="utf-8")
    return _parse_territories(text, PACKAGED_TERRITORIES)


def _parse_territories(text: str, source: str) -> tuple[Territory, ...]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line, problem = yaml_problem(exc)
        at = f", ligne {line}" if line is not None else ""
        raise ConfigError(f"{source}{at} : YAML invalide ({problem})") from None
    items = data.get("territories") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{source}: liste « territories: » attendue")
    return tuple(_territory(item, source, i) for i, item in enumerate(items, start=1))


def _territory(item: Any, source: str, number: int) -> Territory:
    where = f"{source}: territoire n° {number}"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: name, seat, approx attendus")
    name, seat, approx = item.get("name"), item.get("seat"), item.get("approx")
    aliases = item.get("aliases") or []
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name manquant")
    if not isinstance(seat, str) or not seat.strip():
        raise ConfigError(f"{where} ({name}): seat manquant")
    if not (
        isinstance(approx, list)
        and len(approx) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in approx)
    ):
        raise ConfigError(f"{where} ({name}): approx doit être [latitude, longitude]")
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ConfigError(f"{where} ({name}): aliases doit être une liste de noms")
    return Territory(
        name=name.strip(),
        seat=seat.strip(),
        approx=(float(approx[0]), float(approx[1])),
        aliases=tuple(a.strip() for a in aliases if a.strip()),
    )


# --- additions: other names ---------------------------------------------------------------------

PACKAGED_NAMES = "data/estrie-noms.yaml"


def _packaged_names() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The names members use beside the shared file's: municipalities, and the MRCs' short forms.

    Kept in a file of their own because bridge/data/estrie-territoires.yaml must stay a byte copy
    of the shared one. They apply under the name of the territory they belong to, so a territory
    of another name, from another file, gets none.
    """
    text = resources.files("bridge").joinpath(PACKAGED_NAMES).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    towns = {name: tuple(entry.get("municipalities") or ()) for name, entry in data.items()}
    others = {name: tuple(entry.get("other_names") or ()) for name, entry in data.items()}
    return towns, others


# Former names count (Val-des-Sources was Asbestos until 2020, the MRC d'Asbestos became the MRC
# des Sources); so do initials and short forms (« HSF », « Memphré »).
MUNICIPALITY_ADDITIONS, OTHER_NAMES = _packaged_names()


# --- matching -----------------------------------------------------------------------------------


def _keys(territory: Territory) -> set[tuple[str, ...]]:
    keys: set[tuple[str, ...]] = set()
    additions = (
        *MUNICIPALITY_ADDITIONS.get(territory.name, ()),
        *OTHER_NAMES.get(territory.name, ()),
    )
    for written in (territory.name, territory.seat, *territory.aliases, *additions):
        words = _words(written)
        if words:
            keys.add(words)
        # « La Haute-Yamaska » is also written « Haute-Yamaska »; a lone word left after the
        # article (« Sources ») is too common to stand for a territory by itself.
        if len(words) > 2 and words[0] in _ARTICLES:
            keys.add(words[1:])
    return keys


@functools.lru_cache(maxsize=8)
def _index(
    territories: tuple[Territory, ...],
) -> dict[str, list[tuple[tuple[str, ...], Territory]]]:
    """Keys grouped by first word, longest first, so the scan can stop at the first hit."""
    index: dict[str, list[tuple[tuple[str, ...], Territory]]] = {}
    for territory in territories:
        for key in _keys(territory):
            index.setdefault(key[0], []).append((key, territory))
    for candidates in index.values():
        candidates.sort(key=lambda pair: -len(pair[0]))
    return index


def find_territories(text: str, territories: Iterable[Territory]) -> tuple[Territory, ...]:
    """Every territory the text names, in the order it names them, each once.

    At each word the longest name wins, so « Val-Saint-François » never reads as
    « Saint-François » of another territory, and « Val-des-Sources » is read whole.
    """
    index = _index(tuple(territories))
    words = _words(text)
    found: list[Territory] = []
    i = 0
    while i < len(words):
        for key, territory in index.get(words[i], ()):
            if words[i : i + len(key)] == key:
                if territory not in found:
                    found.append(territory)
                i += len(key)
                break
        else:
            i += 1
    return tuple(found)


def names_whole_region(text: str) -> bool:
    """Whether the text names Estrie as a whole (« toute l'Estrie », « Cantons-de-l'Est »)."""
    words = _words(text)
    return "estrie" in words or "cantons de l est" in " ".join(words)


# --- positions ----------------------------------------------------------------------------------

_NUM = r"[-+]?\d{1,3}(?:[.,]\d+)?"
# Map links: Google's precise place (!3d…!4d…) before its view centre (@lat,lon), then
# OpenStreetMap's marker (mlat/mlon) and view (#map=zoom/lat/lon), then ?q= / ?ll= queries.
_URL_PATTERNS = (
    re.compile(r"!3d(-?\d+(?:\.\d+)?)!4d(-?\d+(?:\.\d+)?)"),
    re.compile(r"@(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)"),
    re.compile(r"[?&;]mlat=(-?\d+(?:\.\d+)?)&(?:amp;)?mlon=(-?\d+(?:\.\d+)?)"),
    re.compile(r"[#&?]map=\d+(?:\.\d+)?/(-?\d+(?:\.\d+)?)/(-?\d+(?:\.\d+)?)"),
    re.compile(r"[?&](?:q|ll|query|center)=(-?\d+(?:\.\d+)?)(?:,|%2C)\s*(-?\d+(?:\.\d+)?)", re.I),
)
_URL_RE = re.compile(r"https?://\S+")
_MINUS_RE = re.compile(r"[\u2212\u2013\u2012\u2010](?=\s?\d)")
# A number, maybe followed by a hemisphere letter (N/S, E, O for « ouest », W). Spaces are
# possessive and never next to other spaces: a long run of them cannot make a match backtrack.
_NUMBER_RE = re.compile(rf"(?<![\d.])({_NUM})(?!\d)\s*+(?:°\s*+)?([NSEOW](?![^\W\d_]))?")
_DMS_RE = re.compile(
    r"(\d{1,3})\s*°\s*(\d{1,2}(?:[.,]\d+)?)\s*['′’]\s*"
    r"(?:(\d{1,2}(?:[.,]\d+)?)\s*(?:\"|″|''|”|’’)\s*)?([NSEOW](?![^\W\d_]))?"
)
_LAT_RE = re.compile(rf"\blat(?:itude)?\.?\s*+(?:[:=]\s*+)?({_NUM})", re.I)
_LON_RE = re.compile(rf"\b(?:lon|long|lng|longitude)\.?\s*+(?:[:=]\s*+)?({_NUM})", re.I)


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """A `(latitude, longitude)` pair read from free text or a map link, or None.

    Accepts « 45.40, -71.89 », « 45,40 ; -71,89 », « lat 45.4 long -71.89 »,
    « 45°24′N 71°53′O » and Google Maps / OpenStreetMap links. Values out of range give None;
    a pair written longitude first is swapped back when only the swapped pair falls in Estrie.
    """
    for pattern in _URL_PATTERNS:
        if m := pattern.search(text):
            return _checked(float(m.group(1)), float(m.group(2)))
    text = _MINUS_RE.sub("-", _URL_RE.sub(" ", text))
    lat_m, lon_m = _LAT_RE.search(text), _LON_RE.search(text)
    if lat_m and lon_m:
        return _checked(_number(lat_m.group(1)), _number(lon_m.group(1)))
    dms = list(_DMS_RE.finditer(text))
    if len(dms) >= 2:
        values = [_from_dms(m) for m in dms[:2]]
        return _checked(*_hemispheres(values, [m.group(4) for m in dms[:2]]))
    # Bare numbers need decimals: « 12, rue King, 2e étage » is an address, and whole degrees
    # would place a card 50 km away anyway.
    numbers = list(_NUMBER_RE.finditer(text))
    if len(numbers) < 2 or not all(re.search(r"[.,]\d", m.group(1)) for m in numbers[:2]):
        return None
    pair = [_number(m.group(1)) for m in numbers[:2]]
    return _checked(*_hemispheres(pair, [m.group(2) for m in numbers[:2]]))


def in_estrie(latitude: float, longitude: float) -> bool:
    """Whether a position falls in Estrie's rough bounding box."""
    return (
        ESTRIE_LAT[0] <= latitude <= ESTRIE_LAT[1] and ESTRIE_LON[0] <= longitude <= ESTRIE_LON[1]
    )


def _number(written: str) -> float:
    # French decimal comma: « 45,40 ».
    return float(written.replace(",", "."))


def _from_dms(m: re.Match[str]) -> float:
    seconds = _number(m.group(3)) if m.group(3) else 0.0
    return int(m.group(1)) + _number(m.group(2)) / 60 + seconds / 3600


def _hemispheres(pair: Sequence[float], letters: Sequence[str | None]) -> tuple[float, float]:
    lat, lon = pair
    if letters[0] == "S":
        lat = -abs(lat)
    if letters[1] in ("O", "W"):
        lon = -abs(lon)
    return lat, lon


def _checked(lat: float, lon: float) -> tuple[float, float] | None:
    if in_estrie(lon, lat) and not in_estrie(lat, lon):
        lat, lon = lon, lat
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon
