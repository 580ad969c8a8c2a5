"""The weekly digest for the facilitators (planning only).

  week     ISO weeks in the community's timezone, read from `--week` and named in words
  figures  the health indicators of a week, their changes and 8-week trends
  items    what the digest lists (discussions, toolbox, cards, members, activities to come)
  plan     store + week → the digest's Markdown and its one Draft

Nothing here imports the Discourse client, the publisher nor the wiring: running the digest
(freshness, publishing, recording the week's figures) is `bridge/runs.py`.
"""
