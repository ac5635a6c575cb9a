"""Reading slash-command text (bot/domain/text.py) the way people actually type it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.text import ReadText, TextProblem, from_form, read


def kinds(parsed: ReadText) -> list[tuple[str, str]]:
    return [(token.kind, token.value) for token in parsed.tokens]


@pytest.mark.parametrize(
    ("typed", "user"),
    [
        ("<@U123ABC>", "U123ABC"),
        ("<@U123ABC|dana>", "U123ABC"),
        ("<@W0ENTERPR|Dana Scully>", "W0ENTERPR"),
    ],
)
def test_people_arrive_as_mentions(typed: str, user: str) -> None:
    parsed = read(f"{typed} thanks for the help")

    assert parsed.leading_users == (user,)
    assert parsed.words_after_leading_users() == "thanks for the help"


def test_leading_people_come_in_order_without_repeats() -> None:
    parsed = read("<@U0BOB> <@U0ANN|ann> <@U0BOB>   <@W0CAT> for the review <@U0DAN>")

    assert parsed.leading_users == ("U0BOB", "U0ANN", "W0CAT")
    # A person named later is part of the reason, not a receiver.
    assert parsed.words_after_leading_users() == "for the review <@U0DAN>"


def test_mentions_without_spaces_between_them_are_still_people() -> None:
    assert read("<@U1><@U2>thanks").leading_users == ("U1", "U2")


def test_no_leading_people_when_the_text_starts_with_a_word() -> None:
    assert read("thanks <@U0BOB>").leading_users == ()


@pytest.mark.parametrize(
    ("typed", "tag"),
    [
        ("<#C0PYTHON|python>", "python"),
        ("<#C0PYTHON|Python>", "python"),
        ("<#G0PRIVATE|kafka>", "kafka"),
        ("#python", "python"),
        ("#Word", "word"),
        ("#Python.", "python"),
        ("#c++", "c++"),
        ("#node.js", "node.js"),
    ],
)
def test_channel_links_and_hash_words_are_tags(typed: str, tag: str) -> None:
    parsed = read(f"<@U0BOB> for the talk {typed}")

    assert parsed.tags == (tag,)
    assert parsed.words_after_leading_users() == "for the talk"


def test_tags_are_listed_once_in_order() -> None:
    parsed = read("#Python <#C1|kafka> #python #go")

    assert parsed.tags == ("python", "kafka", "go")


def test_a_channel_link_without_a_name_is_a_word_not_an_empty_tag() -> None:
    parsed = read("see <#C0GENERAL>")

    assert parsed.tags == ()
    assert kinds(parsed) == [("word", "see"), ("word", "<#C0GENERAL>")]


@pytest.mark.parametrize(
    "typed",
    [
        "<!subteam^S0DEVS|@devs>",
        "<!subteam^S0DEVS>",
        "<!here>",
        "<!channel>",
        "<!everyone>",
        "<!here|@here>",
    ],
)
def test_groups_and_broadcasts_are_refused(typed: str) -> None:
    with pytest.raises(TextProblem, match="name people, not groups"):
        read(f"{typed} great launch")


def test_an_unescaped_at_name_is_refused_with_a_hint_to_pick_from_autocomplete() -> None:
    with pytest.raises(TextProblem) as raised:
        read("@dana thanks for the fix")

    message = str(raised.value)
    assert "“@\u2060dana”" in message
    assert "pick the person" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "typed",
    [
        "<mailto:ann@example.com|ann@example.com>",
        "<https://example.com/docs#setup>",
        "<https://example.com/a|the docs>",
        "ann@example.com",
        "a#b",
        "&#35;",
    ],
)
def test_links_and_addresses_stay_words(typed: str) -> None:
    parsed = read(f"<@U0BOB> see {typed}")

    assert parsed.tags == ()
    assert parsed.words_after_leading_users() == f"see {typed}"


def test_empty_text_reads_as_nothing() -> None:
    assert read("").tokens == ()
    assert read("   \n ").tokens == ()


SLACKISH = st.lists(
    st.one_of(
        st.text(max_size=8),
        st.sampled_from(
            ["<@", "<#", "<!", "subteam^", "here", "|", ">", "<", "#", "@", "U1", "C1", " ", "&"]
        ),
    ),
    max_size=12,
).map("".join)


@given(st.one_of(st.text(), SLACKISH))
def test_any_text_is_either_read_or_refused_politely(typed: str) -> None:
    try:
        parsed = read(typed)
    except TextProblem as problem:
        assert str(problem)
        return
    assert isinstance(parsed, ReadText)
    assert all(token.kind in {"user", "tag", "word"} for token in parsed.tokens)
    assert all(token.value for token in parsed.tokens)


def test_text_typed_into_a_form_is_kept_in_the_shape_commands_arrive_in() -> None:
    typed = "<!channel> Q&A <https://evil.example|x> &amp; @bob\x00"
    assert from_form(typed) == (
        "&lt;!channel&gt; Q&amp;A &lt;https://evil.example|x&gt; &amp;amp; @bob "
    )
    # So reading it finds words where Slack's markup was typed.
    parsed = read(from_form("<https://evil.example|x> <!here> thanks"))
    assert [t.kind for t in parsed.tokens] == ["word", "word", "word"]
