"""Rules per capability, in plain Python: nothing here knows about Slack or HTTP."""
