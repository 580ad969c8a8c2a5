"""Announcements: the committee's job files turned into Drafts (planning only).

  keys      the ledger key format of announcements (`format` and `parse`, one place)
  plan      job files + store + now → the steps due, with their Drafts
  texts     the rendered texts of an occurrence
  validate  checking job files against the store and the templates
  show      what `bridge announce` shows people: the dry run's steps and texts, the
            publication lines (words and links, never ledger keys)

Nothing here imports the Discourse client, the publisher nor the wiring: running a job
(publishing, recording) is `bridge/runs.py`. Import from the submodules: this file imports
nothing, so that `jobfiles` can use the key format without a cycle.
"""
