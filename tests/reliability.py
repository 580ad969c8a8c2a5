"""The reliability report (issue 14): a declared catalogue of the cases tried, which the fault
tests parametrise over, and the table made from it.

The table is made from the catalogue alone, so it does not depend on which tests ran nor in what
order: `test_reliability_report.py` checks the README's copy against it. The outcome of each
case in a session (passed, failed, not run) goes to build/rapport-fiabilite.md, written by the
hooks in conftest.py.

To add a case: one `Case` in CATALOGUE (its `id` is the test's parameter id), and a test that
parametrises over `cases(category)` or takes `case(id)`; then regenerate the README's table
(`python -m reliability` from tests/ prints it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

README_START = "<!-- rapport-fiabilite:debut -->"
README_END = "<!-- rapport-fiabilite:fin -->"
REPORT_PATH = Path("build") / "rapport-fiabilite.md"

FAULT = "Panne"
LOST_ANSWER = "Réponse perdue"
KILL = "Arrêt brutal"
MALFORMED = "Réponse malformée"
HOSTILE = "Entrée hostile"
WEBHOOK = "Webhook refusé"
CATEGORIES = (FAULT, LOST_ANSWER, KILL, MALFORMED, HOSTILE, WEBHOOK)

NOTHING = "rien"


@dataclass(frozen=True)
class Case:
    category: str
    id: str  # the test's parameter id: unique in the catalogue
    tried: str  # what was done, in the facilitators' words
    expected: str  # what the bridge does
    lost_or_doubled: str = NOTHING


# The jobs every fault mix runs on. The welcome pass is one more entry here (id "welcome"),
# with its runner in test_faults.py's JOB_RUNS.
FAULT_JOBS = {
    "sync": "une synchronisation complète",
    "digest": "un résumé de la semaine",
    "announce": "une annonce et ses rappels",
    "welcome": "un accueil collectif (une vague de huit nouveaux membres)",
    "run": "une heure de « bridge run » (horloge injectée)",
}
FAULT_MIX = "20 % de réponses 5xx, latence, connexions coupées, rafales de 429 (Retry-After)"

WRITES = {
    "topic": "un sujet",
    "private_message": "un message privé",
    "reply": "une réponse",
    "edit": "une modification",
    "pin": "un épinglage",
    "unpin": "un désépinglage",
}

MALFORMED_KINDS = {
    "types": "types incorrects",
    "fields": "champs manquants",
    "truncated": "JSON tronqué",
    "html": "page HTML avec statut 200",
    "empty": "200 avec corps vide",
    "huge": "corps énorme (plus de 8 Mo)",
}
MALFORMED_TARGETS = {
    "posts": ("les messages d'un sujet", "erreur claire pour ce sujet, la passe continue"),
    "profile": ("un profil", "erreur claire pour ce profil, la passe continue"),
    "list": ("une page de liste", "la passe s'arrête là, garde son curseur, code 1"),
}

# Hypothesis, derandomized: 1,000 cases each (the webhook fuzz, 1,500).
NO_CRASH = "aucune erreur"
HARMLESS = "aucune mention, HTML ni BBCode recopié d'un membre"
HOSTILE_CASES = {
    "hostile-cards": (
        "fiches et outils : 1 000 messages de membres désordonnés ou hostiles",
        NO_CRASH,
    ),
    "hostile-fields": ("lecture des champs, HTML, texte brut : 1 000 messages", NO_CRASH),
    "hostile-description": (
        "description sans salutations ni signatures : 1 000 messages",
        NO_CRASH,
    ),
    "hostile-territories": (
        "territoires et coordonnées : 1 000 messages",
        f"{NO_CRASH}, coordonnées plausibles",
    ),
    "hostile-digest": ("résumé : 1 000 titres, noms et extraits hostiles", HARMLESS),
    "hostile-announce": ("annonces citant un membre : 1 000 textes, 4 genres", HARMLESS),
    "hostile-welcome": (
        "accueil : 1 000 noms affichés hostiles",
        "seuls les nouveaux membres sont mentionnés ; ni HTML ni BBCode",
    ),
}
WEBHOOK_CASES = {
    "webhook-signature": ("signature absente ou fausse", "401, rien n'est lu"),
    "webhook-other-body": ("signature d'un autre corps", "401, rien n'est lu"),
    "webhook-bad-json": ("corps signé mais qui n'est pas du JSON", "400"),
    "webhook-too-big": ("corps plus gros que la limite", "413, sans le lire"),
    "webhook-ignored": ("événement que la passerelle ne suit pas", "202, ignoré"),
    "webhook-fuzz": (
        "1 500 requêtes au hasard (corps, en-têtes, longueurs)",
        "jamais d'erreur : 200, 202, 400, 401 ou 413",
    ),
}

CATALOGUE: tuple[Case, ...] = (
    *(
        Case(
            FAULT,
            f"mix-{job}",
            f"{FAULT_MIX} : {what}",
            "terminé en trois passes au plus ; miroir identique à une exécution sans panne",
        )
        for job, what in FAULT_JOBS.items()
    ),
    Case(
        FAULT,
        "read-timeout",
        "une lecture qui dépasse le délai (timeout)",
        "relue après attente (horloge injectée), la passe continue",
    ),
    *(
        Case(
            LOST_ANSWER,
            f"lost-{kind}",
            f"écriture faite, réponse perdue (connexion coupée) : {what}",
            "la reprise la retrouve et n'écrit pas une seconde fois",
        )
        for kind, what in WRITES.items()
    ),
    Case(
        KILL,
        "kill-run",
        "« bridge run » tué (kill -9) à 20 moments tirés au hasard, lectures et écritures, "
        "puis relancé : synchronisation, accueils, annonces et résumé à faire",
        "la tâche coupée reprend au redémarrage ; la base passe le contrôle d'intégrité ; le "
        "forum porte exactement ce qu'une exécution sans arrêt y écrit",
    ),
    *(
        Case(
            MALFORMED,
            f"{target}-{kind}",
            f"{what_kind} : {what}",
            expected,
        )
        for target, (what, expected) in MALFORMED_TARGETS.items()
        for kind, what_kind in MALFORMED_KINDS.items()
    ),
    *(
        Case(HOSTILE, case_id, tried, expected)
        for case_id, (tried, expected) in HOSTILE_CASES.items()
    ),
    *(
        Case(WEBHOOK, case_id, tried, expected)
        for case_id, (tried, expected) in WEBHOOK_CASES.items()
    ),
)


def _check(catalogue: tuple[Case, ...]) -> None:
    ids = [c.id for c in catalogue]
    doubles = sorted({i for i in ids if ids.count(i) > 1})
    assert not doubles, f"ids used twice in the catalogue: {doubles}"
    unknown = sorted({c.category for c in catalogue} - set(CATEGORIES))
    assert not unknown, f"unknown categories: {unknown}"


_check(CATALOGUE)
_BY_ID = {c.id: c for c in CATALOGUE}


def case(case_id: str) -> Case:
    return _BY_ID[case_id]


def cases(category: str, prefix: str = "") -> list[object]:
    """pytest params for the catalogue's cases of `category` (ids starting with `prefix`)."""
    return [
        pytest.param(c, id=c.id)
        for c in CATALOGUE
        if c.category == category and c.id.startswith(prefix)
    ]


def table(results: Mapping[str, str] | None = None) -> str:
    """The Markdown table of the catalogue, in its order; with `results` (id -> outcome), a
    column for what this session saw."""
    head = "| Catégorie | Cas essayé | Ce que fait la passerelle | Perdu ou doublé |"
    rule = "|---|---|---|---|"
    if results is not None:
        head += " Résultat |"
        rule += "---|"
    lines = [head, rule]
    for c in CATALOGUE:
        row = f"| {c.category} | {c.tried} | {c.expected} | {c.lost_or_doubled} |"
        if results is not None:
            row += f" {results.get(c.id, 'non exécuté')} |"
        lines.append(row)
    return "\n".join(lines) + "\n"


def readme_copy(text: str) -> str:
    """The table between the README's markers."""
    start = text.index(README_START) + len(README_START)
    return text[start : text.index(README_END)].strip("\n") + "\n"


if __name__ == "__main__":
    print(table(), end="")
