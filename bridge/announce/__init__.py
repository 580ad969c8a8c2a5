"""Announcements: the committee's job files turned into Drafts (planning only).

  keys      the ledger key format of announcements (`format` and `parse`, one place)
  plan      job files + store + now → the steps due, with their Drafts
  texts     the rendered texts of an occurrence
  validate  checking job files against the store and the templates

Nothing here imports the Discourse client, the publisher nor the wiring: running a job
(publishing, recording) is `bridge/runs.py`.
"""

from __future__ import annotations

from bridge.announce.keys import StepKey, StepRole, parse_step, topic_key
from bridge.announce.plan import (
    AnnounceState,
    Step,
    announcement_fields,
    build_steps,
    change_written,
    content_hash,
    edit_written,
    select_occurrences,
)
from bridge.announce.validate import published_job_ids, stored_categories, validate_jobs

__all__ = [
    "AnnounceState",
    "Step",
    "StepKey",
    "StepRole",
    "announcement_fields",
    "build_steps",
    "change_written",
    "content_hash",
    "edit_written",
    "parse_step",
    "published_job_ids",
    "select_occurrences",
    "stored_categories",
    "topic_key",
    "validate_jobs",
]
