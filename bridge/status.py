"""`bridge status`: what the bridge did last, what failed, and what waits, in plain French."""

from __future__ import annotations

from bridge.models import topic_url
from bridge.publish import MAX_ATTEMPTS
from bridge.servicestatus import service_lines
from bridge.store import LedgerState, RunStatus
from bridge.wiring import Parts
from bridge.words import LEDGER_WORDS, RUN_WORDS, attempts_words, time_label

# One publication's state, as `--details` lists them.
_ENTRY_WORDS = {
    LedgerState.DONE: "publiée",
    LedgerState.PENDING: "sans réponse",
    LedgerState.FAILED: "refusée",
    LedgerState.HELD: "chez un modérateur",
}


def render_status(parts: Parts, *, details: bool = False) -> str:
    store = parts.store
    tz = parts.config.community.tz
    lines = [f"Passerelle pour {parts.config.community.name} ({parts.config.site})", ""]
    runs = store.last_runs()
    lines.append("Dernières exécutions :")
    if not runs:
        lines.append("  aucune pour l'instant")
    for run in runs:
        when = time_label(run.started_at, tz)
        failed = run.status is RunStatus.FAILED and run.error
        detail = run.error if failed else run.summary or ""
        state = RUN_WORDS[run.status]
        lines.append(f"  {run.job:<10} {when:<27} {state:<9} {detail}".rstrip())
    lines.extend(service_lines(parts))
    summary = store.ledger_summary()
    lines.append("")
    lines.append("Publications :")
    if not summary:
        lines.append("  aucune pour l'instant")
    for state, label in LEDGER_WORDS.items():
        if summary.get(state):
            lines.append(f"  {summary[state]} {label}")
    failed_entries = store.ledger_entries(LedgerState.FAILED)
    if failed_entries:
        lines.append("")
        lines.append(
            f"Refusées par Discourse (la passerelle réessaie, {MAX_ATTEMPTS} fois au plus) :"
        )
        for entry in failed_entries:
            lines.append(f"  {entry.key} : {entry.error} ({attempts_words(entry.attempts)})")
    held = store.ledger_entries(LedgerState.HELD)
    if held:
        lines.append("")
        lines.append(
            "En attente d'approbation par un modérateur (jamais republiées ; "
            "le compte de la passerelle doit être modérateur) :"
        )
        lines.extend(f"  {entry.key}" for entry in held)
    lines.extend(entry_warnings(parts))
    pending = store.ledger_entries(LedgerState.PENDING)
    if pending:
        lines.append("")
        lines.append("Sans réponse de Discourse (vérifiées à la prochaine passe) :")
        for entry in pending:
            lines.append(f"  {entry.key}")
    if details:
        lines.extend(ledger_details(parts))
    return "\n".join(lines)


def ledger_details(parts: Parts) -> list[str]:
    """Every publication of the ledger, latest first: when, its state, its key (what the
    publisher goes by: `announce:…:rappel-7j`), what it is, and where it is on the forum."""
    tz, site = parts.config.community.tz, parts.config.site
    lines = ["", "Registre des publications (clé, état, dernière mise à jour) :"]
    entries = parts.store.ledger_entries()
    if not entries:
        lines.append("  aucune pour l'instant")
    for entry in entries:
        when = time_label(entry.updated_at, tz)
        line = f"  {when}  {_ENTRY_WORDS[entry.state]:<18} {entry.key}"
        if entry.title:
            line += f" — {entry.title}"
        if entry.topic_id is not None:
            url = topic_url(site, "", entry.topic_id)
            number = entry.post_number or 1
            line += f" → {url}" + (f"/{number}" if number > 1 else "")
        lines.append(line)
    return lines


def entry_warnings(parts: Parts) -> list[str]:
    """Cards and toolbox entries that need their author's attention, with what is wrong."""
    lines: list[str] = []
    store = parts.store
    for entries, title in (
        (store.cards(), "Fiches de la cartographie à compléter"),
        (store.toolbox_entries(), "Outils à compléter"),
    ):
        flagged = [e for e in entries if e.warnings]
        if not flagged:
            continue
        lines.append("")
        lines.append(f"{title} ({len(flagged)}) :")
        for entry in flagged:
            lines.append(f"  « {entry.title} » par {entry.author or '?'} — {entry.url}")
            lines.extend(f"    - {w}" for w in entry.warnings)
    return lines


def empty_store_lines(parts: Parts) -> list[str]:
    """What to say, and what to run, when the store holds nothing for this site and community
    (nothing when it holds its mirror)."""
    store = parts.store
    if store.has_categories():
        return []
    lines = [
        f"La base locale {parts.config.store_path} ne contient encore rien pour "
        f"{parts.config.site} (catégorie « {parts.config.community.category} ») : "
        "lancez d'abord « bridge sync »."
    ]
    others = [f"{site} ({community})" for site, community in store.mirrored_scopes()]
    if others:
        lines.append(
            f"Elle contient les données de : {', '.join(others)}. Vérifiez discourse.url et "
            f"community.category dans {parts.config.source}."
        )
    return lines
