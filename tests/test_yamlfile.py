"""Hand-written YAML files: every key keeps its line, a key written twice is refused, and a
mistake is placed on the nearest line the file has."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import ConfigError, JobFileError
from bridge.yamlfile import BadValue, Document, Reader, load_document

TEXT = """\
# a comment first
top:
  inner: 1
  items:
    - a
    - b: 2
other: x
"""


def load(
    tmp_path: Path, text: str, error: type[ConfigError] | type[JobFileError] = ConfigError
) -> Document:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    return load_document(path, "f.yaml", error)


def test_every_key_and_list_item_keeps_its_line(tmp_path: Path) -> None:
    document = load(tmp_path, TEXT)
    assert document.data == {"top": {"inner": 1, "items": ["a", {"b": 2}]}, "other": "x"}
    assert document.first_line == 2
    assert document.lines == {
        ("top",): 2,
        ("top", "inner"): 3,
        ("top", "items"): 4,
        ("top", "items", 0): 5,
        ("top", "items", 1): 6,
        ("top", "items", 1, "b"): 6,
        ("other",): 7,
    }


def test_a_mistake_is_placed_on_its_key_or_the_nearest_one(tmp_path: Path) -> None:
    document = load(tmp_path, TEXT)
    reader = Reader("f.yaml", document.lines, JobFileError)
    assert str(reader.fail(("top", "inner"), "non")) == "f.yaml, ligne 3, top.inner : non"
    assert str(reader.fail(("top", "absent"), "manque")) == "f.yaml, ligne 2, top.absent : manque"
    assert str(reader.fail("nowhere", "manque")) == "f.yaml, nowhere : manque"
    assert isinstance(reader.fail("other", "non"), JobFileError)
    with_default = Reader("f.yaml", document.lines, JobFileError, default_line=1)
    assert str(with_default.fail("nowhere", "manque")) == "f.yaml, ligne 1, nowhere : manque"


def test_a_bad_value_is_placed_on_the_list_item_it_names(tmp_path: Path) -> None:
    document = load(tmp_path, TEXT)
    reader = Reader("f.yaml", document.lines, ConfigError)

    def refuse_second(items: list[object]) -> None:
        raise BadValue("pas celui-là", 1)

    with pytest.raises(ConfigError) as caught:
        reader.read(("top", "items"), refuse_second, document.data["top"]["items"])
    assert str(caught.value) == "f.yaml, ligne 6, top.items : pas celui-là"
    assert reader.read("other", str.upper, "x") == "X"


def test_a_key_written_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    with pytest.raises(JobFileError) as caught:
        load(tmp_path, "a: 1\nb: 2\na: 3\n", JobFileError)
    assert str(caught.value) == (
        "f.yaml, ligne 3 : YAML invalide (clé « a » écrite deux fois (déjà à la ligne 1))"
    )


def test_an_alias_holding_itself_is_walked_once(tmp_path: Path) -> None:
    document = load(tmp_path, "a: &x\n  b: *x\n")
    assert document.data["a"]["b"] is document.data["a"]
    assert document.lines == {("a",): 1, ("a", "b"): 2}


def test_an_empty_file_has_no_data_and_no_line(tmp_path: Path) -> None:
    document = load(tmp_path, "# nothing yet\n")
    assert document.data is None and document.first_line is None and document.lines == {}


def test_unreadable_and_missing_files_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: \xff\n")
    with pytest.raises(ConfigError, match=r"^f\.yaml : lecture impossible \(pas en UTF-8\)$"):
        load_document(path, "f.yaml", ConfigError)
    absent = tmp_path / "absent.yaml"
    with pytest.raises(
        ConfigError, match=r"^absent\.yaml : lecture impossible \(fichier ou dossier introuvable\)$"
    ):
        load_document(absent, "absent.yaml", ConfigError)
    with pytest.raises(ConfigError, match=r"^absent\.yaml : introuvable$"):
        load_document(absent, "absent.yaml", ConfigError, missing="introuvable")


# Mistakes people make in these files: the line to fix (where a `[`, `{` or quote was opened,
# not where PyYAML noticed), and what to do, in French.
SYNTAX_MISTAKES = [
    ("a: 1\ntags: [a, b\nother: x\n", 2, "crochet « [ » jamais refermé : ajoutez « ] »"),
    ("a: 1\ntags: [a, b\n", 2, "crochet « [ » jamais refermé"),
    ("x: {a: 1\nother: x\n", 1, "accolade « { » jamais refermée"),
    ('a: 1\nb: "abc\nc: 2\n', 2, "guillemet jamais refermé"),
    ("title: Webinaire : mesurer\n", 1, "deux-points inattendu"),
    ("a:\n\tb: 1\n", 2, "tabulation : indentez avec des espaces"),
    ("a:\n  b: 1\n c: 2\n", 3, "indentation incohérente"),
    ("a: *nope\n", 1, "« * » sans ancre « & »"),
    ("a: @x\n", 1, "caractère interdit en début de valeur"),
    ("a: !!python/object 1\n", 1, "étiquette « !! » non permise"),
    ("a: 'x' y\n", 1, "indentation incohérente (alignez les clés d'une même section), ou texte"),
]
ENGLISH = ("expected", "found", "while ", "mapping", "could not", "scanning", "parsing")


@pytest.mark.parametrize("text, line, words", SYNTAX_MISTAKES)
def test_a_syntax_mistake_is_french_on_the_line_to_fix(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    with pytest.raises(JobFileError) as caught:
        load(tmp_path, text, JobFileError)
    message = str(caught.value)
    assert message.startswith(f"f.yaml, ligne {line} : YAML invalide ({words}"), message
    assert not [w for w in ENGLISH if w in message], message
