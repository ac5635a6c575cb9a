"""The README and .env.example are true to the code: every setting the loader reads is in
both (and nothing else is offered as one), and `python -m bot` run by a Python without
guildbot's dependencies says how to run it instead of ending in a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot import config

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


def settings_read(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The names `load_settings` and `load_log_settings` ask for, recorded as they ask."""
    asked: set[str] = set()
    get = config._Reader.get

    def recording(self: config._Reader, name: str) -> str | None:
        asked.add(name)
        return get(self, name)

    monkeypatch.setattr(config._Reader, "get", recording)
    config.load_settings(MINIMAL, env_file=None)
    config.load_log_settings(MINIMAL, env_file=None)
    return asked


def test_every_setting_has_a_field_and_every_field_a_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fields = {name.upper() for name in config.Settings.__dataclass_fields__}
    assert settings_read(monkeypatch) == fields


def test_every_setting_is_in_dotenv_example_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = (ROOT / ".env.example").read_text()
    offered = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))

    assert offered == settings_read(monkeypatch)


def test_every_setting_is_in_the_readmes_settings_table(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    documented = {
        name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])
    }

    assert documented == settings_read(monkeypatch)
    assert "coming" not in table and "next release" not in table


def test_python_m_bot_without_the_dependencies_says_how_to_run_it() -> None:
    """`python3 -m bot` in a fresh clone, before `make`: no site-packages (-S), so none of
    guildbot's dependencies; the clone is the working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    finished = subprocess.run(
        [sys.executable, "-S", "-m", "bot"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 1
    [line] = finished.stderr.splitlines()
    assert line.startswith("guildbot: ") and "is not installed" in line
    assert ".venv/bin/python -m bot" in line and "make run" in line
