"""How the welcome names a member in the store and in the ledger: a keyed hash of the user id.

`person_key` is HMAC-SHA256 of the user id under the community's random secret (kept in the
store, `welcome_secrets`), 16 hex digits. It is not the id nor the name, so the ledger keys
and the welcome's rows survive `bridge forget` and say nothing of the person to whoever reads
them without the secret; the same account always gets the same key, so a member who leaves
and comes back is recognised.

The ledger keys of the welcome:

- `welcome:<person>:<joined YYYYMMDD>`: the welcome of one member (a topic or a message);
- `welcome:vague:<hash of the wave's persons>`: one collective topic naming a wave of members;
- `welcome:<person>:suivi:<welcomed YYYYMMDD>`: the follow-up message to a silent member.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

KEY_PREFIX = "welcome:"


def person_key(secret: bytes, user_id: int) -> str:
    return hmac.new(secret, str(int(user_id)).encode(), hashlib.sha256).hexdigest()[:16]


def welcome_key(person: str, joined_at: datetime) -> str:
    return f"{KEY_PREFIX}{person}:{joined_at:%Y%m%d}"


def wave_key(persons: Iterable[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(persons)).encode()).hexdigest()[:16]
    return f"{KEY_PREFIX}vague:{digest}"


def follow_up_key(person: str, welcomed_at: datetime) -> str:
    return f"{KEY_PREFIX}{person}:suivi:{welcomed_at:%Y%m%d}"
