"""The sandbox's in-memory forum: state, site settings, and direct mutations for tests and seeds.

Everything a request handler or a test reads or writes goes through `world.lock`, a re-entrant
lock, so the threaded server and a test mutating the world between requests never see half an
update. The mutation methods here act like an administrator would on a real site: they bump,
count and stamp as Discourse does, but skip the posting rules (length, duplicates, rate limits);
those rules apply to API writes and live in `rules.py`.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from .accounts import Accounts
from .cook import cook
from .model import (
    REGULAR,
    SMALL_ACTION,
    Category,
    Post,
    Topic,
    User,
    clean_tag,
    slugify,
)
from .moderation import Moderation
from .text import clean_raw, clean_title

STATUSES = ("pinned", "pinned_globally", "closed", "archived", "visible")
TAG_ERAS = ("names", "both", "objects")


class World(Accounts, Moderation):
    """A Discourse site in memory. Build one with `seed_world` or `build_world`."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("World needs a timezone-aware `now`")
        self.lock = threading.RLock()
        started = time.monotonic()
        # Time flows from `now` at the real pace unless a test injects its own clock (the
        # Sandbox's `now`): timestamps stay after the seed's dates and never jump backwards.
        self.clock: Callable[[], datetime] = lambda: (
            now + timedelta(seconds=time.monotonic() - started)
        )

        # Site settings, named after Discourse's where one exists.
        # Which Discourse the sandbox plays for tags (see TAG_ERAS): "objects" (2026.07 on) reads
        # and answers `{id, name, slug}` objects and drops names silently; "both" (2026.01 to
        # 2026.06) takes either and answers objects; "names" (before) takes and answers names.
        self.tag_era = "objects"
        self.rate_limit_per_minute: int | None = 12  # new posts/topics per non-staff user
        self.api_requests_per_minute: int | None = None  # all keys together; None: unlimited
        self.unique_posts_window = timedelta(hours=24)  # "too similar" look-back, non-staff
        self.min_topic_title_length = 15
        self.max_topic_title_length = 255
        self.min_post_length = 20
        self.min_first_post_length = 20
        self.min_personal_message_title_length = 2
        self.min_personal_message_post_length = 10
        self.max_post_length = 32_000
        self.title_prettify = True
        self.allow_uppercase_posts = False
        self.max_emojis_in_title = 3
        # PostValidator#max_mention_validator: staff are not limited.
        self.max_mentions_per_post = 10
        self.newuser_max_mentions_per_post = 2
        self.title_min_entropy = 10
        self.title_max_word_length = 30
        self.body_min_entropy = 7
        # PostsController#create memoises identical API creates this long (DistributedMemoizer).
        self.create_memo_seconds = 120
        self.create_memo: dict[str, tuple[datetime, int, dict[str, object]]] = {}
        self.per_page = 30  # topics per category page
        self.chunk_size = 20  # posts per topic chunk
        # TopicStatusUpdater#create_moderator_post_for: every status change (pin, unpin, close,
        # archive, unlist, and back) adds a small-action post (post_type 3), counted in
        # posts_count, without a bump. A switch for tests only; Discourse has no such setting.
        self.small_action_posts = True
        # Hours a post withdrawn by its author stays before PostDestroyer.destroy_stubs deletes
        # it (SiteSetting.delete_removed_posts_after; 0: deleted at once).
        self.delete_removed_posts_after = 24
        # Category lists (CategoryList): past `max_unoptimized_categories` categories, or with
        # `lazy_load_categories` on, /categories.json comes `categories_per_page` at a time.
        self.lazy_load_categories = False
        self.max_unoptimized_categories = 1000
        self.categories_per_page = 20
        self.subcategories_per_category = 5
        # TopicQuery.remove_muted_tags: "always", "only_muted" or "never".
        self.remove_muted_tags_from_latest = "always"
        self.topics_per_period_in_top_page = 50
        # What each user muted (CategoryUser, TagUser, TopicUser at level "muted"), by user id.
        self.muted_category_ids: dict[int, set[int]] = {}
        self.muted_tags: dict[int, set[str]] = {}
        self.muted_topic_ids: dict[int, set[int]] = {}

        self._init_accounts()
        self.categories: dict[int, Category] = {}
        self.topics: dict[int, Topic] = {}
        self.posts: dict[int, Post] = {}
        self.tags: dict[str, int] = {}  # tag name -> id
        self._posts_by_user: dict[int, list[int]] = {}
        self._next = {"user": 1, "group": 41, "category": 1, "topic": 1, "post": 1, "tag": 1}

        # Rate-limit windows, kept by rules.py.
        self.api_hits: deque[datetime] = deque()
        self.user_writes: dict[int, deque[datetime]] = {}

    def now(self) -> datetime:
        return self.clock()

    @property
    def tags_as_objects(self) -> bool:
        """Whether topics answer their tags as `{id, name, slug}` (every era but "names")."""
        return self.tag_era != "names"

    @tags_as_objects.setter
    def tags_as_objects(self, value: bool) -> None:
        self.tag_era = "objects" if value else "names"

    def clean_title(self, title: str) -> str:
        """What Topic#before_validation makes of a title under this site's settings."""
        return clean_title(
            title, prettify=self.title_prettify, allow_uppercase=self.allow_uppercase_posts
        )

    def _id(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    # --- accounts (the rest is in Accounts) ----------------------------------------------

    def delete_user(self, username: str) -> None:
        """Discourse's "delete user and posts": the account, its memberships, its keys go, and
        its posts and topics are soft-deleted."""
        with self.lock:
            user = self.user(username)
            moment = self.now()
            for post_id in self._posts_by_user.get(user.id, []):
                post = self.posts[post_id]
                if post.post_number == 1:
                    self.delete_topic(post.topic_id, at=moment)
                elif post.deleted_at is None:
                    self.delete_post(post_id, at=moment)
            for group in self.groups.values():
                group.members.pop(user.id, None)
            self._revoke_keys(username)
            user.deleted = True
            del self._by_username[user.username.lower()]

    def anonymize_user(self, username: str) -> User:
        """UserAnonymizer#make_anonymous renames through UsernameChanger.change, whose
        Jobs::UpdateUsername rewrites the old name where others wrote it: `@mentions` and
        `[quote="name, …"]` in every post's raw, cooked again."""
        with self.lock:
            old = self.user(username).username
            user = super().anonymize_user(username)
            mention = re.compile(rf"(?<![\w@/.])@{re.escape(old)}(?![\w-])", re.IGNORECASE)
            quote = re.compile(rf'\[quote="{re.escape(old)}(?=[,"])', re.IGNORECASE)
            for post in self.posts.values():
                raw = mention.sub(f"@{user.username}", post.raw)
                raw = quote.sub(f'[quote="{user.username}', raw)
                if raw != post.raw:
                    post.raw = raw
                    post.cooked = cook(raw, self.groups.keys())
            return user

    # --- categories and tags -----------------------------------------------------------

    def add_category(
        self,
        name: str,
        slug: str,
        *,
        parent: str | None = None,
        description: str = "",
        color: str = "0088CC",
        created_by: str | None = None,
        at: datetime | None = None,
        id: int | None = None,
    ) -> Category:
        """Create a category and, like Discourse, its pinned "À propos de la catégorie" topic
        (when `created_by` is given). Ids follow on from `id` when one is given."""
        with self.lock:
            parent_id = self.category(parent).id if parent else None
            if id is not None:
                self._next["category"] = id
            category = Category(
                id=self._id("category"),
                name=name,
                slug=slug,
                parent_id=parent_id,
                description=description,
                color=color,
                position=len(self.categories),
            )
            self.categories[category.id] = category
            if created_by:
                about = description or f"Description de la catégorie {name}."
                topic_id = self.add_topic(
                    created_by, slug, f"À propos de la catégorie {name}", about, at=at
                )
                self.topics[topic_id].pinned_at = self.topics[topic_id].created_at
                category.topic_id = topic_id
            return category

    def category(self, slug_or_id: str | int) -> Category:
        """Find a category by id, or by slug (a subcategory's own slug)."""
        with self.lock:
            if isinstance(slug_or_id, int) or str(slug_or_id).isdigit():
                return self.categories[int(slug_or_id)]
            for category in self.categories.values():
                if category.slug == slug_or_id:
                    return category
            raise KeyError(f"no category {slug_or_id!r}")

    def descendant_ids(self, category_id: int) -> set[int]:
        """The category and all its subcategories (Discourse lists them together)."""
        with self.lock:
            found = {category_id}
            changed = True
            while changed:
                more = {c.id for c in self.categories.values() if c.parent_id in found}
                changed = not more <= found
                found |= more
            return found

    def slug_path(self, category: Category) -> list[str]:
        """Category#slug_path: the slugs from the top-level ancestor down (`{id}-category` for
        a category without a slug)."""
        with self.lock:
            path: list[str] = []
            seen: set[int] = set()
            current: Category | None = category
            while current is not None and current.id not in seen:
                seen.add(current.id)
                path.insert(0, current.slug or f"{current.id}-category")
                parent = current.parent_id
                current = self.categories.get(parent) if parent is not None else None
            return path

    def full_slug(self, category: Category) -> str:
        """Category#full_slug("/"): the canonical `parent/child/id` of the category's URL."""
        return "/".join([*self.slug_path(category), str(category.id)])

    def rename_category_slug(self, slug_or_id: str | int, new_slug: str) -> None:
        """What an admin does in the category's settings; old URLs then answer 301."""
        with self.lock:
            self.category(slug_or_id).slug = new_slug

    def mute_category(self, username: str, slug_or_id: str | int) -> None:
        with self.lock:
            category = self.category(slug_or_id)
            self.muted_category_ids.setdefault(self.user(username).id, set()).add(category.id)

    def mute_tag(self, username: str, tag: str) -> None:
        with self.lock:
            self.muted_tags.setdefault(self.user(username).id, set()).add(clean_tag(tag))

    def mute_topic(self, username: str, topic_id: int) -> None:
        with self.lock:
            self.muted_topic_ids.setdefault(self.user(username).id, set()).add(topic_id)

    def tag_id(self, name: str) -> int:
        with self.lock:
            if name not in self.tags:
                self.tags[name] = self._id("tag")
            return self.tags[name]

    # --- topics and posts ----------------------------------------------------------------

    def add_topic(
        self,
        username: str,
        category_slug: str | int,
        title: str,
        raw: str,
        at: datetime | None = None,
        tags: Iterable[str] = (),
        *,
        external_id: str | None = None,
        views: int = 0,
    ) -> int:
        """Create a topic with its first post; returns the topic id."""
        with self.lock:
            category = self.category(category_slug)
            return self._new_topic(username, category.id, title, raw, at, tags, external_id, views)

    def add_private_message(
        self,
        username: str,
        recipients: Iterable[str],
        title: str,
        raw: str,
        at: datetime | None = None,
        *,
        external_id: str | None = None,
        groups: Iterable[str] | None = None,
    ) -> int:
        """Create a private message; returns the topic id. Without `groups`, each recipient is
        a group if one has that name, else a user; with `groups`, recipients are usernames."""
        with self.lock:
            topic_id = self._new_topic(username, None, title, raw, at, (), external_id, 0)
            topic = self.topics[topic_id]
            topic.archetype = "private_message"
            topic.allowed_users.append(topic.user)
            for name in recipients:
                if groups is None and name.lower() in self.groups:
                    topic.allowed_groups.append(self.groups[name.lower()])
                elif self.user(name) not in topic.allowed_users:
                    topic.allowed_users.append(self.user(name))
            for name in groups or ():
                topic.allowed_groups.append(self.groups[name.lower()])
            return topic_id

    def _new_topic(
        self,
        username: str,
        category_id: int | None,
        title: str,
        raw: str,
        at: datetime | None,
        tags: Iterable[str],
        external_id: str | None,
        views: int,
    ) -> int:
        user = self.user(username)
        moment = at or self.now()
        title = self.clean_title(title)
        topic = Topic(
            id=self._id("topic"),
            title=title,
            slug=slugify(title),
            category_id=category_id,
            user=user,
            created_at=moment,
            bumped_at=moment,
            last_posted_at=moment,
            external_id=external_id,
            views=views,
        )
        for tag in tags:
            cleaned = clean_tag(tag)
            if cleaned and cleaned not in topic.tags:
                self.tag_id(cleaned)
                topic.tags.append(cleaned)
        self.topics[topic.id] = topic
        # PostCreator#setup_post: odd spaces plain, trailing whitespace cut, for every post.
        self._append_post(topic, user, clean_raw(raw), moment, None, REGULAR, None)
        return topic.id

    def add_reply(
        self,
        topic_id: int,
        username: str,
        raw: str,
        at: datetime | None = None,
        *,
        reply_to_post_number: int | None = None,
    ) -> int:
        """Reply in a topic, bumping it; returns the post id."""
        with self.lock:
            topic = self.topics[topic_id]
            moment = at or self.now()
            post = self._append_post(
                topic,
                self.user(username),
                clean_raw(raw),  # PostCreator#setup_post
                moment,
                reply_to_post_number,
                REGULAR,
                None,
            )
            if reply_to_post_number:
                for other in self.posts_in(topic_id):
                    if other.post_number == reply_to_post_number:
                        other.reply_count += 1
            return post.id

    def _append_post(
        self,
        topic: Topic,
        user: User,
        raw: str,
        moment: datetime,
        reply_to: int | None,
        post_type: int,
        action_code: str | None,
    ) -> Post:
        topic.highest_post_number += 1
        post = Post(
            id=self._id("post"),
            topic_id=topic.id,
            post_number=topic.highest_post_number,
            raw=raw,
            cooked=cook(raw, self.groups.keys()),
            user=user,
            created_at=moment,
            updated_at=moment,
            reply_to_post_number=reply_to,
            post_type=post_type,
            action_code=action_code,
        )
        self.posts[post.id] = post
        topic.post_ids.append(post.id)
        self._posts_by_user.setdefault(user.id, []).append(post.id)
        if post_type == REGULAR:
            # Only real posts bump a topic; small actions ("pinned", "closed") do not.
            topic.bumped_at = max(topic.bumped_at, moment)
            topic.last_posted_at = max(topic.last_posted_at, moment)
            user.last_posted_at = max(user.last_posted_at or moment, moment)
            user.last_seen_at = max(user.last_seen_at or moment, moment)
        return post

    def edit_post(
        self,
        post_id: int,
        raw: str,
        at: datetime | None = None,
        *,
        edit_reason: str | None = None,
    ) -> None:
        """Change a post's raw text, cleaned as PostRevisor#cleanup_whitespaces does. Like
        PostRevisor#bump_topic, an edit of the topic's last post (no live post after it, small
        actions included: `is_last_post?`) bumps the topic."""
        with self.lock:
            post = self.posts[post_id]
            moment = at or self.now()
            raw = clean_raw(raw)
            post.raw = raw
            post.cooked = cook(raw, self.groups.keys())
            post.updated_at = moment
            post.edit_reason = edit_reason or None
            post.version += 1
            topic = self.topics[post.topic_id]
            if not any(p.post_number > post.post_number for p in self.posts_in(topic.id)):
                topic.bumped_at = max(topic.bumped_at, moment)

    def delete_topic(self, topic_id: int, at: datetime | None = None) -> None:
        """Soft-delete a topic (Discourse keeps it, with `deleted_at`, for staff)."""
        with self.lock:
            topic = self.topics[topic_id]
            moment = at or self.now()
            topic.deleted_at = topic.deleted_at or moment
            first = self.posts[topic.post_ids[0]]
            first.deleted_at = first.deleted_at or moment

    def delete_post(self, post_id: int, at: datetime | None = None) -> None:
        """Soft-delete a post; deleting a first post deletes its topic, as Discourse does."""
        with self.lock:
            post = self.posts[post_id]
            if post.post_number == 1:
                self.delete_topic(post.topic_id, at)
                return
            post.deleted_at = post.deleted_at or at or self.now()
            topic = self.topics[post.topic_id]
            live = [p for p in self.posts_in(topic.id) if p.post_type == REGULAR]
            if live:
                topic.last_posted_at = live[-1].created_at

    def move_topic(self, topic_id: int, category_slug: str | int) -> None:
        """Move a topic to another category. Like Discourse, this does not bump it."""
        with self.lock:
            self.topics[topic_id].category_id = self.category(category_slug).id

    def set_status(
        self,
        topic_id: int,
        status: str,
        enabled: bool,
        *,
        until: datetime | None = None,
        by: str | None = None,
    ) -> None:
        """Pin, close, archive, list/unlist a topic (`status` as in PUT /t/{id}/status)."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self.lock:
            topic = self.topics[topic_id]
            moment = self.now()
            if status in ("pinned", "pinned_globally"):
                topic.pinned_at = moment if enabled else None
                topic.pinned_until = until if enabled else None
                topic.pinned_globally = enabled and status == "pinned_globally"
            elif getattr(topic, status) == enabled:
                # TopicStatusUpdater#change: closing a closed topic (and the like) updates no
                # row, so no small action; pinning always writes one.
                return
            else:
                setattr(topic, status, enabled)
            if self.small_action_posts:
                # The system user acts for Post#hide!/#unhide!; the sandbox has none: the author.
                actor = self.user(by) if by else topic.user
                code = f"{status}.{'enabled' if enabled else 'disabled'}"
                self._append_post(topic, actor, "", moment, None, SMALL_ACTION, code)

    def like(self, post_id: int, count: int = 1) -> None:
        with self.lock:
            self.posts[post_id].like_count += count

    def expire_pins(self) -> None:
        """Unpin topics whose `pinned_until` has passed (a scheduled job on real Discourse)."""
        with self.lock:
            moment = self.now()
            for topic in self.topics.values():
                if topic.pinned_until is not None and topic.pinned_until <= moment:
                    topic.pinned_at = topic.pinned_until = None
                    topic.pinned_globally = False

    # --- queries -------------------------------------------------------------------------

    def topic(self, topic_id: int) -> Topic:
        with self.lock:
            return self.topics[topic_id]

    def posts_in(self, topic_id: int) -> list[Post]:
        """The topic's live (not deleted) posts, in order."""
        with self.lock:
            posts = (self.posts[i] for i in self.topics[topic_id].post_ids)
            return [p for p in posts if p.deleted_at is None]

    def posts_written(self, topic_id: int) -> list[Post]:
        """The topic's live regular posts: what people wrote, without the small actions that
        status changes add ("pinned", "closed")."""
        return [p for p in self.posts_in(topic_id) if p.post_type == REGULAR]

    def posts_by(self, username: str) -> list[Post]:
        """A user's live posts, oldest first, private messages included."""
        with self.lock:
            user = self.user(username)
            posts = (self.posts[i] for i in self._posts_by_user.get(user.id, []))
            return sorted((p for p in posts if p.deleted_at is None), key=lambda p: p.created_at)

    def find_topic_by_title(self, title: str) -> Topic | None:
        """A live topic of that title (case-insensitive), or None."""
        wanted = self.clean_title(title).lower()
        with self.lock:
            for topic in self.topics.values():
                if topic.deleted_at is None and topic.title.lower() == wanted:
                    return topic
            return None

    def topic_at_external_id(self, external_id: str) -> Topic | None:
        """TopicsController#show_by_external_id: `Topic.find_by(external_id:)`, an exact,
        case-sensitive match (uniqueness, below, is not)."""
        with self.lock:
            for topic in self.topics.values():
                if topic.external_id == external_id:
                    return topic
            return None

    def find_topic_by_external_id(self, external_id: str) -> Topic | None:
        """Any topic holding that external id whatever its case, deleted ones included: what
        Topic's `uniqueness: { case_sensitive: false }` validation looks for."""
        wanted = external_id.lower()
        with self.lock:
            for topic in self.topics.values():
                if topic.external_id is not None and topic.external_id.lower() == wanted:
                    return topic
            return None
