"""The local store: the only package that knows table names and SQL.

SQLite through sqlite-utils, in WAL mode, its schema built by forward-only migrations. A file
may hold several communities of one or several sites: every row that belongs to one carries
`(site, community)` in its key, and a `Store` reads and writes only its own community's rows.
Cursors move only inside the transaction that saves the rows they cover. What leaves the store
is typed (dataclasses with `from_row`), never a row.

One module per concern, each a mixin of `Store`:
  schema         the migrations (recorded by name in every database: never rename one)
  base           opening, snapshots, transactions, locks, scope; `iso`, `parse_iso`, `searchable`
  forum          categories, topics, posts, people, group members, cursors
  deletion       deleted topics and posts, departed members, erased accounts
  ledger         the publishing ledger (`LedgerEntry`, `LedgerState`)
  catalog        toolbox entries, cartography cards, the search index
  job_runs       job runs (`JobRun`, `RunStatus`)
  announcements  the committee's announcements (`StoredAnnouncement`)
  activity       what happened over a week, for the digest, and the figures of past weeks
  welcome        the welcome's secret and the members it has seen join
  forgotten      the forget list, and the masks every save of the forum passes through
  forget         forgetting one person at their request (`bridge forget`)
  access         everything the store holds about one person (`bridge export member`)
  tables         the tables in people's words (Datasette's titles for `bridge browse`)
"""

from __future__ import annotations

from bridge.store.access import AccessMixin, MemberRecord
from bridge.store.activity import (
    ActivityMixin,
    ActivityPost,
    GroupJoin,
    OpenedTopic,
    WeekFigures,
)
from bridge.store.announcements import (
    AnnouncementFields,
    AnnouncementsMixin,
    StoredAnnouncement,
)
from bridge.store.base import (
    StoreBusy,
    backup,
    file_lock,
    iso,
    lock_holder,
    parse_iso,
    searchable,
)
from bridge.store.catalog import SearchHit
from bridge.store.deletion import ERASED_NAME, DeletionMixin
from bridge.store.forget import ForgetCounts, ForgetMixin, Person
from bridge.store.forgotten import FORGOTTEN_NAME
from bridge.store.forum import ForumMixin, MirrorCounts, StoredCategory, StoredPost, StoredTopic
from bridge.store.job_runs import JobRun, JobRunsMixin, RunStatus
from bridge.store.ledger import LedgerEntry, LedgerMixin, LedgerState
from bridge.store.schema import migrations
from bridge.store.tables import HIDDEN_TABLES, TABLE_TITLES
from bridge.store.welcome import FollowUp, WelcomeMixin, WelcomeRow, WelcomeState

__all__ = [
    "ActivityPost",
    "AnnouncementFields",
    "GroupJoin",
    "OpenedTopic",
    "WeekFigures",
    "ERASED_NAME",
    "FORGOTTEN_NAME",
    "ForgetCounts",
    "MemberRecord",
    "Person",
    "HIDDEN_TABLES",
    "FollowUp",
    "WelcomeRow",
    "WelcomeState",
    "TABLE_TITLES",
    "JobRun",
    "LedgerEntry",
    "LedgerState",
    "MirrorCounts",
    "RunStatus",
    "SearchHit",
    "Store",
    "StoreBusy",
    "backup",
    "file_lock",
    "lock_holder",
    "StoredAnnouncement",
    "StoredCategory",
    "StoredPost",
    "StoredTopic",
    "iso",
    "migrations",
    "parse_iso",
    "searchable",
]


class Store(
    ForgetMixin,
    AccessMixin,
    ForumMixin,
    DeletionMixin,
    LedgerMixin,
    JobRunsMixin,
    AnnouncementsMixin,
    ActivityMixin,
    WelcomeMixin,
):
    """One community's view of the store: every query is scoped to (site, community)."""
