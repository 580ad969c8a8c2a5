"""`bridge forget` and `bridge export member` against the sandbox: the person's name is nowhere
in the store after forget (every table, the search index's terms, the file's bytes and its
write-ahead log), nor after the next syncs that read their posts again; the welcome never
welcomes them twice; the dry run writes nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from test_mirror import secure_delete_off_by_default, traces
from test_welcome import (  # T0: the clock and sandbox fixtures start there
    T0,
    Clock,
    bridge,
    first_pass,
    join,
    ok,
    welcomes,
    workdir,
    write_config,
)

from bridge.config import load_config
from bridge.sandbox import Sandbox
from bridge.store import FORGOTTEN_NAME, Store

__all__ = ["T0", "secure_delete_off_by_default", "workdir"]  # fixtures, and their start

USERNAME, NAME = "melyssa.mongeau", "Mélyssa Mongeau"
DISCUSSION = "Comment mesurer l'impact social d'un petit projet ?"


def store_of(workdir: Path) -> Store:
    config = load_config(workdir / "config.yaml")
    return Store.open(config.store_path, config.site, config.community.category)


def file_bytes(workdir: Path) -> bytes:
    """The database file and its write-ahead log, as they are on disk."""
    db = workdir / "data" / "bridge.db"
    wal = db.with_name("bridge.db-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def on_disk(workdir: Path, *needles: str) -> list[str]:
    data = file_bytes(workdir)
    return [n for n in needles if n.encode() in data or n.lower().encode() in data]


def assert_forgotten(workdir: Path) -> None:
    assert on_disk(workdir, USERNAME, NAME, "Mongeau") == []
    store = store_of(workdir)
    try:
        assert traces(store, USERNAME, NAME) == []
        assert store.search("melyssa") == [] and store.search("mongeau") == []
        assert not any("mail" in c for t in store.db.tables for c in t.columns_dict)
    finally:
        store.close()


def test_forget_takes_a_member_out_of_the_store_and_keeps_them_out(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    world = sandbox.world
    user_id = world.user(USERNAME).id
    # A member back after a day would be welcomed again: not a forgotten one.
    write_config(workdir, sandbox.url, "rejoin_days: 1")
    first_pass(sandbox, clock)
    assert on_disk(workdir, USERNAME, NAME) != []  # the audit does see them
    before = hashlib.sha256(file_bytes(workdir)).hexdigest()

    dry = ok("forget", "--dry-run", USERNAME)
    assert dry.output.startswith(f"Essai, rien n'est écrit. Oublier « {USERNAME} » retirerait :")
    assert hashlib.sha256(file_bytes(workdir)).hexdigest() == before

    # The service has the file open: its pages are not folded in by a last close.
    service = sqlite3.connect(workdir / "data" / "bridge.db")
    service.execute("select count(*) from posts").fetchall()
    done = ok("forget", USERNAME.upper())
    assert on_disk(workdir, USERNAME, NAME, "Mongeau") == []
    service.close()
    assert f"« {USERNAME} » est oublié·e. Retiré de la base locale :" in done.output
    assert "- profil : 1\n- adhésion au groupe : 1\n" in done.output
    assert "- mentions par d'autres : 1 message(s) réécrit(s)" in done.output
    assert "Son compte existe toujours sur le forum" in done.output
    # The dry run said the same counts.
    assert dry.output.splitlines()[1:10] == done.output.splitlines()[1:10]
    assert_forgotten(workdir)
    store = store_of(workdir)
    try:
        discussion = world.find_topic_by_title(DISCUSSION)
        assert discussion is not None
        mention = next(p for p in store.posts_of(discussion.id) if p.raw and "Je rejoins" in p.raw)
        assert mention.raw.startswith(f"Je rejoins {FORGOTTEN_NAME} : mieux vaut")
        own = [p for p in store.db["posts"].rows if p["username"] == FORGOTTEN_NAME]
        assert len(own) == len(world.posts_by(USERNAME)) and {p["user_id"] for p in own} == {None}
        authors = {e.author for e in [*store.toolbox_entries(), *store.cards()]}
        assert FORGOTTEN_NAME in authors and USERNAME not in authors
    finally:
        store.close()

    exported = json.loads(ok("export", "member", USERNAME).output)
    assert exported["données"] is None
    assert exported["note"].startswith(f"« {USERNAME} » a été oublié·e le 2025-04-21 :")
    again = ok("forget", USERNAME)
    assert "a été oublié·e le 2025-04-21" in again.output

    # On the forum, they write again, others mention them, they leave and come back.
    clock.advance(days=2)
    assert discussion is not None
    world.add_reply(discussion.id, USERNAME, f"Merci ! — {NAME}, Magog")
    world.add_reply(discussion.id, "dfoley", f"D'accord avec @{USERNAME} sur ce point.")
    world.remove_member(USERNAME)
    join(sandbox, clock, USERNAME, NAME)
    join(sandbox, clock, "rosalie.nadeau", "Rosalie Nadeau")
    clock.advance(hours=2)
    assert "1 nouveau(x) membre(s)" in ok("sync", "--full").output  # Rosalie only
    ok("welcome")
    clock.advance(days=1)
    ok("welcome")

    assert [t for t in welcomes(sandbox) if USERNAME in t.title] == []
    assert [t for t in welcomes(sandbox) if "rosalie.nadeau" in t.title] != []
    store = store_of(workdir)
    try:
        assert user_id not in store.group_members("cdp-2ise")
        latest = store.posts_of(discussion.id)[-2:]
        assert [p.username for p in latest] == [FORGOTTEN_NAME, "dfoley"]
        assert latest[0].user_id is None
        assert latest[1].raw == f"D'accord avec {FORGOTTEN_NAME} sur ce point."
    finally:
        store.close()
    # Their own words stay, signed by nobody, without the full name the forum gives with them.
    assert on_disk(workdir, USERNAME, NAME) == []
    assert latest[0].raw == f"Merci ! — {FORGOTTEN_NAME}, Magog"
    clock.advance(days=5)
    ok("sync")
    digest = ok("digest", "--dry-run").output
    assert "Rosalie Nadeau" in digest
    assert USERNAME not in digest and NAME not in digest


def test_export_member_lists_what_the_store_holds_about_a_person(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    first_pass(sandbox, clock)
    out = workdir / "acces.json"
    ok("export", "member", "@Melyssa.Mongeau", "--output", str(out))
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["noms d'utilisateur·rice"] == [USERNAME]
    assert record["profil"]["name"] == NAME
    assert [m["group_name"] for m in record["adhésions"]] == ["cdp-2ise"]
    assert len(record["messages"]) == len(sandbox.world.posts_by(USERNAME))
    assert all(m["lien"].startswith(sandbox.url + "/t/") for m in record["messages"])
    assert {e["type"] for e in record["outils et fiches"]} == {"outil", "fiche"}
    assert len(record["mentions par d'autres"]) == 1
    assert record["accueil"]["état"] == "known"


def test_an_unknown_name_is_one_french_line_and_exit_2(
    workdir: Path, sandbox: Sandbox, clock: Clock
) -> None:
    ok("sync")
    for args in (("forget", "personne.inconnue"), ("export", "member", "personne.inconnue")):
        result = bridge(*args)
        assert result.exit_code == 2
        assert result.output == (
            "Erreur : « personne.inconnue » : personne de ce nom dans la base locale (ni "
            "profil, ni membre du groupe, ni auteur·e d'un message)\n"
        )
    result = bridge("export", "member")
    assert result.exit_code == 2 and result.output.count("\n") == 1
