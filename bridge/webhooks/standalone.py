"""`bridge webhooks`: the endpoint on its own, a mirror pass after each burst of events.

Inside `bridge run`, the same endpoint wakes the scheduler's jobs instead (same `make_app` and
`Endpoint`, another `on_event`). Here each burst runs `run_sync` on the waker's thread, with
parts built for that run: a store connection belongs to the thread that opened it.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from bridge.config import Config
from bridge.errors import BridgeError, ConfigError
from bridge.webhooks.app import WebhookEvent, make_app
from bridge.webhooks.server import Endpoint
from bridge.webhooks.settings import WebhooksConfig
from bridge.webhooks.waker import Waker

log = logging.getLogger(__name__)

# What an incremental pass cannot see (it follows the order of activity): these bursts run the
# full reconciliation, which is dearer (README, « Miroir : coût en requêtes ») but rare.
# An edit is left to the incremental pass (it sees the last post's) and to the next
# reconciliation: edits are frequent.
NEEDS_FULL_PASS = frozenset(
    {
        "topic_destroyed",
        "post_destroyed",
        "user_destroyed",
        "user_anonymized",
        "user_removed_from_group",
    }
)


def require_webhooks(config: Config) -> tuple[WebhooksConfig, str]:
    """The section and the secret, or a ConfigError saying what to add."""
    hooks = config.webhooks
    if hooks is None:
        where = config.source.name if config.source else "config.yaml"
        raise ConfigError(
            f"{where} n'a pas de section webhooks: (ajoutez « webhooks: » et, en dessous, "
            "« listen: 127.0.0.1:8765 », comme dans le config.yaml d'exemple)"
        )
    return hooks, hooks.require_secret()


def sync_once(config: Config, events: frozenset[str]) -> None:
    """One recorded mirror pass, as `bridge sync` does it; a full one for what an incremental
    pass cannot see."""
    from bridge.runs import run_sync
    from bridge.wiring import Parts

    # The mirror logs its summary, and the run is recorded (bridge status).
    try:
        with Parts.build(config) as parts:
            run_sync(parts, full=bool(events & NEEDS_FULL_PASS))
    except BridgeError as exc:
        # Discourse down, the store busy: the reason in French for whoever watches, not the
        # waker's traceback; the next burst (or the polling) tries again.
        log.error("Webhooks : la synchronisation a échoué : %s", exc)


class Listening:
    """The endpoint and its waker, running; `close` stops both (a run under way finishes)."""

    def __init__(self, endpoint: Endpoint, waker: Waker) -> None:
        self.endpoint = endpoint
        self.waker = waker

    @property
    def url(self) -> str:
        return self.endpoint.url

    def close(self) -> None:
        self.endpoint.stop()
        self.waker.stop()


def open_endpoint(config: Config, job: Callable[[frozenset[str]], object]) -> Listening:
    """Start listening for Discourse's events; each burst of them calls `job` once, with the
    events' names, on the waker's thread. Used alone (`bridge webhooks`) and by `bridge run`."""
    hooks, secret = require_webhooks(config)
    waker = Waker(job, name="webhooks")

    def on_event(event: WebhookEvent) -> None:
        if event.is_ping:
            # Discourse's « Ping » button: the signature is right, nothing to read.
            log.info("Webhooks : ping reçu de Discourse, la signature est bonne")
            return
        waker.wake(event.name)

    app = make_app(secret, hooks.max_body_bytes, on_event)
    endpoint = Endpoint(app, hooks.host, hooks.port, hooks.max_body_bytes)
    waker.start()
    try:
        endpoint.start()
    except BaseException:
        waker.stop()
        raise
    return Listening(endpoint, waker)


def listen_and_sync(
    config: Config,
    *,
    echo: Callable[[str], None] = print,
    job: Callable[[frozenset[str]], object] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve until SIGTERM or Ctrl-C (or `stop` is set), syncing after each burst of events;
    a sync under way is let finish before returning."""
    require_webhooks(config)
    # Said now rather than at the first event: a missing key is a setup mistake.
    config.require_api_key()
    stop = stop or threading.Event()
    restore = _on_signals(stop)
    try:
        listening = open_endpoint(config, job or (lambda events: sync_once(config, events)))
        try:
            echo(f"Webhooks : en écoute sur {listening.url} (Ctrl-C pour arrêter)")
            while not stop.wait(1.0):
                pass
            echo("Webhooks : arrêt demandé; la mise à jour en cours, s'il y en a une, se termine.")
        finally:
            listening.close()
    finally:
        restore()
    echo("Webhooks : arrêtés.")


def _on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGTERM (systemd, docker stop) and SIGINT (Ctrl-C) ask for a clean stop; returns what
    puts the previous handlers back. Off the main thread (tests), signals are left alone."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return restore
