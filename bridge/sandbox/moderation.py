"""Posts withdrawn by their author and posts hidden by flags: the moderation side of `World`.

A mixin, like `Accounts`: tests call `world.withdraw_post(...)` on the world itself. What each
method does follows Discourse's own code, named on each method; none of it changes a topic's
posts_count, and only an edit of the topic's last post bumps it (`World.edit_post`).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from .model import REGULAR, Post, Topic

# The placeholder raw of a withdrawn post, in the site's default locale (client.en.yml,
# `js.post.deleted_by_author_simple` / `js.topic.deleted_by_author_simple`; Discourse before
# 2023 said "(post withdrawn by author, will be automatically deleted in %{count} hours unless
# flagged)"). The mirror never reads it: it goes by `user_deleted`.
WITHDRAWN_POST = "(post deleted by author)"
WITHDRAWN_TOPIC = "(topic deleted by author)"
# PostSerializer#cooked for a hidden post read by someone not staff (server.en.yml,
# `flagging.user_must_edit`).
HIDDEN_COOKED = "<p>This post was flagged by the community and is temporarily hidden.</p>"


class Moderation:
    """Withdrawals, take-backs, hiding; `World` provides the state and the post mutations."""

    lock: threading.RLock
    posts: dict[int, Post]
    topics: dict[int, Topic]
    delete_removed_posts_after: int

    def now(self) -> datetime:
        raise NotImplementedError

    def edit_post(
        self, post_id: int, raw: str, at: datetime | None = None, *, edit_reason: str | None = None
    ) -> None:
        raise NotImplementedError

    def delete_post(self, post_id: int, at: datetime | None = None) -> None:
        raise NotImplementedError

    def set_status(
        self,
        topic_id: int,
        status: str,
        enabled: bool,
        *,
        until: datetime | None = None,
        by: str | None = None,
    ) -> None:
        raise NotImplementedError

    def posts_in(self, topic_id: int) -> list[Post]:
        raise NotImplementedError

    def withdraw_post(self, post_id: int, at: datetime | None = None) -> None:
        """The author deletes their own post (lib/post_destroyer.rb, PostDestroyer#destroy,
        which calls #mark_for_deletion for a non-staff author while
        `SiteSetting.delete_removed_posts_after` is 1 or more): the raw becomes the
        placeholder through PostRevisor (a new version; it bumps the topic only if this is its
        last post), `user_deleted` is set, `deleted_at` stays null, and a first post closes its
        topic (`update_column(:closed, true)`: no small action). With the setting at 0 the post
        is deleted outright (#perform_delete)."""
        with self.lock:
            post = self.posts[post_id]
            if self.delete_removed_posts_after < 1:
                self.delete_post(post_id, at)
                return
            if post.user_deleted:
                return
            moment = at or self.now()
            previous = post.raw
            placeholder = WITHDRAWN_TOPIC if post.post_number == 1 else WITHDRAWN_POST
            self.edit_post(post_id, placeholder, moment)
            post.withdrawn_raw = previous
            post.withdrawn_at = moment
            post.user_deleted = True
            if post.post_number == 1:
                self.topics[post.topic_id].closed = True

    def take_back_post(self, post_id: int, at: datetime | None = None) -> None:
        """The author recovers a withdrawn post (PostDestroyer#recover → #user_recovered):
        `user_deleted` cleared, a first post reopens its topic, and the raw of the last revision
        comes back through PostRevisor (another version; a bump if it is the last post)."""
        with self.lock:
            post = self.posts[post_id]
            if not post.user_deleted:
                return
            post.user_deleted = False
            if post.post_number == 1:
                self.topics[post.topic_id].closed = False
            if post.withdrawn_raw is not None:
                self.edit_post(post_id, post.withdrawn_raw, at or self.now())
            post.withdrawn_raw = post.withdrawn_at = None

    def destroy_stubs(self) -> int:
        """The scheduled job (PostDestroyer.destroy_stubs): withdrawn posts last changed more
        than `delete_removed_posts_after` hours ago are deleted for real, by the system user
        (#perform_delete: `deleted_at` set, posts_count drops; a first post takes its topic).
        Returns how many went."""
        with self.lock:
            limit = self.now() - timedelta(hours=self.delete_removed_posts_after)
            due = [
                p
                for p in self.posts.values()
                if p.user_deleted
                and p.deleted_at is None
                and self.topics[p.topic_id].deleted_at is None
                and p.updated_at < limit
            ]
            for post in due:
                self.delete_post(post.id)
            return len(due)

    def hide_post(self, post_id: int, at: datetime | None = None) -> None:
        """Flags reach the threshold (app/models/post.rb, Post#hide!): `hidden` set, and when no
        regular post of the topic is left visible the topic is unlisted through
        TopicStatusUpdater (`update_status("visible", false)`, a small action). No bump, no
        change to posts_count."""
        with self.lock:
            post = self.posts[post_id]
            if post.hidden:
                return
            post.hidden = True
            post.hidden_at = at or self.now()
            topic = self.topics[post.topic_id]
            shown = [p for p in self.posts_in(topic.id) if p.post_type == REGULAR and not p.hidden]
            if not shown and topic.visible:
                self.set_status(topic.id, "visible", False, by=None)

    def unhide_post(self, post_id: int) -> None:
        """Staff agree the flags were wrong (Post#unhide!): `hidden` cleared, and a first post
        lists its topic again (`update_status("visible", true)`, a small action)."""
        with self.lock:
            post = self.posts[post_id]
            if not post.hidden:
                return
            post.hidden = False
            topic = self.topics[post.topic_id]
            if post.post_number == 1 and not topic.visible:
                self.set_status(topic.id, "visible", True, by=None)
