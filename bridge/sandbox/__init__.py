"""A Discourse-compatible HTTP server with seed data, for `bridge demo`, tests and benchmarks.

    from bridge.sandbox import Sandbox, seed_world

    with Sandbox(seed_world(now)) as sb:
        client = DiscourseClient(sb.url, sb.api_username, sb.api_key)

Modules: `model` (dataclasses), `world` (state and direct mutations), `rules` (Discourse's
rules for API callers), `payloads` / `people` (JSON shapes), `cook` (Markdown to HTML),
`server` (HTTP, auth, faults), `seed` / `seed_entries` (the French seed), `synth` (big worlds).
"""

from __future__ import annotations

from .model import ApiKey, Category, Group, Membership, Post, Topic, User
from .rules import ApiError
from .seed import STAFF_KEY, STAFF_USERNAME, WATCHED, seed_world
from .server import JSON_TYPE, Faults, Sandbox
from .synth import build_world
from .world import World

__all__ = [
    "JSON_TYPE",
    "STAFF_KEY",
    "STAFF_USERNAME",
    "WATCHED",
    "ApiError",
    "ApiKey",
    "Category",
    "Faults",
    "Group",
    "Membership",
    "Post",
    "Sandbox",
    "Topic",
    "User",
    "World",
    "build_world",
    "seed_world",
]
