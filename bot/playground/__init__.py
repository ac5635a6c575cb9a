"""The playground: the real guildbot wired to a local stand-in of Slack, with a web page.

`slack.py` is the stand-in (Web API, response URLs, file uploads, and the signed requests Slack
would send), `server.py` starts it with the real bot, `page.py` serves the page.
"""
