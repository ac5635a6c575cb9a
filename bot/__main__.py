"""`python -m bot` starts the bot; it fails fast, naming any missing setting."""

import sys

from bot.cli import main

sys.exit(main(["run"]))
