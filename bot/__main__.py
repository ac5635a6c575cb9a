"""`python -m bot` starts the bot; it fails fast, naming any missing setting.

Run by a Python without guildbot's dependencies (outside its virtual environment), it says how
to run it in one line instead of a traceback. This file must stay readable by older Pythons too.
"""

import sys

HOW_TO_RUN = (
    "run .venv/bin/python -m bot (or `make run`, or activate the venv first: "
    "source .venv/bin/activate); see README.md, Quick start"
)

if sys.version_info < (3, 11):  # noqa: UP036 (for Pythons older than the project's)
    sys.exit(f"guildbot: needs Python 3.11 or later, not {sys.version.split()[0]}: {HOW_TO_RUN}")

try:
    from bot.cli import main
except ModuleNotFoundError as missing:
    if (missing.name or "").split(".")[0] in ("bot", "handlers", "storage"):
        raise  # our own code is broken: that traceback is the useful answer
    sys.exit(f"guildbot: {missing.name} is not installed for {sys.executable}: {HOW_TO_RUN}")

sys.exit(main(["run"]))
