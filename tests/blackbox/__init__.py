"""Black-box tests: `python -m bot` as a process, spoken to over HTTP the way Slack does."""
