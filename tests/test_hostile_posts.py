"""Whatever members write, the posts the bridge writes notify no one they should not.

Posts the bridge writes, and where members' words could reach them:
- the digest: titles, names, excerpts, themes, territories (`tests/test_digest_safety.py`);
- announcements: written by the committee in job files, never filled from the forum; a
  committee member may still paste a member's words (title, description, place), so every
  value is mention-safe there too (checked here); their Markdown and HTML are the committee's;
- the demo post: the community's name only;
- the welcome (being built on another branch): it joins `test_the_welcome_mentions_only_the
  welcomed` below, rendered from its own template with `assert_harmless(..., welcomed=...)`.

Oracles: `tests/hostile.py` (Discourse's mention, HTML and BBCode rules, read with
markdown-it-py). Hypothesis runs derandomized so that CI sees the same cases every time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hostile import assert_harmless, hostile, mentions
from hypothesis import HealthCheck, given, settings

from bridge.announce.texts import AnnouncementTexts
from bridge.demo import demo_config
from bridge.jobfiles import Job, Occurrence
from bridge.membertext import plain_excerpt, safe_inline
from bridge.render import Renderer

ROOT = Path(__file__).resolve().parents[1]
RENDERER = Renderer(ROOT / "templates", locale="fr_CA", timezone="America/Toronto")
CONFIG = replace(
    demo_config("https://forum.example", "animation-2ise", "k", Path("unused.db")),
    templates_dir=ROOT / "templates",
)
START = datetime(2025, 5, 15, 16, 0, tzinfo=UTC)
KINDS = {
    "webinaire": "announcement-webinaire.md.j2",
    "5-a-7": "announcement-5-a-7.md.j2",
    "rassemblement-annuel": "announcement-rassemblement-annuel.md.j2",
    "autre": "announcement.md.j2",
}
CASES = settings(
    max_examples=1000,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def announcement_posts(text: str, kind: str) -> list[str]:
    """Every text of one announcement (topic, reminder, change, cancellation) with `text` as
    its title, description and place."""
    job = Job(
        id="activite",
        path=Path("jobs/activite.yaml"),
        kind=kind,
        title=text,
        start=START,
        end=START + timedelta(hours=1),
        timezone="America/Toronto",
        place=text,
        link="https://us02web.zoom.us/j/81234567890",
        description=text,
        template=KINDS[kind],
    )
    texts = AnnouncementTexts(Occurrence(job, "", job.start, job.end), RENDERER, CONFIG)
    return [
        texts.body(),
        texts.reminder("r", timedelta(days=1)).raw,
        texts.change("c", START - timedelta(days=1)).raw,
        texts.cancellation("a").raw,
    ]


@pytest.mark.slow
@CASES
@given(text=hostile)
def test_announcements_quoting_members_notify_no_one(text: str) -> None:
    for kind in KINDS:
        for post in announcement_posts(text, kind):
            assert mentions(post) == [], post


def test_an_announcement_quoting_a_mention_is_checked() -> None:
    """The oracle sees the mention the template would print, were it not neutralised."""
    posts = announcement_posts("Avec a_@marie et &#64;julie", "autre")
    assert all(mentions(p) == [] for p in posts)
    assert mentions("Avec a_@marie et &#64;julie") == ["marie", "julie"]


# --- the welcome ---------------------------------------------------------------------------------

WELCOME = "Bienvenue {{ username | mention }} ! Vous vous présentez ainsi : {{ bio }}\n"


@pytest.fixture(scope="module")
def welcome_renderer(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    # A stand-in until the welcome's own template and planner are merged: the same rule (only
    # the `mention` filter notifies), with a member's words beside the mention.
    folder = tmp_path_factory.mktemp("gabarits")
    (folder / "welcome.md.j2").write_text(WELCOME, encoding="utf-8")
    return Renderer(folder, locale="fr_CA", timezone="America/Toronto")


@pytest.mark.slow
@CASES
@given(text=hostile)
def test_the_welcome_mentions_only_the_welcomed(text: str, welcome_renderer: Renderer) -> None:
    def welcome(bio: str) -> str:
        return welcome_renderer.render("welcome.md.j2", username="julie.gagnon", bio=bio)

    plain = welcome("Animatrice à Magog")
    assert mentions(plain) == ["julie.gagnon"]
    assert_harmless(welcome(safe_inline(text, 140)), plain, welcomed=("julie.gagnon",))
    assert_harmless(welcome(plain_excerpt(text, 140)), plain, welcomed=("julie.gagnon",))
