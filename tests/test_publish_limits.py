"""The bridge copes with Discourse's write rules: drafts Discourse would refuse are refused
here, titles go out cleaned and are recognised cleaned, tags go as objects, a retried create
answered from Discourse's memory still reconciles, and `bridge check` says when the
facilitators' group cannot be messaged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sandboxcli import write_config as sandbox_config

from bridge import __version__
from bridge.cli import cli
from bridge.config import ConfigError, SiteSettings, load_config
from bridge.discourse import DiscourseClient
from bridge.drafts import Draft, DraftKind
from bridge.limits import clean_title, refusal, same_title, visible_length
from bridge.publish import Publisher
from bridge.sandbox import STAFF_USERNAME, WATCHED, Sandbox, seed_world
from bridge.store import Store

NOW = datetime(2025, 5, 20, 14, 0, tzinfo=UTC)
SITE = "https://passerelles.encommun.io"
ROOT = Path(__file__).resolve().parent.parent

TOPIC = Draft(
    key="announce:webinaire-2025-06-05",
    kind=DraftKind.TOPIC,
    title="WEBINAIRE : MESURER L'IMPACT SOCIAL!!!",
    raw="Bonjour à toutes et à tous ! Le prochain webinaire porte sur l'évaluation.",
    category="annonces",
    tags=("webinaire", "evaluation"),
)
REPLY = Draft(
    key="announce:webinaire-2025-06-05:rappel-1j",
    kind=DraftKind.REPLY,
    raw="Rappel : le webinaire a lieu demain, à midi.",
    parent_key=TOPIC.key,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed_world(NOW), now=lambda: NOW) as sb:
        yield sb


def publish(sandbox: Sandbox, db: Path, drafts: list[Draft], **options: object) -> list[str]:
    store = Store.open(db, SITE, WATCHED)
    client = DiscourseClient(
        sandbox.url, sandbox.api_username, sandbox.api_key, requests_per_minute=0
    )
    publisher = Publisher(
        client,
        store,
        resolve_category=lambda slug: sandbox.world.category(slug).id,
        now=lambda: NOW,
        **options,  # type: ignore[arg-type]
    )
    try:
        return [o.status.value for o in publisher.publish(drafts).outcomes]
    finally:
        client.close()
        store.db.close()


def ledger(db: Path, key: str) -> tuple[str, str | None, int | None]:
    store = Store.open(db, SITE, WATCHED)
    try:
        entry = store.ledger_get(key)
        assert entry is not None
        return entry.state.value, entry.error, entry.post_id
    finally:
        store.db.close()


# --- 4. lengths, checked before writing ------------------------------------------------------


def test_the_hidden_marker_counts_for_the_maximum_only() -> None:
    marker = REPLY.marker(WATCHED)
    assert visible_length(f"Vingt caractères ici\n\n{marker}\n") == 20
    assert visible_length("Bravo :tada: ... ,,,") == len("Bravo X … ,")
    settings = SiteSettings(max_post_length=100)
    raw = Draft("k", DraftKind.REPLY, raw="x" * 70, topic_id=1).raw_with_marker(WATCHED)
    problem = refusal(REPLY, raw, settings, first_post=False)
    assert problem == (
        "message trop long : 131 caractères (marque cachée comprise), Discourse en "
        "accepte au plus 100 (max_post_length) ; il n'a pas été envoyé"
    )


def test_the_maximum_is_on_the_text_as_discourse_stores_it() -> None:
    """PostCreator#setup_post cuts the marker's trailing newline before the length is checked:
    101 characters sent are 100 stored, which Discourse accepts."""
    settings = SiteSettings(max_post_length=100)
    fits = Draft("k", DraftKind.REPLY, raw="x" * 39, topic_id=1).raw_with_marker(WATCHED)
    assert len(fits) == 101
    assert refusal(REPLY, fits, settings, first_post=False) is None
    over = Draft("k", DraftKind.REPLY, raw="x" * 40, topic_id=1).raw_with_marker(WATCHED)
    assert refusal(REPLY, over, settings, first_post=False) == (
        "message trop long : 101 caractères (marque cachée comprise), Discourse en "
        "accepte au plus 100 (max_post_length) ; il n'a pas été envoyé"
    )


def test_a_too_short_reply_is_refused_locally_and_never_sent(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    short = Draft(REPLY.key, DraftKind.REPLY, raw="C'est demain !", parent_key=TOPIC.key)
    assert publish(sandbox, tmp_path / "b.db", [TOPIC, short]) == ["published", "failed"]
    state, error, _ = ledger(tmp_path / "b.db", short.key)
    assert state == "failed"
    assert error == (
        f"{short.key} : message trop court : 14 caractère(s) visible(s), Discourse en exige au "
        "moins 20 (min_post_length) ; il n'a pas été envoyé"
    )
    assert [m for m, _ in sandbox.requests if m == "POST"] == ["POST"]  # the topic only


def test_site_settings_come_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "  requests_per_minute: 50\n",
            "  requests_per_minute: 50\n"
            "  site_settings:\n    min_post_length: 30\n    title_prettify: false\n",
        ),
        encoding="utf-8",
    )
    settings = load_config(path, {}).discourse.site_settings
    assert settings.min_post_length == 30 and settings.title_prettify is False
    assert settings.max_post_length == 32_000
    path.write_text(
        text.replace(
            "  requests_per_minute: 50\n",
            "  requests_per_minute: 50\n  site_settings:\n    title_prettify: peut-être\n",
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="title_prettify.*true ou false attendu"):
        load_config(path, {})


# --- 5. titles -------------------------------------------------------------------------------


def test_titles_are_cleaned_as_discourse_does() -> None:
    assert clean_title("WEBINAIRE : MESURER L'IMPACT SOCIAL!!!") == (
        "Webinaire : mesurer l'impact social!"
    )
    assert clean_title("l'atelier du  5 à 7.") == "L'atelier du 5 à 7"
    assert clean_title("FAQ", SiteSettings(allow_uppercase_posts=True)) == "FAQ"
    assert same_title("Webinaire du 5 MAI!!", "webinaire du 5 mai!")


def test_a_rewritten_title_is_recognised_after_a_crash(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults.crash_after_write = 1
    assert publish(sandbox, tmp_path / "b.db", [TOPIC]) == ["uncertain"]
    with caplog.at_level(logging.INFO, logger="bridge.publish"):
        assert publish(sandbox, tmp_path / "b.db", [TOPIC]) == ["recovered"]
    assert "titre changé" not in caplog.text
    [topic] = [t for t in sandbox.world.topics.values() if t.external_id]
    assert topic.title == "Webinaire : mesurer l'impact social!"


# --- 6. tags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("era", "kept"),
    [
        ("objects", ["webinaire", "evaluation"]),
        ("both", ["webinaire", "evaluation"]),
        ("names", []),
    ],
)
def test_the_bridge_sends_tags_as_objects(
    sandbox: Sandbox, tmp_path: Path, era: str, kept: list[str]
) -> None:
    sandbox.world.tag_era = era
    assert publish(sandbox, tmp_path / "b.db", [TOPIC]) == ["published"]
    [topic] = [t for t in sandbox.world.topics.values() if t.external_id]
    # Before 2026.01 Discourse's `permit(tags: [])` drops objects: such a site loses them.
    assert topic.tags == kept


# --- 8. a retried create answered from Discourse's memory -------------------------------------


def test_reconcile_is_right_when_a_retried_create_returns_the_existing_post(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    db = tmp_path / "b.db"
    assert publish(sandbox, db, [TOPIC]) == ["published"]
    sandbox.faults.crash_after_write = 1
    assert publish(sandbox, db, [TOPIC, REPLY]) == ["already", "uncertain"]
    assert publish(sandbox, db, [TOPIC, REPLY]) == ["already", "recovered"]
    state, _, post_id = ledger(db, REPLY.key)
    # Sending the same create again within 120 s, as a blind retry would (same account, same
    # User-Agent), gets that very post back, and nothing new is written.
    topic = sandbox.world.find_topic_by_external_id(TOPIC.external_id(WATCHED))
    assert topic is not None
    again = requests.post(
        sandbox.url + "/posts.json",
        data={"topic_id": topic.id, "raw": REPLY.raw_with_marker(WATCHED)},
        headers={
            "Api-Key": sandbox.api_key,
            "Api-Username": sandbox.api_username,
            "User-Agent": f"encommun-bridge/{__version__}",
        },
        timeout=5,
    )
    assert state == "done" and again.json()["id"] == post_id
    marked = [p for p in sandbox.world.posts_by(STAFF_USERNAME) if REPLY.marker(WATCHED) in p.raw]
    assert [p.id for p in marked] == [post_id]


# --- 9. bridge check and the facilitators' group ----------------------------------------------


def write_config(tmp_path: Path, url: str) -> Path:
    return sandbox_config(tmp_path, url, facilitators="animation-2ise")


def test_check_says_when_the_facilitators_group_cannot_be_messaged(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config = write_config(tmp_path, sandbox.url)
    env = {"DISCOURSE_API_KEY": sandbox.api_key}
    ok = CliRunner().invoke(cli, ["--config", str(config), "check"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "Animation : le compte « animation-2ise » peut écrire au groupe « animation-2ise »." in (
        ok.stdout
    )
    sandbox.world.group("animation-2ise").messageable_level = 0
    refused = CliRunner().invoke(cli, ["--config", str(config), "check"], env=env)
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "Erreur : le compte « animation-2ise » ne peut pas envoyer de message privé au groupe "
        f"« animation-2ise » sur {sandbox.url} : le résumé hebdomadaire ne pourra pas lui être "
        "envoyé ; dans les réglages du groupe, « Qui peut envoyer un message à ce groupe » doit "
        "inclure les modérateurs"
    )
