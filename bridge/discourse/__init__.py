"""The bridge's only door to Discourse: typed reads (paging iterators), writes, pacing, retries.

Two modules, split where the concerns part:

- `transport`: HTTP through pydiscourse (the only module that imports it): session, headers,
  pacing, retries and backoff, 429s, refusals mapped to `bridge.errors`, decoding, key scrubbing;
- `client`: `DiscourseClient`, Discourse's endpoints as typed reads by page and typed writes.

The names the rest of the bridge uses are re-exported here, with the payload types of
`bridge.models`, so callers import from `bridge.discourse` and never from the modules inside.
"""

from bridge.discourse.client import POSTS_PER_CHUNK, TOPICS_PER_PAGE, DiscourseClient
from bridge.models import (
    AccountState,
    Category,
    Created,
    GroupMember,
    Payload,
    Post,
    TopicDetail,
    TopicSummary,
    User,
    flatten_categories,
    parse_datetime,
    tag_names,
    topic_id_from_location,
)

__all__ = [
    "POSTS_PER_CHUNK",
    "TOPICS_PER_PAGE",
    "AccountState",
    "Category",
    "Created",
    "DiscourseClient",
    "GroupMember",
    "Payload",
    "Post",
    "TopicDetail",
    "TopicSummary",
    "User",
    "flatten_categories",
    "parse_datetime",
    "tag_names",
    "topic_id_from_location",
]
