"""Reading a Slack `users.info` user into a profile (handlers/people.py): the name that goes
into statements is the person's full name, as Slack and the playground show it."""

from __future__ import annotations

from typing import Any

from handlers.people import profile_from_slack


def slack_user(**fields: Any) -> dict[str, Any]:
    profile = fields.pop("profile", {})
    return {"id": "U0DAN", "name": "dan.k", "tz": "Europe/Warsaw", **fields, "profile": profile}


def test_the_name_is_the_full_name_not_the_display_name() -> None:
    user = slack_user(
        real_name="Dan Kowalski",
        profile={"display_name": "Dan", "real_name": "Dan Kowalski", "email": "dan@acme.test"},
    )

    profile = profile_from_slack(user)

    assert profile.name == "Dan Kowalski"
    assert (profile.email, profile.tz) == ("dan@acme.test", "Europe/Warsaw")


def test_the_profiles_full_name_is_enough() -> None:
    user = slack_user(profile={"display_name": "Dan", "real_name": "Dan Kowalski"})

    assert profile_from_slack(user).name == "Dan Kowalski"


def test_the_users_full_name_is_enough() -> None:
    assert profile_from_slack(slack_user(real_name="Dan Kowalski")).name == "Dan Kowalski"


def test_without_a_full_name_the_display_name_then_the_id() -> None:
    no_full_name = slack_user(real_name="", profile={"display_name": "Dan", "real_name": ""})
    assert profile_from_slack(no_full_name).name == "Dan"

    nothing = slack_user(profile={"display_name": "", "real_name": ""})
    assert profile_from_slack(nothing).name == "U0DAN"
