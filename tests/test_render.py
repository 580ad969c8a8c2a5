"""Templates: French dates, Discourse date markup, mention safety, and errors in plain words."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from bridge.errors import TemplateError
from bridge.render import Renderer, neutralise_mentions

SPRING = datetime(2025, 4, 17, 16, 0, tzinfo=UTC)  # 12 h 00 in Sherbrooke (EDT)
WINTER = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 12 h 00 in Sherbrooke (EST)


def mentions(markdown: str) -> list[str]:
    """Who Discourse would notify: `@name` in text outside code, by Discourse's rule.

    Independent of the neutraliser: parse the Markdown, decode entities, and look for an `@`
    not preceded by a word character and followed by a username character.
    """
    found: list[str] = []
    for token in MarkdownIt("commonmark").parse(markdown):
        for child in token.children or []:
            if child.type == "text":
                text = html.unescape(child.content)
                found += re.findall(r"(?<!\w)@(\w[\w.\-]*)", text)
    return found


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(tmp_path, locale="fr_CA", timezone="America/Toronto")


def write(renderer: Renderer, name: str, text: str) -> None:
    (renderer.templates_dir / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SPRING, "jeudi 17 avril 2025 à 12 h 00"),
        (WINTER, "mardi 1er décembre 2026 à 12 h 00"),
        (datetime(2025, 11, 2, 6, 30, tzinfo=UTC), "dimanche 2 novembre 2025 à 1 h 30"),
    ],
)
def test_datetimes_in_french_local_time(renderer: Renderer, value: datetime, expected: str) -> None:
    assert renderer.datetime_long(value) == expected


def test_dates_and_times_in_french(renderer: Renderer) -> None:
    assert renderer.date_long(SPRING) == "jeudi 17 avril 2025"
    assert renderer.date_long(date(2025, 5, 1)) == "jeudi 1er mai 2025"
    assert renderer.time_words(SPRING) == "12 h 00"


def test_english_twin_language(tmp_path: Path) -> None:
    english = Renderer(tmp_path, locale="en_CA", timezone="America/Toronto")
    assert english.datetime_long(SPRING) == "Thursday, April 17, 2025 at 12:00 p.m."


def test_discourse_date_markup_shows_each_reader_their_time(renderer: Renderer) -> None:
    assert renderer.discourse_date(SPRING) == (
        '[date=2025-04-17 time=12:00:00 timezone="America/Toronto"]'
    )


def test_english_twin_template_is_picked_for_english(tmp_path: Path) -> None:
    (tmp_path / "note.md.j2").write_text("Bonjour", encoding="utf-8")
    (tmp_path / "note.en.md.j2").write_text("Hello", encoding="utf-8")
    assert Renderer(tmp_path, locale="en_CA").render("note.md.j2") == "Hello\n"
    assert Renderer(tmp_path, locale="fr_CA").render("note.md.j2") == "Bonjour\n"


MESSY = (
    "Merci @marie.tremblay et @@cdp-2ise ! Voir Marie/@audrey.demars, &#64;admin, "
    "&commat;here, &#x40;mgagnon et (@yves_parent). Écrire à info@2ise.ca."
)


def test_the_oracle_is_not_blind() -> None:
    assert mentions(MESSY) == [
        "marie.tremblay",
        "cdp-2ise",
        "audrey.demars",
        "admin",
        "here",
        "mgagnon",
        "yves_parent",
    ]


def test_member_text_printed_by_a_template_notifies_no_one(renderer: Renderer) -> None:
    write(renderer, "t.md.j2", "{{ text }}\n\n{{ text | quote }}\n")
    out = renderer.render("t.md.j2", text=MESSY)
    assert mentions(out) == []
    # The words are all still there for people to read.
    assert "marie.tremblay" in out and "info@2ise.ca" in out


def test_only_the_mention_filter_notifies(renderer: Renderer) -> None:
    write(renderer, "w.md.j2", "Bienvenue {{ username | mention }} ! ({{ bio }})")
    out = renderer.render("w.md.j2", username="julie.tremblay", bio="amie de @audrey.demars")
    assert mentions(out) == ["julie.tremblay"]


def test_neutralising_is_idempotent() -> None:
    once = neutralise_mentions(MESSY)
    assert neutralise_mentions(once) == once


def test_a_syntax_error_names_the_file_and_line(renderer: Renderer) -> None:
    write(renderer, "b.md.j2", "Bonjour\n{% if %}\n")
    with pytest.raises(TemplateError) as info:
        renderer.render("b.md.j2")
    message = str(info.value)
    assert message.startswith(f"{renderer.templates_dir / 'b.md.j2'}, ligne 2: gabarit invalide")
    assert "\n" not in message


def test_an_unknown_variable_says_where_variables_are_listed(renderer: Renderer) -> None:
    write(renderer, "u.md.j2", "{{ titre }}")
    with pytest.raises(TemplateError, match=r"variable inconnue \('titre' is undefined\)"):
        renderer.render("u.md.j2", title="x")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a\n{{ 1 / 0 }}", "ligne 2: le gabarit a échoué (ZeroDivisionError"),
        ("{{ title | date_long }}", "ligne 1: le gabarit a échoué (AttributeError"),
    ],
)
def test_a_template_failing_at_render_time_is_a_template_error(
    renderer: Renderer, text: str, words: str
) -> None:
    write(renderer, "r.md.j2", text)
    with pytest.raises(TemplateError, match=re.escape(words)):
        renderer.render("r.md.j2", title="pas une date")


def test_a_missing_template(renderer: Renderer) -> None:
    with pytest.raises(TemplateError, match="gabarit introuvable"):
        renderer.render("absent.md.j2")
