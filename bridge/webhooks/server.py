"""Serving the webhook endpoint with waitress (a production-grade, pure-Python WSGI server), in
the foreground or on a thread, and stopping it cleanly from another thread."""

from __future__ import annotations

import errno
import logging
import threading
from typing import Any

import waitress.server
from waitress import trigger, wasyncore

from bridge.errors import UsageError, os_error_words
from bridge.webhooks.app import WSGIApp

log = logging.getLogger(__name__)


class Endpoint:
    """A listening waitress server: `serve()` blocks until `stop()`; `start()` serves on a
    thread (how `bridge run` can carry it beside its scheduler)."""

    def __init__(self, app: WSGIApp, host: str, port: int, max_body: int, *, threads: int = 2):
        # Ours, so that stop() can close every socket in it: with a name such as localhost,
        # waitress listens on each of its addresses, in the same map.
        self._map: dict[int, Any] = {}
        try:
            self._server: Any = waitress.server.create_server(
                app,
                map=self._map,
                host=host,
                port=port,
                threads=threads,
                # waitress stops reading and answers 413 itself past this; the app checks too.
                max_request_body_size=max_body,
                ident="bridge",
                # No listing of the error to the sender, no stack trace: the app never raises.
                expose_tracebacks=False,
            )
        except OSError as exc:
            raise UsageError(f"webhooks.listen {_shown(host, port)} : {_bind_words(exc)}") from None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        server = self._server
        listen = getattr(server, "effective_listen", None)
        host, port = listen[0] if listen else (server.effective_host, server.effective_port)
        return f"http://{_shown(host, port)}/"

    def serve(self) -> None:
        try:
            self._server.run()
        finally:
            self._stopped.set()

    def start(self) -> Endpoint:
        self._thread = threading.Thread(target=self.serve, name="webhooks-http", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listening socket and the connections (in the server's own loop, which
        owns them), and let requests under way finish."""
        dispatcher, channels = self._server.task_dispatcher, self._map

        def close_all() -> None:
            dispatcher.shutdown(cancel_pending=False, timeout=timeout)
            wasyncore.close_all(channels)

        pulls = [c for c in list(channels.values()) if isinstance(c, trigger.trigger)]
        if pulls and not self._stopped.is_set():
            # Pulled from here, run by the loop's thread between two polls.
            pulls[0].pull_trigger(close_all)  # type: ignore[arg-type]  # stubs: called bare
            self._stopped.wait(timeout)
        if self._thread is not None:
            self._thread.join(timeout)


def _shown(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind_words(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "adresse déjà utilisée (une autre passerelle, ou un autre service, y écoute)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "cette adresse n'est pas celle de cette machine"
    if exc.errno == errno.EACCES:
        return "permission refusée (les ports sous 1024 demandent les droits d'administration)"
    return os_error_words(exc)
