"""Hand-written YAML files (`config.yaml`, `jobs/*.yaml`): loading them, and placing mistakes.

The people who edit these files are facilitators and committee members, not programmers. So a key
written twice is refused rather than silently replaced, every key keeps the line it was written
on, and `Reader` turns each mistake into one French line « fichier, ligne N, clé : … » of the
caller's error class. What the values mean is each caller's business (`config.py`, `jobfiles.py`
with `jobvalues.py`); this module only knows where they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from bridge.errors import UsageError, os_error_words

T = TypeVar("T")

# Where a value is: its keys from the top of the file, and its position in a list (an int).
KeyPath = tuple[str | int, ...]


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping.

    PyYAML keeps the last one silently; for people editing a file by hand, the first one
    quietly stops counting (`store.path` written twice, for example).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"clé « {key} » écrite deux fois (déjà à la ligne {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


class BadValue(ValueError):
    """What is wrong with one value, in French; `item` is its position in a list, if any.

    Raised by the functions that read one value (`jobvalues.read_*`, the checks of `config.py`),
    which know nothing of files: `Reader.read` places it in the file, as the caller's error.
    """

    def __init__(self, message: str, item: int | None = None):
        super().__init__(message)
        self.item = item


@dataclass(frozen=True)
class Document:
    """A parsed file: its data, and the 1-based line of every key and list item in it."""

    data: Any
    lines: dict[KeyPath, int]
    first_line: int | None  # where the top-level value starts; None for an empty file


def load_document(
    path: Path,
    where: str,
    error: type[UsageError],
    *,
    loader: type[StrictLoader] = StrictLoader,
    missing: str | None = None,
) -> Document:
    """Read and parse `path`, shown as `where` in messages; a mistake raises `error`.

    A YAML syntax error is one French line on the line to fix; `missing`, if given, is what to
    say when the file does not exist.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        if missing is not None and isinstance(exc, FileNotFoundError):
            raise error(f"{where} : {missing}") from None
        why = os_error_words(exc) if isinstance(exc, OSError) else "pas en UTF-8"
        raise error(f"{where} : lecture impossible ({why})") from None
    parser = loader(text)
    try:
        node = parser.get_single_node()
        data = parser.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        line, problem = yaml_problem(exc)
        at = f", ligne {line}" if line is not None else ""
        raise error(f"{where}{at} : YAML invalide ({problem})") from None
    finally:
        parser.dispose()
    first_line = node.start_mark.line + 1 if node is not None else None
    return Document(data, _key_lines(node), first_line)


# PyYAML's complaints about hand-written files, in the words of the people who write them
# (matched on the start of PyYAML's `problem`; the first match wins).
_YAML_WORDS = (
    ("expected ',' or ']'", "crochet « [ » jamais refermé : ajoutez « ] » à la fin de la liste"),
    ("expected ',' or '}'", "accolade « { » jamais refermée : ajoutez « } » à la fin"),
    ("mapping values are not allowed", "deux-points inattendu : mettez ce texte entre guillemets"),
    ("found character '\\t'", "tabulation : indentez avec des espaces"),
    ("found unexpected end of stream", "guillemet jamais refermé"),
    (
        "expected <block end>",
        "indentation incohérente (alignez les clés d'une même section), ou texte après des "
        "guillemets",
    ),
    (
        "found undefined alias",
        "« * » sans ancre « & » : mettez ce texte entre guillemets",
    ),
    (
        "found character",
        "caractère interdit en début de valeur : mettez-la entre guillemets",
    ),
    ("could not determine a constructor", "étiquette « !! » non permise"),
    ("found unhashable key", "une clé doit être un simple texte"),
    ("expected a comment or a line break", "texte en trop après la valeur"),
    ("did not find expected key", "clé attendue : vérifiez l'indentation et les guillemets"),
    ("did not find expected", "vérifiez l'indentation, les deux-points et les guillemets"),
    (
        "expected the node content, but found '<stream end>'",
        "fin du fichier avant une valeur : un « [ » ou un « { » jamais refermé ?",
    ),
    ("found duplicate anchor", "ancre « & » définie deux fois"),
)


def yaml_problem(exc: yaml.YAMLError) -> tuple[int | None, str]:
    """The 1-based line to fix and what is wrong there, in French.

    PyYAML notices an unclosed `[`, `{` or quote where the file goes on (the next line, or the
    end of the file); the line to fix is where it was opened (its `context_mark`).
    """
    problem = str(getattr(exc, "problem", None) or "")
    context = str(getattr(exc, "context", None) or "")
    mark = getattr(exc, "problem_mark", None)
    opened = getattr(exc, "context_mark", None)
    if opened is not None and context.startswith(
        ("while parsing a flow", "while scanning a quoted scalar")
    ):
        mark = opened
    if problem.startswith("clé « "):  # ours (StrictLoader), already in French
        words = problem
    else:
        found = (fr for en, fr in _YAML_WORDS if problem.startswith(en))
        words = next(found, "vérifiez l'indentation, les deux-points et les guillemets")
    return (mark.line + 1 if mark is not None else None), words


def _key_lines(root: yaml.Node | None) -> dict[KeyPath, int]:
    lines: dict[KeyPath, int] = {}
    # An alias shares its anchor's node, and may hold itself (`a: &x [*x]`): each node is walked
    # once, under the first path that reaches it.
    walked: set[int] = set()

    def walk(node: yaml.Node, prefix: KeyPath) -> None:
        if id(node) in walked:
            return
        walked.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                path = prefix + (str(key_node.value),)
                lines[path] = key_node.start_mark.line + 1
                walk(value_node, path)
        elif isinstance(node, yaml.SequenceNode):
            for i, item_node in enumerate(node.value):
                lines[prefix + (i,)] = item_node.start_mark.line + 1
                walk(item_node, prefix + (i,))

    if root is not None:
        walk(root, ())
    return lines


class Reader:
    """Places mistakes in a file: « fichier, ligne N, clé : message », as the caller's error.

    A key the file does not hold (a missing value) is placed at its nearest enclosing key, else
    at `default_line`, else on no line at all.
    """

    def __init__(
        self,
        where: str,
        lines: Mapping[KeyPath, int],
        error: type[UsageError],
        *,
        default_line: int | None = None,
    ):
        self.where = where
        self.lines = lines
        self.error = error
        self.default_line = default_line

    def line(self, keys: KeyPath) -> int | None:
        for end in range(len(keys), 0, -1):
            if keys[:end] in self.lines:
                return self.lines[keys[:end]]
        return self.default_line

    def fail(self, keys: str | KeyPath, message: str) -> UsageError:
        """The error for the value at `keys` (a top-level key may be given as a plain name)."""
        path: KeyPath = (keys,) if isinstance(keys, str) else keys
        line = self.line(path)
        at = f", ligne {line}" if line else ""
        name = ".".join(k for k in path if isinstance(k, str))
        return self.error(f"{self.where}{at}, {name} : {message}")

    def read(self, keys: str | KeyPath, read: Callable[..., T], *args: Any) -> T:
        """`read(*args)`, its `BadValue` placed in the file (on the list item it names)."""
        try:
            return read(*args)
        except BadValue as exc:
            path: KeyPath = (keys,) if isinstance(keys, str) else keys
            item: KeyPath = (exc.item,) if exc.item is not None else ()
            raise self.fail(path + item, str(exc)) from None
