"""Creating and editing posts through the API, with Discourse's validations.

- POST /posts.json: app/controllers/posts_controller.rb `create` / `create_params`, then
  lib/post_creator.rb `valid?` (a new topic is validated first, alone: TopicCreator), then
  lib/validators/post_validator.rb (`stripped_length`, `raw_quality`, `unique_post_validator`);
  a private message's recipients last (lib/topic_creator.rb `process_private_message`).
- PUT /posts/{id}.json: PostsController#update (`params.require(:post)`, staff find deleted
  posts too) and lib/post_revisor.rb, which validates the new raw like a new post.

Callers hold `world.lock`. Text rules are in `text.py`; who may see what in `rules.py`.
"""

from __future__ import annotations

import json
import re
from collections import deque

from .model import Post, Topic, User, clean_tag
from .rules import (
    _take,
    can_see,
    forbidden,
    invalid_parameter,
    not_found,
    rejected,
    visible_topic,
)
from .text import (
    body_is_meaningful,
    clean_raw,
    sanitized_length,
    title_emojis,
    title_is_meaningful,
)
from .world import World

Form = dict[str, list[str]]

# PostCreator's I18n.t(:topic_not_found): a deleted topic, one the user may not see, or one
# closed to them all answer this 422.
TOPIC_NOT_FOUND = (
    "Something has gone wrong. Perhaps this topic was closed or deleted while you were looking"
    " at it?"
)
UNCLEAR = "seems unclear, is it a complete sentence?"
# Group::ALIAS_LEVELS
EVERYONE, ONLY_ADMINS, MODS_AND_ADMINS, MEMBERS_MODS_AND_ADMINS, OWNERS_MODS_AND_ADMINS = (
    99,
    1,
    2,
    3,
    4,
)
# The form key under which server.py hands over Rails-style arrays of hashes (`tags[][name]`),
# one JSON object per element.
TAG_OBJECTS = "tags[][]"


def _first(form: Form, name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


# --- validations ----------------------------------------------------------------------------


def title_errors(world: World, actor: User, title: str, is_pm: bool) -> list[str]:
    """Topic's `validates :title` (app/models/topic.rb) on the cleaned title: presence, length
    (lib/validators/topic_title_length_validator.rb: admins 1..max), quality (not for private
    messages), emojis, and `unique_among` listable topics, case-insensitively."""
    if not title:
        return ["Title can't be blank", f"Title {UNCLEAR}"]
    if actor.admin:
        low = 1
    elif is_pm:
        low = world.min_personal_message_title_length
    else:
        low = world.min_topic_title_length
    errors = []
    if len(title) < low:
        errors.append(f"Title is too short (minimum is {_plural(low, 'character')})")
    elif len(title) > world.max_topic_title_length:
        high = world.max_topic_title_length
        errors.append(f"Title is too long (maximum is {_plural(high, 'character')})")
    if not is_pm and not title_is_meaningful(
        title,
        min_topic_title_length=world.min_topic_title_length,
        title_min_entropy=world.title_min_entropy,
        title_max_word_length=world.title_max_word_length,
        allow_uppercase=world.allow_uppercase_posts,
    ):
        errors.append(f"Title {UNCLEAR}")
    if title_emojis(title) > world.max_emojis_in_title:
        most = world.max_emojis_in_title
        errors.append(
            f"Title can't have more than {most} emoji" if most else "Title can't have emoji"
        )
    if not is_pm and title_taken(world, title):
        errors.append("Title has already been used")
    return errors


def title_taken(world: World, title: str, *, besides: Topic | None = None) -> bool:
    """UniqueAmongValidator over Topic.listable_topics: live topics that are not messages,
    unlisted ones included, `lower(title)` compared."""
    wanted = title.lower()
    return any(
        t.title.lower() == wanted
        for t in world.topics.values()
        if t.deleted_at is None and not t.is_private_message and t is not besides
    )


def body_errors(world: World, raw: str, *, minimum: int, private_message: bool) -> list[str]:
    """PostValidator: presence, StrippedLengthValidator (the raw length against the maximum,
    the sanitized length against the minimum), then TextSentinel's body quality."""
    if not raw.strip():
        return ["Body can't be blank"]
    if len(raw) > world.max_post_length:
        return [f"Body is limited to {world.max_post_length} characters; you entered {len(raw)}."]
    errors = []
    if sanitized_length(raw) < minimum:
        errors.append(f"Body is too short (minimum is {_plural(minimum, 'character')})")
    if not body_is_meaningful(
        raw,
        private_message=private_message,
        body_min_entropy=world.body_min_entropy,
        min_post_length=world.min_post_length,
        min_personal_message_post_length=world.min_personal_message_post_length,
        allow_uppercase=world.allow_uppercase_posts,
    ):
        errors.append(f"Body {UNCLEAR}")
    return errors


def _external_id_errors(world: World, external_id: str | None) -> list[str]:
    if external_id is None:
        return []
    if len(external_id) > 50:
        return ["External is too long (maximum is 50 characters)"]
    if not re.fullmatch(r"[\w-]+", external_id, re.ASCII):
        return ["External is invalid"]
    # Soft-deleted topics keep their external_id: the id stays taken, whatever its case.
    if world.find_topic_by_external_id(external_id) is not None:
        return ["External has already been taken"]
    return []


def _non_staff_checks(world: World, actor: User, raw: str, *, private_message: bool) -> None:
    """Staff are exempt from "too similar", the mention limits and the posting rate limit."""
    if actor.staff:
        return
    since = world.now() - world.unique_posts_window
    for post in reversed(world.posts_by(actor.username)):
        if post.created_at >= since and post.raw.strip() == raw.strip():
            raise rejected(["Body is too similar to what you recently posted"])
    # PostValidator#max_mention_validator (lib/validators/post_validator.rb): `return if
    # post.acting_user.try(:staff?)`; trusted users (TL1+) and private messages get
    # max_mentions_per_post, new users newuser_max_mentions_per_post; Post#raw_mentions
    # counts distinct names outside code.
    trusted = actor.trust_level >= 1 or private_message
    limit = world.max_mentions_per_post if trusted else world.newuser_max_mentions_per_post
    if len(raw_mentions(raw)) > limit:
        who = "you" if trusted else "new users"
        raise rejected([f"Sorry, {who} can only mention {limit} users in a post."])
    if world.rate_limit_per_minute is not None:
        window = world.user_writes.setdefault(actor.id, deque())
        _take(window, world.rate_limit_per_minute, world.now(), "create_post")


_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)
# A mention starts after anything but a letter or a digit (discourse-markdown-it's
# text-post-process.js `allowedBoundary`: white space or punctuation, so `a_@marie`, `/@x` and
# `(@x` mention); the name is mentions.js's `mentionRegex`.
_MENTION = re.compile(r"(?<![^\W_])@(\w[\w.\-]{0,58}[^\W_]|\w)")


def raw_mentions(raw: str) -> set[str]:
    return {m.lower() for m in _MENTION.findall(_CODE.sub(" ", raw))}


# --- recipients and tags --------------------------------------------------------------------


def messageable(world: World, actor: User | None, group_name: str) -> bool:
    """Group.messageable(user) (app/models/group.rb, `alias_levels`) holds this group."""
    group = world.groups.get(group_name.lower())
    if group is None:
        return False
    level = group.messageable_level
    if actor is not None and actor.admin:
        levels = {EVERYONE, ONLY_ADMINS, MODS_AND_ADMINS, MEMBERS_MODS_AND_ADMINS}
        levels.add(OWNERS_MODS_AND_ADMINS)
    elif actor is not None and actor.moderator:
        levels = {EVERYONE, MODS_AND_ADMINS, MEMBERS_MODS_AND_ADMINS, OWNERS_MODS_AND_ADMINS}
    else:
        levels = {EVERYONE}
    if level in levels:
        return True
    membership = group.members.get(actor.id) if actor is not None else None
    if level == MEMBERS_MODS_AND_ADMINS:
        return membership is not None
    return level == OWNERS_MODS_AND_ADMINS and membership is not None and membership.owner


def _recipients(world: World, actor: User, form: Form) -> tuple[list[str], list[str]]:
    """PostsController#create_params: only `target_recipients` (`target_usernames` is not a
    permitted parameter), split on commas and lowercased, not trimmed; the names of groups the
    sender may message become groups, every other name a username. TopicCreator#add_users then
    wants as many accounts as names: a name given twice fails."""
    value = _first(form, "target_recipients")
    if value is None:
        raise rejected(["You must choose a valid user."])
    names = [name.lower() for name in value.split(",")]
    while names and names[-1] == "":  # Ruby's split drops trailing empty fields
        names.pop()
    groups = sorted({name for name in names if messageable(world, actor, name)})
    users = [name for name in names if name not in groups]
    if not users and not groups:
        raise rejected(["You must choose a valid user."])
    found = {name for name in users if (u := world.find_user(name)) is not None and not u.deleted}
    if len(found) != len(users):
        raise rejected(["One of the users you are sending this message to could not be found."])
    return users, groups


def requested_tags(world: World, form: Form) -> list[str]:
    """The tag names a creation asks for, as the site's Discourse reads them (`world.tag_era`):
    names (`tags[]=x`) before 2026.01, whose `permit(tags: [])` drops objects; names or
    `{id, name}` objects until 2026.06; objects only from 2026.07, names dropped silently. An
    object names its tag by `id` (unknown ids dropped, as `tag_topic_by_ids`) or by `name`."""
    names = form.get("tags[]", []) + form.get("tags", [])
    objects = [json.loads(value) for value in form.get(TAG_OBJECTS, [])]
    if world.tag_era == "names":
        objects = []
    if world.tag_era == "objects":
        names = []
    by_id = {tag_id: name for name, tag_id in world.tags.items()}
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        if str(obj.get("id", "")).isdigit():
            if int(obj["id"]) in by_id:
                names.append(by_id[int(obj["id"])])
        elif obj.get("name"):
            names.append(str(obj["name"]))
    return names


# --- creation and edition -------------------------------------------------------------------


def create_post(world: World, actor: User | None, form: Form) -> Post:
    """POST /posts.json: a reply (`topic_id`), a private message, or a new topic."""
    if actor is None:
        raise forbidden("You need to be logged in to do that.")
    # PostCreator#setup_post cleans the raw before anything validates it (length, "too
    # similar", mentions): what is checked is what is stored.
    raw = clean_raw(_first(form, "raw") or "")
    if _first(form, "topic_id"):
        return _reply(world, actor, form, raw)
    is_pm = _first(form, "archetype") == "private_message"
    category = None
    if not is_pm:
        category_param = _first(form, "category")
        if category_param:
            if not category_param.isdigit() or int(category_param) not in world.categories:
                raise invalid_parameter("category")
            category = world.categories[int(category_param)]
        else:
            category = world.category("uncategorized")
    # PostCreator#valid? validates the topic first and stops there when it is invalid.
    title = world.clean_title(_first(form, "title") or "")
    external_id = _first(form, "external_id") or None
    errors = title_errors(world, actor, title, is_pm) + _external_id_errors(world, external_id)
    if errors:
        raise rejected(errors)
    minimum = world.min_personal_message_post_length if is_pm else world.min_first_post_length
    errors = body_errors(world, raw, minimum=minimum, private_message=is_pm)
    if errors:
        raise rejected(errors)
    _non_staff_checks(world, actor, raw, private_message=is_pm)
    if is_pm:
        users, groups = _recipients(world, actor, form)
        topic_id = world.add_private_message(
            actor.username, users, title, raw, world.now(), external_id=external_id, groups=groups
        )
    else:
        assert category is not None
        tags = requested_tags(world, form)
        # Only staff (and high trust levels) may create tags; others' unknown tags are dropped.
        if not actor.staff:
            tags = [t for t in tags if clean_tag(t) in world.tags]
        topic_id = world.add_topic(
            actor.username, category.id, title, raw, world.now(), tags, external_id=external_id
        )
    return world.posts[world.topics[topic_id].post_ids[0]]


def can_post_in(world: World, topic: Topic | None, actor: User) -> bool:
    """lib/guardian/post_guardian.rb `can_create_post_on_topic?`: never in a deleted topic nor
    one the user cannot see; in a closed or archived one only admins, moderators and trust
    level 4."""
    if topic is None or topic.deleted_at is not None or not can_see(world, topic, actor):
        return False
    trusted = actor.staff or actor.trust_level >= 4
    return trusted or not (topic.closed or topic.archived)


def _reply(world: World, actor: User, form: Form, raw: str) -> Post:
    topic_param = form["topic_id"][0]
    topic = world.topics.get(int(topic_param)) if topic_param.isdigit() else None
    if topic is None or not can_post_in(world, topic, actor):
        raise rejected([TOPIC_NOT_FOUND])
    pm = topic.is_private_message
    minimum = world.min_personal_message_post_length if pm else world.min_post_length
    errors = body_errors(world, raw, minimum=minimum, private_message=pm)
    if errors:
        raise rejected(errors)
    _non_staff_checks(world, actor, raw, private_message=pm)
    reply_to = _first(form, "reply_to_post_number") or ""
    post_id = world.add_reply(
        topic.id,
        actor.username,
        raw,
        world.now(),
        reply_to_post_number=int(reply_to) if reply_to.isdigit() else None,
    )
    return world.posts[post_id]


def update_post(world: World, actor: User | None, post_id: int, form: Form) -> Post:
    """PUT /posts/{id}.json: the author or staff; bumps only the topic's last post (see
    `World.edit_post`); an unchanged raw is a no-op.

    Only the `post[...]` form is read (`params.require(:post)`: a top-level `raw` is a 400), and
    staff find deleted posts too (`with_deleted if guardian.is_staff?`) and may edit them.
    """
    if not any(name.startswith("post[") for name in form):
        raise invalid_parameter("post")
    post = world.posts.get(post_id)
    staff = actor is not None and actor.staff
    if post is None or (post.deleted_at is not None and not staff):
        raise not_found()
    topic = visible_topic(world, post.topic_id, actor)
    if actor is None:
        raise forbidden("You need to be logged in to do that.")
    if not staff and (actor is not post.user or topic.archived):
        raise forbidden()
    sent = _first(form, "post[raw]")
    if sent is None:
        raise invalid_parameter("post")
    # PostRevisor#revise! cleans the raw first: the post validates the cleaned text, and
    # `should_revise?` compares it with the stored one (a trailing newline is no change).
    raw = clean_raw(sent)
    pm = topic.is_private_message
    if pm:
        minimum = world.min_personal_message_post_length
    else:
        minimum = world.min_first_post_length if post.post_number == 1 else world.min_post_length
    errors = body_errors(world, raw, minimum=minimum, private_message=pm)
    if errors:
        raise rejected(errors, action=None)
    if raw != post.raw:
        reason = _first(form, "post[edit_reason]")
        world.edit_post(post.id, raw, world.now(), edit_reason=reason)
    return post
