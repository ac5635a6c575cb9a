"""Kudos rules (bot/domain/kudos.py): what `/kudos` accepts, and how it says no."""

from __future__ import annotations

import pytest

from bot.domain.kudos import KudosRefused, check_receivers, read_intent
from bot.domain.people import Profile

ANN = Profile("U0ANN", "Ann")
BOB = Profile("U0BOB", "Bob")
ROBOT = Profile("U0ROBOT", "Deploy Bot", is_bot=True)
GONE = Profile("U0GONE", "Former Colleague", deleted=True)


def test_one_receiver_a_reason_and_values() -> None:
    intent = read_intent("<@U0BOB|bob> for the clear incident write-up #teamwork #Writing")

    assert intent.receiver_ids == ("U0BOB",)
    assert intent.reason == "for the clear incident write-up"
    assert intent.values == ("teamwork", "writing")


def test_several_receivers_each_once_and_a_channel_link_as_a_value() -> None:
    intent = read_intent("<@U0BOB> <@W0CAT> <@U0BOB> for pairing on the release <#C0PY|python>")

    assert intent.receiver_ids == ("U0BOB", "W0CAT")
    assert intent.reason == "for pairing on the release"
    assert intent.values == ("python",)


def test_a_reason_may_mention_other_people() -> None:
    intent = read_intent("<@U0BOB> for helping <@U0CAT> ship the migration")

    assert intent.receiver_ids == ("U0BOB",)
    assert intent.reason == "for helping <@U0CAT> ship the migration"


@pytest.mark.parametrize(
    "typed",
    ["", "thanks <@U0BOB> for the help", "for the help #teamwork"],
)
def test_kudos_must_start_with_a_person(typed: str) -> None:
    with pytest.raises(KudosRefused) as raised:
        read_intent(typed)

    assert "Start with the person" in raised.value.message
    assert "/kudos @" in raised.value.message  # an example to copy


@pytest.mark.parametrize(
    "typed", ["<@U0BOB>", "<@U0BOB> thanks", "<@U0BOB> great job #teamwork #python"]
)
def test_kudos_need_a_reason_of_a_few_words(typed: str) -> None:
    with pytest.raises(KudosRefused) as raised:
        read_intent(typed)

    assert "reason of at least 3 words" in raised.value.message


def test_kudos_to_a_group_are_refused_with_the_reason() -> None:
    with pytest.raises(KudosRefused) as raised:
        read_intent("<!subteam^S0DEVS|@devs> for the smooth launch last night")

    assert "name people, not groups" in raised.value.message


def test_kudos_to_a_typed_name_are_refused_with_a_hint() -> None:
    with pytest.raises(KudosRefused) as raised:
        read_intent("@bob for the smooth launch last night")

    # As typed, with a word joiner after the @ so the echo mentions nobody.
    assert "“@\u2060bob”" in raised.value.message
    assert "pick the person" in raised.value.message


def test_people_may_thank_other_people() -> None:
    check_receivers(ANN.user_id, [BOB])
    check_receivers(ANN.user_id, [])


@pytest.mark.parametrize(
    ("receivers", "expected"),
    [
        ([ANN], "can't give them to yourself"),
        ([BOB, ANN], "can't give them to yourself"),
        ([ROBOT], "<@U0ROBOT> is an app"),
        ([BOB, GONE], "<@U0GONE> is no longer in this workspace"),
    ],
)
def test_self_bots_and_former_colleagues_are_refused(
    receivers: list[Profile], expected: str
) -> None:
    with pytest.raises(KudosRefused) as raised:
        check_receivers(ANN.user_id, receivers)

    assert expected in raised.value.message
    assert str(raised.value) == raised.value.message


def test_control_characters_never_reach_the_stored_reason() -> None:
    # PostgreSQL refuses NUL in text; Slack can deliver it from a pasted string.
    intent = read_intent("<@U0BOB> for the\x00 great\x1b demo")

    assert intent.reason == "for the great demo"
