"""Reading the store's tables directly, as a facilitator's audit would (tests only)."""

from __future__ import annotations

from bridge.store import Store


def count_rows(store: Store, table: str) -> int:
    """Rows of this store's community in a table, deleted ones included."""
    row = store.db.execute(
        f"select count(*) from [{table}] where site = ? and community = ?",
        [store.site, store.community],
    ).fetchone()
    return int(row[0])
