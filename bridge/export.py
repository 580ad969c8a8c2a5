"""Exporting the toolbox and the cartography for people: CSV, XLSX, JSON, GeoJSON.

CSV is written in UTF-8 with a byte-order mark so that a spreadsheet (Excel, LibreOffice) opens
the accents correctly on a double click, with the separators of the community's locale (« ; »
and decimal commas in French). XLSX is a real spreadsheet (`bridge/spreadsheet.py`). GeoJSON
places a card at its coordinates or, lacking them, at its territory's approximate position, and
says which (`position`), with what a map's pop-up shows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bridge.entries import CartographyCard, ToolboxEntry
from bridge.errors import UsageError
from bridge.spreadsheet import to_xlsx
from bridge.store import Store
from bridge.territories import Territory, load_territories

EXPORTS = ("toolbox", "cartography")
TITLES = {"toolbox": "Boîte à outils", "cartography": "Cartographie"}
FORMATS = ("csv", "xlsx", "json", "geojson")
Entry = ToolboxEntry | CartographyCard

# Column order and French headings for the spreadsheets facilitators open.
COLUMNS = {
    "toolbox": [
        ("title", "Titre"),
        ("links", "Liens"),
        ("summary", "Résumé"),
        ("themes", "Thèmes"),
        ("author", "Auteur·e"),
        ("created_at", "Créé le"),
        ("last_activity_at", "Dernière activité"),
        ("reply_count", "Réponses"),
        ("like_count", "J'aime"),
        ("url", "Lien vers le forum"),
        ("warnings", "Avertissements"),
    ],
    "cartography": [
        ("organisation", "Organisation"),
        ("territory", "Territoire"),
        ("themes", "Thématiques"),
        ("website", "Site web"),
        ("contact", "Contact"),
        ("description", "Description"),
        ("latitude", "Latitude"),
        ("longitude", "Longitude"),
        ("author", "Auteur·e"),
        ("last_activity_at", "Dernière activité"),
        ("url", "Lien vers le forum"),
        ("warnings", "Avertissements"),
    ],
}


@dataclass(frozen=True)
class CsvStyle:
    """How a spreadsheet of the community's locale reads CSV: Excel in French Canada splits
    columns on « ; » and reads « 45,4 » as a number."""

    delimiter: str = ";"
    decimal: str = ","

    @classmethod
    def for_locale(cls, locale: str, delimiter: str | None = None) -> CsvStyle:
        french = locale.lower().startswith("fr")
        chosen = delimiter or (";" if french else ",")
        # A decimal comma inside comma-separated columns would need quotes everywhere.
        return cls(chosen, "," if french and chosen != "," else ".")


def entries_of(store: Store, kind: str) -> list[Entry]:
    """The toolbox or the cartography, newest activity first."""
    if kind not in EXPORTS:
        raise UsageError(f"export inconnu « {kind} » : toolbox ou cartography")
    return list(store.toolbox_entries() if kind == "toolbox" else store.cards())


def render_export(
    kind: str,
    fmt: str,
    entries: Sequence[Entry],
    tz: ZoneInfo | None = None,
    style: CsvStyle = CsvStyle(),
) -> str | bytes:
    """The export as text (csv, json, geojson) or bytes (xlsx)."""
    if kind not in EXPORTS:
        raise UsageError(f"export inconnu « {kind} » : toolbox ou cartography")
    if fmt not in FORMATS:
        raise UsageError(f"format inconnu « {fmt} » : {', '.join(FORMATS)}")
    rows = [_plain(entry) for entry in entries]
    if fmt == "csv":
        return to_csv(kind, rows, tz, style)
    if fmt == "xlsx":
        columns = COLUMNS[kind]
        values = [[_xlsx_value(row.get(key), tz) for key, _ in columns] for row in rows]
        return to_xlsx(TITLES[kind], columns, values)
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n"
    if kind != "cartography":
        raise UsageError("le format geojson ne vaut que pour la cartographie")
    geojson = to_geojson(rows, load_territories(), tz)
    return json.dumps(geojson, ensure_ascii=False, indent=2) + "\n"


def _xlsx_value(value: Any, tz: ZoneInfo | None) -> Any:
    """A cell of the spreadsheet: lists joined, times as local dates (a spreadsheet has no
    time zones), the rest as it is."""
    if isinstance(value, list | tuple):
        return " ; ".join(str(v) for v in value)
    when = timestamp(value) if isinstance(value, str) else None
    if when is not None:
        return (when.astimezone(tz) if tz is not None else when).replace(tzinfo=None)
    return value


def _plain(entry: Entry) -> dict[str, Any]:
    """An entry as JSON holds it: lists, and times as UTC ISO 8601 text."""
    plain: dict[str, Any] = json.loads(json.dumps(asdict(entry), default=_iso))
    return plain


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} ne s'écrit pas en JSON")


def to_csv(
    kind: str,
    rows: Sequence[dict[str, Any]],
    tz: ZoneInfo | None = None,
    style: CsvStyle = CsvStyle(),
) -> str:
    """CSV for a spreadsheet: BOM, French headings, dates in local time, no formulas."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=style.delimiter, lineterminator="\r\n")
    columns = COLUMNS[kind]
    writer.writerow([heading for _, heading in columns])
    for row in rows:
        writer.writerow([_cell(row.get(key), tz, style.decimal) for key, _ in columns])
    return out.getvalue()


def _cell(value: Any, tz: ZoneInfo | None = None, decimal: str = ".") -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        text = " ; ".join(str(v) for v in value)
    elif isinstance(value, float):
        return str(value).replace(".", decimal)
    elif isinstance(value, int):
        return str(value)
    else:
        text = str(value)
        when = timestamp(text)
        if when is not None:
            return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if tz else text
    return formula_safe(text)


# A spreadsheet runs a cell starting with = + - @ as a formula: members' text must stay text
# (« =HYPERLINK(…) », « +1 819 555-0142 »).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def timestamp(text: str) -> datetime | None:
    """An aware ISO 8601 time written by the store, or None for any other text."""
    if len(text) < 19 or text[4:5] != "-" or text[10:11] != "T":
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else None


def to_geojson(
    rows: Sequence[dict[str, Any]], territories: Sequence[Territory], tz: ZoneInfo | None = None
) -> dict[str, Any]:
    """A FeatureCollection whose properties are what a map's pop-up shows, in French."""
    by_name = {t.name: t for t in territories}
    features = []
    for row in rows:
        properties: dict[str, Any] = {
            "organisation": row.get("organisation"),
            "titre": row.get("title"),
            "description": row.get("description"),
            "territoire": row.get("territory"),
            "thematiques": row.get("themes") or [],
            "site_web": row.get("website"),
            "contact": row.get("contact"),
            "auteur": row.get("author"),
            "derniere_activite": _local(row.get("last_activity_at"), tz),
            "lien_forum": row.get("url"),
        }
        if row.get("latitude") is not None and row.get("longitude") is not None:
            lat, lon = row["latitude"], row["longitude"]
            properties.update(position="exacte", approximate=False)
        elif row.get("territory") in by_name:
            lat, lon = by_name[row["territory"]].approx
            properties.update(position="approximative (territoire)", approximate=True)
        else:
            # Placed nowhere, so it claims no precision at all.
            lat = lon = None
            properties["position"] = "inconnue"
        # A card that cannot be placed stays in the file, without a geometry (RFC 7946 §3.2),
        # so that a map tool lists it rather than losing it.
        geometry = None if lat is None else {"type": "Point", "coordinates": [lon, lat]}
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def _local(value: str | None, tz: ZoneInfo | None) -> str | None:
    when = timestamp(value) if value else None
    if when is None or tz is None:
        return value
    return when.astimezone(tz).isoformat(timespec="minutes")
