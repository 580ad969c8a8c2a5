"""The signed webhook endpoint: Discourse's events wake the bridge's jobs within seconds; it
never writes to Discourse, and polling stays the safety net.

`app` (the WSGI application: size, signature, JSON, which events count), `waker` (bursts of
wake-ups into single runs, one at a time), `server` (waitress, in the foreground or on a
thread), `settings` (the `webhooks:` section and the secret), `standalone` (`bridge webhooks`:
a sync on each burst).
"""

from __future__ import annotations

from .app import ACCEPTED_EVENTS, WebhookEvent, make_app, signature
from .settings import ENV_WEBHOOK_SECRET, WebhooksConfig
from .waker import Waker

__all__ = [
    "ACCEPTED_EVENTS",
    "ENV_WEBHOOK_SECRET",
    "Waker",
    "WebhookEvent",
    "WebhooksConfig",
    "make_app",
    "signature",
]
