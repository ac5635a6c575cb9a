"""guildbot: social learning in Slack, recorded as xAPI in the organisation's own LRS."""
