"""`bridge forget` of a member the bridge welcomed: the welcome topic's title names them by
username (« Bienvenue à rosalie.nadeau … »); after forget that name is nowhere in the store, nor
after the next sync reads the topic again."""

from __future__ import annotations

from pathlib import Path

from test_forget import on_disk, store_of
from test_welcome import T0, Clock, first_pass, join, ok, welcomes, workdir  # T0: fixtures' start

from bridge.sandbox import Sandbox
from bridge.store import FORGOTTEN_NAME

__all__ = ["T0", "workdir"]  # a fixture, and the start of the clock and sandbox fixtures

USERNAME, NAME = "rosalie.nadeau", "Rosalie Nadeau"


def test_forget_takes_a_welcomed_members_name_out_of_the_welcome_topic_title(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    first_pass(sandbox, clock)
    join(sandbox, clock, USERNAME, NAME)
    clock.advance(hours=1)
    ok("sync")
    ok("welcome")
    (topic,) = welcomes(sandbox)
    assert USERNAME in topic.title
    clock.advance(minutes=5)
    ok("sync")
    assert on_disk(workdir, USERNAME) == [USERNAME]  # the mirror holds the welcome topic

    ok("forget", USERNAME)
    assert on_disk(workdir, USERNAME, NAME, "rosalie") == []
    store = store_of(workdir)
    try:
        title = store.topic_state(topic.id)
        assert title is not None and title.title.startswith(f"Bienvenue à {FORGOTTEN_NAME} ")
        assert store.search("rosalie") == []
    finally:
        store.close()

    # The next syncs read the topic again, as the forum still titles it.
    clock.advance(days=1)
    ok("sync", "--full")
    assert on_disk(workdir, USERNAME, NAME, "rosalie") == []
