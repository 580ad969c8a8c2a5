"""The transport under the bridge's Discourse client: HTTP, pacing, retries, errors.

This is the only module in the project that imports pydiscourse. It subclasses pydiscourse's
client and replaces its `_request`, because upstream retries 429 with a real sleep (writes
included), ignores `Retry-After`, has no timeout or session, and cannot report a redirect.
Reads follow a redirect on the same site (Discourse answers 301 to a category's canonical
path); a redirect to another site, or of a write, is an error.
What comes back is decoded JSON; giving it types is `bridge.discourse.client`'s job.

Rules kept here: reads are retried on 5xx, timeouts and dropped connections; writes never are,
except after a 429 (Discourse refused before doing anything). Refusals become the bridge's
errors (`bridge.errors`), and the API key never appears in a message or a log line.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from pydiscourse import DiscourseClient as _UpstreamClient
from urllib3.exceptions import NewConnectionError

from bridge import __version__
from bridge.errors import (
    AuthError,
    BridgeError,
    DiscourseError,
    MalformedAnswer,
    NotFoundError,
    RejectedError,
    UnavailableError,
    WriteOutcomeUnknown,
)

log = logging.getLogger(__name__)

# Backoff for reads: 1, 2, 4, 8 s… (halved at most by jitter), never above 30 s per wait;
# all waits for one request (429 included) stop at 5 minutes: past that, better fail the run.
_BACKOFF_BASE = 1.0
_BACKOFF_CAP = 30.0
_MAX_TOTAL_WAIT = 300.0
# pydiscourse's own guess when a 429 says nothing about how long to wait.
_DEFAULT_RATE_LIMIT_WAIT = 10.0
# No answer of Discourse's API weighs this much (a topic's 20 posts, cooked and raw, are well
# under 1 MB): past it, the body is not read, and the answer is malformed.
MAX_BODY_BYTES = 8 * 1024 * 1024
# Redirects a read follows on the same site before giving up (Discourse needs one).
_MAX_REDIRECTS = 5


def _same_site(url: str, host: str) -> bool:
    # Scheme and host:port: the API key never leaves for another site, nor over plain HTTP.
    there, here = urlsplit(url), urlsplit(host)
    return (there.scheme, there.netloc.lower()) == (here.scheme, here.netloc.lower())


def _discourse_words(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e) for e in errors)
        for key in ("error", "message"):
            if body.get(key):
                return str(body[key])
    return response.reason or ""


def _never_reached_server(exc: requests.RequestException) -> bool:
    # Connecting failed, so no byte of the request left: a write certainly did not happen.
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _read_body(response: requests.Response, where: str) -> None:
    """Read the body, up to MAX_BODY_BYTES; past that, MalformedAnswer without reading more."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        response.close()
        raise MalformedAnswer(_too_large(where, int(declared)))
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            response.close()
            raise MalformedAnswer(_too_large(where, size))
    # What `response.content` would have read, had the size not needed watching.
    response._content = b"".join(chunks)


def _too_large(where: str, size: int) -> str:
    return (
        f"réponse trop volumineuse de {where} ({size // (1024 * 1024)} Mo, plus de "
        f"{MAX_BODY_BYTES // (1024 * 1024)} Mo) : ignorée"
    )


class Transport(_UpstreamClient):  # type: ignore[misc]
    """pydiscourse's client with the bridge's transport: session, pacing, retries, errors."""

    def __init__(
        self,
        host: str,
        api_username: str,
        api_key: str,
        *,
        timeout: float,
        requests_per_minute: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        max_read_retries: int,
        rng: random.Random,
    ) -> None:
        super().__init__(host, api_username, api_key, timeout=timeout)
        self.interval = 60.0 / requests_per_minute if requests_per_minute > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self.max_read_retries = max_read_retries
        self.rng = rng
        self.requests_sent = 0
        # Called before each read (the service's shutdown: no new request starts).
        self.gate: Callable[[], None] | None = None
        self._last_sent: float | None = None
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Api-Key": api_key,
                "Api-Username": api_username,
                "Accept": "application/json",
                "User-Agent": f"encommun-bridge/{__version__}",
            }
        )

    def _request(
        self,
        verb: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        override_request_kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        sent = {"params": params, "data": data, "json": json, "files": files}
        return self.decode(verb, path, self.send(verb, path, **sent))

    def send(
        self, verb: str, path: str, *, redirects_ok: bool = False, **request_kwargs: Any
    ) -> requests.Response:
        url = self.host + path
        where = f"{verb} {url}"
        is_read = verb == "GET"
        waited = 0.0
        attempt = 0
        hops = 0
        while True:
            if is_read and self.gate is not None:
                self.gate()
            self._pace()
            self.requests_sent += 1
            try:
                response = self.session.request(
                    verb,
                    url,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                    **request_kwargs,
                )
                # Read here, so that a connection lost mid-body is retried like any other.
                _read_body(response, f"{where}")
            except (
                requests.Timeout,
                requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                if not is_read and _never_reached_server(exc):
                    raise UnavailableError(
                        f"Discourse injoignable pour {where} : l'écriture n'a pas été envoyée"
                    ) from exc
                if not is_read:
                    raise WriteOutcomeUnknown(
                        f"la connexion a été perdue pendant {where} : impossible de savoir "
                        "si Discourse a fait l'écriture"
                    ) from exc
                failure = "délai dépassé" if isinstance(exc, requests.Timeout) else "connexion"
                delay = self._backoff(attempt)
            except requests.RequestException as exc:
                raise DiscourseError(
                    f"requête impossible : {where} ({type(exc).__name__})"
                ) from exc
            else:
                status = response.status_code
                log.debug("%s -> %s", where, status)
                if status == 429:
                    # Discourse refuses before acting: even a write is safe to send again.
                    failure = "429, trop de requêtes"
                    delay = self._rate_limit_wait(response)
                elif status >= 500:
                    if not is_read:
                        raise WriteOutcomeUnknown(
                            f"Discourse a répondu {status} à {where} : impossible de savoir "
                            "si l'écriture a eu lieu"
                        )
                    failure = str(status)
                    delay = self._backoff(attempt)
                elif status >= 400:
                    raise self._client_error(verb, path, response)
                elif 300 <= status < 400 and not redirects_ok:
                    # Discourse answers 301 to a category's canonical path (a subcategory, a
                    # renamed slug): a read follows it on the same site; a write never does.
                    target = urljoin(url, response.headers.get("Location", ""))
                    if not is_read or not response.headers.get("Location"):
                        raise DiscourseError(
                            f"redirection inattendue ({status}) de {where} vers "
                            f"{response.headers.get('Location', '?')} : vérifiez discourse.url"
                        )
                    if not _same_site(target, self.host):
                        raise DiscourseError(
                            f"Discourse a redirigé {where} vers un autre site ({target}) : la "
                            f"passerelle ne suit pas une redirection hors de {self.host} ; "
                            "vérifiez discourse.url"
                        )
                    hops += 1
                    if hops > _MAX_REDIRECTS:
                        raise DiscourseError(f"trop de redirections à partir de {where}")
                    log.debug("%s -> %s %s", where, status, target)
                    # The Location carries the query string already.
                    url, where = target, f"{verb} {target}"
                    request_kwargs = {**request_kwargs, "params": None}
                    continue
                else:
                    return response
            if attempt >= self.max_read_retries or waited + delay > _MAX_TOTAL_WAIT:
                raise UnavailableError(
                    f"Discourse ne répond pas correctement à {where} après {attempt + 1} "
                    f"essai(s) (dernier : {failure}) ; réessayez plus tard"
                )
            level = logging.INFO if failure.startswith("429") else logging.WARNING
            log.log(level, "%s : %s, nouvel essai dans %.1f s", where, failure, delay)
            self.sleep(delay)
            waited += delay
            attempt += 1

    def decode(self, verb: str, path: str, response: requests.Response) -> Any:
        # Some endpoints answer an empty body; pydiscourse maps that to None as well.
        if not response.content.strip():
            return None
        content_type = response.headers.get("Content-Type", "")
        # More lenient than pydiscourse, which wants exactly "application/json; charset=utf-8".
        if "application/json" not in content_type:
            raise MalformedAnswer(
                f"réponse inattendue ({content_type or 'sans type'}) de {verb} {self.host}{path} :"
                " discourse.url désigne-t-elle bien un site Discourse ?"
            )
        try:
            decoded = response.json()
        except ValueError as exc:
            raise MalformedAnswer(
                f"réponse illisible (JSON invalide ou tronqué) de {verb} {self.host}{path}"
            ) from exc
        if isinstance(decoded, Mapping) and decoded.get("errors"):
            raise DiscourseError(self._scrub(_discourse_words(response)))
        return decoded

    def _pace(self) -> None:
        if self.interval and self._last_sent is not None:
            wait = self._last_sent + self.interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last_sent = self.clock()

    def _backoff(self, attempt: int) -> float:
        # Jitter keeps several bridges (or runs) from retrying in lockstep.
        ceiling = min(_BACKOFF_CAP, _BACKOFF_BASE * 2.0**attempt)
        return ceiling * (0.5 + self.rng.random() / 2)

    def _rate_limit_wait(self, response: requests.Response) -> float:
        header = response.headers.get("Retry-After", "")
        if header.strip().replace(".", "", 1).isdigit():
            return float(header)
        try:
            return float(response.json()["extras"]["wait_seconds"])
        except (ValueError, TypeError, KeyError):
            return _DEFAULT_RATE_LIMIT_WAIT

    def _client_error(self, verb: str, path: str, response: requests.Response) -> BridgeError:
        status = response.status_code
        words = self._scrub(_discourse_words(response))
        if status in (401, 403):
            return AuthError(
                f"la clé d'API a été refusée par {self.host} ({status} sur {verb} {path}) : "
                "vérifiez DISCOURSE_API_KEY, qu'elle appartient au compte "
                f"« {self.api_username} » et que ses portées (scopes) permettent cette action"
                + (" ; épingler demande un compte modérateur" if "/status" in path else ""),
                on_write=verb != "GET",
            )
        if status == 404:
            return NotFoundError(f"introuvable sur Discourse (404) : {verb} {self.host}{path}")
        # Any other 4xx means Discourse refused before acting (422: its validations).
        return RejectedError(f"Discourse a refusé {verb} {path} ({status}) : {words}")

    def _scrub(self, text: str) -> str:
        # Discourse never echoes the key, but a proxy in front of it might.
        return text.replace(self.api_key, "***") if self.api_key else text
