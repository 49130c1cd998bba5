"""Scheduled posts: chasers, digests, reminders and summaries. Slack-free: each kind plans outbox rows and
builds plain reply data (`commands.replies`), which `bot/jobs/dispatcher.py` renders and delivers.

One module per kind — `owner_digest`, `due_soon`, `channel_digest`, `escalation`, `meeting_reminder`,
`attendance_summary` — each defining `POST`, a `PostKind` (kind.py) with its name, label, job, settings,
`plan` and `build`, and listed once in `registry.KINDS`. `common` holds what the kinds share; `settings`
reads and changes a group's settings as the kinds declare them.
"""
