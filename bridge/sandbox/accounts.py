"""Users, groups, memberships and API keys: the people side of the sandbox's `World`.

A mixin, so that tests call `world.add_member(...)` on the world itself while this module stays
about accounts only. It uses the world's lock, clock and id counters.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from datetime import datetime

from .model import ApiKey, Group, Membership, User


class Accounts:
    """Account state and operations; `World` provides `lock`, `now()` and `_id()`."""

    lock: threading.RLock

    def _init_accounts(self) -> None:
        self.users: dict[int, User] = {}
        self.groups: dict[str, Group] = {}  # by lowercase name
        self.api_keys: dict[str, ApiKey] = {}
        self._by_username: dict[str, User] = {}

    def now(self) -> datetime:
        raise NotImplementedError

    def _id(self, kind: str) -> int:
        raise NotImplementedError

    def add_user(
        self,
        username: str,
        name: str | None,
        *,
        created_at: datetime | None = None,
        admin: bool = False,
        moderator: bool = False,
        trust_level: int = 1,
        **profile: object,
    ) -> User:
        """Create an account (or return the existing one of that username)."""
        with self.lock:
            existing = self._by_username.get(username.lower())
            if existing is not None:
                return existing
            user = User(
                id=self._id("user"),
                username=username,
                name=name,
                created_at=created_at or self.now(),
                admin=admin,
                moderator=moderator,
                trust_level=trust_level,
                **profile,  # type: ignore[arg-type]
            )
            user.last_seen_at = user.last_seen_at or user.created_at
            self.users[user.id] = user
            self._by_username[username.lower()] = user
            return user

    def find_user(self, username: str) -> User | None:
        with self.lock:
            return self._by_username.get(username.lower())

    def user(self, username: str) -> User:
        found = self.find_user(username)
        if found is None:
            raise KeyError(f"no user {username!r}")
        return found

    def add_group(self, name: str, full_name: str, *, messageable_level: int = 0) -> Group:
        """A group; like Discourse's, nobody may message it unless `messageable_level` says so
        (see `Group`)."""
        with self.lock:
            group = self.groups.get(name.lower())
            if group is None:
                group = Group(
                    id=self._id("group"),
                    name=name,
                    full_name=full_name,
                    messageable_level=messageable_level,
                )
                self.groups[name.lower()] = group
            return group

    def group(self, name: str) -> Group:
        with self.lock:
            return self.groups[name.lower()]

    def add_member(
        self,
        username: str,
        name: str | None,
        joined_at: datetime,
        group: str = "cdp-2ise",
        *,
        owner: bool = False,
    ) -> User:
        """Add a user to a group at `joined_at`, creating the account (at that date) if needed."""
        with self.lock:
            user = self.add_user(username, name, created_at=joined_at)
            target = self.groups.get(group.lower()) or self.add_group(group, group)
            target.members[user.id] = Membership(user=user, added_at=joined_at, owner=owner)
            return user

    def remove_member(self, username: str, group: str = "cdp-2ise") -> None:
        with self.lock:
            self.group(group).members.pop(self.user(username).id, None)

    def add_api_key(
        self, key: str, username: str | None, scopes: Iterable[str] | None = None
    ) -> ApiKey:
        """Register a key: single-user when `username` is given, global unless `scopes`."""
        with self.lock:
            api_key = ApiKey(key, username, frozenset(scopes) if scopes is not None else None)
            self.api_keys[key] = api_key
            return api_key

    def anonymize_user(self, username: str) -> User:
        """What Discourse's UserAnonymizer does: a new anonXXXXXXXX name, profile wiped, keys
        revoked; the id, the posts and the group memberships stay."""
        with self.lock:
            user = self.user(username)
            del self._by_username[user.username.lower()]
            digest = hashlib.sha256(f"anon:{user.id}".encode()).hexdigest()
            user.username = f"anon{digest[:8]}"
            user.name = None
            user.title = None
            user.bio_raw = user.location = user.website = ""
            self._by_username[user.username.lower()] = user
            self._revoke_keys(username)
            return user

    def _revoke_keys(self, username: str) -> None:
        for api_key in self.api_keys.values():
            if api_key.username and api_key.username.lower() == username.lower():
                api_key.revoked = True
