"""Webhook deliveries as Discourse makes them, for tests and the demo: the sandbox does not
send them by itself, but what it would send is built here the way Discourse builds it.

app/jobs/regular/emit_web_hook_event.rb (`Jobs::EmitWebHookEvent#build_webhook_body` and
`#build_webhook_headers`): the body is `{"<event type>": <payload>}`, or `{"ping": "OK"}`;
the signature is `sha256=` and the hex HMAC-SHA256 of the body's bytes with the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def webhook_delivery(
    secret: str,
    event_type: str,
    event_name: str,
    payload: Any = None,
    *,
    event_id: int = 1,
    instance: str = "http://127.0.0.1",
) -> tuple[dict[str, str], bytes]:
    """The headers and the body of one delivery."""
    if event_type == "ping":
        body = json.dumps({"ping": "OK"}, separators=(",", ":")).encode("utf-8")
    else:
        body = json.dumps({event_type: payload}, separators=(",", ":")).encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    headers = {
        "Accept": "*/*",
        "Content-Type": "application/json",
        "User-Agent": "Discourse/3.5.0",
        "X-Discourse-Instance": instance,
        "X-Discourse-Event-Id": str(event_id),
        "X-Discourse-Event-Type": event_type,
        "X-Discourse-Event": event_name,
        "X-Discourse-Event-Signature": f"sha256={digest}",
    }
    return headers, body
