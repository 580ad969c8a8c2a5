"""Whatever members write, the posts the bridge writes notify no one they should not.

Posts the bridge writes, and where members' words could reach them:
- the digest: titles, names, excerpts, themes, territories (`tests/test_digest_safety.py`);
- announcements: written by the committee in job files, never filled from the forum; a
  committee member may still paste a member's words (title, description, place), so every
  value is mention-safe there too (checked here); their Markdown and HTML are the committee's;
- the demo post: the community's name only;
- the welcome: every template, both languages, with a member's display name beside the
  welcomed members' own mentions, which are the only ones allowed.

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
from hypothesis import strategies as st
from reliability import HOSTILE, Case, cases

from bridge.announce.texts import AnnouncementTexts
from bridge.demo import demo_config
from bridge.jobfiles import Job, Occurrence
from bridge.membertext import safe_inline
from bridge.render import Renderer
from bridge.welcome.plan import COLLECTIVE_TEMPLATE, FOLLOW_UP_TEMPLATE, TEMPLATE, Newcomer
from bridge.welcome.sample import sample_context

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


@pytest.mark.parametrize("case", cases(HOSTILE, "hostile-announce"))
@pytest.mark.slow
@CASES
@given(text=hostile)
def test_announcements_quoting_members_notify_no_one(case: Case, text: str) -> None:
    for kind in KINDS:
        for post in announcement_posts(text, kind):
            assert mentions(post) == [], post


def test_an_announcement_quoting_a_mention_is_checked() -> None:
    """The oracle sees the mention the template would print, were it not neutralised."""
    posts = announcement_posts("Avec a_@marie et &#64;julie", "autre")
    assert all(mentions(p) == [] for p in posts)
    assert mentions("Avec a_@marie et &#64;julie") == ["marie", "julie"]


# --- the welcome ---------------------------------------------------------------------------------

WELCOME_RENDERERS = [
    Renderer(ROOT / "templates", locale=locale, timezone="America/Toronto")
    for locale in ("fr_CA", "en_CA")
]


WELCOME_VARIANTS = [
    (renderer, template, welcomed, private)
    for renderer in WELCOME_RENDERERS
    for template, welcomed in (
        (TEMPLATE, ("marie.gagnon",)),
        (COLLECTIVE_TEMPLATE, ("marie.gagnon", "jp_roy")),
        (FOLLOW_UP_TEMPLATE, ()),
    )
    for private in (False, True)
]


def welcome_post(variant: int, name: str) -> str:
    """One welcome text (a language, a template, topic or private message) with a member's
    display name (what they wrote in their profile) beside the welcomed members' mentions."""
    renderer, template, _, private = WELCOME_VARIANTS[variant]
    people = [Newcomer("marie.gagnon", safe_inline(name)), Newcomer("jp_roy", safe_inline(name))]
    context = {**sample_context(), "member": people[0], "members": people, "private": private}
    return renderer.render(template, **context)


@pytest.mark.parametrize("case", cases(HOSTILE, "hostile-welcome"))
@pytest.mark.slow
@CASES
@given(text=hostile, variant=st.integers(0, len(WELCOME_VARIANTS) - 1))
def test_the_welcome_mentions_only_the_welcomed(case: Case, text: str, variant: int) -> None:
    welcomed = WELCOME_VARIANTS[variant][2]
    ordinary = welcome_post(variant, "Julie Gagnon")
    assert mentions(ordinary) == list(welcomed)
    assert_harmless(welcome_post(variant, text), ordinary, welcomed=welcomed)
