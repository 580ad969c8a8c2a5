"""What every part of the store shares: opening the file, transactions, locks, the
(site, community) scope, and how timestamps and searchable text are stored."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Self

from sqlite_utils import Database

from bridge.errors import StoreError, os_error_words
from bridge.store.schema import migrations

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})


def searchable(text: str) -> str:
    """Text as the search index holds it: compatibility forms (pasted « ﬁ ») and the French
    ligatures « œ », « æ » spelled out, so « oeuvre » finds « œuvre ». FTS5's tokenizer folds
    case and accents."""
    return unicodedata.normalize("NFKC", text or "").translate(_LIGATURES)


def iso(value: datetime | None) -> str | None:
    """Timestamps are stored as ISO 8601 text in UTC, which sorts as time does."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).isoformat()


def parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    # SQLite says "database is locked" (SQLITE_BUSY) or "database table is locked".
    return "locked" in str(exc) or "busy" in str(exc)


@contextmanager
def busy_is_a_store_error() -> Iterator[None]:
    """Another process holding the file past the busy timeout is said in words; any other
    SQLite error (a missing column: a bug) goes on as it is."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if not _is_busy(exc):
            raise
        raise StoreError(
            "la base locale est occupée par un autre processus de la passerelle "
            "(par exemple le service) ; réessayez dans un instant"
        ) from None


class StoreBusy(StoreError):
    """Another process held a lock of the store past the time this one would wait."""


def lock_path(store_path: str | Path, name: str) -> Path:
    return Path(f"{store_path}.{name}.lock")


@contextmanager
def file_lock(
    store_path: str | Path,
    name: str,
    wait: float | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """An advisory lock beside the store file, held by this process until the block ends.

    The kernel drops it when the process dies, however it dies: a crash never leaves it stuck.
    The holder's pid is written in the file, for the message of whoever finds it taken.
    """
    path = lock_path(store_path, name)
    with open(path, "a+") as handle:
        if wait is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        else:
            deadline = clock() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if clock() >= deadline:
                        raise StoreBusy(
                            f"{store_path} : une autre tâche de la passerelle (le service "
                            f"bridge run ou une autre commande{_holder_words(handle)}) l'utilise "
                            f"depuis plus de {wait:.0f} s ; réessayez quand elle aura fini"
                        ) from None
                    sleep(min(0.2, max(0.0, deadline - clock())))
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _holder_words(handle: IO[str]) -> str:
    handle.seek(0)
    pid = handle.read().strip()
    return f", processus {pid}" if pid.isdigit() else ""


def lock_holder(store_path: str | Path, name: str) -> int | None:
    """The pid holding the lock `name` of the store, or None when nobody holds it."""
    path = lock_path(store_path, name)
    if not path.exists():
        return None
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip()
            return int(pid) if pid.isdigit() else 0
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None


def backup(store_path: str | Path, target: str | Path) -> int:
    """Copy the store to `target` with SQLite's online backup API: consistent even while the
    service writes. Written beside the target, then renamed: a failed copy never looks like a
    good one. Returns the copy's size in bytes."""
    target = Path(target)
    partial = target.with_name(target.name + ".partiel")
    try:
        source = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
        partial.replace(target)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"{store_path} : copie impossible vers {target} ({exc})") from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"{target} : écriture impossible ({os_error_words(exc)})") from None
    return target.stat().st_size


class StoreBase:
    """The store's state and plumbing; `Store` adds one mixin per concern on top."""

    # How long a write waits for another process's transaction before it gives up.
    BUSY_TIMEOUT_MS = 5000

    def __init__(self, db: Database, site: str, community: str):
        self.db = db
        self.site = site
        self.community = community
        self._held: dict[str, int] = {}

    # --- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, site: str, community: str) -> Self:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = Database(path)
            db.enable_wal()
            # Several processes (the service and a command) may share the file.
            db.execute(f"PRAGMA busy_timeout = {int(cls.BUSY_TIMEOUT_MS)}")
            # What is deleted (an erased account's name, a deleted post's text) is overwritten
            # with zeros, not left in the file's free space.
            db.execute("PRAGMA secure_delete = ON")
        except OSError as exc:
            raise StoreError(
                f"{path} : impossible d'ouvrir la base locale ({os_error_words(exc)})"
            ) from None
        except sqlite3.Error as exc:
            raise StoreError(f"{path} : impossible d'ouvrir la base locale ({exc})") from None
        store = cls(db, site, community)
        store.migrate()
        return store

    @classmethod
    def memory(cls, site: str = "http://test", community: str = "test") -> Self:
        store = cls(Database(memory=True), site, community)
        store.migrate()
        return store

    def migrate(self) -> None:
        try:
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"la base locale est illisible ou d'une version inconnue ({exc})"
            ) from None

    @classmethod
    def snapshot(cls, path: str | Path, site: str, community: str) -> Self:
        """A private in-memory copy of the store file, or an empty store if there is none.

        For dry runs, `status` and `check`, which promise to write nothing: not even to
        create the file or bring an older one up to date.
        """
        path = Path(path)
        memory = sqlite3.connect(":memory:")
        if path.exists():
            try:
                source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
                try:
                    source.backup(memory)
                finally:
                    source.close()
            except sqlite3.Error as exc:
                raise StoreError(f"{path}: impossible de lire la base locale ({exc})") from None
        store = cls(Database(memory), site, community)
        store.migrate()
        return store

    @staticmethod
    def file_scopes(path: str | Path) -> list[tuple[str, str]] | None:
        """The (site, community) pairs any row of the file belongs to (mirror, runs, ledger,
        announcements), or None if it is not a store of the bridge. Reads only."""
        try:
            db = Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
            try:
                if "_sqlite_migrations" not in db.table_names():
                    return None
                found: set[tuple[str, str]] = set()
                for table in db.tables:
                    if {"site", "community"} <= set(table.columns_dict):
                        rows = db.execute(f"select distinct site, community from [{table.name}]")
                        found.update((site, community) for site, community in rows.fetchall())
                return sorted(found)
            finally:
                db.close()
        except sqlite3.Error:
            return None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def exclusive(self, name: str, wait: float | None = None) -> Iterator[None]:
        """Hold a lock shared by every process using this store file (none for in-memory).

        Re-entrant within one Store: a job that holds it may call a publisher that takes it.
        `wait`: give up after that many seconds (`StoreBusy`) rather than wait forever.
        """
        path = self.path
        if not path or self._held.get(name):
            self._held[name] = self._held.get(name, 0) + 1
            try:
                yield
            finally:
                self._held[name] -= 1
            return
        with file_lock(path, name, wait):
            self._held[name] = 1
            try:
                yield
            finally:
                self._held[name] = 0

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction; the outermost takes the write lock at once (BEGIN IMMEDIATE).

        A deferred transaction that reads, then writes, fails at once with "database is
        locked" if another process wrote in between; an immediate one waits its turn.
        """
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield
            return
        with busy_is_a_store_error():
            conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            with busy_is_a_store_error():
                conn.execute("COMMIT")

    @property
    def _scope(self) -> dict[str, str]:
        return {"site": self.site, "community": self.community}

    # Every query of a table whose rows belong to a community starts from this scope.
    _WHERE = "site = :site and community = :community"

    @property
    def path(self) -> str | None:
        """The store's file, or None for an in-memory store."""
        return self.db.execute("pragma database_list").fetchone()[2] or None
