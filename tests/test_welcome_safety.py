"""Nothing a member wrote in their profile notifies anyone from a welcome: the only mentions in
the posted Markdown are the welcomed members' own usernames (judged by a Markdown parser, not
by the neutraliser)."""

from __future__ import annotations

import pytest
from digestworld import ROOT
from hypothesis import HealthCheck, given, settings
from test_digest_safety import bbcode, hostile, html_tokens, mentions

from bridge.membertext import safe_inline
from bridge.render import Renderer
from bridge.welcome.plan import COLLECTIVE_TEMPLATE, FOLLOW_UP_TEMPLATE, TEMPLATE, Newcomer
from bridge.welcome.sample import sample_context

RENDERERS = [
    Renderer(ROOT / "templates", locale=locale, timezone="America/Toronto")
    for locale in ("fr_CA", "en_CA")
]


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=hostile)
def test_only_the_welcomed_are_mentioned(name: str) -> None:
    people = [Newcomer("marie.gagnon", safe_inline(name)), Newcomer("jp_roy", safe_inline(name))]
    context = {**sample_context(), "member": people[0], "members": people}
    for renderer in RENDERERS:
        for template, expected in (
            (TEMPLATE, ["marie.gagnon"]),
            (COLLECTIVE_TEMPLATE, ["marie.gagnon", "jp_roy"]),
            (FOLLOW_UP_TEMPLATE, []),
        ):
            for private in (False, True):
                out = renderer.render(template, **{**context, "private": private})
                assert mentions(out) == expected, (template, out)
                assert html_tokens(out) == [] and bbcode(out) == []
