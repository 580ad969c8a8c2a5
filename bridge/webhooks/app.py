"""The webhook endpoint as a plain WSGI application: it checks, sorts and hands on; it writes
nothing, to Discourse or to the store.

What Discourse sends (app/jobs/regular/emit_web_hook_event.rb, `Jobs::EmitWebHookEvent`):
a POST whose body is `{"<event type>": <payload>}` (`{"ping": "OK"}` for a ping), with the
headers X-Discourse-Event-Type (the group: topic, post, user, group_user, …), X-Discourse-Event
(the event: post_created, …), X-Discourse-Event-Id, and, when the webhook has a secret,
X-Discourse-Event-Signature: `sha256=` and the hex HMAC-SHA256 of the raw body. Discourse
retries an answer outside 200..299 (except 404 and 410), so an ignored event gets a 2xx too.
The events themselves are fired from config/initializers/012-web_hook_events.rb and grouped in
app/models/web_hook_event_type.rb.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

PING = "ping"
# What moves the mirror or the welcome: members joining or leaving the group, accounts created,
# deleted or anonymised, topics and posts created, edited or deleted.
ACCEPTED_EVENTS = frozenset(
    {
        "user_added_to_group",
        "user_removed_from_group",
        "user_created",
        "user_destroyed",
        "user_anonymized",
        "topic_created",
        "topic_destroyed",
        "post_created",
        "post_edited",
        "post_destroyed",
    }
)
SIGNATURE_PREFIX = "sha256="
# Reading in pieces keeps a slow or lying client from making one huge read.
_CHUNK = 64 * 1024

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class WebhookEvent:
    """One signed event, as its headers name it (the payload is not kept: the jobs read
    Discourse themselves, so a webhook can only make them look sooner)."""

    type: str  # X-Discourse-Event-Type: topic, post, user, group_user, ping, …
    name: str  # X-Discourse-Event: post_created, user_added_to_group, ping, …
    id: str = ""  # X-Discourse-Event-Id, to find the delivery in Discourse's admin

    @property
    def is_ping(self) -> bool:
        return self.type == PING or self.name == PING

    @property
    def accepted(self) -> bool:
        return self.is_ping or self.name in ACCEPTED_EVENTS

    def describe(self) -> str:
        shown = self.name or self.type or "?"
        return f"{shown} (n° {self.id})" if self.id else shown


# Answers, in French: Discourse shows them in Admin > Webhooks > events, for whoever checks.
_STATUS = {
    200: ("200 OK", "accepté"),
    202: ("202 Accepted", "ignoré : la passerelle ne suit pas cet événement"),
    400: ("400 Bad Request", "corps invalide : un objet JSON est attendu"),
    401: ("401 Unauthorized", "signature X-Discourse-Event-Signature absente ou invalide"),
    405: ("405 Method Not Allowed", "seule la méthode POST est acceptée"),
    413: ("413 Content Too Large", "corps trop gros"),
    500: ("500 Internal Server Error", "erreur interne de la passerelle"),
}


def signature(secret: bytes, body: bytes) -> str:
    """What Discourse puts in X-Discourse-Event-Signature for this body."""
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """Compared in constant time; a header that is not even ASCII is simply wrong."""
    if not header:
        return False
    try:
        given = header.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(signature(secret, body).encode("ascii"), given)


def make_app(
    secret: str | bytes, max_body: int, on_event: Callable[[WebhookEvent], None]
) -> WSGIApp:
    """The endpoint: `on_event` is called (on the request's thread, so it must be quick) with
    every accepted event whose signature is right; it should only wake a job."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    if not key:
        raise ValueError("webhook secret is empty")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            status = _handle(environ, key, max_body, on_event)
        except Exception:
            # Never a crash, and never the body in the log: it is members' content.
            log.exception("Webhook : erreur inattendue en traitant un événement")
            status = 500
        line, text = _STATUS[status]
        body = (text + "\n").encode("utf-8")
        headers = [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ]
        if status == 405:
            headers.append(("Allow", "POST"))
        start_response(line, headers)
        return [body]

    return app


def _handle(
    environ: dict[str, Any],
    key: bytes,
    max_body: int,
    on_event: Callable[[WebhookEvent], None],
) -> int:
    if environ.get("REQUEST_METHOD") != "POST":
        return 405
    try:
        body = read_body(environ, max_body)
    except Refused as refused:
        if refused.status == 413:
            log.warning("Webhook refusé : corps de plus de %d octets", max_body)
        return refused.status
    if not signature_ok(key, body, environ.get("HTTP_X_DISCOURSE_EVENT_SIGNATURE")):
        log.warning(
            "Webhook refusé : signature absente ou invalide (le secret de Discourse et "
            "DISCOURSE_WEBHOOK_SECRET sont-ils les mêmes ?)"
        )
        return 401
    # Parsed only now that the body is known to come from Discourse.
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        log.warning("Webhook refusé : le corps signé n'est pas du JSON valide")
        return 400
    if not isinstance(payload, dict):
        log.warning("Webhook refusé : le corps signé n'est pas un objet JSON")
        return 400
    event = WebhookEvent(
        type=_header(environ, "HTTP_X_DISCOURSE_EVENT_TYPE"),
        name=_header(environ, "HTTP_X_DISCOURSE_EVENT"),
        id=_header(environ, "HTTP_X_DISCOURSE_EVENT_ID"),
    )
    if not event.accepted:
        log.debug("Webhook ignoré : %s", event.describe())
        return 202
    log.info("Webhook reçu : %s", event.describe())
    on_event(event)
    return 200


class Refused(Exception):
    """A request answered before its signature is checked."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The body; Refused(413) when it is over `limit`, Refused(400) for a bad Content-Length.
    Never reads more than `limit` + 1 bytes: a declared length over the limit is refused
    unread."""
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        if not declared.isdigit() or not declared.isascii():
            raise Refused(400)
        length = int(declared)
        if length > limit:
            raise Refused(413)
        wanted = length
    elif environ.get("wsgi.input_terminated"):
        # No length, but the server ends the stream with the body (waitress does, after
        # decoding a chunked request): read up to one byte past the limit to see it.
        wanted = limit + 1
    else:
        return b""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    pieces: list[bytes] = []
    got = 0
    while got < wanted:
        piece = stream.read(min(_CHUNK, wanted - got))
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    if got > limit:
        raise Refused(413)
    return b"".join(pieces)


def _header(environ: dict[str, Any], name: str) -> str:
    """A short, printable header value: it goes into the log."""
    value = str(environ.get(name) or "")
    return "".join(c for c in value[:100] if c.isprintable())
