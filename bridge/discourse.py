"""The bridge's only door to Discourse: typed reads (paging iterators), writes, pacing and retries.

This is the only module that imports pydiscourse. It subclasses pydiscourse's client and replaces
its `_request`, because upstream retries 429 with a real sleep (writes included), ignores
`Retry-After`, has no timeout or session, and cannot report a redirect. Payloads become the
frozen dataclasses of `bridge.models` (re-exported here), so nothing above this module sees raw
JSON.

Rules kept here: reads are retried on 5xx, timeouts and dropped connections; writes never are,
except after a 429 (Discourse refused before doing anything). The API key never appears in a
message or a log line.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from pydiscourse import DiscourseClient as _UpstreamClient
from urllib3.exceptions import NewConnectionError

from bridge import __version__
from bridge.errors import (
    AuthError,
    BridgeError,
    DiscourseError,
    HeldForApproval,
    NotFoundError,
    RejectedError,
    UnavailableError,
    WriteOutcomeUnknown,
)
from bridge.models import Category as Category
from bridge.models import Created as Created
from bridge.models import GroupMember as GroupMember
from bridge.models import Payload as Payload
from bridge.models import Post as Post
from bridge.models import TopicDetail as TopicDetail
from bridge.models import TopicSummary as TopicSummary
from bridge.models import User as User
from bridge.models import flatten_categories as flatten_categories
from bridge.models import parse_datetime as parse_datetime
from bridge.models import tag_names as tag_names
from bridge.models import topic_id_from_location as topic_id_from_location

log = logging.getLogger(__name__)

T = TypeVar("T")

# Discourse's fixed page sizes: category lists (TopicQuery) and topic post chunks (TopicView).
TOPICS_PER_PAGE = 30
POSTS_PER_CHUNK = 20
_REGULAR, _SMALL_ACTION, _WHISPER = 1, 3, 4  # Post.types
# Backoff for reads: 1, 2, 4, 8 s… (halved at most by jitter), never above 30 s per wait;
# all waits for one request (429 included) stop at 5 minutes: past that, better fail the run.
_BACKOFF_BASE = 1.0
_BACKOFF_CAP = 30.0
_MAX_TOTAL_WAIT = 300.0
# pydiscourse's own guess when a 429 says nothing about how long to wait.
_DEFAULT_RATE_LIMIT_WAIT = 10.0
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_-]{1,50}")


def _typed_post(payload: Payload) -> tuple[int, Post]:
    return int(payload.get("post_type") or _REGULAR), Post.from_api(payload)


def _listed(chunk: Iterable[tuple[int, Post]]) -> list[Post]:
    # The mirror holds what members see: no staff whispers, no "pinned the topic" notices.
    return [post for kind, post in chunk if kind not in (_SMALL_ACTION, _WHISPER)]


def _each(build: Callable[[Payload], T]) -> Callable[[Iterable[Payload]], list[T]]:
    return lambda items: [build(item) for item in items]


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


class _PyDiscourse(_UpstreamClient):  # type: ignore[misc]
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
        while True:
            self._pace()
            self.requests_sent += 1
            try:
                response = self.session.request(
                    verb, url, timeout=self.timeout, allow_redirects=False, **request_kwargs
                )
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
                    raise DiscourseError(
                        f"redirection inattendue ({status}) de {where} vers "
                        f"{response.headers.get('Location', '?')} : vérifiez discourse.url"
                    )
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
            raise DiscourseError(
                f"réponse inattendue ({content_type or 'sans type'}) de {verb} {self.host}{path} :"
                " discourse.url désigne-t-elle bien un site Discourse ?"
            )
        try:
            decoded = response.json()
        except ValueError as exc:
            raise DiscourseError(f"réponse illisible de {verb} {self.host}{path}") from exc
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


class DiscourseClient:
    """The bridge's Discourse client: domain reads and writes, paced and retried where safe."""

    def __init__(
        self,
        url: str,
        api_username: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        requests_per_minute: float = 50.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_read_retries: int = 4,
        rng: random.Random | None = None,
    ) -> None:
        self._api = _PyDiscourse(
            url.rstrip("/"),
            api_username,
            api_key,
            timeout=timeout,
            requests_per_minute=requests_per_minute,
            clock=clock,
            sleep=sleep,
            max_read_retries=max_read_retries,
            rng=rng or random.Random(),
        )

    def __repr__(self) -> str:
        return f"DiscourseClient({self.url!r}, {self._api.api_username!r})"

    @property
    def url(self) -> str:
        return str(self._api.host)

    @property
    def requests_sent(self) -> int:
        """Every HTTP request actually sent, retries included."""
        return int(self._api.requests_sent)

    @requests_sent.setter
    def requests_sent(self, value: int) -> None:
        self._api.requests_sent = value

    def close(self) -> None:
        self._api.session.close()

    # Reads

    def fetch_categories(self) -> list[Category]:
        path = "/categories.json"
        payload = self._read(path, {"include_subcategories": "true"})
        items = (payload.get("category_list") or {}).get("categories") or ()
        return self._parse(path, flatten_categories, items)

    def resolve_category(
        self, slug_or_id: str | int, *, categories: Sequence[Category] | None = None
    ) -> Category:
        """The category named by slug or id; pass `categories` to resolve several from one read."""
        known = list(categories) if categories is not None else self.fetch_categories()
        wanted = str(slug_or_id).strip()
        if wanted.isdigit():
            matches = [c for c in known if c.id == int(wanted)]
        else:
            matches = [c for c in known if c.slug.lower() == wanted.lower()]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(str(c.id) for c in matches)
            raise NotFoundError(
                f"plusieurs catégories portent le slug « {wanted} » sur {self.url} (ids {ids}) :"
                " indiquez l'id"
            )
        visible = ", ".join(c.slug for c in known[:20]) or "aucune"
        raise NotFoundError(
            f"la catégorie « {wanted} » est introuvable sur {self.url} (ou le compte "
            f"« {self._api.api_username} » ne peut pas la voir) ; catégories visibles : {visible}"
        )

    def check_access(self, category_slug_or_id: str | int) -> Category:
        """One read proving the key works and can see the category."""
        return self.resolve_category(category_slug_or_id)

    def iter_category_topics(
        self, category: Category, *, stop_when: Callable[[TopicSummary], bool] | None = None
    ) -> Iterator[TopicSummary]:
        """Topics as Discourse lists them: pinned first, then by last activity, newest first.

        Iteration ends before the first non-pinned topic for which `stop_when` is true, without
        fetching further pages. Pinned topics are out of activity order, so they never stop it.
        """
        # Discourse finds the category by its id; the slug (as stored, maybe %-encoded) is cosmetic.
        path = f"/c/{quote(category.slug, safe='%')}/{category.id}.json"
        page = 0
        while True:
            payload = self._read(path, {"page": page})
            topic_list = payload.get("topic_list") or {}
            raw_topics = topic_list.get("topics") or ()
            topics = self._parse(path, _each(TopicSummary.from_api), raw_topics)
            for topic in topics:
                if stop_when is not None and not topic.pinned and stop_when(topic):
                    return
                yield topic
            if not topics or not topic_list.get("more_topics_url"):
                return
            page += 1

    def iter_topic_posts(
        self, topic_id: int, posts_count: int | None = None, *, after_post_number: int = 0
    ) -> Iterator[Post]:
        """A topic's posts after `after_post_number`, in order, with raw Markdown: 20 a read.

        `posts_count` (from the topic list) saves the empty read after a full last chunk; it
        counts from the first post, so it is only used when starting there.
        """
        path = f"/t/{int(topic_id)}/posts.json"
        last_number = after_post_number
        counted = 0
        while True:
            params: dict[str, Any] = {"include_raw": "1"}
            if last_number:
                params.update(post_number=last_number, asc="true")
            chunk = self._chunk(path, self._read(path, params))
            fresh = [(kind, post) for kind, post in chunk if post.post_number > last_number]
            yield from _listed(fresh)
            # Discourse's posts_count leaves whispers out (the bridge, as staff, sees them).
            counted += sum(1 for kind, _ in fresh if kind != _WHISPER)
            # A chunk with nothing new means the server ignored `post_number`: stop, don't loop.
            if len(chunk) < POSTS_PER_CHUNK or not fresh:
                return
            if posts_count is not None and not after_post_number and counted >= posts_count:
                return
            last_number = fresh[-1][1].post_number

    def fetch_first_posts(self, topic_id: int) -> list[Post]:
        """The first chunk of a topic's posts (up to 20) in one read, e.g. to re-read a card."""
        path = f"/t/{int(topic_id)}/posts.json"
        return _listed(self._chunk(path, self._read(path, {"include_raw": "1"})))

    def fetch_posts(self, topic_id: int, post_ids: Sequence[int]) -> list[Post]:
        path = f"/t/{int(topic_id)}/posts.json"
        posts: list[Post] = []
        for start in range(0, len(post_ids), POSTS_PER_CHUNK):
            ids = [str(int(i)) for i in post_ids[start : start + POSTS_PER_CHUNK]]
            payload = self._read(path, {"include_raw": "1", "post_ids[]": ids})
            posts.extend(_listed(self._chunk(path, payload)))
        return posts

    def fetch_topic(self, topic_id: int) -> TopicDetail:
        path = f"/t/{int(topic_id)}.json"
        payload = self._read(path)
        return self._parse(path, TopicDetail.from_api, payload)

    def fetch_post(self, post_id: int) -> Post:
        path = f"/posts/{int(post_id)}.json"
        payload = self._read(path)
        return self._parse(path, Post.from_api, payload)

    def iter_group_members(
        self,
        group: str,
        *,
        newest_first: bool = True,
        limit: int = 50,
        stop_when: Callable[[GroupMember], bool] | None = None,
    ) -> Iterator[GroupMember]:
        """The group's members by date added, `limit` a request.

        Discourse lists the group's owners first whatever the order, so owners never trigger
        `stop_when`, as pinned topics don't in `iter_category_topics`.
        """
        path = f"/groups/{quote(group, safe='')}/members.json"
        offset = 0
        while True:
            params: dict[str, Any] = {"offset": offset, "limit": limit, "order": "added_at"}
            # Discourse sorts ascending whenever `asc` is present, even "asc=false".
            if not newest_first:
                params["asc"] = "true"
            payload = self._read(path, params)
            raw_members = payload.get("members") or ()
            members = self._parse(path, _each(GroupMember.from_api), raw_members)
            owners = {o.get("id") for o in payload.get("owners") or ()}
            for member in members:
                if stop_when is not None and member.id not in owners and stop_when(member):
                    return
                yield member
            offset += len(members)
            total = (payload.get("meta") or {}).get("total")
            if not members or total is None or offset >= int(total):
                return

    def fetch_user(self, username: str) -> User:
        path = f"/u/{quote(username, safe='')}.json"
        payload = self._read(path)
        return self._parse(path, lambda body: User.from_api(body["user"]), payload)

    def fetch_own_account(self) -> User:
        """The account the key acts as: a read that fails with AuthError on a wrong key."""
        return self.fetch_user(self._api.api_username)

    def find_topic_by_external_id(self, external_id: str) -> int | None:
        """The id of the topic created with this `external_id`, or None if there is none."""
        path = f"/t/external_id/{quote(external_id, safe='')}.json"
        try:
            response = self._api.send("GET", path, redirects_ok=True)
        except NotFoundError:
            return None
        if response.is_redirect:
            # Reading the Location costs nothing; following it would fetch the whole topic.
            location = response.headers.get("Location", "")
            topic_id = topic_id_from_location(location)
            if topic_id is None:
                raise DiscourseError(
                    f"redirection illisible pour GET {self.url}{path} : {location}"
                )
            return topic_id
        payload = self._api.decode("GET", path, response)
        return self._parse(path, lambda body: int(body["id"]), payload)

    # Writes: never retried after they may have reached Discourse.

    def create_topic(
        self,
        *,
        title: str,
        raw: str,
        category_id: int,
        tags: Sequence[str] = (),
        external_id: str | None = None,
    ) -> Created:
        data: dict[str, Any] = {"title": title, "raw": raw, "category": int(category_id)}
        if tags:
            data["tags[]"] = list(tags)
        return self._create(data, external_id)

    def create_private_message(
        self, *, title: str, raw: str, recipients: Sequence[str], external_id: str | None = None
    ) -> Created:
        data: dict[str, Any] = {
            "title": title,
            "raw": raw,
            "archetype": "private_message",
            "target_recipients": ",".join(recipients),
        }
        return self._create(data, external_id)

    def create_reply(
        self, *, topic_id: int, raw: str, reply_to_post_number: int | None = None
    ) -> Created:
        data: dict[str, Any] = {"topic_id": int(topic_id), "raw": raw}
        if reply_to_post_number is not None:
            data["reply_to_post_number"] = int(reply_to_post_number)
        return self._create(data, None)

    def edit_post(self, post_id: int, *, raw: str, edit_reason: str = "") -> None:
        data = {"post[raw]": raw}
        if edit_reason:
            data["post[edit_reason]"] = edit_reason
        self._api._request("PUT", f"/posts/{int(post_id)}.json", data=data)

    def set_topic_status(
        self, topic_id: int, *, status: str, enabled: bool, until: str | None = None
    ) -> None:
        data = {"status": status, "enabled": "true" if enabled else "false"}
        if until:
            data["until"] = until
        self._api._request("PUT", f"/t/{int(topic_id)}/status.json", data=data)

    # Plumbing

    def _create(self, data: dict[str, Any], external_id: str | None) -> Created:
        if external_id is not None:
            # Discourse would answer 422 after the fact; a bad id is the caller's bug.
            if not _EXTERNAL_ID.fullmatch(external_id):
                raise ValueError(
                    f"external_id invalide (lettres, chiffres, _ et -) : {external_id}"
                )
            data["external_id"] = external_id
        path = "/posts.json"
        payload = self._api._request("POST", path, data=data) or {}
        if "id" not in payload and payload.get("action") == "enqueued":
            raise HeldForApproval(
                f"Discourse a mis le message en attente d'approbation (POST {path}) : "
                "il n'est pas publié ; le compte de la passerelle doit être modérateur"
            )
        return self._parse(path, Created.from_api, payload)

    def _chunk(self, path: str, payload: Payload) -> list[tuple[int, Post]]:
        raw_posts = (payload.get("post_stream") or {}).get("posts") or ()
        return self._parse(path, _each(_typed_post), raw_posts)

    def _read(self, path: str, params: Mapping[str, Any] | None = None) -> Payload:
        payload = self._api._request("GET", path, params=params)
        if not isinstance(payload, Mapping):
            raise DiscourseError(f"réponse inattendue de GET {self.url}{path} : pas un objet JSON")
        return payload

    def _parse(self, path: str, build: Callable[[Any], T], body: Any) -> T:
        # A payload missing what the bridge relies on is Discourse's surprise, not a crash.
        try:
            return build(body)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DiscourseError(
                f"réponse inattendue de Discourse pour {self.url}{path} "
                f"({type(exc).__name__} : {exc})"
            ) from exc
