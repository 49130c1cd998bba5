"""Scheduled posts: chasers, digests, reminders and summaries, planned into the outbox and dispatched.

One module per kind of post (`due_soon`, `owner_digest`, `channel_digest`, `meeting_reminders`,
`attendance_summary`), each with `plan(session, day, tz)` and `build(session, item, tz)`; `planner` runs the
plans for a date, `dispatcher` delivers what is due, `cli` is `ecm-bot jobs`.
"""
