"""`bridge status`: what the bridge did last, what failed, and what waits, in plain French."""

from __future__ import annotations

from bridge.wiring import Parts

_STATES = {"done": "publiées", "pending": "en attente de vérification", "failed": "refusées"}
RUN_WORDS = {"ok": "réussie", "failed": "échec", "running": "en cours (ou interrompue)"}


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
        detail = run.error if run.status == "failed" and run.error else run.summary or ""
        state = RUN_WORDS.get(run.status, run.status)
        lines.append(f"  {run.job:<10} {when}  {state:<9} {detail}".rstrip())
    summary = store.ledger_summary()
    lines.append("")
    lines.append("Publications :")
    if not summary:
        lines.append("  aucune pour l'instant")
    for state, label in _STATES.items():
        if summary.get(state):
            lines.append(f"  {summary[state]} {label}")
    failed = store.ledger_entries("failed")
    if failed:
        lines.append("")
        lines.append("Refusées par Discourse (la passerelle réessaie, 3 fois au plus) :")
        for entry in failed:
            lines.append(f"  {entry.key} : {entry.error} ({entry.attempts} essai(s))")
    lines.extend(entry_warnings(parts))
    pending = store.ledger_entries("pending")
    if pending:
        lines.append("")
        lines.append("Sans réponse de Discourse (vérifiées à la prochaine passe) :")
        for entry in pending:
            lines.append(f"  {entry.key}")
    return "\n".join(lines)


def entry_warnings(parts: Parts) -> list[str]:
    """Cards and toolbox entries that need their author's attention, with what is wrong."""
    lines: list[str] = []
    for table, title in (
        ("cartography_cards", "Fiches de la cartographie à compléter"),
        ("toolbox_entries", "Outils à compléter"),
    ):
        flagged = [e for e in parts.store.entries(table) if e["warnings"]]
        if not flagged:
            continue
        lines.append("")
        lines.append(f"{title} ({len(flagged)}) :")
        for entry in flagged:
            lines.append(f"  « {entry['title']} » par {entry['author'] or '?'} — {entry['url']}")
            lines.extend(f"    - {w}" for w in entry["warnings"])
    return lines
