"""The sandbox behaves like Discourse for the endpoints the bridge uses, over real HTTP.

Every test talks to a sandbox started on loopback with plain `requests` (one with pydiscourse),
on a fresh seed world and a clock the test controls: no sleeps, no real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from pydiscourse import DiscourseClient

from bridge.sandbox import JSON_TYPE, Sandbox, World, build_world, seed_world
from bridge.sandbox.posting import TOPIC_NOT_FOUND
from bridge.sandbox.seed_entries import CARDS

NOW = datetime(2025, 5, 20, 14, 0, tzinfo=UTC)
WATCHED = "/c/innovation-sociale-estrie/10.json"


class Clock:
    """An injectable `now` that only moves when a test says so."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def sb(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(seed_world(NOW), now=clock) as sandbox:
        yield sandbox


def call(
    sb: Sandbox, method: str, path: str, *, as_user: str | None = None, **kwargs: Any
) -> requests.Response:
    """A request with the staff key, or with `as_user`'s own member key."""
    if as_user is None:
        headers = {"Api-Key": sb.api_key, "Api-Username": sb.api_username}
    else:
        headers = {"Api-Key": sb.member_key(as_user), "Api-Username": as_user}
    headers.update(kwargs.pop("headers", {}))
    return requests.request(method, sb.url + path, headers=headers, timeout=5, **kwargs)


def titles(response: requests.Response) -> list[str]:
    return [t["title"] for t in response.json()["topic_list"]["topics"]]


def all_pages(sb: Sandbox, path: str, **kwargs: Any) -> list[dict[str, Any]]:
    topics: list[dict[str, Any]] = []
    for page in range(100):
        body = call(sb, "GET", f"{path}?page={page}", **kwargs).json()["topic_list"]
        topics += body["topics"]
        if "more_topics_url" not in body:
            return topics
    raise AssertionError("never-ending list")


def new_topic(
    sb: Sandbox, title: str, raw: str = "Un message assez long pour Discourse.", **extra: Any
) -> requests.Response:
    return call(
        sb, "POST", "/posts.json", data={"title": title, "raw": raw, "category": 15, **extra}
    )


# --- protocol basics -------------------------------------------------------------------------


def test_every_json_answer_has_discourses_exact_content_type(sb: Sandbox) -> None:
    answers = [
        call(sb, "GET", WATCHED),
        call(sb, "GET", "/t/999999.json"),
        call(sb, "GET", WATCHED, headers={"Api-Key": "wrong"}),
        new_topic(sb, "court"),
    ]
    assert [r.status_code for r in answers] == [200, 404, 403, 422]
    assert all(r.headers["Content-Type"] == JSON_TYPE for r in answers)


@pytest.mark.parametrize(
    "headers",
    [
        {"Api-Key": "not-a-key", "Api-Username": "animation-2ise"},
        {"Api-Key": "sandbox-staff-key", "Api-Username": "audrey.demars"},
    ],
    ids=["wrong key", "username not the key's"],
)
def test_a_wrong_key_or_username_is_refused_with_403(sb: Sandbox, headers: dict[str, str]) -> None:
    response = requests.get(sb.url + WATCHED, headers=headers, timeout=5)
    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            "You are not permitted to view the requested resource. "
            "The API username or key is invalid."
        ],
        "error_type": "invalid_access",
    }


def test_a_scoped_key_is_refused_outside_its_scopes_like_a_wrong_key(sb: Sandbox) -> None:
    key = sb.scoped_key("animation-2ise", ["topics:read_lists"])
    headers = {"Api-Key": key, "Api-Username": "animation-2ise"}
    assert requests.get(sb.url + WATCHED, headers=headers, timeout=5).status_code == 200
    refused = requests.put(
        sb.url + "/t/10/status.json",
        headers=headers,
        data={"status": "pinned", "enabled": "true"},
        timeout=5,
    )
    assert refused.status_code == 403
    assert "The API username or key is invalid." in refused.json()["errors"][0]


def test_requests_are_recorded_with_method_path_and_query(sb: Sandbox) -> None:
    sb.reset_requests()
    call(sb, "GET", WATCHED + "?page=1")
    new_topic(sb, "Un sujet pour compter les requêtes")
    assert sb.requests == [("GET", WATCHED + "?page=1"), ("POST", "/posts.json")]


# --- category lists ----------------------------------------------------------------------------


def test_pages_of_30_with_more_topics_url_only_before_the_last_page(sb: Sandbox) -> None:
    # `bienvenue` holds only its pinned "À propos" topic: 64 more make 65.
    for n in range(64):
        sb.world.add_topic(
            "audrey.demars",
            "bienvenue",
            f"Présentation numéro {n:02d} de la CdP",
            "Bonjour à toutes et à tous !",
        )
    pages = [
        call(sb, "GET", f"/c/bienvenue/13.json?page={p}").json()["topic_list"] for p in range(3)
    ]
    assert [len(p["topics"]) for p in pages] == [30, 30, 5]
    # The next page's URL is the canonical one (ListController#construct_url_with).
    assert pages[0]["more_topics_url"] == "/c/innovation-sociale-estrie/bienvenue/13?page=1"
    assert pages[1]["more_topics_url"] == "/c/innovation-sociale-estrie/bienvenue/13?page=2"
    assert "more_topics_url" not in pages[2]
    ids = [t["id"] for p in pages for t in p["topics"]]
    assert len(set(ids)) == 65


def test_a_full_last_page_still_announces_more_like_discourse(sb: Sandbox) -> None:
    for n in range(59):
        sb.world.add_topic(
            "audrey.demars",
            "bienvenue",
            f"Présentation numéro {n:02d} de la CdP",
            "Bonjour à toutes et à tous !",
        )
    page1 = call(sb, "GET", "/c/bienvenue/13.json?page=1").json()["topic_list"]
    page2 = call(sb, "GET", "/c/bienvenue/13.json?page=2").json()["topic_list"]
    assert len(page1["topics"]) == 30 and "more_topics_url" in page1
    assert page2["topics"] == [] and "more_topics_url" not in page2


def test_category_list_pins_first_then_newest_bump_first(sb: Sandbox) -> None:
    topics = call(sb, "GET", WATCHED).json()["topic_list"]["topics"]
    assert [t["title"] for t in topics[:2]] == [
        "À lire : fonctionnement de la CdP",
        "À propos de la catégorie Impact et innovation sociale en Estrie",
    ]
    assert all(t["pinned"] for t in topics[:2]) and not any(t["pinned"] for t in topics[2:])
    bumps = [t["bumped_at"] for t in topics[2:]]
    assert bumps == sorted(bumps, reverse=True)
    assert "excerpt" in topics[0] and "excerpt" not in topics[2]


def test_a_reply_bumps_but_an_edit_or_a_move_does_not(sb: Sandbox, clock: Clock) -> None:
    world = sb.world
    old = world.find_topic_by_title("Comment mesurer l'impact social d'un petit projet ?")
    budget = world.find_topic_by_title("Modèle de budget pour une demande de financement")
    assert old is not None and budget is not None
    clock.advance(hours=1)
    world.edit_post(
        world.posts_in(budget.id)[0].id, "Nouvelle version du gabarit de budget, merci !"
    )
    world.move_topic(budget.id, "discussions")
    assert titles(call(sb, "GET", WATCHED))[2] != budget.title
    world.add_reply(old.id, "mgagnon", "Je remonte ce sujet avec une nouvelle question.")
    topics = call(sb, "GET", WATCHED).json()["topic_list"]["topics"]
    assert topics[2]["title"] == old.title
    assert topics[2]["bumped_at"] == "2025-05-20T15:00:00.000Z"
    assert topics[2]["last_poster_username"] == "mgagnon"


def test_subcategories_are_included_and_other_categories_pms_and_deleted_are_not(
    sb: Sandbox,
) -> None:
    world = sb.world
    gone = world.add_topic(
        "pphen",
        "discussions",
        "Un sujet bientôt supprimé ici",
        "Contenu de ce sujet qui sera supprimé.",
    )
    world.delete_topic(gone)
    listed = all_pages(sb, WATCHED)
    categories = {t["category_id"] for t in listed}
    assert categories == {10, 11, 12, 14, 15}  # bienvenue (13) holds only its hidden "À propos"
    listed_titles = {t["title"] for t in listed}
    assert "Maintenance prévue de la plateforme" not in listed_titles  # in `general`
    assert "Préparation du prochain 5 à 7" not in listed_titles  # a private message
    assert "Un sujet bientôt supprimé ici" not in listed_titles
    assert "À propos de la catégorie Cartographie" not in listed_titles
    assert "À propos de la catégorie Cartographie" in titles(
        call(sb, "GET", "/c/cartographie/12.json")
    )


def test_unlisted_topics_show_to_staff_only(sb: Sandbox) -> None:
    draft = "Brouillon : ordre du jour du prochain 5 à 7"
    assert draft in {t["title"] for t in all_pages(sb, WATCHED)}
    assert draft not in {t["title"] for t in all_pages(sb, WATCHED, as_user="audrey.demars")}


def test_category_can_be_named_by_id_or_slug_and_unknown_is_404(sb: Sandbox) -> None:
    by_id = titles(call(sb, "GET", "/c/10.json"))
    assert (
        by_id
        == titles(call(sb, "GET", WATCHED))
        == titles(call(sb, "GET", "/c/innovation-sociale-estrie.json"))
    )
    assert call(sb, "GET", "/c/nulle-part/99.json").status_code == 404


def test_tags_come_as_objects_or_as_names_per_world_flag(sb: Sandbox) -> None:
    path = "/c/boite-a-outils/11.json"
    grille = next(
        t
        for t in call(sb, "GET", path).json()["topic_list"]["topics"]
        if t["title"].startswith("Grille")
    )
    assert grille["tags"] == [
        {"id": sb.world.tags["evaluation"], "name": "evaluation", "slug": "evaluation"}
    ]
    sb.world.tags_as_objects = False
    grille = next(
        t
        for t in call(sb, "GET", path).json()["topic_list"]["topics"]
        if t["title"].startswith("Grille")
    )
    assert grille["tags"] == ["evaluation"]
    assert call(sb, "GET", f"/t/{grille['id']}.json").json()["tags"] == ["evaluation"]


def test_categories_json_lists_subcategories_when_asked(sb: Sandbox) -> None:
    plain = call(sb, "GET", "/categories.json").json()["category_list"]["categories"]
    watched = next(c for c in plain if c["slug"] == "innovation-sociale-estrie")
    assert watched["subcategory_ids"] == [11, 12, 13, 14, 15]
    assert "subcategory_list" not in watched
    assert "boite-a-outils" not in {c["slug"] for c in plain}
    nested = call(sb, "GET", "/categories.json?include_subcategories=true").json()
    watched = next(c for c in nested["category_list"]["categories"] if c["id"] == 10)
    assert [c["slug"] for c in watched["subcategory_list"]] == [
        "boite-a-outils",
        "cartographie",
        "bienvenue",
        "annonces",
        "discussions",
    ]


# --- topics and posts --------------------------------------------------------------------------


@pytest.fixture
def long_topic(sb: Sandbox) -> int:
    """A topic of 45 posts, the 10th of them deleted (44 live)."""
    topic_id = sb.world.add_topic(
        "dfoley", "discussions", "Un très long fil de discussion", "Premier message de ce long fil."
    )
    for n in range(2, 46):
        post_id = sb.world.add_reply(topic_id, "mgagnon", f"Réponse numéro {n} dans ce long fil.")
        if n == 10:
            sb.world.delete_post(post_id)
    return topic_id


def test_topic_show_gives_20_cooked_posts_and_the_whole_stream(
    sb: Sandbox, long_topic: int
) -> None:
    body = call(sb, "GET", f"/t/{long_topic}.json").json()
    posts = body["post_stream"]["posts"]
    assert len(posts) == 20 and len(body["post_stream"]["stream"]) == 44
    assert all("raw" not in p and p["cooked"].startswith("<p>") for p in posts)
    assert 10 not in [p["post_number"] for p in posts]
    assert body["posts_count"] == 44 and body["highest_post_number"] == 45
    assert body["category_id"] == 15 and body["archetype"] == "regular"


def test_posts_json_chunks_by_ids_or_after_a_post_number(sb: Sandbox, long_topic: int) -> None:
    stream = call(sb, "GET", f"/t/{long_topic}.json").json()["post_stream"]["stream"]
    rest = stream[20:]
    by_ids = call(
        sb, "GET", f"/t/{long_topic}/posts.json", params={"post_ids[]": rest, "include_raw": 1}
    ).json()
    assert by_ids["id"] == long_topic
    assert [p["id"] for p in by_ids["post_stream"]["posts"]] == rest
    assert by_ids["post_stream"]["posts"][0]["raw"] == "Réponse numéro 22 dans ce long fil."
    after = call(sb, "GET", f"/t/{long_topic}/posts.json?post_number=21&asc=true").json()
    numbers = [p["post_number"] for p in after["post_stream"]["posts"]]
    assert numbers == list(range(22, 42)) and "raw" not in after["post_stream"]["posts"][0]
    first = call(sb, "GET", f"/t/{long_topic}/posts.json?include_raw=1").json()["post_stream"][
        "posts"
    ]
    assert [p["post_number"] for p in first] == [1, *range(2, 10), *range(11, 22)]
    assert first[0]["raw"] == "Premier message de ce long fil."


def test_post_show_has_raw_and_likes_in_actions_summary(sb: Sandbox) -> None:
    topic = sb.world.find_topic_by_title("Canevas de théorie du changement (version Estrie)")
    assert topic is not None
    first = sb.world.posts_in(topic.id)[0]
    body = call(sb, "GET", f"/posts/{first.id}.json").json()
    assert body["raw"] == first.raw and body["topic_id"] == topic.id
    assert {"id": 2, "count": 7, "can_act": True} in body["actions_summary"]
    assert call(sb, "GET", "/posts/999999.json").status_code == 404


def test_deleted_topics_are_404_for_members_but_visible_to_staff(sb: Sandbox) -> None:
    topic_id = sb.world.add_topic(
        "pphen", "discussions", "Un sujet à supprimer bientôt", "Contenu de ce sujet à supprimer."
    )
    sb.world.delete_topic(topic_id)
    assert call(sb, "GET", f"/t/{topic_id}.json", as_user="audrey.demars").status_code == 404
    staff_view = call(sb, "GET", f"/t/{topic_id}.json").json()
    assert staff_view["deleted_at"] is not None


def test_private_messages_are_for_participants_and_admins_only(sb: Sandbox) -> None:
    pm = sb.world.find_topic_by_title("Préparation du prochain 5 à 7")
    assert pm is not None and pm.archetype == "private_message"
    assert call(sb, "GET", f"/t/{pm.id}.json", as_user="audrey.demars").status_code == 403
    assert call(sb, "GET", f"/t/{pm.id}.json", as_user="stephane.dubuc").status_code == 200
    admin = call(sb, "GET", f"/t/{pm.id}.json", as_user="encommun-admin")
    assert admin.json()["archetype"] == "private_message"
    # A moderator outside the message does not read it (TopicGuardian#can_see_topic?).
    outsider = sb.world.add_user("moderatrice", "Modératrice", moderator=True)
    assert call(sb, "GET", f"/t/{pm.id}.json", as_user=outsider.username).status_code == 403


def test_a_private_message_to_a_group_reaches_its_members(sb: Sandbox) -> None:
    response = call(
        sb,
        "POST",
        "/posts.json",
        data={
            "title": "Résumé de la semaine",
            "raw": "Voici le résumé des échanges de la semaine.",
            "archetype": "private_message",
            "target_recipients": "animation-2ise",
        },
    )
    assert response.status_code == 200
    topic_id = response.json()["topic_id"]
    assert call(sb, "GET", f"/t/{topic_id}.json", as_user="catherine.lafleur").status_code == 200
    assert call(sb, "GET", f"/t/{topic_id}.json", as_user="audrey.demars").status_code == 403


# --- external ids --------------------------------------------------------------------------------


def test_external_id_redirects_301_to_the_topic_or_404(sb: Sandbox) -> None:
    created = new_topic(sb, "Résumé hebdomadaire de la CdP", external_id="br-digest-2025-w21")
    assert created.status_code == 200
    topic_id, slug = created.json()["topic_id"], created.json()["topic_slug"]
    moved = call(sb, "GET", "/t/external_id/br-digest-2025-w21.json", allow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{sb.url}/t/{slug}/{topic_id}.json"
    assert call(sb, "GET", "/t/external_id/br-digest-2025-w21.json").json()["id"] == topic_id
    missing = call(sb, "GET", "/t/external_id/br-inconnu.json", allow_redirects=False)
    assert missing.status_code == 404
    assert missing.json() == {
        "errors": ["The requested URL or resource could not be found."],
        "error_type": "not_found",
    }


def test_a_deleted_topics_external_id_is_404_yet_still_taken(sb: Sandbox, clock: Clock) -> None:
    topic_id = new_topic(sb, "Résumé hebdomadaire de la CdP", external_id="br-abc").json()[
        "topic_id"
    ]
    sb.world.delete_topic(topic_id)
    assert call(sb, "GET", "/t/external_id/br-abc.json", allow_redirects=False).status_code == 404
    clock.advance(minutes=3)  # past the 120 s during which the same create is memoised
    again = new_topic(sb, "Résumé hebdomadaire de la CdP", external_id="br-abc")
    assert again.status_code == 422
    assert again.json()["errors"] == ["External has already been taken"]


# --- posting rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "raw", "error"),
    [
        (
            "Jeudi, 5 à 7 ?",
            "Un corps de message assez long.",
            "Title is too short (minimum is 15 characters)",
        ),
        (
            "Un titre tout à fait correct",
            "Trop court",
            "Body is too short (minimum is 20 characters)",
        ),
        (
            "À lire : fonctionnement de la CdP",
            "Un corps de message assez long.",
            "Title has already been used",
        ),
        (
            "à LIRE :  fonctionnement de la cdp",
            "Un corps de message assez long.",
            "Title has already been used",
        ),
    ],
    ids=["short title", "short body", "duplicate title (staff too)", "duplicate, case and spaces"],
)
def test_posting_rules_answer_422_naming_the_rule(
    sb: Sandbox, title: str, raw: str, error: str
) -> None:
    response = new_topic(sb, title, raw)
    assert response.status_code == 422
    assert response.json() == {"action": "create_post", "errors": [error]}


def test_too_similar_applies_to_members_not_to_staff(sb: Sandbox) -> None:
    raw = "Rappel : le 5 à 7 de la CdP a lieu jeudi prochain."
    topic = sb.world.find_topic_by_title("Mobiliser les citoyens autour d'un projet de quartier")
    assert topic is not None
    other = sb.world.find_topic_by_title("Guide d'animation d'un forum citoyen")
    assert other is not None
    # Two topics: the same request twice would be memoised, not checked again.
    form, elsewhere = {"topic_id": topic.id, "raw": raw}, {"topic_id": other.id, "raw": raw}
    assert call(sb, "POST", "/posts.json", data=form).status_code == 200
    assert call(sb, "POST", "/posts.json", data=elsewhere).status_code == 200
    assert call(sb, "POST", "/posts.json", data=form, as_user="mgagnon").status_code == 200
    again = call(sb, "POST", "/posts.json", data=elsewhere, as_user="mgagnon")
    assert again.status_code == 422
    assert again.json()["errors"] == ["Body is too similar to what you recently posted"]


def test_json_bodies_are_accepted_too(sb: Sandbox) -> None:
    response = call(
        sb,
        "POST",
        "/posts.json",
        json={
            "title": "Un sujet envoyé en JSON",
            "raw": "Un corps de message assez long.",
            "category": 11,
            "tags": [{"name": "evaluation"}, {"name": "Nouvelle Étiquette"}],
        },
    )
    assert response.status_code == 200
    topic = sb.world.topic(response.json()["topic_id"])
    assert topic.category_id == 11 and topic.tags == ["evaluation", "nouvelle-étiquette"]


def test_reply_to_unknown_topic_is_422_and_unknown_category_400(sb: Sandbox) -> None:
    unknown = call(
        sb, "POST", "/posts.json", data={"topic_id": 99999, "raw": "Une réponse assez longue."}
    )
    assert unknown.status_code == 422
    assert unknown.json() == {"action": "create_post", "errors": [TOPIC_NOT_FOUND]}
    assert new_topic(sb, "Un sujet dans le vide", category=424242).status_code == 400


def test_edit_updates_raw_bumps_only_a_last_post_and_only_for_author_or_staff(
    sb: Sandbox, clock: Clock
) -> None:
    topic = sb.world.find_topic_by_title("Guide d'animation d'un forum citoyen")
    assert topic is not None
    first, bumped = sb.world.posts_in(topic.id)[0], topic.bumped_at
    clock.advance(hours=2)
    refused = call(
        sb,
        "PUT",
        f"/posts/{first.id}.json",
        data={"post[raw]": "Je modifie le message d'une autre."},
        as_user="mgagnon",
    )
    assert refused.status_code == 403
    edited = call(
        sb,
        "PUT",
        f"/posts/{first.id}.json",
        data={"post[raw]": "Guide mis à jour, version 2.", "post[edit_reason]": "v2"},
    )
    assert edited.status_code == 200
    post = edited.json()["post"]
    assert post["raw"] == "Guide mis à jour, version 2." and post["version"] == 2
    assert post["updated_at"] == "2025-05-20T16:00:00.000Z" and post["edit_reason"] == "v2"
    # The topic's only post is its last: PostRevisor#bump_topic bumps it.
    assert sb.world.topic(topic.id).bumped_at == datetime(2025, 5, 20, 16, tzinfo=UTC) != bumped
    clock.advance(hours=1)
    sb.world.add_reply(topic.id, "mgagnon", "Merci pour ce guide, il m'a bien servi.")
    replied = sb.world.topic(topic.id).bumped_at
    clock.advance(hours=1)
    sb.world.edit_post(first.id, "Guide mis à jour, version 3.")
    assert sb.world.topic(topic.id).bumped_at == replied  # no longer the last post
    by_author = call(
        sb,
        "PUT",
        f"/posts/{first.id}.json",
        json={"post": {"raw": "Guide mis à jour par son autrice."}},
        as_user="sondes.allal",
    )
    assert by_author.status_code == 200
    too_short = call(sb, "PUT", f"/posts/{first.id}.json", data={"post[raw]": "Trop court, hélas"})
    assert too_short.status_code == 422 and too_short.json() == {
        "errors": ["Body is too short (minimum is 20 characters)"]
    }


def test_pinning_is_staff_only_and_closing_is_for_staff_or_owner(sb: Sandbox) -> None:
    topic = sb.world.find_topic_by_title("Guide d'animation d'un forum citoyen")
    assert topic is not None
    pin = {"status": "pinned", "enabled": "true", "until": "2025-06-01"}
    assert (
        call(sb, "PUT", f"/t/{topic.id}/status.json", data=pin, as_user="sondes.allal").status_code
        == 403
    )
    done = call(sb, "PUT", f"/t/{topic.id}/status.json", data=pin)
    assert done.json() == {"success": "OK", "topic_status_update": None}
    assert topic.pinned and topic.pinned_until == datetime(2025, 6, 1, tzinfo=UTC)
    close = {"status": "closed", "enabled": "true"}
    assert (
        call(sb, "PUT", f"/t/{topic.id}/status.json", data=close, as_user="mgagnon").status_code
        == 403
    )
    assert (
        call(
            sb, "PUT", f"/t/{topic.id}/status.json", data=close, as_user="sondes.allal"
        ).status_code
        == 200
    )
    assert topic.closed
    reply = {"topic_id": topic.id, "raw": "Une réponse dans un sujet fermé."}
    refused = call(sb, "POST", "/posts.json", data=reply, as_user="mgagnon")
    assert refused.status_code == 422 and refused.json()["errors"] == [TOPIC_NOT_FOUND]
    assert (
        call(
            sb, "PUT", f"/t/{topic.id}/status.json", data={"status": "bogus", "enabled": "true"}
        ).status_code
        == 400
    )


def test_expired_pins_unpin_themselves(sb: Sandbox, clock: Clock) -> None:
    topic = sb.world.find_topic_by_title("Guide d'animation d'un forum citoyen")
    assert topic is not None
    call(
        sb,
        "PUT",
        f"/t/{topic.id}/status.json",
        data={"status": "pinned", "enabled": "true", "until": "2025-05-21"},
    )
    listed = call(sb, "GET", "/c/boite-a-outils/11.json").json()["topic_list"]["topics"]
    assert [t["title"] for t in listed if t["pinned"]] == [
        topic.title,
        "À propos de la catégorie Boîte à outils",
    ]
    clock.advance(days=2)
    listed = call(sb, "GET", "/c/boite-a-outils/11.json").json()["topic_list"]["topics"]
    assert [t["title"] for t in listed if t["pinned"]] == [
        "À propos de la catégorie Boîte à outils"
    ]
    assert not topic.pinned and topic.pinned_until is None


def test_status_changes_write_small_actions_counted_in_posts_count(sb: Sandbox) -> None:
    topic = sb.world.find_topic_by_title("Guide d'animation d'un forum citoyen")
    assert topic is not None
    bumped = topic.bumped_at
    counted = call(sb, "GET", f"/t/{topic.id}.json").json()["posts_count"]
    for status, enabled in [("pinned", "true"), ("closed", "true"), ("closed", "true")]:
        call(sb, "PUT", f"/t/{topic.id}/status.json", data={"status": status, "enabled": enabled})
    shown = call(sb, "GET", f"/t/{topic.id}.json").json()
    actions = [
        (p["post_type"], p["action_code"], p["username"]) for p in shown["post_stream"]["posts"][1:]
    ]
    # Closing a closed topic changes no row: no second small action (TopicStatusUpdater#change).
    assert actions == [
        (3, "pinned.enabled", "animation-2ise"),
        (3, "closed.enabled", "animation-2ise"),
    ]
    assert shown["posts_count"] == counted + 2
    assert topic.bumped_at == bumped


# --- rate limits ---------------------------------------------------------------------------------


def test_the_site_api_limit_answers_429_with_retry_after(sb: Sandbox, clock: Clock) -> None:
    sb.world.api_requests_per_minute = 3
    for _ in range(3):
        assert call(sb, "GET", WATCHED).status_code == 200
    clock.advance(seconds=40)
    limited = call(sb, "GET", WATCHED)
    assert limited.status_code == 429 and limited.headers["Content-Type"] == JSON_TYPE
    body = limited.json()
    assert body["error_type"] == "rate_limit"
    assert body["extras"] == {"wait_seconds": 20, "time_left": "20 seconds"}
    assert limited.headers["Retry-After"] == "20"
    assert body["errors"] == [
        "You’ve performed this action too many times. Please wait 20 seconds before trying again."
    ]
    clock.advance(seconds=20)
    assert call(sb, "GET", WATCHED).status_code == 200


def test_members_have_a_posting_rate_limit_and_staff_do_not(sb: Sandbox, clock: Clock) -> None:
    sb.world.rate_limit_per_minute = 2
    topic = sb.world.find_topic_by_title("Mobiliser les citoyens autour d'un projet de quartier")
    assert topic is not None

    def reply(n: int, **kwargs: Any) -> requests.Response:
        return call(
            sb,
            "POST",
            "/posts.json",
            data={"topic_id": topic.id, "raw": f"Réponse numéro {n} de la série."},
            **kwargs,
        )

    assert [reply(n, as_user="mgagnon").status_code for n in range(3)] == [200, 200, 429]
    assert all(reply(n).status_code == 200 for n in range(10, 14))
    clock.advance(minutes=1)
    assert reply(3, as_user="mgagnon").status_code == 200


# --- groups and users ----------------------------------------------------------------------------


def test_group_members_by_added_at_newest_first_unless_asc(sb: Sandbox) -> None:
    def usernames(query: str) -> list[str]:
        return [
            m["username"]
            for m in call(sb, "GET", f"/groups/cdp-2ise/members.json?{query}").json()["members"]
        ]

    newest = usernames("order=added_at")
    assert newest[:3] == ["nadia.ouellet", "kevin_bouchard", "julie.tremblay"]
    assert usernames("order=added_at&asc=true") == list(reversed(newest))
    # Discourse tests `params[:asc].present?`: "false" is present, so it sorts ascending too.
    assert usernames("order=added_at&asc=false") == list(reversed(newest))
    page = call(
        sb, "GET", "/groups/cdp-2ise/members.json?order=added_at&asc=true&offset=10&limit=5"
    ).json()
    assert [m["username"] for m in page["members"]] == ["kevin_bouchard", "nadia.ouellet"]
    assert page["meta"] == {"total": 12, "limit": 5, "offset": 10}
    nadia = page["members"][1]
    assert nadia["last_posted_at"] is None and nadia["added_at"] == "2025-05-20T06:48:00.000Z"


def test_user_profiles_anonymisation_and_deletion(sb: Sandbox) -> None:
    audrey = call(sb, "GET", "/u/audrey.demars.json").json()["user"]
    assert audrey["name"] == "Audrey Demars" and audrey["location"] == "Sherbrooke"
    assert call(sb, "GET", "/u/personne.json").status_code == 404
    anon = sb.world.anonymize_user("mgagnon")
    assert call(sb, "GET", "/u/mgagnon.json").status_code == 404
    profile = call(sb, "GET", f"/u/{anon.username}.json").json()["user"]
    assert anon.username.startswith("anon") and profile["name"] is None and "bio_raw" not in profile
    members = call(sb, "GET", "/groups/cdp-2ise/members.json").json()["members"]
    assert anon.username in [m["username"] for m in members]
    sb.world.delete_user("pphen")
    assert call(sb, "GET", "/u/pphen.json").status_code == 404
    budget = sb.world.find_topic_by_title("Modèle de budget pour une demande de financement")
    assert budget is None
    assert all(
        t["title"] != "Modèle de budget pour une demande de financement"
        for t in all_pages(sb, WATCHED)
    )


def test_a_removed_or_anonymised_members_key_stops_working(sb: Sandbox) -> None:
    key = sb.member_key("kevin_bouchard")
    sb.world.anonymize_user("kevin_bouchard")
    response = requests.get(sb.url + WATCHED, headers={"Api-Key": key}, timeout=5)
    assert response.status_code == 403


# --- faults --------------------------------------------------------------------------------------


def test_drop_next_closes_the_connection_without_an_answer(sb: Sandbox) -> None:
    sb.faults.drop_next = 1
    with pytest.raises(requests.ConnectionError):
        call(sb, "GET", WATCHED)
    assert call(sb, "GET", WATCHED).status_code == 200
    assert len(sb.requests) == 2


def test_crash_after_write_performs_the_write_then_hangs_up(sb: Sandbox) -> None:
    sb.faults.crash_after_write = 1
    with pytest.raises(requests.ConnectionError):
        new_topic(sb, "Sujet écrit juste avant la panne", external_id="br-crash")
    topic = sb.world.find_topic_by_title("Sujet écrit juste avant la panne")
    assert topic is not None and topic.external_id == "br-crash"
    assert call(sb, "GET", "/t/external_id/br-crash.json", allow_redirects=False).status_code == 301
    assert new_topic(sb, "Un autre sujet, sans panne").status_code == 200


def test_error_rate_answers_5xx_in_html_and_fail_paths_once(sb: Sandbox) -> None:
    sb.faults.error_rate = 1.0
    failed = call(sb, "GET", WATCHED)
    assert failed.status_code in (502, 503) and failed.headers["Content-Type"].startswith(
        "text/html"
    )
    sb.faults.error_rate = 0.0
    sb.faults.fail_paths["/t/"] = 503
    assert call(sb, "GET", WATCHED).status_code == 200
    assert call(sb, "GET", "/t/10.json").status_code == 503
    assert call(sb, "GET", "/t/10.json").status_code == 200


def test_error_rate_is_a_fraction_from_a_seeded_generator(sb: Sandbox) -> None:
    sb.faults.error_rate = 0.5
    codes = [call(sb, "GET", "/site.json").status_code for _ in range(40)]
    assert 5 < codes.count(200) < 35
    assert set(codes) <= {200, 502, 503}


# --- the real client stack -----------------------------------------------------------------------


def test_pydiscourse_works_against_the_sandbox(sb: Sandbox) -> None:
    client = DiscourseClient(sb.url, api_username=sb.api_username, api_key=sb.api_key, timeout=5)
    listing = client.category_topics(10)
    assert listing["topic_list"]["topics"][0]["title"] == "À lire : fonctionnement de la CdP"
    post = client.create_post(
        "Bienvenue à Nadia dans la CdP 2isE !",
        category_id=13,
        title="Bienvenue Nadia Ouellet !",
        tags=["accueil"],
    )
    assert post["post_number"] == 1 and post["username"] == "animation-2ise"
    client.update_topic_status(post["topic_id"], "pinned", True, until="2025-05-27")
    client.update_post(
        post["id"], "Bienvenue à Nadia Ouellet dans la CdP 2isE !", edit_reason="nom complet"
    )
    assert sb.world.topic(post["topic_id"]).pinned
    assert len(client.group_members("cdp-2ise")) == 12
    assert client.user("audrey.demars")["username"] == "audrey.demars"
    assert client.posts(post["topic_id"], post_ids=[post["id"]], include_raw=1)["post_stream"][
        "posts"
    ][0]["raw"].startswith("Bienvenue à Nadia Ouellet")


# --- worlds --------------------------------------------------------------------------------


def test_sandbox_without_a_world_serves_the_seed_on_the_real_clock() -> None:
    with Sandbox() as sandbox:
        assert sandbox.url.startswith("http://127.0.0.1:")
        assert call(sandbox, "GET", WATCHED).status_code == 200
        topic = sandbox.world.find_topic_by_title("À lire : fonctionnement de la CdP")
        assert topic is not None
        assert abs(topic.created_at - (datetime.now(UTC) - timedelta(days=54))) < timedelta(
            minutes=5
        )
    sandbox.stop()  # idempotent


def test_seed_world_has_the_expected_people_and_places() -> None:
    world = seed_world(NOW)
    members = world.group("cdp-2ise").members.values()
    assert len(members) == 12
    assert sum(m.added_at > NOW - timedelta(days=7) for m in members) == 3
    assert {m.user.username for m in world.group("animation-2ise").members.values()} == {
        "animation-2ise",
        "catherine.lafleur",
        "stephane.dubuc",
    }
    assert world.user("animation-2ise").staff and not world.user("catherine.lafleur").staff
    assert {
        world.category(s).id
        for s in (
            "innovation-sociale-estrie",
            "boite-a-outils",
            "cartographie",
            "bienvenue",
            "annonces",
            "discussions",
        )
    } == {10, 11, 12, 13, 14, 15}
    assert (
        len(
            [
                t
                for t in world.topics.values()
                if t.category_id == 12 and t.title.startswith("À propos") is False
            ]
        )
        == 8
    )
    mentions = [p.raw for p in world.posts.values() if "@cdp-2ise" in p.raw]
    assert len(mentions) == 1
    # Cards are typed with no-break spaces before colons; Discourse stores plain spaces
    # (PostCreator#setup_post, TextCleaner.normalize_whitespaces).
    typed = "".join(entry[3] for entry in CARDS)
    assert "\u202f:" in typed and "\u00a0:" in typed
    raws = [p.raw for p in world.posts.values()]
    assert not [raw for raw in raws if "\u202f" in raw or "\u00a0" in raw]
    assert any("**Organisme :** Coopérative de solidarité Le Grenier partagé\n" in r for r in raws)
    assert any("- MRC : MRC du Granit\n" in r for r in raws)


def test_build_world_makes_a_big_world_with_the_same_layout() -> None:
    world: World = build_world(NOW, topics=300, posts=3000, seed=1)
    watched = world.descendant_ids(10)
    topics = [
        t
        for t in world.topics.values()
        if t.category_id in watched and not t.title.startswith("À propos")
    ]
    assert len(topics) == 300
    assert abs(sum(len(world.posts_in(t.id)) for t in topics) - 3000) <= 10
    assert len({t.category_id for t in topics}) == 6 and any(t.pinned for t in topics)
    again = build_world(NOW, topics=300, posts=3000, seed=1)
    assert [t.title for t in again.topics.values()] == [t.title for t in world.topics.values()]
