"""The sandbox's writes follow Discourse (docs/sandbox.md, « Écritures ») over real HTTP:
stripped post length, cleaned and unique titles, tag eras, memoised API creates, private
messages, edits, deleted and closed topics, owners first, external ids, granular scopes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from bridge.sandbox import Sandbox, seed_world
from bridge.sandbox.posting import TOPIC_NOT_FOUND

NOW = datetime(2025, 5, 20, 14, 0, tzinfo=UTC)
LONG = "Un message assez long pour Discourse."


class Clock:
    def __init__(self) -> None:
        self.current = NOW

    def __call__(self) -> datetime:
        return self.current


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sb(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(seed_world(NOW), now=clock) as sandbox:
        yield sandbox


def call(
    sb: Sandbox,
    method: str,
    path: str,
    *,
    key: str | None = None,
    user: str | None = None,
    **kwargs: Any,
) -> requests.Response:
    if user is not None:
        key = sb.member_key(user)
    headers = {"Api-Key": key or sb.api_key, "Api-Username": user or sb.api_username}
    return requests.request(method, sb.url + path, headers=headers, timeout=5, **kwargs)


def post(sb: Sandbox, data: dict[str, Any], **kwargs: Any) -> requests.Response:
    return call(sb, "POST", "/posts.json", data=data, **kwargs)


def topic_form(title: str, raw: str = LONG, **extra: Any) -> dict[str, Any]:
    return {"title": title, "raw": raw, "category": 15, **extra}


# --- 4. post length --------------------------------------------------------------------------


def test_minimum_is_on_the_visible_text_and_maximum_on_the_raw(sb: Sandbox) -> None:
    hidden = "<!-- bridge:br-0123456789abcdef0123456789abcdef01234567 -->"
    topic = sb.world.find_topic_by_title("Guide d'animation d'un forum citoyen")
    assert topic is not None
    # 19 visible characters: the comment, long as it is, does not count.
    short = post(sb, {"topic_id": topic.id, "raw": f"Dix-neuf caractères\n\n{hidden}"})
    assert short.status_code == 422
    assert short.json()["errors"] == ["Body is too short (minimum is 20 characters)"]
    # ":tada:" and "..." count as one character each: 18 + 1 + 1 = 20.
    assert post(sb, {"topic_id": topic.id, "raw": "Bravo à toute l'é :tada:..."}).status_code == 200
    sb.world.max_post_length = 100
    too_long = post(sb, {"topic_id": topic.id, "raw": "Un texte long. " * 6 + hidden})
    assert too_long.json()["errors"] == ["Body is limited to 100 characters; you entered 149."]


def test_raw_is_stored_with_plain_spaces_and_no_trailing_whitespace(sb: Sandbox) -> None:
    """PostCreator#setup_post and PostRevisor#cleanup_whitespaces: odd spaces become plain,
    trailing whitespace goes, before the length is checked; an edit that only differs by
    that is no edit."""
    created = post(sb, topic_form("Fiche du Grenier", raw="Organisme\u00a0: Le Grenier\u202f!\n\n"))
    assert created.status_code == 200, created.text
    first = sb.world.posts[created.json()["id"]]
    assert first.raw == "Organisme : Le Grenier !"
    assert created.json()["raw"] == "Organisme : Le Grenier !"
    reply = post(sb, {"topic_id": first.topic_id, "raw": "Merci\u3000pour la fiche, bravo. \n"})
    assert sb.world.posts[reply.json()["id"]].raw == "Merci pour la fiche, bravo."
    version, edited_at = first.version, first.updated_at
    same = call(sb, "PUT", f"/posts/{first.id}.json", data={"post[raw]": first.raw + "\n"})
    assert same.status_code == 200
    assert (first.raw, first.version, first.updated_at) == (
        "Organisme : Le Grenier !",
        version,
        edited_at,
    )
    form = {"post[raw]": "Organisme\u00a0: Le Grenier partagé\n"}
    assert call(sb, "PUT", f"/posts/{first.id}.json", data=form).status_code == 200
    assert (first.raw, first.version) == ("Organisme : Le Grenier partagé", version + 1)
    # The maximum applies to the cleaned raw: 100 characters and a newline fit in 100.
    sb.world.max_post_length = 100
    hundred = "Un texte long. " * 6 + "Fin texte."
    fits = post(sb, {"topic_id": first.topic_id, "raw": hundred + "\n"})
    assert len(hundred) == 100 and fits.status_code == 200, fits.text
    assert sb.world.posts[fits.json()["id"]].raw == hundred


def test_private_messages_have_their_own_minimums(sb: Sandbox) -> None:
    pm = {"archetype": "private_message", "target_recipients": "catherine.lafleur"}
    ok = post(sb, {"title": "Ok", "raw": "Dix carac.", **pm})
    assert ok.status_code == 200, ok.text


# --- 5. titles -------------------------------------------------------------------------------


def test_titles_are_cleaned_then_checked_for_quality_and_case_insensitive_uniqueness(
    sb: Sandbox,
) -> None:
    created = post(sb, topic_form("WEBINAIRE SUR L'ÉVALUATION!!!"))
    assert created.status_code == 200
    assert sb.world.topic(created.json()["topic_id"]).title == "Webinaire sur l'évaluation!"
    again = post(sb, topic_form("webinaire sur l'évaluation !", raw=LONG + " Bis."))
    assert again.status_code == 200  # "… !" with a space is another title for Discourse
    same = post(sb, topic_form("Webinaire SUR l'évaluation!!", raw=LONG + " Ter."))
    assert same.json()["errors"] == ["Title has already been used"]
    unclear = post(sb, topic_form("aaaaaaaaaaaaaaaaaaaa"))
    assert unclear.json()["errors"] == ["Title seems unclear, is it a complete sentence?"]
    emojis = post(sb, topic_form("Fête de la CdP :tada: :tada: :cake: :balloon:"))
    assert emojis.json()["errors"] == ["Title can't have more than 3 emoji"]


# --- 6. tags in three eras -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("era", "names", "objects"),
    [
        ("names", ["evaluation"], []),
        ("both", ["evaluation"], ["evaluation"]),
        ("objects", [], ["evaluation"]),
    ],
)
def test_each_tag_era_reads_what_it_reads(
    sb: Sandbox, era: str, names: list[str], objects: list[str]
) -> None:
    sb.world.tag_era = era
    by_name = post(sb, topic_form("Étiquette donnée par son nom", **{"tags[]": "evaluation"}))
    by_object = post(sb, topic_form("Étiquette donnée en objet", **{"tags[][name]": "evaluation"}))
    assert sb.world.topic(by_name.json()["topic_id"]).tags == names
    assert sb.world.topic(by_object.json()["topic_id"]).tags == objects
    shown = call(sb, "GET", f"/t/{by_object.json()['topic_id']}.json").json()["tags"]
    expected: list[Any] = objects
    if era != "names":
        expected = [{"id": sb.world.tags[n], "name": n, "slug": n} for n in objects]
    assert shown == expected


def test_a_tag_object_may_name_its_tag_by_id(sb: Sandbox) -> None:
    tag_id = sb.world.tag_id("evaluation")
    form = topic_form("Étiquette donnée par son id", **{"tags[][id]": [str(tag_id), "999"]})
    assert sb.world.topic(post(sb, form).json()["topic_id"]).tags == ["evaluation"]


# --- 8. memoised creates ---------------------------------------------------------------------


def test_the_same_api_create_within_120_seconds_returns_the_same_post(
    sb: Sandbox, clock: Clock
) -> None:
    form = topic_form("Un sujet envoyé deux fois")
    first, second = post(sb, form), post(sb, form)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert len([t for t in sb.world.topics.values() if t.title == form["title"]]) == 1
    clock.current += timedelta(seconds=121)
    third = post(sb, form)
    assert third.status_code == 422
    assert third.json()["errors"] == ["Title has already been used"]


# --- 9. private messages ---------------------------------------------------------------------


def pm(sb: Sandbox, user: str | None = None, **recipients: str) -> requests.Response:
    form = {"title": "Un message privé", "raw": "Bonjour, un petit mot.", **recipients}
    return post(sb, {**form, "archetype": "private_message"}, user=user)


def test_private_messages_take_target_recipients_only_and_no_name_twice(sb: Sandbox) -> None:
    assert pm(sb, target_usernames="catherine.lafleur").json()["errors"] == [
        "You must choose a valid user."
    ]
    assert pm(sb, target_recipients="catherine.lafleur,Catherine.Lafleur").json()["errors"] == [
        "One of the users you are sending this message to could not be found."
    ]
    assert pm(sb, target_recipients="catherine.lafleur,stephane.dubuc").status_code == 200


def test_a_group_is_a_recipient_only_when_messageable_by_the_sender(sb: Sandbox) -> None:
    # cdp-2ise keeps Discourse's default, nobody: its name is then taken for a username.
    assert pm(sb, target_recipients="cdp-2ise").json()["errors"] == [
        "One of the users you are sending this message to could not be found."
    ]
    # animation-2ise: its members, the moderators and the admins.
    assert pm(sb, target_recipients="animation-2ise").status_code == 200
    # Not to a member: the name then means the account of that name, the bridge's own.
    by_member = pm(sb, user="mgagnon", target_recipients="animation-2ise")
    message = sb.world.topic(by_member.json()["topic_id"])
    assert message.allowed_groups == [] and sb.world.user("animation-2ise") in message.allowed_users
    shown = call(sb, "GET", "/groups/animation-2ise.json").json()["group"]
    assert shown["messageable"] is True and shown["messageable_level"] == 3
    member_view = call(sb, "GET", "/groups/animation-2ise.json", user="mgagnon").json()
    assert member_view["group"]["messageable"] is False


# --- 11. smaller points ----------------------------------------------------------------------


def test_edits_need_the_post_form_and_staff_may_edit_deleted_posts(sb: Sandbox) -> None:
    topic = sb.world.find_topic_by_title("Guide d'animation d'un forum citoyen")
    assert topic is not None
    first = sb.world.posts_in(topic.id)[0]
    flat = call(sb, "PUT", f"/posts/{first.id}.json", data={"raw": "Un texte tout neuf ici."})
    assert flat.status_code == 400
    reply_id = sb.world.add_reply(topic.id, "mgagnon", "Une réponse qui sera supprimée.")
    sb.world.delete_post(reply_id)
    form = {"post[raw]": "Une réponse corrigée par l'équipe."}
    assert call(sb, "PUT", f"/posts/{reply_id}.json", data=form).status_code == 200
    assert call(sb, "PUT", f"/posts/{reply_id}.json", data=form, user="mgagnon").status_code == 404


def test_staff_reading_by_post_ids_get_deleted_posts_with_deleted_at(sb: Sandbox) -> None:
    topic = sb.world.find_topic_by_title("Guide d'animation d'un forum citoyen")
    assert topic is not None
    reply_id = sb.world.add_reply(topic.id, "mgagnon", "Une réponse qui sera supprimée.")
    sb.world.delete_post(reply_id)
    path = f"/t/{topic.id}/posts.json?post_ids[]={reply_id}"
    [seen] = call(sb, "GET", path).json()["post_stream"]["posts"]
    assert seen["id"] == reply_id and seen["deleted_at"] == "2025-05-20T14:00:00.000Z"
    assert call(sb, "GET", path, user="sondes.allal").json()["post_stream"]["posts"] == []


def test_owners_come_first_whatever_the_order(sb: Sandbox) -> None:
    sb.world.add_member("proprio", "Propriétaire", NOW - timedelta(days=900), owner=True)
    members = call(sb, "GET", "/groups/cdp-2ise/members.json?order=added_at").json()["members"]
    assert members[0]["username"] == "proprio"


def test_external_id_lookup_is_case_sensitive_and_uniqueness_is_not(sb: Sandbox) -> None:
    assert post(sb, topic_form("Sujet à identifiant externe", external_id="br-Abc")).ok
    redirect = call(sb, "GET", "/t/external_id/br-abc.json", allow_redirects=False)
    assert redirect.status_code == 404
    assert call(sb, "GET", "/t/external_id/br-Abc.json", allow_redirects=False).status_code == 301
    taken = post(sb, topic_form("Un autre sujet, même identifiant", external_id="BR-ABC"))
    assert taken.json()["errors"] == ["External has already been taken"]


def test_replies_to_deleted_or_closed_topics(sb: Sandbox) -> None:
    topic = sb.world.find_topic_by_title("Guide d'animation d'un forum citoyen")
    assert topic is not None
    sb.world.set_status(topic.id, "closed", True)
    reply = {"topic_id": topic.id, "raw": "Une réponse dans un sujet fermé."}
    refused = post(sb, reply, user="mgagnon")
    assert refused.status_code == 422 and refused.json()["errors"] == [TOPIC_NOT_FOUND]
    sb.world.users[sb.world.user("mgagnon").id].trust_level = 4
    # A leader (TL4) may; another text, as the same request would be answered from memory.
    assert post(sb, {**reply, "raw": LONG}, user="mgagnon").status_code == 200
    assert post(sb, {**reply, "raw": "La modération répond aussi."}).status_code == 200
    sb.world.delete_topic(topic.id)
    gone = post(sb, {**reply, "raw": "Une réponse à un sujet supprimé."})
    assert gone.status_code == 422 and gone.json()["errors"] == [TOPIC_NOT_FOUND]


def test_granular_scopes_follow_discourses_table(sb: Sandbox) -> None:
    topic = sb.world.find_topic_by_title("Guide d'animation d'un forum citoyen")
    assert topic is not None
    narrow = sb.scoped_key("animation-2ise", ["topics:read", "topics:write", "posts:edit"])
    # Group members (groups#members) and one post (posts#show) are in no such scope.
    assert call(sb, "GET", "/groups/cdp-2ise/members.json", key=narrow).status_code == 403
    assert call(sb, "GET", f"/t/{topic.id}/posts.json", key=narrow).status_code == 200
    # What the README recommends: global:read, topics:write, topics:status, posts:edit.
    enough = sb.scoped_key(
        "animation-2ise", ["global:read", "topics:write", "topics:status", "posts:edit"]
    )
    for path in (
        "/groups/cdp-2ise/members.json",
        "/categories.json",
        "/groups/animation-2ise.json",
    ):
        assert call(sb, "GET", path, key=enough).status_code == 200, path
    pin = {"status": "pinned", "enabled": "true"}
    assert call(sb, "PUT", f"/t/{topic.id}/status.json", data=pin, key=enough).status_code == 200
    assert call(sb, "PUT", f"/t/{topic.id}/status.json", data=pin, key=narrow).status_code == 403


def test_mentions_are_limited_except_for_staff(sb: Sandbox) -> None:
    names = " ".join(f"@membre{i:02d}" for i in range(11))
    raw = f"Bienvenue à toutes ces personnes qui arrivent : {names} `@code` !"
    refused = post(sb, topic_form("Accueil de onze personnes d'un coup", raw), user="mgagnon")
    assert refused.status_code == 422
    assert refused.json()["errors"] == ["Sorry, you can only mention 10 users in a post."]
    sb.world.user("mgagnon").trust_level = 0
    # `_` before `@` is punctuation for Discourse: `a_@vnault` mentions vnault too.
    few = "Bonjour @audrey.demars, @nadia.ouellet et a_@vnault : bienvenue à vous trois !"
    newcomer = post(sb, topic_form("Accueil de trois personnes à la fois", few), user="mgagnon")
    assert newcomer.json()["errors"] == ["Sorry, new users can only mention 2 users in a post."]
    staff = post(sb, topic_form("Accueil de onze personnes d'un coup", raw))
    assert staff.status_code == 200, staff.text
