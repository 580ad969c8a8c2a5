"""Exporting the toolbox and the cartography for people: CSV, JSON, GeoJSON.

CSV is written in UTF-8 with a byte-order mark so that a spreadsheet (Excel, LibreOffice) opens
the accents correctly on a double click. GeoJSON places a card at its coordinates or, lacking
them, at its territory's approximate position, and says which (`position`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bridge.entries import CartographyCard, ToolboxEntry
from bridge.errors import UsageError
from bridge.store import Store
from bridge.territories import Territory, load_territories

EXPORTS = ("toolbox", "cartography")
FORMATS = ("csv", "json", "geojson")
Entry = ToolboxEntry | CartographyCard

# Column order and French headings for the CSV files facilitators open.
CSV_COLUMNS = {
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


def entries_of(store: Store, kind: str) -> list[Entry]:
    """The toolbox or the cartography, newest activity first."""
    if kind not in EXPORTS:
        raise UsageError(f"export inconnu « {kind} » : toolbox ou cartography")
    return list(store.toolbox_entries() if kind == "toolbox" else store.cards())


def render_export(kind: str, fmt: str, entries: Sequence[Entry], tz: ZoneInfo | None = None) -> str:
    rows = [_plain(entry) for entry in entries]
    if kind not in EXPORTS:
        raise UsageError(f"export inconnu « {kind} » : toolbox ou cartography")
    if fmt not in FORMATS:
        raise UsageError(f"format inconnu « {fmt} » : csv, json ou geojson")
    if fmt == "csv":
        return to_csv(kind, rows, tz)
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n"
    if kind != "cartography":
        raise UsageError("le format geojson ne vaut que pour la cartographie")
    return json.dumps(to_geojson(rows, load_territories()), ensure_ascii=False, indent=2) + "\n"


def _plain(entry: Entry) -> dict[str, Any]:
    """An entry as JSON holds it: lists, and times as UTC ISO 8601 text."""
    plain: dict[str, Any] = json.loads(json.dumps(asdict(entry), default=_iso))
    return plain


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} ne s'écrit pas en JSON")


def to_csv(kind: str, rows: Sequence[dict[str, Any]], tz: ZoneInfo | None = None) -> str:
    """CSV for a spreadsheet: BOM, French headings, dates in local time, no formulas."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    columns = CSV_COLUMNS[kind]
    writer.writerow([heading for _, heading in columns])
    for row in rows:
        writer.writerow([_cell(row.get(key), tz) for key, _ in columns])
    return out.getvalue()


def _cell(value: Any, tz: ZoneInfo | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        text = " ; ".join(str(v) for v in value)
    elif isinstance(value, int | float):
        return str(value)
    else:
        text = str(value)
        when = _timestamp(text)
        if when is not None:
            return when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if tz else text
    # A spreadsheet runs a cell starting with = + - @ as a formula: members' text must stay
    # text (« =HYPERLINK(…) », « +1 819 555-0142 »).
    return "'" + text if text[:1] in _FORMULA_STARTS else text


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _timestamp(text: str) -> datetime | None:
    if len(text) < 19 or text[4:5] != "-" or text[10:11] != "T":
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else None


def to_geojson(rows: Sequence[dict[str, Any]], territories: Sequence[Territory]) -> dict[str, Any]:
    by_name = {t.name: t for t in territories}
    features = []
    for row in rows:
        if row.get("latitude") is not None and row.get("longitude") is not None:
            lat, lon, position = row["latitude"], row["longitude"], "exacte"
        elif row.get("territory") in by_name:
            lat, lon = by_name[row["territory"]].approx
            position = "approximative (territoire)"
        else:
            lat = lon = None
            position = "inconnue"
        properties = {
            k: row.get(k)
            for k in ("organisation", "title", "territory", "themes", "website", "contact", "url")
        }
        properties["position"] = position
        properties["approximate"] = position != "exacte"
        # A card that cannot be placed stays in the file, without a geometry (RFC 7946 §3.2),
        # so that a map tool lists it rather than losing it.
        geometry = None if lat is None else {"type": "Point", "coordinates": [lon, lat]}
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}
