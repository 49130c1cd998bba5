"""The Slack side: Bolt app factory, listeners, Block Kit rendering, the scheduler and the CLI."""
