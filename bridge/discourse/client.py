"""The bridge's Discourse client: typed reads by page and typed writes.

`DiscourseClient` knows Discourse's endpoints, their paging (30 topics a list page, 20 posts a
chunk, members by offset) and their payloads, which become the frozen dataclasses of
`bridge.models`, so nothing above this package sees raw JSON. Sending, pacing, retrying and
mapping refusals to the bridge's errors is the transport's (`bridge.discourse.transport`).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from bridge.discourse.categories import CategoryReads
from bridge.discourse.transport import Transport
from bridge.errors import (
    AuthError,
    DiscourseError,
    GroupUnreadable,
    HeldForApproval,
    MalformedAnswer,
    NotFoundError,
)
from bridge.models import (
    AccountState,
    Created,
    GroupMember,
    Payload,
    Post,
    TopicDetail,
    User,
    json_object,
    json_objects,
    topic_id_from_location,
)

T = TypeVar("T")

# Discourse's fixed page sizes: category lists (TopicQuery) and topic post chunks (TopicView).
TOPICS_PER_PAGE = 30
POSTS_PER_CHUNK = 20
_REGULAR, _SMALL_ACTION, _WHISPER = 1, 3, 4  # Post.types
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_-]{1,50}")


# Payload walkers: each raises KeyError, TypeError or ValueError on a payload of the wrong shape
# (json_object, json_objects), which `DiscourseClient._parse` reports as Discourse's surprise.


def _post_chunk(payload: Payload) -> list[tuple[int, Post]]:
    """A chunk of a topic's posts, each with its Discourse post type."""
    post_stream = json_object(payload.get("post_stream") or {}, "post_stream")
    return [
        (int(post.get("post_type") or _REGULAR), Post.from_api(post))
        for post in json_objects(post_stream.get("posts"), "posts")
    ]


def _member_page(payload: Payload) -> tuple[list[GroupMember], set[Any], int | None]:
    """One page of a group's members, the ids of its owners, and the group's size if told."""
    members = [GroupMember.from_api(m) for m in json_objects(payload.get("members"), "members")]
    owners = {owner.get("id") for owner in json_objects(payload.get("owners"), "owners")}
    total = json_object(payload.get("meta") or {}, "meta").get("total")
    return members, owners, int(total) if total is not None else None


def _listed(chunk: Iterable[tuple[int, Post]]) -> list[Post]:
    # The mirror holds what members see: no staff whispers, no "pinned the topic" notices.
    return [post for kind, post in chunk if kind not in (_SMALL_ACTION, _WHISPER)]


class DiscourseClient(CategoryReads):
    """The bridge's Discourse client: domain reads and writes, paced and retried where safe.

    Category reads (finding the category and its subcategories, its list) are `CategoryReads`.
    """

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
        gate: Callable[[], None] | None = None,
    ) -> None:
        self._api = Transport(
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
        self._api.gate = gate

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

    def fetch_post(self, post_id: int) -> Post:
        """One post, with its raw Markdown (GET /posts/{id}.json)."""
        path = f"/posts/{int(post_id)}.json"
        return self._parse(path, Post.from_api, self._read(path))

    def fetch_topic(self, topic_id: int) -> TopicDetail:
        path = f"/t/{int(topic_id)}.json"
        payload = self._read(path)
        return self._parse(path, TopicDetail.from_api, payload)

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
        `stop_when`: like pinned topics at the top of a category's list, they are out of order.
        """
        path = f"/groups/{quote(group, safe='')}/members.json"
        offset = 0
        while True:
            params: dict[str, Any] = {"offset": offset, "limit": limit, "order": "added_at"}
            # Discourse sorts ascending whenever `asc` is present, even "asc=false".
            if not newest_first:
                params["asc"] = "true"
            members, owners, total = self._parse(path, _member_page, self._members(group, params))
            for member in members:
                if stop_when is not None and member.id not in owners and stop_when(member):
                    return
                yield member
            offset += len(members)
            if not members or total is None or offset >= total:
                return

    def _members(self, group: str, params: dict[str, Any]) -> Any:
        path = f"/groups/{quote(group, safe='')}/members.json"
        who = f"le compte « {self._api.api_username} »"
        try:
            return self._read(path, params)
        except NotFoundError:
            raise GroupUnreadable(
                f"le groupe « {group} » est introuvable sur {self._api.host} "
                f"(ou {who} ne peut pas le voir)",
                group,
            ) from None
        except AuthError:
            # Reads went through before (the category): the group hides its members
            # (Guardian#can_see_group_members?), or the key lacks the scope that lists them.
            raise GroupUnreadable(
                f"{who} ne peut pas lire les membres du groupe « {group} » sur {self._api.host} "
                "(403) : le réglage « Qui peut voir les membres » du groupe le lui interdit, ou "
                "la clé n'a pas la portée global:read",
                group,
            ) from None

    def group_messageable(self, group: str) -> bool:
        """Whether the bridge's account may send `group` a private message (the `messageable`
        of GET /groups/{name}.json, Discourse's Group.messageable)."""
        path = f"/groups/{quote(group, safe='')}.json"
        payload = self._read(path)
        return self._parse(path, lambda body: bool(body["group"]["messageable"]), payload)

    def fetch_user(self, username: str) -> User:
        path = f"/u/{quote(username, safe='')}.json"
        payload = self._read(path)
        return self._parse(path, lambda body: User.from_api(body["user"]), payload)

    def fetch_account_state(self, user_id: int) -> AccountState:
        """An account's state as staff read it (Admin::UsersController#show): a moderator's
        key may; a non-staff one gets 403."""
        path = f"/admin/users/{int(user_id)}.json"
        return self._parse(path, AccountState.from_api, self._read(path))

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
            # Tags as `{name}` objects (Rails' `tags[][name]`): what Discourse reads since
            # 2026.01 and the only form since 2026.07, which drops plain names silently.
            data["tags[][name]"] = list(tags)
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
        # Anything but an object is left to Created.from_api, which says it is malformed.
        held = isinstance(payload, Mapping) and "id" not in payload
        if held and payload.get("action") == "enqueued":
            raise HeldForApproval(
                f"Discourse a mis le message en attente d'approbation (POST {path}) : "
                "il n'est pas publié ; le compte de la passerelle doit être modérateur"
            )
        return self._parse(path, Created.from_api, payload)

    def _chunk(self, path: str, payload: Payload) -> list[tuple[int, Post]]:
        return self._parse(path, _post_chunk, payload)

    def _read(self, path: str, params: Mapping[str, Any] | None = None) -> Payload:
        payload = self._api._request("GET", path, params=params)
        if not isinstance(payload, Mapping):
            raise MalformedAnswer(
                f"réponse inattendue de GET {self.url}{path} : "
                + ("vide" if payload is None else "pas un objet JSON")
            )
        return payload

    def _parse(self, path: str, build: Callable[[Any], T], body: Any) -> T:
        # A payload missing what the bridge relies on, or of the wrong shape, is Discourse's
        # surprise, not a crash. Other exceptions (AttributeError…) are bugs here: not caught.
        try:
            return build(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedAnswer(
                f"réponse inattendue de Discourse pour {self.url}{path} "
                f"({type(exc).__name__} : {exc})"
            ) from exc
