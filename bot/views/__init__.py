"""Block Kit builders: pure functions from facts to blocks, tested without Slack."""
