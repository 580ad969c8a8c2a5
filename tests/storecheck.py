"""The store's integrity, read from the file itself (read-only), as after a crash: SQLite's own
checks, then the bridge's promises (no orphan post, cursors never ahead of the rows they cover,
a ledger whose done entries name a post that is on the forum, never two entries for one post).

Returns the problems found, in plain words: an empty list is a sound store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bridge.sandbox import World

# Each cursor and the newest stored value it may not pass (mirror.py's CURSOR_*).
_CURSOR_LIMITS = {
    "topics_bumped_at": "select max(bumped_at) from topics",
    "members_added_at": "select max(added_at) from group_members",
}

# The ledger's kinds that create a post (bridge.drafts.DraftKind); edits and pins name one.
_CREATES = ("topic", "reply", "private_message")


def problems(db: Path, world: World) -> list[str]:
    found: list[str] = []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        found += _sqlite(conn)
        found += _mirror(conn)
        found += _ledger(conn, world)
    finally:
        conn.close()
    return found


def _sqlite(conn: sqlite3.Connection) -> list[str]:
    found = []
    integrity = [r[0] for r in conn.execute("pragma integrity_check")]
    if integrity != ["ok"]:
        found.append(f"integrity_check : {integrity}")
    foreign = conn.execute("pragma foreign_key_check").fetchall()
    if foreign:
        found.append(f"foreign_key_check : {foreign}")
    return found


def _mirror(conn: sqlite3.Connection) -> list[str]:
    found = []
    orphans = conn.execute(
        "select p.id, p.topic_id from posts p left join topics t "
        "on t.site = p.site and t.id = p.topic_id where t.id is null"
    ).fetchall()
    if orphans:
        found.append(f"messages sans sujet : {orphans}")
    cursors = dict(conn.execute("select name, value from cursors").fetchall())
    for name, query in _CURSOR_LIMITS.items():
        newest = conn.execute(query).fetchone()[0]
        if name in cursors and (newest is None or cursors[name] > newest):
            found.append(f"curseur {name} = {cursors[name]} devant les données ({newest})")
    if "category_id" in cursors:
        known = conn.execute(
            "select count(*) from categories where id = ?", (int(cursors["category_id"]),)
        ).fetchone()[0]
        if not known:
            found.append(f"curseur category_id = {cursors['category_id']} : catégorie absente")
    return found


def _ledger(conn: sqlite3.Connection, world: World) -> list[str]:
    found = []
    rows = conn.execute(
        "select key, kind, state, topic_id, post_id, post_number from ledger"
    ).fetchall()
    with world.lock:
        for key, kind, state, topic_id, post_id, post_number in rows:
            if state != "done" or kind not in _CREATES:
                continue
            if not topic_id or not post_id:
                found.append(f"registre {key} : fait, sans ses identifiants")
                continue
            on_forum = {p.id: p for p in world.posts_in(topic_id)}
            post = on_forum.get(post_id)
            if post is None or post.post_number != post_number:
                found.append(f"registre {key} : message {post_id} absent du sujet {topic_id}")
        written = [r[4] for r in rows if r[2] == "done" and r[4] and r[1] in _CREATES]
        doubles = sorted({p for p in written if written.count(p) > 1})
        if doubles:
            found.append(f"registre : plusieurs entrées pour les messages {doubles}")
    return found
