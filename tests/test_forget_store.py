"""The forget list in the store: what a forgotten person's later posts, profile and membership
become when the mirror saves them again; the list itself names nobody; old runs go."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from test_store import NOW, make_post, make_topic

from bridge.errors import UsageError
from bridge.models import GroupMember
from bridge.store import FORGOTTEN_NAME, Store
from bridge.welcome.people import person_key


def _forget_marie(store: Store) -> None:
    store.save_topic(make_topic(), [make_post(1), make_post(2)], NOW)
    store.save_people([(11, "marie", "Marie Tremblay"), (12, "jeanp", "Jean P")])
    store.save_group_members("membres", [GroupMember(11, "marie", "Marie Tremblay", NOW, None)])
    person = store.find_person("MARIE")
    assert person is not None and person.user_id == 11
    store.forget_person(person, NOW)


def test_the_saves_of_the_mirror_keep_a_forgotten_person_forgotten(store):
    _forget_marie(store)

    again = make_post(3, username="marie", user_id=11, raw="Merci, Marie Tremblay")
    mention = make_post(
        4,
        raw='Voir @Marie et [quote="marie, post:1, topic:101"] ; @marie2 n\'est pas elle.',
        cooked='<a class="mention" href="/u/marie">@marie</a>',
    )
    store.save_topic(make_topic(last_poster_username="Marie"), [again, mention], NOW)
    store.save_people([(11, "marie", "Marie Tremblay")])
    store.save_group_members("membres", [GroupMember(11, "marie", "Marie Tremblay", NOW, None)])

    posts = {p.post_number: p for p in store.posts_of(101)}
    assert (posts[3].username, posts[3].user_id) == (FORGOTTEN_NAME, None)
    assert posts[4].raw == (
        f'Voir {FORGOTTEN_NAME} et [quote="{FORGOTTEN_NAME}, post:1, topic:101"] ; '
        "@marie2 n'est pas elle."
    )
    assert posts[4].cooked == f'<a class="mention" href="/u/{FORGOTTEN_NAME}">{FORGOTTEN_NAME}</a>'
    assert store.topic_state(101).last_poster_username == FORGOTTEN_NAME
    assert store.group_members("membres") == {}
    assert 11 not in store.authors()


def test_the_forget_list_names_nobody_without_the_secret(store):
    _forget_marie(store)

    (row,) = store.db["forgotten_people"].rows
    secret = store.welcome_secret(NOW)
    assert row["person"] == person_key(secret, 11)
    assert "marie" not in json.dumps(row).lower()
    assert store.forgotten_on("marie") == NOW and store.forgotten_on("11") == NOW
    assert store.forgotten_on("jeanp") is None and store.find_person("marie") is None


def test_forgetting_in_one_community_leaves_the_other_alone(store):
    other = Store(store.db, store.site, "autre-communaute")
    other.save_topic(make_topic(), [make_post(1)], NOW)
    _forget_marie(store)

    other.save_posts([make_post(2, raw="Bonjour @marie")])
    assert [p.username for p in other.posts_of(101)] == ["marie", "jeanp"]
    assert other.posts_of(101)[1].raw == "Bonjour @marie"


def test_runs_older_than_a_year_go_except_the_last_success_of_each_job(store):
    old = NOW - timedelta(days=400)
    kept = store.run_started("digest", old)
    store.run_finished(kept, old, "ok", "1 résumé")
    failed = store.run_started("digest", old + timedelta(days=1))
    store.run_finished(failed, old + timedelta(days=1), "failed", error="marie : refusé")
    gone = store.run_started("sync", old)
    store.run_finished(gone, old, "failed", error="Discourse indisponible")
    recent = store.run_started("sync", NOW - timedelta(days=30))

    store.run_started("sync", NOW)

    assert {r["id"] for r in store.db["job_runs"].rows} == {kept, recent, recent + 1}


def test_a_person_is_found_by_user_id_when_their_name_is_gone(store):
    store.save_posts([make_post(1, username=None)])

    assert store.find_person("marie") is None
    person = store.find_person("11")
    assert person is not None and (person.user_id, person.usernames) == (11, ())
    counts = store.forget_person(person, NOW)
    assert counts.posts == 1 and store.posts_of(101)[0].user_id is None
    assert store.forgotten_on("11") == NOW


def test_a_name_two_accounts_held_asks_for_the_number(store):
    store.save_people([(11, "marie", None)])
    store.save_posts([make_post(1, user_id=14, username="Marie")])

    with pytest.raises(UsageError, match=r"« marie » a nommé plusieurs comptes \(n° 11, n° 14\)"):
        store.find_person("marie")
    assert store.find_person("14") is not None


def test_a_sync_reads_the_forget_list_once_not_at_every_save(store, monkeypatch):
    _forget_marie(store)
    reads = []
    read = store._read_forget_list
    monkeypatch.setattr(store, "_read_forget_list", lambda: reads.append(1) or read())
    for n in range(5):  # a pass saving five topics, their posts and their authors
        store.save_topic(make_topic(id=200 + n), [make_post(10 + n, topic_id=200 + n)], NOW)
        store.save_people([(12, "jeanp", "Jean P")])
    assert reads == [1]
