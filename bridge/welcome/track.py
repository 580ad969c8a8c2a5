"""Who is new, from the mirror's group members and the welcome's rows (pure: no Discourse).

The very first pass records everyone already in the group as known (except those who joined
in the last `also_recent_days` days). After it, a member the rows do not know, or one who came
back after `rejoin_days`, is held; a wave of newcomers is due once `quiet_minutes` have passed
since the latest of them joined. Bots (Discourse gives them ids below 1) and the bridge's own
account are set aside at once; the other reasons not to welcome someone (suspended, silenced,
staged, not activated) are read from the forum by the runner, for the due ones only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bridge.store import GroupJoin, WelcomeRow, WelcomeState
from bridge.welcome.config import WelcomeConfig
from bridge.welcome.people import person_key


@dataclass
class Tracking:
    """What a pass found: the rows to record, and the held members due now (with their
    membership), or else when the wave will be quiet."""

    members: dict[str, GroupJoin]
    changed: list[WelcomeRow] = field(default_factory=list)
    due: list[WelcomeRow] = field(default_factory=list)
    held: list[WelcomeRow] = field(default_factory=list)
    quiet_at: datetime | None = None


def track(
    roster: Sequence[GroupJoin],
    rows: Mapping[str, WelcomeRow],
    *,
    secret: bytes,
    now: datetime,
    config: WelcomeConfig,
    me: str,
    first_pass: bool,
    at_once: bool = False,
) -> Tracking:
    members = {person_key(secret, m.user_id): m for m in roster}
    found = Tracking(members)
    current = dict(rows)

    def set_row(row: WelcomeRow) -> None:
        current[row.person] = row
        found.changed.append(row)

    recent = now - timedelta(days=config.also_recent_days)
    for person, m in members.items():
        row = current.get(person)
        new = WelcomeRow(person, m.added_at, WelcomeState.HELD, now)
        if m.user_id < 1 or m.username.lower() == me.lower():
            if row is None or row.state is not WelcomeState.SKIPPED:
                reason = "la passerelle elle-même" if m.user_id >= 1 else "un robot"
                set_row(new.but(state=WelcomeState.SKIPPED, reason=reason))
        elif row is None:
            if first_pass and not (config.also_recent_days and m.added_at >= recent):
                set_row(new.but(state=WelcomeState.KNOWN))
            else:
                set_row(new)
        elif m.added_at > row.joined_at:
            set_row(_came_back(row, new, config))
    for person, row in current.items():
        if row.state is WelcomeState.HELD and person not in members:
            set_row(
                row.but(
                    state=WelcomeState.SKIPPED, reason="parti avant son accueil", updated_at=now
                )
            )

    held = [r for r in current.values() if r.state is WelcomeState.HELD]
    if held:
        quiet_at = max(r.joined_at for r in held) + timedelta(minutes=config.quiet_minutes)
        if at_once or quiet_at <= now:
            found.due = sorted(held, key=lambda r: (r.joined_at, members[r.person].username))
        else:
            found.held, found.quiet_at = held, quiet_at
    return found


def _came_back(row: WelcomeRow, new: WelcomeRow, config: WelcomeConfig) -> WelcomeRow:
    """A member whose date joined moved: they left and came back (or joined again)."""
    if row.state in (WelcomeState.HELD, WelcomeState.SKIPPED):
        return new  # not welcomed yet: the new date holds the wave a little longer
    if row.state is WelcomeState.PLANNED:
        return row.but(joined_at=new.joined_at)  # its welcome is on its way: finish it
    last = row.welcomed_at or row.joined_at
    if new.joined_at - last < timedelta(days=config.rejoin_days):
        return row.but(joined_at=new.joined_at, updated_at=new.updated_at)
    return new
