"""The sandbox's answers match Discourse's published response schemas (shared/discourse-api).

The published schemas come from rswag examples, and real Discourse sends a few things they omit
or forbid. Those differences are listed once, in EXCEPTIONS, each with its reason, and applied
to a copy of the schemas; nothing else is relaxed.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for

from bridge.sandbox import Sandbox, seed_world

# In CI the repository is cloned elsewhere with shared/ copied beside it: find it from the root.
API_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "discourse-api"
# Skipped on a developer's machine without shared/, never in CI (CI=true), where it must be.
pytestmark = pytest.mark.skipif(
    not (API_DIR / "schemas").is_dir() and not os.environ.get("CI"),
    reason=f"Discourse's published schemas not found at {API_DIR} (shared/ beside the repo)",
)
NOW = datetime(2025, 5, 20, 14, 0, tzinfo=UTC)
Schema = dict[str, Any]

TAG_OBJECT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "slug": {"type": "string"},
    },
    "required": ["id", "name", "slug"],
}
# Tags are {id, name, slug} on current Discourse and plain names on older versions.
TAGS = {"type": "array", "items": {"anyOf": [{"type": "string"}, TAG_OBJECT]}}


def _objects(node: Any) -> Iterator[Schema]:
    """Every object schema (one with `properties`) inside `node`."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def _nullable(prop: Schema) -> None:
    kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    prop["type"] = [*kinds, "null"] if "null" not in kinds else kinds


def _optional(obj: Schema, name: str) -> None:
    obj["required"] = [r for r in obj.get("required", []) if r != name]


def _topic_list_items(schema: Schema) -> None:
    topic_list = schema.get("properties", {}).get("topic_list")
    if topic_list:
        topic_list["properties"]["more_topics_url"] = {"type": "string"}
        item = topic_list["properties"]["topics"]["items"]
        item["properties"]["tags"] = TAGS
        _optional(item, "excerpt")


def _topic_tags(schema: Schema) -> None:
    if "post_stream" in schema.get("properties", {}):
        schema["properties"]["tags"] = TAGS


def _posters_extras(schema: Schema) -> None:
    for obj in _objects(schema):
        if {"extras", "description"} <= set(obj["properties"]):
            _nullable(obj["properties"]["extras"])


def _user_names(schema: Schema) -> None:
    for obj in _objects(schema):
        if "username" in obj["properties"]:
            for name in ("name", "display_username"):
                if name in obj["properties"]:
                    _nullable(obj["properties"][name])


def _reply_to_post_number(schema: Schema) -> None:
    for obj in _objects(schema):
        if "reply_to_post_number" in obj["properties"]:
            obj["properties"]["reply_to_post_number"] = {"type": ["integer", "null"]}


def _like_counts(schema: Schema) -> None:
    for obj in _objects(schema):
        summary = obj["properties"].get("actions_summary")
        if summary and "username" in obj["properties"]:
            item = summary["items"]
            item.setdefault("properties", {})["count"] = {"type": "integer"}
            _optional(item, "can_act")


def _member_last_posted(schema: Schema) -> None:
    for obj in _objects(schema):
        if {"added_at", "last_posted_at"} <= set(obj["properties"]):
            _nullable(obj["properties"]["last_posted_at"])


def _user_profile(schema: Schema) -> None:
    user = schema.get("properties", {}).get("user")
    if user and "user_option" in user.get("properties", {}):
        _nullable(user["properties"]["featured_topic"])
        for name in ("bio_raw", "bio_cooked", "bio_excerpt", "location", "website", "website_name"):
            user["properties"][name] = {"type": "string"}


def _admin_penalties(schema: Schema) -> None:
    props = schema.get("properties", {})
    if {"can_impersonate", "penalty_counts"} <= set(props):
        for name in ("suspended_at", "suspended_till", "silenced_till"):
            props[name] = {"type": "string"}


def _category_parent(schema: Schema) -> None:
    for obj in _objects(schema):
        if {"slug", "color", "has_children"} <= set(obj["properties"]):
            obj["properties"].setdefault("parent_category_id", {"type": "integer"})


# Where real Discourse departs from the published schemas: (what, why, how).
EXCEPTIONS: list[tuple[str, str, Callable[[Schema], None]]] = [
    (
        "topic lists: more_topics_url, tags; excerpt optional",
        "sent on full pages / with tagging on; the excerpt only on pinned topics",
        _topic_list_items,
    ),
    (
        "topic show: tags may be names",
        "older Discourse sends tag names, current sends objects",
        _topic_tags,
    ),
    ("posters: extras may be null", "only the latest poster gets 'latest'", _posters_extras),
    (
        "user name, display_username may be null",
        "accounts without a full name, anonymised ones",
        _user_names,
    ),
    (
        "reply_to_post_number is an integer",
        "the schema's example was null, typed as string",
        _reply_to_post_number,
    ),
    (
        "post actions_summary: count allowed, can_act optional",
        "likes show as {id: 2, count}; can_act only when the viewer can act",
        _like_counts,
    ),
    ("group members: last_posted_at may be null", "members who never posted", _member_last_posted),
    (
        "categories: parent_category_id for a subcategory",
        "BasicCategorySerializer sends it when set; the schemas' examples were top-level",
        _category_parent,
    ),
    (
        "admin user: suspended_at, suspended_till, silenced_till while it lasts",
        "AdminUserListSerializer include_suspended_at? / include_silenced_till?; the example "
        "account was neither",
        _admin_penalties,
    ),
    (
        "user: featured_topic may be null; profile fields when set",
        "bio_raw, location, website… are sent only when filled in",
        _user_profile,
    ),
]


@cache
def validator(name: str) -> Any:
    """The published schema `name` (a file, or `openapi:<path>`), with the exceptions applied."""
    if name.startswith("openapi:"):
        document = json.loads((API_DIR / "openapi.json").read_text(encoding="utf-8"))
        operation = document["paths"][name.removeprefix("openapi:")]
        schema = next(iter(operation.values()))["responses"]["200"]["content"]["application/json"][
            "schema"
        ]
    else:
        schema = json.loads((API_DIR / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
    schema = copy.deepcopy(schema)
    for _, _, apply in EXCEPTIONS:
        apply(schema)
    cls = validator_for(schema, default=Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


def assert_valid(name: str, body: Any) -> None:
    errors = sorted(validator(name).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    world = seed_world(NOW)
    # Enough topics for a second page, a reply to a reply, a member who never posted.
    for n in range(30):
        world.add_topic(
            "audrey.demars",
            "discussions",
            f"Sujet de remplissage numéro {n:02d}",
            "Un message de remplissage assez long.",
        )
    topic = world.find_topic_by_title("Canevas de théorie du changement (version Estrie)")
    assert topic is not None
    world.add_reply(
        topic.id, "mgagnon", "Je réponds au deuxième message du fil.", reply_to_post_number=2
    )
    world.anonymize_user("jmorissette")
    with Sandbox(world, now=lambda: NOW) as sandbox:
        yield sandbox


def get(sb: Sandbox, path: str, as_user: str | None = None, **kwargs: Any) -> Any:
    user = as_user or sb.api_username
    key = sb.api_key if as_user is None else sb.member_key(as_user)
    response = requests.get(
        sb.url + path, headers={"Api-Key": key, "Api-Username": user}, timeout=5, **kwargs
    )
    assert response.status_code == 200, response.text
    return response.json()


def topic_id(sb: Sandbox, title: str) -> int:
    topic = sb.world.find_topic_by_title(title)
    assert topic is not None
    return topic.id


@pytest.mark.parametrize("query", ["", "?include_subcategories=true"])
def test_categories(sb: Sandbox, query: str) -> None:
    assert_valid("category_list_response", get(sb, f"/categories.json{query}"))


@pytest.mark.parametrize(
    "query", ["?parent_category_id=10", "?parent_category_id=10&page=1", "?page=1"]
)
def test_categories_of_a_parent_and_by_page(sb: Sandbox, query: str) -> None:
    assert_valid("category_list_response", get(sb, f"/categories.json{query}"))


@pytest.mark.parametrize(
    "path",
    ["/c/10/show.json", "/c/innovation-sociale-estrie/show.json", "/c/11/show.json"],
)
def test_category_show(sb: Sandbox, path: str) -> None:
    assert_valid("category_create_response", get(sb, path))


def test_category_find_by_slug_answers_like_show(sb: Sandbox) -> None:
    body = get(sb, "/c/innovation-sociale-estrie/boite-a-outils/find_by_slug.json")
    assert body == get(sb, "/c/11/show.json")
    assert_valid("category_create_response", body)


@pytest.mark.parametrize(
    "path",
    [
        "/c/innovation-sociale-estrie/10/l/latest.json?order=activity",
        "/c/innovation-sociale-estrie/10/l/latest.json?order=views&ascending=true",
        "/c/innovation-sociale-estrie/10/l/top.json",
        "/c/innovation-sociale-estrie/boite-a-outils/11/l/latest.json?order=activity&page=1",
    ],
)
def test_category_lists_in_any_order(sb: Sandbox, path: str) -> None:
    assert_valid("category_topics_response", get(sb, path))


@pytest.mark.parametrize("as_objects", [True, False], ids=["tag objects", "tag names"])
@pytest.mark.parametrize(
    "path",
    [
        "/c/innovation-sociale-estrie/10.json",
        "/c/innovation-sociale-estrie/10.json?page=1",
        "/c/boite-a-outils/11.json",
    ],
)
def test_category_topics(sb: Sandbox, path: str, as_objects: bool) -> None:
    sb.world.tags_as_objects = as_objects
    try:
        body = get(sb, path)
    finally:
        sb.world.tags_as_objects = True
    assert_valid("category_topics_response", body)


@pytest.mark.parametrize("as_user", [None, "audrey.demars"], ids=["staff", "member"])
@pytest.mark.parametrize(
    "title",
    [
        "Canevas de théorie du changement (version Estrie)",
        "Carrefour d'initiatives citoyennes de Sherbrooke",
        "Mobiliser les citoyens autour d'un projet de quartier",
    ],
)
def test_topic_show(sb: Sandbox, title: str, as_user: str | None) -> None:
    assert_valid("topic_show_response", get(sb, f"/t/{topic_id(sb, title)}.json", as_user))


def test_topic_show_with_tag_names(sb: Sandbox) -> None:
    sb.world.tags_as_objects = False
    try:
        body = get(
            sb, f"/t/{topic_id(sb, 'Canevas de théorie du changement (version Estrie)')}.json"
        )
    finally:
        sb.world.tags_as_objects = True
    assert_valid("topic_show_response", body)


def test_topic_posts_against_the_inline_openapi_schema(sb: Sandbox) -> None:
    tid = topic_id(sb, "Canevas de théorie du changement (version Estrie)")
    body = get(sb, f"/t/{tid}/posts.json?include_raw=1&post_number=1&asc=true")
    assert body["post_stream"]["posts"]
    assert_valid("openapi:/t/{id}/posts.json", body)


def test_post_show(sb: Sandbox) -> None:
    tid = topic_id(sb, "Canevas de théorie du changement (version Estrie)")
    for post in sb.world.posts_in(tid):
        assert_valid("post_show_response", get(sb, f"/posts/{post.id}.json"))


def test_group_members(sb: Sandbox) -> None:
    body = get(sb, "/groups/cdp-2ise/members.json?order=added_at")
    assert any(m["last_posted_at"] is None for m in body["members"])
    assert_valid("group_members_response", body)


@pytest.mark.parametrize("username", ["audrey.demars", "nadia.ouellet", "animation-2ise", "anon"])
def test_user_get(sb: Sandbox, username: str) -> None:
    if username == "anon":
        username = next(
            u.username for u in sb.world.users.values() if u.username.startswith("anon")
        )
    assert_valid("user_get_response", get(sb, f"/u/{username}.json"))


def test_admin_user(sb: Sandbox) -> None:
    user = sb.world.user("nadia.ouellet")
    assert_valid("openapi:/admin/users/{id}.json", get(sb, f"/admin/users/{user.id}.json"))
    user.suspended_till = user.silenced_till = datetime(2030, 1, 1, tzinfo=UTC)
    try:
        body = get(sb, f"/admin/users/{user.id}.json")
    finally:
        user.suspended_till = user.silenced_till = None
    assert body["suspended_till"] == body["silenced_till"] == "2030-01-01T00:00:00.000Z"
    assert_valid("openapi:/admin/users/{id}.json", body)
    response = requests.get(
        f"{sb.url}/admin/users/{user.id}.json",
        headers={"Api-Key": sb.member_key("audrey.demars"), "Api-Username": "audrey.demars"},
        timeout=5,
    )
    assert response.status_code == 403


def _write(
    sb: Sandbox, method: str, path: str, data: dict[str, Any], as_user: str | None = None
) -> Any:
    user = as_user or sb.api_username
    key = sb.api_key if as_user is None else sb.member_key(as_user)
    response = requests.request(
        method, sb.url + path, data=data, headers={"Api-Key": key, "Api-Username": user}, timeout=5
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_post_create_topic_and_reply(sb: Sandbox) -> None:
    created = _write(
        sb,
        "POST",
        "/posts.json",
        {
            "title": "Un sujet pour le contrat",
            "raw": "Un corps de message assez long.",
            "category": 11,
            "tags[][name]": ["evaluation"],
        },
    )
    assert_valid("topic_create_response", created)
    reply = _write(
        sb,
        "POST",
        "/posts.json",
        {
            "topic_id": created["topic_id"],
            "raw": "Une réponse au premier message.",
            "reply_to_post_number": 1,
        },
        as_user="mgagnon",
    )
    assert reply["reply_to_post_number"] == 1
    assert_valid("topic_create_response", reply)
    message = _write(
        sb,
        "POST",
        "/posts.json",
        {
            "title": "Un message privé",
            "raw": "Bonjour, un message privé.",
            "archetype": "private_message",
            "target_recipients": "audrey.demars",
        },
    )
    assert_valid("topic_create_response", message)


def test_post_update(sb: Sandbox) -> None:
    tid = topic_id(sb, "Canevas de théorie du changement (version Estrie)")
    first = sb.world.posts_in(tid)[0]
    updated = _write(
        sb,
        "PUT",
        f"/posts/{first.id}.json",
        {"post[raw]": first.raw + "\n\nMise à jour.", "post[edit_reason]": "ajout"},
    )
    assert updated["post"]["actions_summary"][0]["count"] == 7
    assert_valid("post_update_response", updated)


def test_status_against_the_inline_openapi_schema(sb: Sandbox) -> None:
    tid = topic_id(sb, "Sujet de remplissage numéro 00")
    body = _write(sb, "PUT", f"/t/{tid}/status.json", {"status": "closed", "enabled": "true"})
    assert_valid("openapi:/t/{id}/status.json", body)


def test_the_exceptions_are_needed(sb: Sandbox) -> None:
    """Each exception exists because the sandbox, like Discourse, sends that: without them the
    unmodified published schemas reject these answers."""
    raw_schema = json.loads(
        (API_DIR / "schemas" / "category_topics_response.json").read_text(encoding="utf-8")
    )
    strict = Draft202012Validator(raw_schema)
    assert not strict.is_valid(get(sb, "/c/innovation-sociale-estrie/10.json"))
