"""`bridge status`: what the bridge did last, what failed, and what waits, in plain French."""

from __future__ import annotations

from bridge.publish import MAX_ATTEMPTS
from bridge.servicestatus import service_lines
from bridge.store import LedgerState, RunStatus
from bridge.wiring import Parts
from bridge.words import LEDGER_WORDS, RUN_WORDS, attempts_words


def render_status(parts: Parts) -> str:
    store = parts.store
    tz = parts.config.community.tz
    lines = [f"Passerelle pour {parts.config.community.name} ({parts.config.site})", ""]
    runs = store.last_runs()
    lines.append("Dernières exécutions :")
    if not runs:
        lines.append("  aucune pour l'instant")
    for run in runs:
        when = run.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        failed = run.status is RunStatus.FAILED and run.error
        detail = run.error if failed else run.summary or ""
        state = RUN_WORDS[run.status]
        lines.append(f"  {run.job:<10} {when}  {state:<9} {detail}".rstrip())
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
    return "\n".join(lines)


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
