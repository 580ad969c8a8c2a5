"""Discourse answers for unit tests with `responses`.

pydiscourse (and the bridge) expect Discourse's exact content type; `responses` would send a
plain `application/json`, so every stub goes through `answer`.
"""

from __future__ import annotations

from typing import Any

import responses

SITE = "https://passerelles.encommun.io"
JSON = "application/json; charset=utf-8"


def answer(
    rsps: responses.RequestsMock,
    method: str,
    path: str,
    payload: Any = None,
    *,
    status: int = 200,
    match: tuple[Any, ...] = (),
    headers: dict[str, str] | None = None,
    site: str = SITE,
) -> Any:
    """Register a Discourse answer, always with Discourse's exact JSON content type."""
    return rsps.add(
        method,
        site + path,
        json=payload,
        status=status,
        content_type=JSON,
        match=list(match),
        headers=headers,
    )
