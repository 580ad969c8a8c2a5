"""The local store: the only module that knows table names and SQL.

SQLite through sqlite-utils, in WAL mode, its schema built by forward-only migrations. Every row
records the site and the watched category it came from, so one file could serve several
communities. Cursors move only inside the transaction that saves the rows they cover.

One module per concern, each a mixin of `Store`:
  schema         the migrations (recorded by name in every database: never rename one)
  base           opening, snapshots, transactions, locks, scope; `iso`, `parse_iso`, `searchable`
  mirror         categories, topics, posts, people, group members, cursors
  deletion       deleted topics and posts, departed members, erased accounts
  ledger         the publishing ledger (`LedgerEntry`)
  catalog        toolbox entries, cartography cards, the search index
  runs           job runs (`JobRun`)
  announcements  the committee's announcements (`StoredAnnouncement`)
"""

from __future__ import annotations

from bridge.store.announcements import AnnouncementsMixin, StoredAnnouncement
from bridge.store.base import iso, parse_iso, searchable
from bridge.store.catalog import CatalogMixin
from bridge.store.deletion import ERASED_NAME, DeletionMixin
from bridge.store.ledger import LedgerEntry, LedgerMixin
from bridge.store.mirror import MirrorMixin
from bridge.store.runs import JobRun, RunsMixin
from bridge.store.schema import migrations

__all__ = [
    "ERASED_NAME",
    "JobRun",
    "LedgerEntry",
    "Store",
    "StoredAnnouncement",
    "iso",
    "migrations",
    "parse_iso",
    "searchable",
]


class Store(MirrorMixin, DeletionMixin, LedgerMixin, CatalogMixin, RunsMixin, AnnouncementsMixin):
    """One community's view of the store: every query is scoped to (site, community)."""
