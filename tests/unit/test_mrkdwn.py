"""How a person's text becomes Slack markup (bot/views/mrkdwn.py)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.text import clean, from_form
from bot.views.mrkdwn import (
    WORD_JOINER,
    characters,
    code,
    escape,
    link_label,
    needs_mrkdwn,
    quoted,
    readable,
    render,
    text_object,
    truncate,
)

WJ = WORD_JOINER
PHISH = "<!channel> urgent: <https://evil.example/sso|Re-authenticate your Slack SSO here> <!here>"


def shown(mrkdwn: str) -> str:
    """What Slack shows for mrkdwn without tokens: entities undone, the word joiner unseen."""
    text = mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text.replace(WJ, "")


# Slack text: commands and messages -------------------------------------------------------------


def test_the_reviewed_phishing_reason_neither_broadcasts_nor_hides_its_address() -> None:
    assert render(PHISH) == f"@{WJ}channel urgent: <https://evil.example/sso> @{WJ}here"


def test_people_and_channels_stay_mentions_without_their_labels() -> None:
    typed = "thanks <@U0BOB|bob> and <@W0CAT> in <#C0GEN|general> and <#G0PRIV>"
    assert render(typed) == "thanks <@U0BOB> and <@W0CAT> in <#C0GEN> and <#G0PRIV>"


def test_every_broadcast_becomes_a_word_that_notifies_nobody() -> None:
    for token, word in (
        ("<!here>", "here"),
        ("<!here|@here>", "here"),
        ("<!channel>", "channel"),
        ("<!everyone>", "everyone"),
        ("<!group>", "group"),
        ("<!subteam^S0DEVS|@devs>", "devs"),
        ("<!subteam^S0DEVS>", "S0DEVS"),
    ):
        assert render(f"ping {token} now") == f"ping @{WJ}{word} now", token


def test_a_link_shows_its_address_never_its_label() -> None:
    assert render("<https://evil.example/sso|Re-authenticate>") == "<https://evil.example/sso>"
    assert render("<http://acme.example|acme.example>") == "<http://acme.example>"
    assert render("<https://x.example/?a=1&amp;b=2>") == "<https://x.example/?a=1&amp;b=2>"
    # An address, not a link with someone else's name on it.
    assert render("<mailto:boss@evil.example|boss@acme.example>") == "boss@evil.example"


def test_markup_slack_would_never_send_shows_as_typed() -> None:
    assert render("<javascript:alert(1)|click me>") == "&lt;javascript:alert(1)|click me&gt;"
    assert render("<!date^1^{time}|noon>") == "&lt;!date^1^{time}|noon&gt;"
    assert render("<foo &amp; bar>") == "&lt;foo &amp; bar&gt;"
    assert render("<>") == "&lt;&gt;"


def test_slack_escapes_stay_single_and_bare_characters_are_escaped() -> None:
    assert render("Q&amp;A &lt;b&gt;") == "Q&amp;A &lt;b&gt;"
    assert render("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    # Someone typed "&amp;" in a command: Slack sent "&amp;amp;", and that is what shows it.
    assert render("&amp;amp;") == "&amp;amp;"
    assert render("<@U0BOB") == f"&lt;@{WJ}U0BOB"


def test_formatting_characters_are_kept() -> None:
    typed = "a *very* _good_ ~talk~ with `code` and > quotes"
    assert render(typed) == "a *very* _good_ ~talk~ with `code` and &gt; quotes"


def test_an_at_word_gets_a_word_joiner_and_an_email_address_does_not() -> None:
    assert render("@here, @bob and ann@here.example") == f"@{WJ}here, @{WJ}bob and ann@here.example"


def test_readable_is_what_a_person_sees() -> None:
    assert readable(PHISH) == "@channel urgent: https://evil.example/sso @here"
    assert readable("<@U0BOB|bob> <@U0CAT> <#C0GEN|general> Q&amp;A") == "@bob @U0CAT #general Q&A"
    assert readable("<mailto:a@b.example|c@d.example> <odd &amp; thing>") == (
        "a@b.example <odd & thing>"
    )


def test_readable_names_the_people_it_is_given_by_those_names() -> None:
    names = {"U0BOB": "Bob Baker"}

    assert readable("thanks <@U0BOB|bob> and <@U0CAT> &amp; <@U0BOB>", names) == (
        "thanks @Bob Baker and @U0CAT & @Bob Baker"
    )
    # A name is shown as it is, never read as Slack's markup or escapes.
    assert readable("<@U0ODD>", {"U0ODD": "R&amp;D <Team>"}) == "@R&amp;D <Team>"


# Plain text: what forms keep as typed ----------------------------------------------------------


def test_escape_shows_plain_text_exactly() -> None:
    assert escape(PHISH) == (
        "&lt;!channel&gt; urgent: &lt;https://evil.example/sso|Re-authenticate your Slack SSO "
        "here&gt; &lt;!here&gt;"
    )
    assert escape("Q&A &amp; *stars*") == "Q&amp;A &amp;amp; *stars*"
    assert escape("@channel") == f"@{WJ}channel"


def test_the_bots_own_words_keep_their_at_signs() -> None:
    assert characters("/kudos @person <why>") == "/kudos @person &lt;why&gt;"


def test_a_code_span_cannot_be_broken_out_of() -> None:
    assert code("#teamwork` <!channel> `") == "`#teamworkˋ &lt;!channel&gt; ˋ`"
    assert code("two\nlines") == "`two lines`"
    assert code("") == "` `"


def test_a_link_label_is_one_escaped_line_without_a_pipe() -> None:
    label = link_label("How do I <b>|x</b>\n<@U0BOB|bob>?")
    assert label == f"How do I &lt;b&gt;¦x&lt;/b&gt; @{WJ}bob?"
    assert link_label("x" * 100, 10) == "x" * 9 + "…"


def test_a_quote_quotes_every_line() -> None:
    assert quoted("one\n<!here> two") == f">one\n>@{WJ}here two"


# Text objects ---------------------------------------------------------------------------------


def test_text_without_mentions_or_links_goes_out_as_plain_text_as_typed() -> None:
    assert text_object("a *very* good talk &amp; more") == {
        "type": "plain_text",
        "text": "a *very* good talk & more",
        "emoji": True,
    }
    assert text_object(from_form("<!here> Q&A"), lead=":question: ")["text"] == (
        ":question: <!here> Q&A"
    )


def test_text_with_a_mention_or_a_link_goes_out_as_rendered_mrkdwn() -> None:
    assert not needs_mrkdwn("<!here> &amp; <foo>")
    assert text_object("thanks <@U0BOB|bob> <!here>", lead=":q: ") == {
        "type": "mrkdwn",
        "text": f":q: thanks <@U0BOB> @{WJ}here",
    }
    assert text_object("see <https://x.example|docs>")["text"] == "see <https://x.example>"


def test_long_text_is_cut_without_breaking_an_entity_or_a_mention() -> None:
    assert truncate("abc &amp; def", 7) == "abc …"
    assert truncate("ab <@U0BOB> cd", 8) == "ab …"
    assert truncate("short", 10) == "short"
    assert len(text_object("x" * 5000)["text"]) == 3000


# Properties -----------------------------------------------------------------------------------

PIECES = st.sampled_from(
    [PHISH, "<@U0BOB|b>", "<#C1|c>", "<!subteam^S1|@d>", "&amp;", "&lt;", "&", "<", ">", "|"]
)
ANY_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=12).map("".join)
ALLOWED_TOKEN = re.compile(r"<(?:[@#][UWCG][A-Z0-9]+|(?:https?|mailto):[^|\s<>]+)>")


@settings(max_examples=300, derandomize=True, database=None)
@given(typed=ANY_TEXT)
def test_rendered_text_holds_no_markup_but_mentions_and_bare_links(typed: str) -> None:
    rendered = render(typed)
    assert not re.search(r"<!|\|", "".join(re.findall(r"<[^<>]*>", rendered)))
    assert re.sub(ALLOWED_TOKEN.pattern, "", rendered).count("<") == 0
    assert not re.search(r"(?<!\w)@(?:here|channel|everyone)\b", rendered, re.IGNORECASE)


@settings(max_examples=300, derandomize=True, database=None)
@given(typed=st.text())
def test_text_typed_into_a_form_shows_exactly_as_typed(typed: str) -> None:
    stored = from_form(typed)
    assert shown(render(stored)) == clean(typed)
    assert readable(stored) == clean(typed)
    assert shown(escape(typed)) == typed
