"""Who is new (`bridge.welcome.track`), without the sandbox: the rules one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge.store import GroupJoin, WelcomeRow, WelcomeState
from bridge.welcome.config import WelcomeConfig
from bridge.welcome.people import person_key, wave_key, welcome_key
from bridge.welcome.track import Tracking, track

NOW = datetime(2025, 4, 21, 13, 0, tzinfo=UTC)
SECRET = b"secret"


def member(user_id: int, username: str, minutes_ago: float) -> GroupJoin:
    return GroupJoin(user_id, username, None, NOW - timedelta(minutes=minutes_ago))


def run(
    roster: list[GroupJoin],
    rows: dict[str, WelcomeRow] | None = None,
    *,
    first: bool = False,
    now: datetime = NOW,
    **config: int,
) -> Tracking:
    return track(
        roster,
        rows or {},
        secret=SECRET,
        now=now,
        config=WelcomeConfig(**config),  # type: ignore[arg-type]
        me="animation-2ise",
        first_pass=first,
    )


def states(found: Tracking) -> dict[str, WelcomeState]:
    names = {p: m.username for p, m in found.members.items()}
    return {names.get(r.person, r.person): r.state for r in found.changed}


def test_the_first_pass_knows_everyone_but_the_recent_ones_it_is_told_to_welcome() -> None:
    roster = [member(5, "ancienne", 60 * 24 * 30), member(6, "recente", 60 * 24)]
    assert states(run(roster, first=True)) == {
        "ancienne": WelcomeState.KNOWN,
        "recente": WelcomeState.KNOWN,
    }
    found = run(roster, first=True, also_recent_days=2)
    assert states(found) == {"ancienne": WelcomeState.KNOWN, "recente": WelcomeState.HELD}
    assert [found.members[r.person].username for r in found.due] == ["recente"]


def test_bots_and_the_bridge_are_set_aside_at_once_and_once() -> None:
    roster = [member(-2, "discobot", 1), member(3, "Animation-2ISE", 1), member(7, "vraie", 1)]
    found = run(roster, quiet_minutes=0)
    assert states(found) == {
        "discobot": WelcomeState.SKIPPED,
        "Animation-2ISE": WelcomeState.SKIPPED,
        "vraie": WelcomeState.HELD,
    }
    again = run(roster, {r.person: r for r in found.changed}, quiet_minutes=0)
    assert states(again) == {}


def test_a_wave_waits_for_quiet_minutes_after_its_latest_arrival() -> None:
    roster = [member(7, "a", 50), member(8, "b", 10)]
    found = run(roster)
    assert found.due == [] and found.quiet_at == NOW + timedelta(minutes=20)
    later = run(roster, {r.person: r for r in found.changed}, now=NOW + timedelta(minutes=20))
    assert len(later.due) == 2


def test_someone_who_leaves_before_the_welcome_is_not_welcomed() -> None:
    rows = {r.person: r for r in run([member(7, "a", 5)]).changed}
    assert states(run([], rows)) == {next(iter(rows)): WelcomeState.SKIPPED}


def test_coming_back_after_rejoin_days_is_a_new_arrival_and_before_it_is_not() -> None:
    person = person_key(SECRET, 7)
    welcomed = WelcomeRow(
        person,
        NOW - timedelta(days=100),
        WelcomeState.WELCOMED,
        NOW,
        welcomed_at=NOW - timedelta(days=100),
    )
    back = [member(7, "a", 1)]
    assert run(back, {person: welcomed}).changed[0].state is WelcomeState.WELCOMED
    assert run(back, {person: welcomed}, rejoin_days=30).changed[0].state is WelcomeState.HELD
    known = welcomed.but(state=WelcomeState.KNOWN, welcomed_at=None)
    assert run(back, {person: known}).changed[0].state is WelcomeState.KNOWN
    # A welcome on its way keeps its key, whatever the new date.
    planned = welcomed.but(state=WelcomeState.PLANNED, step_key="welcome:x:1")
    assert run(back, {person: planned}).changed[0].step_key == "welcome:x:1"


def test_keys_name_nobody_and_are_stable() -> None:
    a, b = person_key(SECRET, 1234), person_key(b"other", 1234)
    assert a == person_key(SECRET, 1234) and a != b and "1234" not in a and len(a) == 16
    assert welcome_key(a, NOW) == f"welcome:{a}:20250421"
    assert wave_key([a, b]) == wave_key([b, a]) != wave_key([a])


def test_forgetting_a_member_takes_their_name_out_of_the_welcome_titles() -> None:
    from bridge.drafts import Draft, DraftKind
    from bridge.store import Store

    store = Store.memory("https://forum.exemple.ca", "cdp")
    store.save_people([(11, "marie", "Marie"), (12, "mariette", "Mariette")])
    key = welcome_key(person_key(SECRET, 11), NOW)
    for k, title in (
        (key, "Bienvenue à marie dans la CdP 2isE (21 avril 2025)"),
        (key + "x", "Bienvenue à mariette dans la CdP 2isE (21 avril 2025)"),
        ("announce:x", "Atelier avec marie"),
    ):
        store.ledger_intend(Draft(k, DraftKind.TOPIC, raw="x", title=title, category="c"), NOW)
    store.scrub_user(11)
    titles = {e.key: e.title for e in store.ledger_entries()}
    assert titles[key] == "Bienvenue à anonyme dans la CdP 2isE (21 avril 2025)"
    assert titles[key + "x"] == "Bienvenue à mariette dans la CdP 2isE (21 avril 2025)"
    assert titles["announce:x"] == "Atelier avec marie"  # the committee's words, not a welcome
