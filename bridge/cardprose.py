"""What a card's prose holds that is not its description: greetings, closings, signatures, notes.

Members write cards as they write messages: « Bonjour à tous ! » first, « Au plaisir de
collaborer ! » and a signature last (« Julie », « — Julie, coordonnatrice », « L'équipe du
Resto-pop »), and « Mise à jour : … » or « EDIT : … » when they come back to it. A facilitator
reads none of these as the description of the initiative; `description_text` leaves them out.
The rules are about the shape of such lines (short, at either end, opening with a formula), not
about particular cards. Pure and linear: each line is looked at a bounded number of times.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bridge.territories import fold_words

# Formulas, folded (no accents, apostrophes and hyphens as spaces), that open a closing line.
_CLOSINGS = (
    "au plaisir",
    "merci",
    "un grand merci",
    "mille mercis",
    "bonne journee",
    "bonne soiree",
    "bonne semaine",
    "bonne fin de semaine",
    "bonne saison",
    "cordialement",
    "salutations",
    "bien a vous",
    "a bientot",
    "au revoir",
    "amicalement",
    "n hesitez pas",
    "hate de",
    "a la prochaine",
    "suivez nous",
    "merci de partager",
)
_GREETINGS = ("bonjour", "bonsoir", "salut", "allo", "hello", "cher", "chere", "chers", "cheres")
_INTRODUCTIONS = re.compile(r"^voici (?:notre|la|ma|mon|une) (?:fiche|presentation|carte)\b")
# « Mise à jour : … », « MàJ : … », « EDIT : … », « Dernière mise à jour le … », « Modifié le … ».
_NOTE_RE = re.compile(
    r"^(?:derniere )?(?:mise a jour|mis a jour|maj|edit|edite|modifie|modifiee|modification"
    r"|update|updated)\b"
)
_RULE_RE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_MARKUP_RE = re.compile(r"<[^<>]{0,200}>|[*_~`>#|]")
# A signature set apart by a dash (« — Julie », « -- Marc »), never a Markdown bullet (« - x »).
_DASH_SIGNATURE_RE = re.compile(r"^\s*(?:[—–]|--)")
_CLOSING_MAX = 120  # a closing is one short line; a longer one is a paragraph of the description
_SIGNATURE_MAX = 70  # « Jean-François Audet, directeur général, Coop du Marché de Sutton »
_TAIL_LINES = 6  # a sign-off (closing and signature) is at most this many lines


def folded(line: str) -> str:
    """The line as the formulas are matched: no markup, emoji nor punctuation, folded."""
    text = _MARKUP_RE.sub(" ", line)
    return " ".join(re.findall(r"\w+", fold_words(text)))


def is_update_note(line: str) -> bool:
    """« Mise à jour : ajout du site web », « _Dernière mise à jour : 3 mars 2025_ »."""
    return bool(_NOTE_RE.match(folded(line)))


def _is_closing(line: str) -> bool:
    text = folded(line)
    return len(line.strip()) <= _CLOSING_MAX and any(
        text == f or text.startswith(f + " ") for f in _CLOSINGS
    )


def _is_greeting(line: str) -> bool:
    text, stripped = folded(line), line.strip()
    if _INTRODUCTIONS.match(text):
        return len(stripped) <= 80
    words = text.split()
    if not words or words[0] not in _GREETINGS:
        return False
    # « Bonjour ! », « Bonjour à toutes et à tous ! »; never « Bonjour, nous sommes … ».
    return len(words) <= 2 or (len(stripped) <= 60 and stripped[-1] in "!,:")


def _is_signature(line: str) -> bool:
    """A name, a role, a team: a short line that is not a sentence nor a list item."""
    stripped = line.strip()
    return (
        0 < len(stripped) <= _SIGNATURE_MAX
        and len(stripped.split()) <= 9
        and not stripped.endswith((".", ":", ";"))
        and not re.match(r"[-*+]\s|\d+[.)]\s", stripped)
    )


def description_text(text: str, names: Iterable[str] = ()) -> str:
    """The text without greetings, sign-offs, update notes, nor lines that only repeat a name.

    :param names: the card's title and organisation: a line holding only one of them is the
        card's heading, not its description.
    """
    repeated = {folded(n) for n in names if folded(n)}
    lines = [
        ln
        for ln in text.split("\n")
        if not is_update_note(ln) and not (folded(ln) and folded(ln) in repeated)
    ]
    # Greetings open the text: at most two lines (« Bonjour ! », « Voici notre fiche : »).
    for _ in range(2):
        first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
        if first is None or not _is_greeting(lines[first]):
            break
        del lines[first]
    # Sign-offs close it, maybe more than one (« Merci ! », then « Au plaisir ! — Julie »). The
    # non-blank lines are listed once and cut from the end: a card of a thousand « Merci ! »
    # costs a thousand steps, not a million.
    content = [i for i, ln in enumerate(lines) if ln.strip()]
    while (cut := _sign_off_start(lines, content[-_TAIL_LINES:])) is not None:
        del lines[cut:]
        while content and content[-1] >= cut:
            content.pop()
    while content and _RULE_RE.match(lines[content[-1]]):
        del lines[content.pop() :]  # a thematic break left at the end closed what was cut
    return "\n".join(lines).strip()


def _sign_off_start(lines: list[str], tail: list[int]) -> int | None:
    """Where the sign-off at the end starts: a closing line followed only by signature lines,
    or signature lines set apart by a dash; None when the text ends with description."""
    if not tail:
        return None
    if _DASH_SIGNATURE_RE.match(lines[tail[-1]]) and _is_signature(lines[tail[-1]].lstrip(" —–-")):
        return tail[-1]
    for k, index in enumerate(tail):
        if _is_closing(lines[index]) and all(
            _is_signature(lines[j]) or _is_closing(lines[j]) for j in tail[k + 1 :]
        ):
            return index
    return None
