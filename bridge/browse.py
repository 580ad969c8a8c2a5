"""`bridge browse`: the store in Datasette, with French titles and descriptions."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bridge.errors import UsageError

TABLES = {
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
}


def metadata(db_name: str) -> dict[str, Any]:
    return {
        "title": "Miroir de la CdP 2isE",
        "databases": {
            db_name: {
                "tables": {
                    name: {"title": title, "description": description}
                    for name, (title, description) in TABLES.items()
                }
            }
        },
    }


def run_datasette(store_path: Path, *, port: int) -> None:
    if not store_path.exists():
        raise UsageError(f"{store_path}: pas encore de base locale (lancez d'abord bridge sync)")
    exe = shutil.which("datasette")
    if exe is None:
        raise UsageError(
            "Datasette n'est pas installé : pip install -e '.[browse]' (extra facultatif)"
        )
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(metadata(store_path.stem), f, ensure_ascii=False)
    subprocess.run(
        [exe, str(store_path), "--metadata", f.name, "--port", str(port), "--open"], check=False
    )
