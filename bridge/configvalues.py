"""The checks of single values in `config.yaml`, and how a wrong value is shown back to its
author: as they wrote it in YAML, in French."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import yaml

from bridge.yamlfile import BadValue

SUPPORTED_LOCALES = ("fr_CA", "en_CA")
QUIET_WEEK_CHOICES = ("short", "none")

_URL_RE = re.compile(r"^https?://[^\s/]+")

KIND_WORDS = {
    "str": "un texte",
    "name": "un nom (slug) ou un numéro",
    "number": "un nombre positif",
    "rate": "un nombre positif ou 0 (sans limite)",
}


def shown(value: Any) -> str:
    """A YAML value as the person wrote it, not as Python prints it."""
    if isinstance(value, bool):
        return "« oui »" if value else "« non »"
    if isinstance(value, str | int | float):
        return f"« {value} »"
    return f"« {yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()} »"


def check_url(value: str) -> None:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not _URL_RE.match(value):
        raise BadValue(
            "adresse http(s) attendue, comme https://passerelles.encommun.io, "
            f"trouvé {shown(value)}"
        )


def check_quiet(value: str) -> None:
    if value not in QUIET_WEEK_CHOICES:
        raise BadValue(
            f"short (un résumé court) ou none (aucun résumé) attendu, trouvé {shown(value)}"
        )


def check_count(value: float) -> None:
    if not isinstance(value, int) or not 1 <= value <= 50:
        raise BadValue(f"un nombre entier de 1 à 50 attendu, trouvé {shown(value)}")


def check_locale(value: str) -> None:
    # The bridge's texts exist in these two: fr_FR would pass Babel and print Canadian French
    # under a French-from-France label.
    if value not in SUPPORTED_LOCALES:
        raise BadValue(f"langue inconnue ou non prise en charge « {value} » : fr_CA ou en_CA")
