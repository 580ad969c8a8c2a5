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
from typing import Any

from bridge.errors import UsageError
from bridge.territories import Territory, load_territories

KINDS = {"toolbox": "toolbox_entries", "cartography": "cartography_cards"}
FORMATS = ("csv", "json", "geojson")

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


def render_export(kind: str, fmt: str, rows: Sequence[dict[str, Any]]) -> str:
    if kind not in KINDS:
        raise UsageError(f"export inconnu « {kind} » : toolbox ou cartography")
    if fmt not in FORMATS:
        raise UsageError(f"format inconnu « {fmt} » : csv, json ou geojson")
    if fmt == "csv":
        return to_csv(kind, rows)
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n"
    if kind != "cartography":
        raise UsageError("le format geojson ne vaut que pour la cartographie")
    return json.dumps(to_geojson(rows, load_territories()), ensure_ascii=False, indent=2) + "\n"


def to_csv(kind: str, rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    columns = CSV_COLUMNS[kind]
    writer.writerow([heading for _, heading in columns])
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key, _ in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ; ".join(str(v) for v in value)
    return str(value)


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
            continue
        properties = {
            k: row.get(k)
            for k in ("organisation", "title", "territory", "themes", "website", "contact", "url")
        }
        properties["position"] = position
        properties["approximate"] = position != "exacte"
        features.append(
            {
                "type": "Feature",
                # GeoJSON puts longitude first.
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}
