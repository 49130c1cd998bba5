"""Running the scheduled posts: `planner` stores a date's posts in the outbox (the ticker's step),
`dispatcher` delivers what is due, `replica` is one dispatching process, `cli` is `ecm-bot jobs`.

The kinds of post themselves (what each plans and says) live in `commands/posts/`, Slack-free.
"""
