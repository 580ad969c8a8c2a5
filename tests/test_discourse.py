"""bridge.discourse: payload parsing, paging, writes, and the transport's pacing and retry rules.

HTTP is mocked with `responses`; time is a fake clock whose `sleep` only records and advances.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import random
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from jsonschema import validators
from responses import matchers
from stubs import answer as reply

from bridge.discourse import (
    Category,
    Created,
    DiscourseClient,
    GroupMember,
    Post,
    TopicDetail,
    TopicSummary,
    User,
    flatten_categories,
    parse_datetime,
    topic_id_from_location,
)
from bridge.errors import (
    AuthError,
    DiscourseError,
    NotFoundError,
    RejectedError,
    UnavailableError,
    WriteOutcomeUnknown,
)

FIXTURES = Path(__file__).parent / "fixtures" / "discourse"
API_DOCS = Path(__file__).resolve().parents[2] / "shared" / "discourse-api"
SITE = "https://passerelles.encommun.io"
USERNAME = "animation-2ise"
KEY = "c0ffee5ecret4a9b2d7e1f3c5a6b8d0e"
JSON = "application/json; charset=utf-8"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeTime:
    """A monotonic clock that only moves when slept on (or told to)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def mocked() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_time: FakeTime) -> Any:
    def make(**options: Any) -> DiscourseClient:
        settings: dict[str, Any] = {
            "requests_per_minute": 0,
            "clock": fake_time.clock,
            "sleep": fake_time.sleep,
            "rng": random.Random(2025),
        }
        settings.update(options)
        return DiscourseClient(SITE + "/", USERNAME, KEY, **settings)

    return make


@pytest.fixture
def client(make_client: Any) -> DiscourseClient:
    return make_client()


def query_of(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def form_of(call: Any) -> dict[str, list[str]]:
    return parse_qs(call.request.body)


def posts_chunk(topic_id: int, numbers: range | list[int], *, post_type: int = 1) -> dict[str, Any]:
    template = load("topic_posts.json")["post_stream"]["posts"][2]
    posts = []
    for n in numbers:
        post = copy.deepcopy(template)
        post.update(
            id=topic_id * 100 + n,
            topic_id=topic_id,
            post_number=n,
            raw=f"Message {n}",
            post_type=post_type,
        )
        posts.append(post)
    return {"post_stream": {"posts": posts}, "id": topic_id}


def members_page(members: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    owners = [m for m in members if m["username"] == USERNAME]
    return {
        "members": members[offset : offset + limit],
        "owners": owners,
        "meta": {"total": len(members), "limit": limit, "offset": offset},
    }


# --- pure parsing ---------------------------------------------------------------------------------


def test_parse_datetime_gives_aware_utc() -> None:
    assert parse_datetime("2025-04-17T14:03:12.123Z") == datetime(
        2025, 4, 17, 14, 3, 12, 123000, tzinfo=UTC
    )
    assert parse_datetime("2025-04-17T10:03:12-04:00") == datetime(
        2025, 4, 17, 14, 3, 12, tzinfo=UTC
    )
    assert parse_datetime(None) is None
    assert parse_datetime("") is None


def test_topic_summary_from_api_with_tag_names() -> None:
    payload = load("category_topics_page0.json")["topic_list"]["topics"][2]

    assert TopicSummary.from_api(payload) == TopicSummary(
        id=130,
        title="Fiche : Corporation de développement communautaire du Granit",
        slug="fiche-corporation-de-developpement-communautaire-du-granit",
        category_id=12,
        created_at=datetime(2025, 4, 16, 14, 3, 12, 123000, tzinfo=UTC),
        bumped_at=datetime(2025, 4, 16, 20, 11, 3, 412000, tzinfo=UTC),
        last_posted_at=datetime(2025, 4, 16, 20, 11, 3, 412000, tzinfo=UTC),
        posts_count=3,
        reply_count=2,
        like_count=5,
        views=41,
        pinned=False,
        closed=False,
        archived=False,
        visible=True,
        tags=("granit", "developpement-local"),
        last_poster_username="marie-eve.t",
    )


def test_topic_summary_tags_as_objects_become_names() -> None:
    payload = load("category_topics_page1.json")["topic_list"]["topics"][1]

    assert TopicSummary.from_api(payload).tags == ("coaticook", "securite-alimentaire")


def test_post_from_api() -> None:
    payload = load("topic_posts.json")["post_stream"]["posts"][1]

    assert Post.from_api(payload) == Post(
        id=1302,
        topic_id=130,
        post_number=2,
        username="animation-2ise",
        user_id=3,
        name="Équipe d'animation 2isE",
        raw="Merci Marie-Ève! @Jean-François, ça rejoint votre projet à Lac-Mégantic?",
        cooked=payload["cooked"],
        created_at=datetime(2025, 4, 16, 18, 22, 5, 450000, tzinfo=UTC),
        updated_at=datetime(2025, 4, 16, 18, 22, 5, 450000, tzinfo=UTC),
        reply_to_post_number=1,
        like_count=1,
        reply_count=1,
        deleted=False,
    )


def test_post_like_count_raw_and_deletion_fallbacks() -> None:
    base = load("topic_posts.json")["post_stream"]["posts"][2]
    # No count on the like action (nobody liked it) and no like_count field: 0.
    assert Post.from_api(base).like_count == 0
    with_field = {**base, "like_count": 4}
    assert Post.from_api(with_field).like_count == 4
    with_action = {**with_field, "actions_summary": [{"id": 2, "count": 6, "can_act": True}]}
    assert Post.from_api(with_action).like_count == 6

    without_raw = {k: v for k, v in base.items() if k != "raw"}
    assert Post.from_api(without_raw).raw == ""
    assert Post.from_api({**base, "deleted_at": "2025-04-18T10:00:00.000Z"}).deleted
    assert Post.from_api({**base, "user_deleted": True}).deleted


def test_flatten_categories_nests_subcategories_under_their_parent() -> None:
    categories = flatten_categories(load("categories.json")["category_list"]["categories"])

    assert [(c.slug, c.id, c.parent_id) for c in categories] == [
        ("bienvenue-sur-en-commun", 2, None),
        ("innovation-sociale-estrie", 5, None),
        ("boite-a-outils", 11, 5),
        ("cartographie", 12, 5),
        ("bienvenue", 13, 5),
        ("annonces", 14, 5),
        ("transition-socio-ecologique", 7, None),
    ]
    parent = categories[1]
    assert parent == Category(
        id=5,
        slug="innovation-sociale-estrie",
        name="Innovation sociale en Estrie",
        parent_id=None,
        topic_count=19,
        subcategory_ids=(11, 12, 13, 14),
        has_children=True,
        subcategory_count=4,
    )


def test_parent_taken_from_nesting_when_the_field_is_missing() -> None:
    items = [{"id": 5, "slug": "a", "name": "A", "subcategory_list": [{"id": 9, "slug": "b"}]}]

    assert [(c.id, c.parent_id, c.subcategory_ids) for c in flatten_categories(items)] == [
        (5, None, (9,)),
        (9, 5, ()),
    ]


@pytest.mark.parametrize(
    "location",
    [
        "/t/rappel-webinaire-mesurer-limpact-social-15-mai-2025/135.json",
        f"{SITE}/t/rappel-webinaire-mesurer-limpact-social-15-mai-2025/135.json",
        f"{SITE}/t/rappel-webinaire/135",
        "/t/rappel-webinaire/135/4.json",
        "/t/2025/135.json?page=2",
        "/forum/t/rappel-webinaire/135.json",
    ],
)
def test_topic_id_from_location(location: str) -> None:
    assert topic_id_from_location(location) == 135


def test_topic_id_from_location_rejects_other_paths() -> None:
    assert topic_id_from_location("/login") is None


# --- categories -----------------------------------------------------------------------------------


def test_fetch_categories_asks_for_subcategories(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(
        mocked,
        "GET",
        "/categories.json",
        load("categories.json"),
        match=(matchers.query_param_matcher({"include_subcategories": "true"}),),
    )

    assert len(client.fetch_categories()) == 7
    assert client.requests_sent == 1


def test_resolve_category_by_slug_or_id(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", "/categories.json", load("categories.json"))
    categories = client.fetch_categories()

    assert client.resolve_category("cartographie", categories=categories).id == 12
    assert client.resolve_category("Innovation-Sociale-Estrie", categories=categories).id == 5
    assert client.resolve_category(14, categories=categories).slug == "annonces"
    assert client.resolve_category("13", categories=categories).slug == "bienvenue"
    assert client.requests_sent == 1


def test_resolve_unknown_category_says_what_is_visible(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", "/categories.json", load("categories.json"))

    with pytest.raises(NotFoundError) as caught:
        client.resolve_category("innovation-sociale")

    message = str(caught.value)
    assert "« innovation-sociale » est introuvable" in message
    assert "innovation-sociale-estrie" in message
    assert KEY not in message


def show(category_id: int, slug: str, parent: int | None = None, **extra: Any) -> Any:
    """A /c/{id}/show.json answer, as CategorySerializer sends it."""
    category: dict[str, Any] = {"id": category_id, "slug": slug, "name": slug.title(), **extra}
    if parent is not None:
        category["parent_category_id"] = parent
    return {"category": category}


def test_the_category_family_is_the_category_then_its_subcategories_in_two_reads(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(
        mocked,
        "GET",
        "/c/innovation-sociale-estrie/show.json",
        show(5, "innovation-sociale-estrie", has_children=True, subcategory_count=2),
    )
    children = {
        "category_list": {
            "categories": [
                {"id": 11, "slug": "boite-a-outils", "parent_category_id": 5},
                {"id": 12, "slug": "cartographie", "parent_category_id": 5},
            ]
        }
    }
    reply(
        mocked,
        "GET",
        "/categories.json",
        children,
        match=(matchers.query_param_matcher({"parent_category_id": "5", "page": "1"}),),
    )

    family = client.fetch_category_family("innovation-sociale-estrie")

    assert [(c.id, c.parent_id, c.slug_path) for c in family] == [
        (5, None, ("innovation-sociale-estrie",)),
        (11, 5, ("innovation-sociale-estrie", "boite-a-outils")),
        (12, 5, ("innovation-sociale-estrie", "cartographie")),
    ]
    assert family[0].subcategory_ids == (11, 12)
    assert client.requests_sent == 2


def test_a_watched_subcategory_reads_its_parent_for_its_canonical_path(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", "/c/11/show.json", show(11, "boite-a-outils", parent=5))
    reply(mocked, "GET", "/c/5/show.json", show(5, "innovation-sociale-estrie", has_children=True))

    family = client.fetch_category_family(11)

    assert [c.id for c in family] == [11, 5]
    assert family[0].list_path == "/c/innovation-sociale-estrie/boite-a-outils/11"
    assert client.requests_sent == 2  # no subcategory read: Discourse says it has none


def test_subcategories_are_read_page_by_page_on_a_large_site(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", "/c/5/show.json", show(5, "parent", has_children=True))
    pages = [
        [{"id": 100 + n, "slug": f"s{n}", "parent_category_id": 5} for n in range(20)],
        [{"id": 200, "slug": "derniere", "parent_category_id": 5}],
    ]
    for number, items in enumerate(pages, start=1):
        reply(
            mocked,
            "GET",
            "/categories.json",
            {"category_list": {"categories": items}},
            match=(matchers.query_param_matcher({"parent_category_id": "5", "page": str(number)}),),
        )

    family = client.fetch_category_family("5")

    assert len(family[0].subcategory_ids) == 21 and family[-1].slug == "derniere"
    assert client.requests_sent == 3


def test_a_slug_path_is_found_by_slug_and_an_unknown_one_says_how_to_name_it(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(
        mocked,
        "GET",
        "/c/innovation-sociale-estrie/boite-a-outils/find_by_slug.json",
        show(11, "boite-a-outils", parent=5),
    )
    reply(mocked, "GET", "/c/nulle-part/show.json", {"errors": ["introuvable"]}, status=404)
    reply(mocked, "GET", "/categories.json", load("categories.json"))

    assert client.fetch_category("innovation-sociale-estrie/boite-a-outils").id == 11
    with pytest.raises(NotFoundError, match="indiquez son id, ou son chemin « parent/enfant »"):
        client.fetch_category("nulle-part")


def test_a_subcategory_named_by_its_own_slug_is_found_in_the_category_list(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    # Discourse finds a bare slug among top-level categories only.
    reply(mocked, "GET", "/c/cartographie/show.json", {"errors": ["introuvable"]}, status=404)
    reply(mocked, "GET", "/categories.json", load("categories.json"))

    assert client.fetch_category("cartographie").id == 12


# --- topic lists ----------------------------------------------------------------------------------

CATEGORY = Category(
    5, "innovation-sociale-estrie", "Innovation sociale en Estrie", None, 19, (11, 12)
)


LIST_PATH = "/c/innovation-sociale-estrie/5/l/latest.json"


def register_pages(
    rsps: responses.RequestsMock, pages: list[dict[str, Any]], path: str = LIST_PATH
) -> None:
    for number, page in enumerate(pages):
        reply(
            rsps,
            "GET",
            path,
            page,
            match=(matchers.query_param_matcher({"order": "activity", "page": str(number)}),),
        )


def test_category_pages_come_whole_one_read_each_when_asked_for(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    pages = [load(f"category_topics_page{n}.json") for n in range(3)]
    register_pages(mocked, pages)

    listing = client.iter_category_pages(CATEGORY)
    first = next(listing)

    # Pinned topics first, as Discourse lists them; the next page is not read until asked for.
    assert [(t.id, t.pinned) for t in first] == [
        (101, True),
        (102, True),
        (130, False),
        (129, False),
    ]
    assert client.requests_sent == 1
    assert [[t.id for t in page] for page in islice(listing, 2)] == [
        [127, 126, 125],
        [124, 118, 117],
    ]
    # An explicit activity order: the category's own view or sort order changes nothing.
    assert [query_of(c) for c in mocked.calls] == [
        {"order": ["activity"], "page": ["0"]},
        {"order": ["activity"], "page": ["1"]},
        {"order": ["activity"], "page": ["2"]},
    ]
    assert client.requests_sent == 3


def test_category_pages_end_without_more_topics_url(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    pages = [load(f"category_topics_page{n}.json") for n in range(3)]
    del pages[2]["topic_list"]["more_topics_url"]
    register_pages(mocked, pages)

    listing = list(client.iter_category_pages(CATEGORY))

    assert [len(page) for page in listing] == [4, 3, 3]
    assert listing[-1][-1].tags == ("sherbrooke",)
    assert client.requests_sent == 3


def test_category_pages_end_on_an_empty_page(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    empty = load("category_topics_page1.json")
    empty["topic_list"]["topics"] = []
    register_pages(mocked, [load("category_topics_page0.json"), empty])

    # The empty page ends the list and is not yielded.
    assert [len(page) for page in client.iter_category_pages(CATEGORY)] == [4]
    assert client.requests_sent == 2


# --- posts ----------------------------------------------------------------------------------------

POSTS_PATH = "/t/130/posts.json"


def first_chunk_matcher() -> Any:
    return matchers.query_param_matcher({"include_raw": "1"})


def after_matcher(number: int) -> Any:
    return matchers.query_param_matcher(
        {"include_raw": "1", "post_number": str(number), "asc": "true"}
    )


def test_topic_of_45_posts_costs_3_reads(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", POSTS_PATH, posts_chunk(130, range(1, 21)), match=(first_chunk_matcher(),))
    reply(mocked, "GET", POSTS_PATH, posts_chunk(130, range(21, 41)), match=(after_matcher(20),))
    reply(mocked, "GET", POSTS_PATH, posts_chunk(130, range(41, 46)), match=(after_matcher(40),))

    posts = list(client.iter_topic_posts(130))

    assert [p.post_number for p in posts] == list(range(1, 46))
    assert posts[44].raw == "Message 45"
    assert client.requests_sent == 3


def test_topic_of_40_posts_with_posts_count_costs_2_reads(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", POSTS_PATH, posts_chunk(130, range(1, 21)), match=(first_chunk_matcher(),))
    reply(mocked, "GET", POSTS_PATH, posts_chunk(130, range(21, 41)), match=(after_matcher(20),))

    assert len(list(client.iter_topic_posts(130, posts_count=40))) == 40
    assert client.requests_sent == 2


def test_without_posts_count_a_full_last_chunk_costs_one_empty_read(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", POSTS_PATH, posts_chunk(130, range(1, 21)), match=(first_chunk_matcher(),))
    reply(mocked, "GET", POSTS_PATH, posts_chunk(130, range(21, 41)), match=(after_matcher(20),))
    reply(mocked, "GET", POSTS_PATH, posts_chunk(130, []), match=(after_matcher(40),))

    assert len(list(client.iter_topic_posts(130))) == 40
    assert client.requests_sent == 3


def test_topic_posts_after_a_known_post(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", POSTS_PATH, posts_chunk(130, range(13, 18)), match=(after_matcher(12),))

    posts = list(client.iter_topic_posts(130, posts_count=17, after_post_number=12))

    assert [p.post_number for p in posts] == [13, 14, 15, 16, 17]


def test_whispers_and_small_actions_are_left_out(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    chunk = posts_chunk(130, range(1, 21))
    chunk["post_stream"]["posts"][4]["post_type"] = 4  # a staff whisper
    chunk["post_stream"]["posts"][9]["post_type"] = 3  # "a épinglé le sujet"
    reply(mocked, "GET", POSTS_PATH, chunk, match=(first_chunk_matcher(),))
    reply(mocked, "GET", POSTS_PATH, posts_chunk(130, [21]), match=(after_matcher(20),))

    # posts_count (20) leaves the whisper out, so the 21st post is still fetched.
    posts = list(client.iter_topic_posts(130, posts_count=20))

    assert [p.post_number for p in posts] == [n for n in range(1, 22) if n not in (5, 10)]


def test_fetch_first_posts_is_one_read(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", POSTS_PATH, load("topic_posts.json"), match=(first_chunk_matcher(),))

    posts = client.fetch_first_posts(130)

    assert [p.id for p in posts] == [1301, 1302, 1303]
    assert posts[0].raw.startswith("**Organisation** : Corporation de développement")
    assert posts[0].like_count == 3


# --- single resources -----------------------------------------------------------------------------


def test_fetch_topic(mocked: responses.RequestsMock, client: DiscourseClient) -> None:
    reply(mocked, "GET", "/t/135.json", load("topic.json"))

    assert client.fetch_topic(135) == TopicDetail(
        id=135,
        title="Rappel : webinaire « Mesurer l'impact social » — 15 mai 2025",
        slug="rappel-webinaire-mesurer-limpact-social-15-mai-2025",
        category_id=14,
        archetype="regular",
        pinned=True,
        closed=False,
        archived=False,
        visible=True,
        posts_count=3,
        stream=(1351, 1352, 1360),
        external_id="br-3f9a1c2b7d4e5f60",
    )


def test_fetch_user(mocked: responses.RequestsMock, client: DiscourseClient) -> None:
    reply(mocked, "GET", "/u/marie-eve.t.json", load("user.json"))

    assert client.fetch_user("marie-eve.t") == User(
        id=57,
        username="marie-eve.t",
        name="Marie-Ève Tremblay",
        created_at=datetime(2025, 4, 14, 21, 10, 27, 551000, tzinfo=UTC),
        bio_raw="Agente de développement à la CDC du Granit. Passionnée de sécurité alimentaire.",
        location="Lac-Mégantic",
        website="https://cdcdugranit.org",
    )


def test_unexpected_payload_is_a_discourse_error(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", "/u/marie-eve.t.json", {"user_badges": []})

    with pytest.raises(DiscourseError, match="réponse inattendue"):
        client.fetch_user("marie-eve.t")


def test_a_string_among_listed_topics_is_a_discourse_error(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    page = load("category_topics_page0.json")
    page["topic_list"]["topics"][1] = "102"
    register_pages(mocked, [page])

    with pytest.raises(DiscourseError, match=r"réponse inattendue.*topics\[1\] : objet JSON"):
        next(client.iter_category_pages(CATEGORY))


def test_a_null_post_is_a_discourse_error(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    chunk = posts_chunk(130, range(1, 4))
    chunk["post_stream"]["posts"][1] = None
    reply(mocked, "GET", POSTS_PATH, chunk, match=(first_chunk_matcher(),))

    with pytest.raises(DiscourseError, match=r"réponse inattendue.*posts\[1\] : .*null"):
        list(client.iter_topic_posts(130))


def changed(payload: dict[str, Any], change: Any) -> dict[str, Any]:
    change(payload)
    return payload


@pytest.mark.parametrize(
    ("path", "payload", "read"),
    [
        (
            "/categories.json",
            {"category_list": ["innovation-sociale-estrie"]},
            lambda c: c.fetch_categories(),
        ),
        (
            "/groups/cdp-2ise/members.json",
            {"members": [], "owners": ["animation-2ise"], "meta": {"total": 0}},
            lambda c: list(c.iter_group_members("cdp-2ise")),
        ),
        (
            "/groups/cdp-2ise/members.json",
            {"members": [None], "meta": {"total": 1}},
            lambda c: list(c.iter_group_members("cdp-2ise")),
        ),
        (
            "/u/marie-eve.t.json",
            changed(load("user.json"), lambda u: u["user"].update(groups=["cdp-2ise"])),
            lambda c: c.fetch_user("marie-eve.t"),
        ),
        (
            "/t/135.json",
            changed(load("topic.json"), lambda t: t.update(post_stream=[1351])),
            lambda c: c.fetch_topic(135),
        ),
        (
            POSTS_PATH,
            changed(
                posts_chunk(130, [1]),
                lambda c: c["post_stream"]["posts"][0].update(actions_summary=[2]),
            ),
            lambda c: list(c.iter_topic_posts(130)),
        ),
    ],
    ids=["category_list", "owner", "member", "group", "post_stream", "actions_summary"],
)
def test_a_payload_of_the_wrong_shape_is_a_discourse_error(
    mocked: responses.RequestsMock, client: DiscourseClient, path: str, payload: Any, read: Any
) -> None:
    reply(mocked, "GET", path, payload)

    with pytest.raises(DiscourseError, match="réponse inattendue.*TypeError"):
        read(client)


def test_models_say_a_wrong_shape_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="sujet : objet JSON attendu, trouvé une chaîne"):
        TopicSummary.from_api("130")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="message : objet JSON attendu, trouvé null"):
        Post.from_api(None)  # type: ignore[arg-type]


def test_a_bug_in_parsing_is_not_disguised_as_discourses_surprise(
    mocked: responses.RequestsMock, client: DiscourseClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_pages(mocked, [load("category_topics_page0.json")])

    def buggy(payload: Any) -> TopicSummary:
        raise AttributeError("bogue de la passerelle")

    monkeypatch.setattr(TopicSummary, "from_api", buggy)

    with pytest.raises(AttributeError, match="bogue de la passerelle"):
        next(client.iter_category_pages(CATEGORY))


# --- group members --------------------------------------------------------------------------------

MEMBERS_PATH = "/groups/cdp-2ise/members.json"


def test_group_members_page_by_offset_up_to_total(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    members = load("group_members.json")["members"]
    for offset in (0, 2, 4):
        reply(
            mocked,
            "GET",
            MEMBERS_PATH,
            members_page(members, offset, 2),
            match=(
                matchers.query_param_matcher(
                    {"offset": str(offset), "limit": "2", "order": "added_at"}
                ),
            ),
        )

    found = list(client.iter_group_members("cdp-2ise", limit=2))

    assert [m.username for m in found] == [
        "animation-2ise",
        "jf.gagnon",
        "marie-eve.t",
        "sophie.l",
        "coop-hsf",
    ]
    assert found[2] == GroupMember(
        id=57,
        username="marie-eve.t",
        name="Marie-Ève Tremblay",
        added_at=datetime(2025, 4, 14, 21, 15, 3, 874000, tzinfo=UTC),
        last_seen_at=datetime(2025, 4, 16, 20, 11, 3, 412000, tzinfo=UTC),
    )
    assert found[4].name is None
    assert client.requests_sent == 3


def test_group_members_oldest_first_sends_asc(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    # Discourse sorts ascending whenever `asc` is present at all, so newest-first omits it.
    members = load("group_members.json")["members"]
    reply(
        mocked,
        "GET",
        MEMBERS_PATH,
        members_page(members, 0, 50),
        match=(
            matchers.query_param_matcher(
                {"offset": "0", "limit": "50", "order": "added_at", "asc": "true"}
            ),
        ),
    )

    assert len(list(client.iter_group_members("cdp-2ise", newest_first=False))) == 5


def test_group_owners_never_stop_the_iteration(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    members = load("group_members.json")["members"]
    reply(mocked, "GET", MEMBERS_PATH, members_page(members, 0, 50))
    cutoff = datetime(2025, 4, 1, tzinfo=UTC)

    def known(member: GroupMember) -> bool:
        return member.added_at is not None and member.added_at < cutoff

    found = list(client.iter_group_members("cdp-2ise", stop_when=known))

    # The owner, listed first, joined in 2024: it must not hide the two newcomers after it.
    assert [m.username for m in found] == ["animation-2ise", "jf.gagnon", "marie-eve.t"]


def test_a_caller_may_stop_reading_members_early(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    members = load("group_members.json")["members"]
    reply(mocked, "GET", MEMBERS_PATH, members_page(members, 0, 2))

    assert len(list(islice(client.iter_group_members("cdp-2ise", limit=2), 2))) == 2
    assert client.requests_sent == 1


# --- writes ---------------------------------------------------------------------------------------


def test_create_topic_sends_exactly_these_fields(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    fields = {
        "title": "Rappel : webinaire « Mesurer l'impact social » — 15 mai 2025",
        "raw": "La CdP 2isE vous invite au webinaire **Mesurer l'impact social**.",
        "category": "14",
        "tags[][name]": "annonce",
        "external_id": "br-3f9a1c2b7d4e5f60",
    }
    reply(
        mocked,
        "POST",
        "/posts.json",
        load("post_created.json"),
        match=(matchers.urlencoded_params_matcher(fields),),
    )

    created = client.create_topic(
        title=fields["title"],
        raw=fields["raw"],
        category_id=14,
        tags=("webinaire", "annonce"),
        external_id="br-3f9a1c2b7d4e5f60",
    )

    assert created == Created(
        post_id=1351,
        topic_id=135,
        post_number=1,
        topic_slug="rappel-webinaire-mesurer-limpact-social-15-mai-2025",
    )
    # The matcher keeps one value per key; tags[] must carry both names, in order.
    assert form_of(mocked.calls[0])["tags[][name]"] == ["webinaire", "annonce"]
    assert mocked.calls[0].request.method == "POST"


def test_create_topic_without_tags_nor_external_id(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(
        mocked,
        "POST",
        "/posts.json",
        load("post_created.json"),
        match=(
            matchers.urlencoded_params_matcher(
                {"title": "Résumé de la semaine", "raw": "Bonjour!", "category": "5"}
            ),
        ),
    )

    assert (
        client.create_topic(title="Résumé de la semaine", raw="Bonjour!", category_id=5).topic_id
        == 135
    )


def test_create_topic_refuses_an_external_id_discourse_would_reject(
    client: DiscourseClient,
) -> None:
    with pytest.raises(ValueError):
        client.create_topic(title="T", raw="r", category_id=5, external_id="digest:2025-W16")
    assert client.requests_sent == 0


def test_create_private_message(mocked: responses.RequestsMock, client: DiscourseClient) -> None:
    fields = {
        "title": "Résumé de la semaine 16 — CdP 2isE",
        "raw": "Voici l'activité de la semaine.",
        "archetype": "private_message",
        "target_recipients": "animation-2ise,sophie.l",
        "external_id": "br-digest-2025-w16",
    }
    reply(
        mocked,
        "POST",
        "/posts.json",
        load("post_created.json"),
        match=(matchers.urlencoded_params_matcher(fields),),
    )

    created = client.create_private_message(
        title=fields["title"],
        raw=fields["raw"],
        recipients=["animation-2ise", "sophie.l"],
        external_id="br-digest-2025-w16",
    )

    assert created.post_id == 1351


def test_create_reply(mocked: responses.RequestsMock, client: DiscourseClient) -> None:
    answer = {**load("post_created.json"), "id": 1304, "topic_id": 127, "post_number": 4}
    reply(
        mocked,
        "POST",
        "/posts.json",
        answer,
        match=(
            matchers.urlencoded_params_matcher(
                {"topic_id": "127", "raw": "Bienvenue!", "reply_to_post_number": "2"}
            ),
        ),
    )

    created = client.create_reply(topic_id=127, raw="Bienvenue!", reply_to_post_number=2)

    assert (created.post_id, created.topic_id, created.post_number) == (1304, 127, 4)


def test_edit_post(mocked: responses.RequestsMock, client: DiscourseClient) -> None:
    reply(
        mocked,
        "PUT",
        "/posts/1351.json",
        {"post": load("post_created.json")},
        match=(
            matchers.urlencoded_params_matcher(
                {"post[raw]": "Nouveau texte", "post[edit_reason]": "date corrigée"}
            ),
        ),
    )

    assert client.edit_post(1351, raw="Nouveau texte", edit_reason="date corrigée") is None


@pytest.mark.parametrize(
    ("enabled", "until", "fields"),
    [
        (True, "2025-05-16", {"status": "pinned", "enabled": "true", "until": "2025-05-16"}),
        (False, None, {"status": "pinned", "enabled": "false"}),
    ],
)
def test_set_topic_status(
    mocked: responses.RequestsMock,
    client: DiscourseClient,
    enabled: bool,
    until: str | None,
    fields: dict[str, str],
) -> None:
    reply(
        mocked,
        "PUT",
        "/t/135/status.json",
        {"success": "OK", "topic_status_update": None},
        match=(matchers.urlencoded_params_matcher(fields),),
    )

    client.set_topic_status(135, status="pinned", enabled=enabled, until=until)


def test_a_post_held_for_approval_is_not_a_success(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(
        mocked, "POST", "/posts.json", {"success": True, "action": "enqueued", "pending_post": {}}
    )

    with pytest.raises(DiscourseError, match="attente d'approbation"):
        client.create_reply(topic_id=127, raw="Bienvenue!")


# --- external_id lookups --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "/t/rappel-webinaire-mesurer-limpact-social-15-mai-2025/135.json",
        f"{SITE}/t/rappel-webinaire-mesurer-limpact-social-15-mai-2025/135.json",
    ],
)
def test_external_id_redirect_gives_the_topic_id(
    mocked: responses.RequestsMock, client: DiscourseClient, location: str
) -> None:
    reply(
        mocked,
        "GET",
        "/t/external_id/br-3f9a1c2b7d4e5f60.json",
        status=301,
        headers={"Location": location},
    )

    assert client.find_topic_by_external_id("br-3f9a1c2b7d4e5f60") == 135
    assert client.requests_sent == 1


def test_unknown_external_id_is_none(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(
        mocked,
        "GET",
        "/t/external_id/br-0000.json",
        {
            "errors": ["The requested URL or resource could not be found."],
            "error_type": "not_found",
        },
        status=404,
    )

    assert client.find_topic_by_external_id("br-0000") is None


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_is_an_auth_error_without_the_key(
    mocked: responses.RequestsMock, client: DiscourseClient, status: int
) -> None:
    reply(
        mocked,
        "GET",
        "/categories.json",
        {
            "errors": ["You are not permitted to view the requested resource."],
            "error_type": "invalid_access",
        },
        status=status,
    )

    with pytest.raises(AuthError) as caught:
        client.fetch_categories()

    message = str(caught.value)
    assert message.startswith(f"la clé d'API a été refusée par {SITE} ({status}")
    assert "DISCOURSE_API_KEY" in message and "« animation-2ise »" in message
    assert "portées (scopes)" in message
    assert KEY not in message and "\n" not in message
    assert caught.value.exit_code == 2
    assert client.requests_sent == 1


def test_422_is_rejected_with_discourses_words(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(
        mocked,
        "POST",
        "/posts.json",
        {"action": "create_post", "errors": ["Title has already been used"]},
        status=422,
    )

    with pytest.raises(RejectedError, match="Title has already been used"):
        client.create_topic(title="Résumé de la semaine 16", raw="…", category_id=5)
    assert client.requests_sent == 1


def test_404_is_not_found(mocked: responses.RequestsMock, client: DiscourseClient) -> None:
    reply(mocked, "GET", "/t/999.json", {"errors": ["introuvable"]}, status=404)

    with pytest.raises(NotFoundError, match="/t/999.json"):
        client.fetch_topic(999)


def test_other_client_errors_are_refusals_with_discourses_words(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    # A 4xx means Discourse refused before acting: the publisher may record it as a failure.
    reply(
        mocked, "PUT", "/t/135/status.json", {"errors": ["param is missing: enabled"]}, status=400
    )

    with pytest.raises(RejectedError, match=r"\(400\) : param is missing: enabled") as caught:
        client.set_topic_status(135, status="pinned", enabled=True)
    assert not isinstance(caught.value, WriteOutcomeUnknown)


def test_a_read_follows_a_redirect_on_the_same_site_and_reads_on_there(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    # The slug was renamed: Discourse answers 301 to the canonical path, query kept.
    canonical = "/c/innovation-sociale/5/l/latest.json"
    reply(
        mocked,
        "GET",
        LIST_PATH,
        status=301,
        headers={"Location": f"{SITE}{canonical}?order=activity&page=0"},
        match=(matchers.query_param_matcher({"order": "activity", "page": "0"}),),
    )
    register_pages(mocked, [load(f"category_topics_page{n}.json") for n in range(2)], canonical)

    pages = list(islice(client.iter_category_pages(CATEGORY), 2))

    assert [len(page) for page in pages] == [4, 3]
    # The next page is asked for at the new path: no second redirect.
    assert [urlsplit(c.request.url).path for c in mocked.calls] == [
        LIST_PATH,
        canonical,
        canonical,
    ]
    assert client.requests_sent == 3


def test_a_redirect_to_another_site_is_refused_in_words(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    elsewhere = "https://autre-site.example/c/innovation-sociale-estrie/5/l/latest.json"
    reply(mocked, "GET", LIST_PATH, status=301, headers={"Location": elsewhere})

    with pytest.raises(DiscourseError) as caught:
        next(client.iter_category_pages(CATEGORY))

    assert str(caught.value) == (
        f"Discourse a redirigé GET {SITE}{LIST_PATH} vers un autre site ({elsewhere}) : la "
        f"passerelle ne suit pas une redirection hors de {SITE} ; vérifiez discourse.url"
    )
    assert client.requests_sent == 1  # the key never went to the other site


def test_a_write_never_follows_a_redirect(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "POST", "/posts.json", status=301, headers={"Location": f"{SITE}/posts.json"})

    with pytest.raises(DiscourseError, match="redirection inattendue"):
        client.create_reply(topic_id=135, raw="Une réponse assez longue pour Discourse.")
    assert client.requests_sent == 1


def test_html_instead_of_json_is_an_error(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    mocked.add(
        "GET", SITE + "/categories.json", body="<html>Maintenance</html>", content_type="text/html"
    )

    with pytest.raises(DiscourseError, match="text/html"):
        client.fetch_categories()


def test_plain_application_json_is_accepted(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    mocked.add("GET", SITE + "/categories.json", json=load("categories.json"))

    assert len(client.fetch_categories()) == 7


# --- rate limits and retries ----------------------------------------------------------------------


def test_429_honours_retry_after(
    mocked: responses.RequestsMock, client: DiscourseClient, fake_time: FakeTime
) -> None:
    reply(
        mocked,
        "GET",
        "/t/135.json",
        {"errors": ["Slow down"]},
        status=429,
        headers={"Retry-After": "7"},
    )
    reply(mocked, "GET", "/t/135.json", load("topic.json"))

    assert client.fetch_topic(135).id == 135
    assert fake_time.sleeps == [7.0]
    assert client.requests_sent == 2


def test_429_honours_extras_wait_seconds(
    mocked: responses.RequestsMock, client: DiscourseClient, fake_time: FakeTime
) -> None:
    limited = {
        "errors": ["You’ve performed this action too many times. Please wait 3 seconds."],
        "error_type": "rate_limit",
        "extras": {"wait_seconds": 3, "time_left": "3 seconds"},
    }
    reply(mocked, "GET", "/t/135.json", limited, status=429)
    reply(mocked, "GET", "/t/135.json", load("topic.json"))

    client.fetch_topic(135)

    assert fake_time.sleeps == [3.0]


def test_429_on_a_write_is_retried_because_nothing_was_written(
    mocked: responses.RequestsMock, client: DiscourseClient, fake_time: FakeTime
) -> None:
    reply(
        mocked,
        "POST",
        "/posts.json",
        {"errors": ["Slow down"]},
        status=429,
        headers={"Retry-After": "2"},
    )
    reply(mocked, "POST", "/posts.json", load("post_created.json"))

    assert client.create_reply(topic_id=135, raw="Rappel").post_id == 1351
    assert fake_time.sleeps == [2.0]
    assert len(mocked.calls) == 2


def test_429_asking_too_long_a_wait_gives_up_at_once(
    mocked: responses.RequestsMock, client: DiscourseClient, fake_time: FakeTime
) -> None:
    reply(
        mocked,
        "GET",
        "/t/135.json",
        {"errors": ["Slow down"]},
        status=429,
        headers={"Retry-After": "86400"},
    )

    with pytest.raises(UnavailableError, match="429"):
        client.fetch_topic(135)
    assert fake_time.sleeps == []


def test_read_5xx_is_retried_with_backoff(
    mocked: responses.RequestsMock, client: DiscourseClient, fake_time: FakeTime
) -> None:
    reply(mocked, "GET", "/t/135.json", status=502)
    reply(mocked, "GET", "/t/135.json", load("topic.json"))

    assert client.fetch_topic(135).id == 135
    assert len(fake_time.sleeps) == 1
    assert 0.5 <= fake_time.sleeps[0] <= 1.0
    assert client.requests_sent == 2


def test_read_5xx_forever_gives_up_after_max_retries(
    mocked: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    client = make_client(max_read_retries=4)
    reply(mocked, "GET", "/t/135.json", status=503)

    with pytest.raises(UnavailableError) as caught:
        client.fetch_topic(135)

    message = str(caught.value)
    assert f"GET {SITE}/t/135.json" in message and "503" in message
    assert KEY not in message
    assert client.requests_sent == 5
    # Exponential and jittered: each wait between half and all of 1, 2, 4, 8 s.
    assert len(fake_time.sleeps) == 4
    assert all(c / 2 <= s <= c for s, c in zip(fake_time.sleeps, [1, 2, 4, 8], strict=True))


def test_read_connection_error_is_retried(
    mocked: responses.RequestsMock, client: DiscourseClient, fake_time: FakeTime
) -> None:
    mocked.add(
        "GET", SITE + "/t/135.json", body=requests.ConnectionError("Connection reset by peer")
    )
    reply(mocked, "GET", "/t/135.json", load("topic.json"))

    assert client.fetch_topic(135).id == 135
    assert len(fake_time.sleeps) == 1
    assert client.requests_sent == 2


def test_read_timeouts_forever_are_unavailable(
    mocked: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    client = make_client(max_read_retries=2)
    mocked.add("GET", SITE + "/t/135.json", body=requests.ReadTimeout("lecture trop longue"))

    with pytest.raises(UnavailableError, match="délai dépassé"):
        client.fetch_topic(135)
    assert client.requests_sent == 3
    assert len(fake_time.sleeps) == 2


def test_write_5xx_is_outcome_unknown_and_not_retried(
    mocked: responses.RequestsMock, client: DiscourseClient, fake_time: FakeTime
) -> None:
    reply(mocked, "POST", "/posts.json", status=502)

    with pytest.raises(WriteOutcomeUnknown) as caught:
        client.create_topic(title="Résumé", raw="…", category_id=5)

    assert KEY not in str(caught.value)
    assert len(mocked.calls) == 1
    assert client.requests_sent == 1
    assert fake_time.sleeps == []


def test_write_connection_drop_is_outcome_unknown_and_not_retried(
    mocked: responses.RequestsMock, client: DiscourseClient, fake_time: FakeTime
) -> None:
    mocked.add("POST", SITE + "/posts.json", body=requests.ConnectionError("Connection aborted."))

    with pytest.raises(WriteOutcomeUnknown, match="impossible de savoir"):
        client.create_reply(topic_id=135, raw="Rappel")
    assert len(mocked.calls) == 1
    assert fake_time.sleeps == []


def test_write_that_never_connected_is_unavailable_not_unknown(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    mocked.add(
        "PUT", SITE + "/posts/1351.json", body=requests.ConnectTimeout("connexion impossible")
    )

    with pytest.raises(UnavailableError, match="n'a pas été envoyée") as caught:
        client.edit_post(1351, raw="Nouveau texte")
    assert not isinstance(caught.value, WriteOutcomeUnknown)
    assert len(mocked.calls) == 1


def test_requests_sent_counts_every_try(
    mocked: responses.RequestsMock, client: DiscourseClient
) -> None:
    reply(mocked, "GET", "/t/135.json", status=500)
    reply(
        mocked,
        "GET",
        "/t/135.json",
        {"errors": ["Slow down"]},
        status=429,
        headers={"Retry-After": "1"},
    )
    reply(mocked, "GET", "/t/135.json", load("topic.json"))

    client.fetch_topic(135)

    assert client.requests_sent == 3
    client.requests_sent = 0
    assert client.requests_sent == 0


# --- pacing, timeout, headers, logs ---------------------------------------------------------------


def test_pacing_spaces_requests(
    mocked: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    client = make_client(requests_per_minute=60)
    reply(mocked, "GET", "/t/135.json", load("topic.json"))

    client.fetch_topic(135)
    client.fetch_topic(135)
    fake_time.now += 0.25  # time spent between calls counts toward the gap
    client.fetch_topic(135)

    assert fake_time.sleeps == [pytest.approx(1.0), pytest.approx(0.75)]


def test_no_pacing_when_off(
    mocked: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    client = make_client(requests_per_minute=0)
    reply(mocked, "GET", "/t/135.json", load("topic.json"))

    for _ in range(3):
        client.fetch_topic(135)

    assert fake_time.sleeps == []


def test_timeout_and_identity_go_with_every_request(
    mocked: responses.RequestsMock, make_client: Any
) -> None:
    client = make_client(timeout=12.5)
    reply(mocked, "GET", "/t/135.json", load("topic.json"))

    client.fetch_topic(135)

    request = mocked.calls[0].request
    assert request.req_kwargs["timeout"] == 12.5
    assert request.headers["Api-Username"] == USERNAME
    assert request.headers["Api-Key"] == KEY
    assert client.url == SITE
    assert KEY not in repr(client)


def test_logs_never_show_the_key(
    mocked: responses.RequestsMock, client: DiscourseClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reply(mocked, "GET", "/t/135.json", status=502)
    reply(
        mocked,
        "GET",
        "/t/135.json",
        {"errors": ["Slow down"]},
        status=429,
        headers={"Retry-After": "1"},
    )
    reply(mocked, "GET", "/t/135.json", load("topic.json"))

    client.fetch_topic(135)

    assert "502" in caplog.text and "429" in caplog.text
    assert KEY not in caplog.text


# --- fixtures against Discourse's published schemas -----------------------------------------------


def loosen(schema: Any, name: str = "") -> Any:
    """Keep the types, drop `required` and `additionalProperties`: fixtures are trimmed."""
    if name == "reply_to_post_number":
        # The rswag schemas say string; Discourse serialises an integer.
        return {"type": ["integer", "null"]}
    if isinstance(schema, dict):
        if "properties" in schema and isinstance(schema["properties"], dict):
            schema = {
                **schema,
                "properties": {k: loosen(v, k) for k, v in schema["properties"].items()},
            }
        return {
            k: (v if k == "properties" else loosen(v))
            for k, v in schema.items()
            if k not in ("required", "additionalProperties")
        }
    if isinstance(schema, list):
        return [loosen(item) for item in schema]
    return schema


def topic_posts_schema() -> Any:
    document = json.loads((API_DOCS / "openapi.json").read_text(encoding="utf-8"))
    answer = document["paths"]["/t/{id}/posts.json"]["get"]["responses"]["200"]
    return answer["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    ("fixture", "schema"),
    [
        ("categories.json", "category_list_response"),
        ("category_topics_page0.json", "category_topics_response"),
        ("category_topics_page1.json", "category_topics_response"),
        ("category_topics_page2.json", "category_topics_response"),
        ("topic.json", "topic_show_response"),
        ("post.json", "post_show_response"),
        ("post_created.json", "topic_create_response"),
        ("group_members.json", "group_members_response"),
        ("user.json", "user_get_response"),
        ("topic_posts.json", None),
    ],
)
def test_fixtures_match_discourse_schemas(fixture: str, schema: str | None) -> None:
    if not API_DOCS.is_dir() and not os.environ.get("CI"):
        pytest.skip("shared/discourse-api is not next to the repository")
    if schema is None:
        raw_schema = topic_posts_schema()
    else:
        raw_schema = json.loads(
            (API_DOCS / "schemas" / f"{schema}.json").read_text(encoding="utf-8")
        )
    loose = loosen(raw_schema)
    validator = validators.validator_for(loose)(loose)

    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(load(fixture))]

    assert errors == []
