"""What the forum no longer has: deleted topics and posts, departed members, erased accounts.

Deleted rows are kept as ids and numbers, emptied of text and names; an erased person's name
is rewritten wherever others wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial

from bridge.store.catalog import CatalogMixin
from bridge.store.forgotten import replace_named

# What an erased account's name becomes where others mentioned or quoted it.
ERASED_NAME = "anonyme"


def _name_in_text(username: str) -> re.Pattern[str]:
    """A username where a post names someone: a mention (`@name`, not inside an address), a
    profile link, a quote; never as the start of a longer username."""
    return re.compile(
        r"(?:(?<![\w@/.-])(@)|(/u/)|(data-username=\")|(\[quote=\"?))"
        + re.escape(username)
        + r"(?![\w-]|\.\w)",
        re.IGNORECASE,
    )


class DeletionMixin(CatalogMixin):  # a deleted topic's entries and search documents go too
    # --- deletion and erasure ----------------------------------------------------------------

    def mark_topics_deleted(self, topic_ids: Sequence[int]) -> None:
        """Deleted on the forum: kept as rows marked deleted, excluded everywhere else."""
        for topic_id in topic_ids:
            params = {**self._scope, "id": topic_id}
            self.db.execute(
                f"update topics set deleted = 1 where {self._WHERE} and id = :id", params
            )
            self.db.execute(
                f"update posts set deleted = 1 where {self._WHERE} and topic_id = :id", params
            )
        self.drop_entries(topic_ids)

    def erase_deleted(self, topic_ids: Sequence[int] | None = None) -> int:
        """Empty the deleted posts and topics (of these topics, or all) of their text and their
        author's name; their ids and numbers stay. Return how many rows were emptied."""
        posts = topics = ""
        if topic_ids is not None:
            marks = ", ".join(str(int(i)) for i in topic_ids) or "null"
            posts, topics = f" and topic_id in ({marks})", f" and id in ({marks})"
        emptied = self.db.execute(
            "update posts set raw = null, cooked = null, username = null "
            f"where {self._WHERE} and deleted = 1 and (raw is not null or cooked is not null "
            f"or username is not null){posts}",
            self._scope,
        ).rowcount
        emptied += self.db.execute(
            "update topics set last_poster_username = null "
            f"where {self._WHERE} and deleted = 1 and last_poster_username is not null{topics}",
            self._scope,
        ).rowcount
        return int(emptied)

    def compact_search_index(self) -> None:
        """Merge the search index into one segment. FTS5 only marks a removed document's words
        as deleted, in new pages; merging drops them from the file (with `secure_delete`)."""
        self.db.execute(
            "insert into search_documents_fts(search_documents_fts) values ('optimize')"
        )

    def mark_posts_deleted(self, topic_id: int, keep_ids: set[int], up_to_number: int) -> int:
        """Mark deleted the stored posts up to `up_to_number` that the forum no longer has."""
        gone = [
            r["id"]
            for r in self.db.query(
                f"select id from posts where {self._WHERE} and topic_id = :t and deleted = 0 "
                "and post_number <= :n",
                {**self._scope, "t": topic_id, "n": up_to_number},
            )
            if r["id"] not in keep_ids
        ]
        for post_id in gone:
            self.db.execute(
                f"update posts set deleted = 1 where {self._WHERE} and id = :id",
                {**self._scope, "id": post_id},
            )
        return len(gone)

    def forget_absent_people(self, group: str) -> int:
        """Delete the profiles of people neither in `group` nor author of a live post (the
        mirror has no reason left to hold their name); return how many."""
        cursor = self.db.execute(
            f"delete from users where {self._WHERE} and id not in "
            f"(select user_id from group_members where {self._WHERE} and group_name = :g) "
            f"and id not in (select user_id from posts where {self._WHERE} and deleted = 0 "
            "and user_id is not null)",
            {**self._scope, "g": group},
        )
        return int(cursor.rowcount)

    def remove_group_members(self, group: str, user_ids: Sequence[int]) -> None:
        for user_id in user_ids:
            self.db.execute(
                f"delete from group_members where {self._WHERE} and group_name = :g "
                "and user_id = :u",
                {**self._scope, "g": group, "u": user_id},
            )

    def scrub_user(self, user_id: int, new_username: str | None = None) -> list[int]:
        """Remove a person's personal data: their profile, memberships and name on posts.

        Their posts stay (they belong to the community's conversation) under `new_username`
        (Discourse's anonymous name), or none. Their old name is rewritten where others wrote
        it, in @mentions and quotes (as Discourse does when it renames an account), to the new
        name or « anonyme ». Return the topics whose text changed: their search documents and
        entries are to be refreshed.
        """
        params = {**self._scope, "u": user_id, "n": new_username}
        old_names = {
            r["username"]
            for r in self.db.query(
                f"select username from users where {self._WHERE} and id = :u "
                f"union select username from posts where {self._WHERE} and user_id = :u "
                f"union select username from group_members where {self._WHERE} and user_id = :u",
                params,
            )
            if r["username"]
        }
        for old in old_names:
            renamed = {**params, "old": old}
            self.db.execute(
                "update topics set last_poster_username = :n "
                f"where {self._WHERE} and last_poster_username = :old",
                renamed,
            )
            for table in ("toolbox_entries", "cartography_cards"):
                self.db.execute(
                    f"update [{table}] set author = :n where {self._WHERE} and author = :old",
                    renamed,
                )
        touched = self._rewrite_name(old_names, new_username or ERASED_NAME)
        self._forget_in_welcome_titles(old_names, new_username or ERASED_NAME)
        self.db.execute(f"delete from users where {self._WHERE} and id = :u", params)
        self.db.execute(f"delete from group_members where {self._WHERE} and user_id = :u", params)
        self.db.execute(
            f"update posts set username = :n where {self._WHERE} and user_id = :u", params
        )
        return touched

    def _forget_in_welcome_titles(self, old_names: set[str], new: str) -> None:
        """A welcome's title names its member (« Bienvenue à marie.t … »): the ledger keeps
        titles, so the name goes from there too; its key names nobody already."""
        for old in old_names:
            word = re.compile(rf"(?<![\w.-]){re.escape(old)}(?![\w-]|\.\w)")
            for row in self.db.query(
                f"select key, title from ledger where {self._WHERE} and key like 'welcome:%' "
                "and title like :like",
                {**self._scope, "like": f"%{old}%"},
            ):
                title = word.sub(new, row["title"])
                if title != row["title"]:
                    self.db.table("ledger").update(
                        (self.site, self.community, row["key"]), {"title": title}
                    )

    def _rewrite_name(self, old_names: set[str], new: str) -> list[int]:
        """Replace `@old`, `/u/old`, `data-username="old"` and `[quote="old` in the raw and
        cooked text of stored posts; return the topics touched."""
        touched: set[int] = set()
        for old in old_names:
            pattern = _name_in_text(old)
            touched.update(
                self._rewrite_posts(old, partial(pattern.sub, partial(replace_named, new=new)))
            )
        return sorted(touched)

    def _rewrite_posts(self, needle: str, rewrite: Callable[[str], str]) -> list[int]:
        """Pass the raw and cooked text of the stored posts holding `needle` through `rewrite`;
        return the topic of each post it changed (once per post)."""
        changed = []
        for row in self.db.query(
            f"select id, topic_id, raw, cooked from posts where {self._WHERE} and "
            "(raw like :like or cooked like :like)",
            {**self._scope, "like": f"%{needle}%"},
        ):
            values = {c: rewrite(row[c]) for c in ("raw", "cooked") if row[c]}
            if any(values[c] != row[c] for c in values):
                self.db.table("posts").update((self.site, self.community, row["id"]), values)
                changed.append(row["topic_id"])
        return changed
