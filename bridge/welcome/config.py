"""The `welcome:` section of config.yaml (read by `bridge.config`, checked like the others)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.yamlfile import BadValue

if TYPE_CHECKING:
    from bridge.config import _ConfigReader

# A topic in the welcome subcategory, or a private message with the facilitators' group.
WELCOME_MODES = ("topic", "message")


@dataclass(frozen=True)
class WelcomeConfig:
    mode: str = "topic"
    # More newcomers than this in one wave: one collective topic names them all.
    collective_threshold: int = 5
    # Newcomers are held until this long after the latest of them joined (0: at once).
    quiet_minutes: int = 30
    # The follow-up message to those who have not posted, this long after the welcome (0: none).
    follow_up_days: int = 7
    # A member who leaves and comes back within this long is not welcomed again.
    rejoin_days: int = 365
    # On the very first pass, those who joined this recently are welcomed all the same.
    also_recent_days: int = 0
    guidelines_url: str = ""


def read_welcome(
    reader: _ConfigReader, data: Any, check_url: Callable[[Any], object]
) -> WelcomeConfig:
    keys = ("welcome",)
    defaults = WelcomeConfig()
    section = reader.section(data, keys, set(defaults.__dataclass_fields__), required=False)

    def whole(name: str, kind: str = "rate") -> int:
        return int(
            reader.value(
                section, keys + (name,), kind, default=getattr(defaults, name), check=_whole
            )
        )

    url = reader.value(section, keys + ("guidelines_url",), "str", default="", check=check_url)
    return WelcomeConfig(
        mode=reader.value(section, keys + ("mode",), "str", default=defaults.mode, check=_mode),
        collective_threshold=whole("collective_threshold", "number"),
        quiet_minutes=whole("quiet_minutes"),
        follow_up_days=whole("follow_up_days"),
        rejoin_days=whole("rejoin_days"),
        also_recent_days=whole("also_recent_days"),
        guidelines_url=url,
    )


def _mode(value: str) -> None:
    if value not in WELCOME_MODES:
        raise BadValue(
            "topic (un sujet dans la sous-catégorie d'accueil) ou message (un message privé) "
            f"attendu, trouvé « {value} »"
        )


def _whole(value: float) -> None:
    if value != int(value) or value > 100_000:
        raise BadValue(f"un nombre entier attendu, trouvé « {value} »")
