"""The `sync:` section of config.yaml: how often the mirror reconciles, and how far back it
re-reads recent topics. Apart from `bridge/config.py`, which reads the rest, to keep each small."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.yamlfile import BadValue

if TYPE_CHECKING:
    from bridge.config import _ConfigReader

_KEYS = ("sync",)


@dataclass(frozen=True)
class SyncConfig:
    reconcile_every_hours: float = 24.0
    # Each reconciliation re-reads every post of the topics active in this many days: an author
    # withdrawing a post, a post hidden by flags (or their undoing) change no count Discourse
    # lists. 0: never.
    recheck_days: int = 14


def read_sync(reader: _ConfigReader, data: Any) -> SyncConfig:
    section = reader.section(data, _KEYS, {"reconcile_every_hours", "recheck_days"}, required=False)
    defaults = SyncConfig()
    every = reader.value(
        section, (*_KEYS, "reconcile_every_hours"), "number", default=defaults.reconcile_every_hours
    )
    days = reader.value(
        section, (*_KEYS, "recheck_days"), "rate", default=defaults.recheck_days, check=_check_days
    )
    return SyncConfig(reconcile_every_hours=float(every), recheck_days=int(days))


def _check_days(value: float) -> None:
    if not isinstance(value, int) or value > 365:
        raise BadValue(f"un nombre entier de jours de 0 à 365 attendu, trouvé « {value} »")
