"""The weekly digest, planned from an in-memory store: weeks, figures, texts, quiet weeks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from digestworld import AFTER, COMMUNITY, SITE, Forum, at, digest_config, renderer, small_week

from bridge.digest.figures import sparkline
from bridge.digest.plan import build_digest
from bridge.digest.week import Week, select_week
from bridge.drafts import DraftKind
from bridge.errors import UsageError
from bridge.membertext import plain_excerpt, safe_inline, shorten
from bridge.store import Store, WeekFigures

TZ = ZoneInfo("America/Toronto")
W16 = Week(2025, 16, TZ)

# Reviewed by hand: every figure follows from `small_week` (see the test below).
EXPECTED = (Path(__file__).parent / "fixtures" / "digest" / "2025-W16.md").read_text(
    encoding="utf-8"
)


@pytest.fixture
def store() -> Store:
    return Store.memory(SITE, COMMUNITY)


def plan(store: Store, week: Week = W16, now: datetime = AFTER, **digest: object):  # type: ignore[no-untyped-def]
    config = digest_config(**digest)
    return build_digest(store, config, renderer(config), week, now)


def test_a_small_week_exactly(store: Store) -> None:
    small_week(store)
    digest = plan(store)
    assert digest.markdown == EXPECTED
    assert digest.title == "CdP 2isE : résumé de la semaine du 14 au 20 avril 2025"
    assert digest.figures == WeekFigures(
        week="2025-W16",
        contributors=3,
        first_timers=2,
        new_topics=2,
        answered_topics=1,
        median_first_reply_hours=20.0,
        reciprocal=2,
        recent_contributors=3,
        replies=3,
    )
    assert not digest.quiet
    draft = digest.draft
    assert draft is not None and draft.key == "digest:2025-W16"
    assert draft.kind is DraftKind.PRIVATE_MESSAGE and draft.recipients == ("animation-2ise",)
    assert draft.raw == EXPECTED


def test_a_subcategory_target_makes_a_topic(store: Store) -> None:
    small_week(store)
    draft = plan(store, target="bilans").draft
    assert draft is not None and draft.kind is DraftKind.TOPIC and draft.category == "bilans"
    assert draft.key == "digest:2025-W16"


def test_most_active_is_as_many_as_configured(store: Store) -> None:
    small_week(store)
    markdown = plan(store, most_active=1).markdown
    section = markdown.split("## Discussions les plus actives")[1].split("##")[0]
    assert section.count("\n- ") == 1


def test_a_reply_after_the_week_is_not_counted(store: Store) -> None:
    forum = small_week(store)
    forum.reply(102, "sondes", at(22), "Moi !")  # after the week's end
    digest = plan(store)
    assert digest.figures.answered_topics == 1
    assert (
        "Question sans réponse](https://passerelles.encommun.io/t/sujet-102/102) — Marie"
        in (digest.markdown.split("## Nouvelles")[0])
    )


def test_stored_figures_make_the_trend(store: Store) -> None:
    small_week(store)
    before = WeekFigures("2025-W15", 9, 0, 4, 4, 2.0, 3, 9, 12)
    store.save_week_figures(before, AFTER)
    digest = plan(store)
    line = next(x for x in digest.markdown.splitlines() if x.startswith("| Personnes"))
    assert line == "| Personnes qui ont contribué | 3 | −6 | ▁▁▁▁▁▁█▃ |"
    # Recorded once: a second record does not change the first.
    store.save_week_figures(WeekFigures("2025-W15", 1, 1, 1, 1, 1.0, 1, 1, 1), AFTER)
    assert store.week_figures(["2025-W15"]) == {"2025-W15": before}


def quiet_store(store: Store) -> Store:
    forum = Forum(store)
    forum.topic(100, "Un vieux sujet", "marie", at(1), "Bonjour")
    return store


def test_a_quiet_week_gets_a_short_digest(store: Store) -> None:
    digest = plan(quiet_store(store))
    assert digest.quiet and digest.draft is not None
    assert "Semaine calme : aucune nouvelle discussion ni réponse." in digest.markdown
    assert "## Nouvelles discussions" not in digest.markdown
    assert "## Santé de la communauté" in digest.markdown


def test_a_quiet_week_gets_none_when_so_configured(store: Store) -> None:
    digest = plan(quiet_store(store), quiet_week="none")
    assert digest.quiet and digest.draft is None


def test_english_twin(store: Store) -> None:
    small_week(store)
    config = digest_config()
    config = config.__class__(
        **{
            **config.__dict__,
            "community": config.community.__class__(
                **{**config.community.__dict__, "locale": "en_CA"}
            ),
        }
    )
    digest = build_digest(store, config, renderer(config), W16, AFTER)
    assert digest.title == "CdP 2isE: digest for the week of April 14 to 20, 2025"
    assert "## Where to act: topics without an answer" in digest.markdown
    assert "| New topics answered within 48 h | 50% (1/2) | +50 pts | ······▁█ |" in digest.markdown


# --- weeks --------------------------------------------------------------------------------------


def test_weeks_run_monday_to_monday_local_time() -> None:
    assert W16.start == datetime(2025, 4, 14, 4, tzinfo=UTC)
    assert W16.end == datetime(2025, 4, 21, 4, tzinfo=UTC)
    # The week of the spring DST change is an hour shorter.
    w10 = Week(2025, 10, TZ)
    assert (w10.end.astimezone(UTC) - w10.start.astimezone(UTC)).total_seconds() == 167 * 3600


def test_without_week_the_last_complete_one() -> None:
    assert select_week(None, AFTER, TZ, current_ok=False) == W16
    assert select_week("2025-w16", AFTER, TZ, current_ok=False) == W16
    assert select_week("2025W16", AFTER, TZ, current_ok=False) == W16


def test_the_week_under_way_only_for_a_dry_run() -> None:
    assert select_week("2025-W17", AFTER, TZ, current_ok=True) == Week(2025, 17, TZ)
    with pytest.raises(UsageError, match="pas finie"):
        select_week("2025-W17", AFTER, TZ, current_ok=False)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2025-W54", "l'année 2025 compte 52 semaines ISO"),
        ("2025-W00", "l'année 2025 compte 52 semaines ISO"),
        ("2025-W30", "pas encore commencé"),
        ("semaine 16", "semaine ISO attendue, comme 2025-W16"),
        ("", "semaine ISO attendue"),
    ],
)
def test_bad_weeks_are_one_french_line(text: str, words: str) -> None:
    with pytest.raises(UsageError, match=words) as caught:
        select_week(text, AFTER, TZ, current_ok=True)
    assert "\n" not in str(caught.value)


def test_a_53_week_year() -> None:
    assert Week(2026, 53, TZ).monday.isoformat() == "2026-12-28"


# --- sparklines and member text -------------------------------------------------------------------


def test_sparkline() -> None:
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([None, 2, 2]) == "·▄▄"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([None, None]) == "··"


def test_safe_inline_keeps_the_words() -> None:
    assert safe_inline("Merci @marie et @here !") == "Merci @\u200bmarie et @\u200bhere !"
    assert safe_inline("[quote]x[/quote]") == "\\[\u200bquote\\]x\\[\u200b/quote\\]"
    assert safe_inline("<b>gras</b>") == "\\<b\\>gras\\</b\\>"
    assert safe_inline("# Titre") == "\\# Titre"
    assert safe_inline("1. premier") == "1\\. premier"
    assert safe_inline("a\n\n- b") == "a - b"
    assert safe_inline("مرحبا 👩‍👩‍👧") == "\u2068مرحبا 👩‍👩‍👧\u2069"


def test_long_titles_are_cut_at_a_word() -> None:
    assert shorten("un titre beaucoup trop long pour la liste", 20) == "un titre beaucoup…"
    assert shorten("👩‍👩‍👧" * 10, 5).endswith("…")
    assert "\u200d…" not in shorten("👩‍👩‍👧" * 10, 5)


def test_excerpts_are_plain_text() -> None:
    raw = "Bonjour **tous** !\n\n```\ncode\n```\n[poll]\n* a\n[/poll]\nVoir [ici](https://x.ca)"
    assert plain_excerpt(raw, 200) == "Bonjour tous ! a Voir ici"
