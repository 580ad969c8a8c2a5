"""JSON shapes about people: group member lists and user profiles (`/u/{username}.json`).

The profile carries every field the published `user_get_response` schema requires, with the
values Discourse gives an ordinary account; the profile fields Discourse sends only when set
(`bio_raw`, `location`, `website`…) appear only when set. Callers hold `world.lock`.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from .model import Group, User, iso
from .payloads import avatar_template, basic_user
from .posting import messageable
from .world import World

Json = dict[str, Any]


def group_member(user: User, added_at: datetime) -> Json:
    return {
        **basic_user(user),
        "title": user.title,
        "last_posted_at": iso(user.last_posted_at),
        "last_seen_at": iso(user.last_seen_at),
        "added_at": iso(added_at),
        "timezone": user.timezone,
    }


def group_members(
    group: Group, order: str | None, ascending: bool, limit: int, offset: int
) -> Json:
    """GroupsController#members: owners first whatever the order asked (`.order("NOT
    group_users.owner")` comes before the rest), then by `order` (added_at, last_seen_at,
    last_posted_at) if given, then by username; all in one direction, descending unless `asc`
    (which Discourse takes as true whatever its value, even "false")."""
    memberships = list(group.members.values())
    # Successive stable sorts give SQL's multi-column ORDER BY: username is the tie-breaker.
    ranked = sorted(memberships, key=lambda m: m.user.username_lower, reverse=not ascending)
    if order == "added_at":
        ranked.sort(key=lambda m: m.added_at, reverse=not ascending)
    elif order in ("last_seen_at", "last_posted_at"):
        dated = [m for m in ranked if getattr(m.user, order) is not None]
        dated.sort(key=lambda m: getattr(m.user, order), reverse=not ascending)
        # NULLS LAST, whatever the direction.
        ranked = dated + [m for m in ranked if getattr(m.user, order) is None]
    ranked = [m for m in ranked if m.owner] + [m for m in ranked if not m.owner]
    page = ranked[offset : offset + limit]
    return {
        "members": [group_member(m.user, m.added_at) for m in page],
        "owners": [group_member(m.user, m.added_at) for m in ranked if m.owner],
        "meta": {"total": len(memberships), "limit": limit, "offset": offset},
    }


def group_show(world: World, group: Group, viewer: User | None) -> Json:
    """GET /groups/{name}.json: GroupShowSerializer, whose `messageable` says whether the viewer
    may send the group a private message (Group.messageable)."""
    data = _group(group, viewer)
    data.update(
        {
            "messageable_level": group.messageable_level,
            "messageable": messageable(world, viewer, group.name),
            "mentionable": False,
            "is_group_user": viewer is not None and viewer.id in group.members,
            "is_group_owner": viewer is not None
            and viewer.id in group.members
            and group.members[viewer.id].owner,
        }
    )
    return {"group": data, "extras": {"visible_group_names": sorted(world.groups)}}


def _group(group: Group, user: User | None) -> Json:
    return {
        "id": group.id,
        "automatic": False,
        "name": group.name,
        "display_name": group.name,
        "user_count": len(group.members),
        "mentionable_level": 3,
        "messageable_level": group.messageable_level,
        "visibility_level": 0,
        "primary_group": False,
        "title": None,
        "grant_trust_level": None,
        "incoming_email": None,
        "has_messages": False,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "bio_raw": None,
        "bio_cooked": None,
        "bio_excerpt": None,
        "public_admission": False,
        "public_exit": False,
        "allow_membership_requests": False,
        "full_name": group.full_name,
        "default_notification_level": 3,
        "membership_request_template": None,
        "members_visibility_level": 0,
        "can_see_members": True,
        "can_admin_group": False,
        "publish_read_state": False,
    }


def _user_option(user: User) -> Json:
    return {
        "user_id": user.id,
        "mailing_list_mode": False,
        "mailing_list_mode_frequency": 1,
        "email_digests": True,
        "email_level": 1,
        "email_messages_level": 0,
        "external_links_in_new_tab": False,
        "color_scheme_id": None,
        "dark_scheme_id": None,
        "dynamic_favicon": False,
        "enable_quoting": True,
        "enable_smart_lists": True,
        "enable_markdown_monospace_font": False,
        "digest_after_minutes": 10080,
        "automatically_unpin_topics": True,
        "auto_track_topics_after_msecs": 240000,
        "notification_level_when_replying": 2,
        "new_topic_duration_minutes": 2880,
        "email_previous_replies": 2,
        "email_in_reply_to": True,
        "like_notification_frequency": 1,
        "notify_on_linked_posts": True,
        "push_notification_level": "always",
        "enable_upcoming_change_available_notifications": False,
        "include_tl0_in_digests": False,
        "theme_ids": [1],
        "theme_key_seq": 0,
        "allow_private_messages": True,
        "enable_allowed_pm_users": False,
        "homepage_id": None,
        "hide_profile_and_presence": False,
        "hide_profile": False,
        "hide_presence": False,
        "text_size": "normal",
        "text_size_seq": 0,
        "title_count_mode": "notifications",
        "timezone": user.timezone,
        "skip_new_user_tips": False,
        "topics_unread_when_closed": True,
        "interface_color_mode": 1,
        "automatically_translate": False,
        "understood_languages": ["fr"],
        "show_original_content": False,
        "send_shortcut": "enter",
    }


def user_profile(world: World, user: User, viewer: User | None) -> Json:
    """UserSerializer, as seen by `viewer` (staff see the same as the user does)."""
    groups = [g for g in world.groups.values() if user.id in g.members]
    posts = [p for p in world.posts_by(user.username)]
    topics = [p for p in posts if p.post_number == 1]
    can_edit = viewer is not None and (viewer.staff or viewer is user)
    data: Json = {
        **basic_user(user),
        "last_posted_at": iso(user.last_posted_at),
        "last_seen_at": iso(user.last_seen_at),
        "created_at": iso(user.created_at),
        "ignored": False,
        "muted": False,
        "can_ignore_user": False,
        "can_mute_user": False,
        "can_send_private_messages": viewer is not None,
        "can_send_private_message_to_user": viewer is not None and viewer is not user,
        "trust_level": user.trust_level,
        "moderator": user.moderator,
        "admin": user.admin,
        "title": user.title,
        "badge_count": 0,
        "custom_fields": {},
        "time_read": 0,
        "recent_time_read": 0,
        "primary_group_id": None,
        "primary_group_name": None,
        "flair_group_id": None,
        "flair_name": None,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "featured_topic": None,
        "staged": False,
        "can_edit": can_edit,
        "can_edit_username": can_edit,
        "can_edit_email": can_edit,
        "can_edit_name": can_edit,
        "uploaded_avatar_id": None,
        "has_title_badges": False,
        "pending_count": 0,
        "profile_view_count": 0,
        "second_factor_enabled": False,
        "can_upload_profile_header": False,
        "can_upload_user_card_background": False,
        "post_count": len(posts),
        "topic_count": len(topics),
        "can_be_deleted": bool(viewer and viewer.admin) and not posts,
        "can_delete_all_posts": bool(viewer and viewer.admin),
        "locale": "fr",
        # UserSerializer's private fields (the user and staff see them): CategoryUser and
        # TagUser at level "muted".
        "muted_category_ids": sorted(world.muted_category_ids.get(user.id, ())) if can_edit else [],
        "regular_category_ids": [],
        "watched_tags": [],
        "watching_first_post_tags": [],
        "tracked_tags": [],
        "muted_tags": sorted(world.muted_tags.get(user.id, ())) if can_edit else [],
        "tracked_category_ids": [],
        "watched_category_ids": [],
        "watched_first_post_category_ids": [],
        "system_avatar_upload_id": None,
        "system_avatar_template": avatar_template(user),
        "muted_usernames": [],
        "ignored_usernames": [],
        "allowed_pm_usernames": [],
        "mailing_list_posts_per_day": 0,
        "can_change_bio": can_edit,
        "can_change_location": can_edit,
        "can_change_website": can_edit,
        "can_change_tracking_preferences": can_edit,
        "user_api_keys": None,
        "user_auth_tokens": [],
        "user_notification_schedule": {
            "enabled": False,
            **{
                f"day_{d}_{edge}_time": (480 if edge == "start" else 1020)
                for d in range(7)
                for edge in ("start", "end")
            },
        },
        "use_logo_small_as_avatar": False,
        "featured_user_badge_ids": [],
        "invited_by": None,
        "groups": [_group(g, user) for g in groups],
        "group_users": [
            {"group_id": g.id, "user_id": user.id, "notification_level": 3} for g in groups
        ],
        "user_option": _user_option(user),
    }
    # Discourse sends these "untrusted" profile fields only when they are set.
    if user.bio_raw:
        data["bio_raw"] = user.bio_raw
        data["bio_cooked"] = f"<p>{html.escape(user.bio_raw)}</p>"
        data["bio_excerpt"] = html.escape(user.bio_raw[:300])
    if user.location:
        data["location"] = user.location
    if user.website:
        data["website"] = user.website
        data["website_name"] = user.website.split("//", 1)[-1].split("/", 1)[0]
    return {"user_badges": [], "user": data}


def admin_user(world: World, user: User) -> Json:
    """GET /admin/users/{id}.json: AdminDetailedUserSerializer (on AdminUserListSerializer).
    `suspended_at`/`suspended_till` only while suspended (`include_suspended_at?`:
    `object.suspended?`, i.e. `suspended_till > now`), `silenced_till` only while silenced
    (`include_silenced_till?`); `active` false until the e-mail is confirmed."""
    now = world.now()
    posts = world.posts_by(user.username)
    data: Json = {
        **basic_user(user),
        "active": user.active,
        "admin": user.admin,
        "moderator": user.moderator,
        "last_seen_at": iso(user.last_seen_at),
        "last_emailed_at": None,
        "created_at": iso(user.created_at),
        "last_seen_age": None,
        "last_emailed_age": None,
        "created_at_age": (now - user.created_at).total_seconds(),
        "trust_level": user.trust_level,
        "manual_locked_trust_level": None,
        "title": user.title,
        "time_read": 0,
        "staged": user.staged,
        "days_visited": 1,
        "posts_read_count": 0,
        "topics_entered": 0,
        "post_count": len(posts),
        "can_send_activation_email": not user.active,
        "can_activate": not user.active,
        "can_deactivate": user.active,
        "ip_address": "127.0.0.1",
        "registration_ip_address": None,
        "can_grant_admin": False,
        "can_revoke_admin": False,
        "can_grant_moderation": False,
        "can_revoke_moderation": False,
        "can_impersonate": False,
        "like_count": 0,
        "like_given_count": 0,
        "topic_count": sum(1 for p in posts if p.post_number == 1),
        "flags_given_count": 0,
        "flags_received_count": 0,
        "private_topics_count": 0,
        "can_delete_all_posts": False,
        "can_be_deleted": not posts,
        "can_be_anonymized": not user.staff,
        "can_be_merged": not user.staff,
        "full_suspend_reason": None,
        "silence_reason": None,
        "primary_group_id": None,
        "badge_count": 0,
        "warnings_received_count": 0,
        "bounce_score": 0,
        "reset_bounce_score_after": None,
        "can_view_action_logs": True,
        "can_disable_second_factor": False,
        "can_delete_sso_record": False,
        "api_key_count": 0,
        "single_sign_on_record": None,
        "approved_by": None,
        "suspended_by": None,
        "silenced_by": None,
        "penalty_counts": {"silenced": 0, "suspended": 0},
        "groups": [],
        "external_ids": {},
        "include_ip": True,
    }
    if user.suspended_till is not None and user.suspended_till > now:
        data["suspended_at"] = iso(user.created_at)
        data["suspended_till"] = iso(user.suspended_till)
        data["full_suspend_reason"] = "Compte suspendu"
        data["penalty_counts"]["suspended"] = 1
    if user.silenced_till is not None and user.silenced_till > now:
        data["silenced_till"] = iso(user.silenced_till)
        data["silence_reason"] = "Compte réduit au silence"
        data["penalty_counts"]["silenced"] = 1
    return data
