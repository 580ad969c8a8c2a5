"""Categories as Discourse really serves them, and the bridge coping: canonical paths (301),
category list settings, muting, paged category lists on large sites.

Integration tests: the real client, mirror and `bridge check` against the sandbox on loopback,
with an injected clock. What the sandbox does is checked over plain HTTP first, then what the
bridge makes of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from bridge.cli import cli
from bridge.demo import demo_config
from bridge.discourse import DiscourseClient
from bridge.mirror import SyncSummary
from bridge.runs import run_sync
from bridge.sandbox import STAFF_USERNAME, Sandbox, World, seed_world
from bridge.sandbox.server import Reply
from bridge.wiring import Parts

NOW = datetime(2025, 5, 20, 14, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
LIST = "/c/innovation-sociale-estrie/10/l/latest.json"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta: float) -> None:
        self.value += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def sandbox(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox(seed_world(NOW), now=clock) as sb:
        yield sb


def get(sb: Sandbox, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Api-Key": sb.api_key, "Api-Username": sb.api_username}
    return requests.get(sb.url + path, headers=headers, timeout=5, **kwargs)


def titles(response: requests.Response) -> list[str]:
    return [t["title"] for t in response.json()["topic_list"]["topics"]]


def make_parts(sb: Sandbox, tmp_path: Path, clock: Callable[[], datetime], category: str) -> Parts:
    config = demo_config(sb.url, sb.api_username, sb.api_key, tmp_path / "bridge.db")
    config = replace(config, community=replace(config.community, category=category))
    client = DiscourseClient(
        sb.url, sb.api_username, sb.api_key, requests_per_minute=0, sleep=lambda s: None
    )
    return Parts.build(config, now=clock, client=client)


def sync(parts: Parts, sb: Sandbox, *, full: bool = False) -> SyncSummary:
    sb.reset_requests()
    return run_sync(parts, full=full)


def paths(sb: Sandbox) -> list[str]:
    return [target.split("?")[0] for _, target in sb.requests]


def family_topics(world: World, category_id: int) -> set[int]:
    """What the bridge's account must mirror: the category's and its subcategories' topics
    (subcategories' "À propos" topics left out, as Discourse lists them)."""
    with world.lock:
        ids = world.descendant_ids(category_id)
        about = {c.topic_id for c in world.categories.values() if c.id != category_id}
        return {
            t.id
            for t in world.topics.values()
            if t.category_id in ids
            and t.deleted_at is None
            and not t.is_private_message
            and t.id not in about
        }


def stored_topics(parts: Parts) -> set[int]:
    return {t.id for t in parts.store.topics()}


# --- 1. canonical paths --------------------------------------------------------------------------


def test_a_subcategory_path_without_its_parent_answers_301_to_the_canonical_one(
    sandbox: Sandbox,
) -> None:
    answer = get(sandbox, "/c/boite-a-outils/11.json?page=1", allow_redirects=False)

    assert answer.status_code == 301
    assert answer.headers["Location"] == (
        f"{sandbox.url}/c/innovation-sociale-estrie/boite-a-outils/11.json?page=1"
    )
    # By id only, by slug only, by a wrong case: the same redirect (ListController#set_category).
    for path in ("/c/11.json", "/c/Innovation-Sociale-Estrie/Boite-a-outils/11.json"):
        assert get(sandbox, path, allow_redirects=False).status_code == 301
    canonical = get(sandbox, "/c/innovation-sociale-estrie/boite-a-outils/11.json")
    assert canonical.status_code == 200 and not canonical.history


def test_a_subcategory_watched_by_its_slug_is_read_at_its_canonical_path(
    sandbox: Sandbox, tmp_path: Path, clock: Clock
) -> None:
    parts = make_parts(sandbox, tmp_path, clock, "boite-a-outils")

    sync(parts, sandbox)

    assert stored_topics(parts) == family_topics(sandbox.world, 11)
    listed = [p for p in paths(sandbox) if p.startswith("/c/") and "/l/" in p]
    assert listed == ["/c/innovation-sociale-estrie/boite-a-outils/11/l/latest.json"]
    # A subcategory's own slug is not found by /c/{slug}/show.json (top-level slugs only).
    assert paths(sandbox)[:2] == ["/c/boite-a-outils/show.json", "/categories.json"]
    assert not [target for _, target in sandbox.requests if "/c/boite-a-outils/11" in target]

    clock.advance(hours=1)
    summary = sync(parts, sandbox)

    # An idle pass builds the canonical path from the stored parent: no redirect.
    assert paths(sandbox) == [
        "/c/innovation-sociale-estrie/boite-a-outils/11/l/latest.json",
        "/groups/cdp-2ise/members.json",
    ]
    assert summary.requests == 2


def test_a_renamed_slug_mid_life_never_breaks_a_pass(
    sandbox: Sandbox, tmp_path: Path, clock: Clock
) -> None:
    world = sandbox.world
    parts = make_parts(sandbox, tmp_path, clock, "innovation-sociale-estrie")
    sync(parts, sandbox)
    world.rename_category_slug(10, "impact-estrie")
    topic = world.find_topic_by_title("Mobiliser les citoyens autour d'un projet de quartier")
    assert topic is not None
    clock.advance(hours=1)
    world.add_reply(topic.id, "mgagnon", "Une réponse écrite après le changement de slug.")

    summary = sync(parts, sandbox)

    # The stored path is stale: Discourse redirects, the pass follows on the same site.
    assert paths(sandbox)[:2] == [LIST, "/c/impact-estrie/10/l/latest.json"]
    assert summary.topics_saved == 1 and summary.posts_saved == 1
    assert summary.requests == 4  # the redirect, the list, the reply, the members

    clock.advance(days=1)
    sync(parts, sandbox)  # the sweep finds the category by id and stores the new slug
    assert paths(sandbox)[0] == "/c/10/show.json"
    clock.advance(hours=1)
    summary = sync(parts, sandbox)
    assert paths(sandbox)[0] == "/c/impact-estrie/10/l/latest.json"
    assert summary.requests == 2
    assert stored_topics(parts) == family_topics(world, 10)


def test_a_redirect_to_another_site_is_refused_by_sync_in_one_line(
    sandbox: Sandbox, tmp_path: Path, clock: Clock
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"discourse:\n  url: {sandbox.url}\n  api_username: animation-2ise\n"
        "  requests_per_minute: 0\ncommunity:\n  name: CdP 2isE\n"
        "  category: innovation-sociale-estrie\n  group: cdp-2ise\n"
        f"paths:\n  templates: {ROOT / 'templates'}\n  jobs: {ROOT / 'jobs'}\n"
        "store:\n  path: bridge.db\n",
        encoding="utf-8",
    )
    # A proxy in front of the site sends the category's reads elsewhere.
    elsewhere = "https://autre-site.example/c/10/show.json"
    original = sandbox.handle

    def proxied(method: str, target: str, headers: Any, body: bytes) -> Any:
        if target.startswith("/c/innovation-sociale-estrie/show.json"):
            return Reply(302, None, {"Location": elsewhere})
        return original(method, target, headers, body)

    sandbox.handle = proxied  # type: ignore[method-assign]
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "sync"],
        env={"DISCOURSE_API_KEY": sandbox.api_key},
        catch_exceptions=False,
    )

    assert result.exit_code != 0
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(
            f"vers un autre site ({elsewhere}) : la passerelle ne suit pas une redirection hors de "
            f"{sandbox.url} ; vérifiez discourse.url"
        )
    )
    assert "Traceback" not in result.output + result.stderr


# --- 2. list order, category settings, muting ---------------------------------------------------


def test_a_category_with_a_top_view_and_its_own_sort_order(sandbox: Sandbox) -> None:
    world = sandbox.world
    watched = world.category(10)
    watched.default_view, watched.sort_order, watched.sort_ascending = "top", "views", True

    top = get(sandbox, "/c/innovation-sociale-estrie/10.json").json()["topic_list"]
    latest = get(sandbox, LIST).json()["topic_list"]["topics"]
    by_activity = get(sandbox, LIST, params={"order": "activity"}).json()["topic_list"]["topics"]

    # The default view is "top": no pinning, 50 a page (topics_per_period_in_top_page).
    assert top["per_page"] == 50 and not top["topics"][0]["pinned"]
    # /l/latest without an order takes the category's sort order, pinned topics still first.
    unpinned = [t for t in latest if not t["pinned"]]
    assert latest[0]["pinned"] and [t["views"] for t in unpinned] == sorted(
        t["views"] for t in unpinned
    )
    # An explicit activity order ignores the category's: pinned first, then newest bump first.
    bumps = [t["bumped_at"] for t in by_activity if not t["pinned"]]
    assert by_activity[0]["pinned"] and bumps == sorted(bumps, reverse=True)
    assert [t["id"] for t in by_activity] != [t["id"] for t in latest]


def test_the_mirror_cursor_is_unaffected_by_the_category_settings(
    sandbox: Sandbox, tmp_path: Path, clock: Clock
) -> None:
    world = sandbox.world
    watched = world.category(10)
    watched.default_view, watched.sort_order, watched.sort_ascending = "top", "views", True
    parts = make_parts(sandbox, tmp_path, clock, "innovation-sociale-estrie")
    sync(parts, sandbox)
    assert stored_topics(parts) == family_topics(world, 10)
    old = world.find_topic_by_title("Comment mesurer l'impact social d'un petit projet ?")
    assert old is not None
    clock.advance(hours=1)
    world.add_reply(old.id, "mgagnon", "Je remonte ce vieux sujet avec une nouvelle question.")

    summary = sync(parts, sandbox)

    # One list page by activity finds the bumped topic, whatever the category's settings.
    assert summary.topics_saved == 1 and summary.posts_saved == 1
    assert paths(sandbox) == [LIST, f"/t/{old.id}/posts.json", "/groups/cdp-2ise/members.json"]
    assert parts.store.topic_state(old.id).bumped_at == clock()  # type: ignore[union-attr]


def test_a_muted_subcategory_vanishes_from_the_parent_list(sandbox: Sandbox) -> None:
    world = sandbox.world
    before = {t["category_id"] for t in get(sandbox, LIST).json()["topic_list"]["topics"]}
    assert 11 in before
    world.mute_category(STAFF_USERNAME, "boite-a-outils")

    after = get(sandbox, LIST, params={"order": "activity"}).json()["topic_list"]["topics"]

    assert 11 not in {t["category_id"] for t in after}
    # The subcategory's own list still shows its topics; the account sees what it muted.
    assert titles(get(sandbox, "/c/innovation-sociale-estrie/boite-a-outils/11.json"))
    profile = get(sandbox, f"/u/{STAFF_USERNAME}.json").json()["user"]
    assert profile["muted_category_ids"] == [11]


def test_muted_topics_and_tags_vanish_and_state_muted_lists_them(sandbox: Sandbox) -> None:
    world = sandbox.world
    topic = world.find_topic_by_title("Mobiliser les citoyens autour d'un projet de quartier")
    grille = next(t for t in world.topics.values() if t.title.startswith("Grille"))
    assert topic is not None and "evaluation" in grille.tags
    world.mute_topic(STAFF_USERNAME, topic.id)
    world.mute_tag(STAFF_USERNAME, "evaluation")

    listed = titles(get(sandbox, LIST, params={"order": "activity"}))
    muted = titles(get(sandbox, LIST, params={"order": "activity", "state": "muted"}))

    assert topic.title not in listed and grille.title not in listed
    assert muted == [topic.title]
    profile = get(sandbox, f"/u/{STAFF_USERNAME}.json").json()["user"]
    assert profile["muted_tags"] == ["evaluation"]


def run_check(sb: Sandbox, tmp_path: Path) -> Any:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"discourse:\n  url: {sb.url}\n  api_username: animation-2ise\n"
        "  requests_per_minute: 0\ncommunity:\n  name: CdP 2isE\n"
        "  category: innovation-sociale-estrie\n  group: cdp-2ise\n"
        f"paths:\n  templates: {ROOT / 'templates'}\n  jobs: {ROOT / 'jobs'}\n"
        "store:\n  path: bridge.db\n",
        encoding="utf-8",
    )
    return CliRunner().invoke(
        cli,
        ["--config", str(config), "check"],
        env={"DISCOURSE_API_KEY": sb.api_key},
        catch_exceptions=False,
    )


def test_check_says_nothing_of_muting_when_nothing_is_muted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    result = run_check(sandbox, tmp_path)

    assert result.exit_code == 0, result.output
    assert "sourdine" not in result.output + result.stderr
    # The category, its subcategories, the account, its muted topics, the group's first member:
    # five reads.
    assert [p.split("?")[0] for _, p in sandbox.requests] == [
        "/c/innovation-sociale-estrie/show.json",
        "/categories.json",
        "/u/animation-2ise.json",
        LIST,
        "/groups/cdp-2ise/members.json",
    ]


def test_check_warns_when_the_bridge_account_mutes_what_it_must_read(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    world = sandbox.world
    topic = world.find_topic_by_title("Mobiliser les citoyens autour d'un projet de quartier")
    assert topic is not None
    world.mute_category(STAFF_USERNAME, "boite-a-outils")
    world.mute_tag(STAFF_USERNAME, "evaluation")
    world.mute_topic(STAFF_USERNAME, topic.id)

    result = run_check(sandbox, tmp_path)

    who = "le compte « animation-2ise »"
    assert result.exit_code == 0, result.output  # warnings: the check itself passes
    assert result.stderr.splitlines() == [
        f"Avertissement : {who} a mis en sourdine la catégorie « Boîte à outils » : Discourse "
        "retire ses sujets des listes que lit la passerelle, qui ne les verra pas ; "
        "remettez-la en suivi normal",
        f"Avertissement : {who} a mis en sourdine les étiquettes evaluation : Discourse retire "
        "des listes les sujets qui les portent, que la passerelle ne verra pas ; retirez-les de "
        "la sourdine",
        f"Avertissement : {who} a mis en sourdine 1 sujet(s) de la catégorie (« {topic.title} ») "
        ": Discourse les retire des listes, la passerelle ne les verra pas ; remettez-les en "
        "suivi normal",
    ]


def test_check_warns_when_the_watched_category_itself_is_muted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.world.mute_category(STAFF_USERNAME, 10)

    result = run_check(sandbox, tmp_path)

    assert "a mis en sourdine la catégorie « Impact et innovation sociale en Estrie » : " in (
        result.stderr
    )
    assert "retire les sujets des sous-catégories des listes" in result.stderr


# --- 10. large sites ----------------------------------------------------------------------------


def large_site(world: World, *, lazy: bool) -> None:
    """1,200 other categories before the watched one: /categories.json comes 20 at a time."""
    with world.lock:
        for n in range(1200):
            world.add_category(f"Autre communauté {n:04d}", f"autre-{n:04d}").position = -1
        world.lazy_load_categories = lazy


@pytest.mark.parametrize("lazy", [False, True], ids=["paged", "lazy-loaded"])
def test_on_a_large_site_the_bridge_still_finds_its_category_and_subcategories(
    sandbox: Sandbox, tmp_path: Path, clock: Clock, lazy: bool
) -> None:
    world = sandbox.world
    large_site(world, lazy=lazy)
    # The old way fails: the first page of the category list does not hold the category.
    first = get(sandbox, "/categories.json", params={"include_subcategories": "true"}).json()
    assert 10 not in {c["id"] for c in first["category_list"]["categories"]}
    parts = make_parts(sandbox, tmp_path, clock, "innovation-sociale-estrie")

    summary = sync(parts, sandbox)

    assert parts.store.subcategory_ids(10) == [11, 12, 13, 14, 15]
    assert stored_topics(parts) == family_topics(world, 10)
    assert sandbox.request_kinds()["categories"] == 2
    assert summary.requests == 2 + 1 + summary.topics_saved + 1  # categories, list, posts, members


def test_a_paged_category_list_truncates_subcategories_like_discourse(sandbox: Sandbox) -> None:
    world = sandbox.world
    with world.lock:
        world.max_unoptimized_categories = 10  # past it, 20 a page, as on a site of 1,000
        # 16 more right after it: its five subcategories fall on the second page.
        for n in range(16):
            world.add_category(f"Autre {n}", f"autre-{n}").position = world.category(10).position
    pages = [
        get(
            sandbox, "/categories.json", params={"include_subcategories": "true", "page": p}
        ).json()["category_list"]["categories"]
        for p in (1, 2)
    ]

    watched = next(c for c in pages[0] if c["id"] == 10)
    # Its subcategories fell on the next page: the parent lists none, and they are dropped.
    assert watched["subcategory_ids"] == [] and watched["subcategory_list"] == []
    assert not {11, 12, 13, 14, 15} & {c["id"] for page in pages for c in page}
    # Asked by parent, they are all there.
    children = get(sandbox, "/categories.json", params={"parent_category_id": 10}).json()
    assert [c["id"] for c in children["category_list"]["categories"]] == [11, 12, 13, 14, 15]
