"""commands.mrkdwn: user text reaches Slack escaped by construction, and the renderer refuses broadcasts."""

from __future__ import annotations

import pytest

from bot.offline import OfflineWorkspace
from bot.render import render
from commands.mrkdwn import (
    Mrkdwn,
    bold,
    channel,
    clip,
    code,
    italic,
    link,
    md,
    mention,
    mentions,
    person,
    quote,
    recipient,
    text,
    with_mentions,
)
from commands.replies import Reply, Section, UserError

PING = "<!channel> & <@U0BOSS>"
PING_ESCAPED = "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;"


def test_text_escapes_and_mrkdwn_is_not_escaped_twice() -> None:
    assert text(PING) == PING_ESCAPED and isinstance(text(PING), Mrkdwn)
    assert text(text(PING)) == PING_ESCAPED


def test_format_escapes_every_argument_not_already_mrkdwn() -> None:
    out = md("*{}* owned by {who} ({n:>3})", PING, who=mention("U0SAM"), n=7)
    assert out == f"*{PING_ESCAPED}* owned by <@U0SAM> (  7)" and isinstance(out, Mrkdwn)
    assert Mrkdwn("{0} {0}").format(bold("a<b")) == "*a&lt;b* *a&lt;b*"


def test_concat_percent_and_join_escape() -> None:
    assert Mrkdwn("*x* ") + PING == f"*x* {PING_ESCAPED}"
    assert PING + Mrkdwn(" *x*") == f"{PING_ESCAPED} *x*"
    assert isinstance(Mrkdwn("a") + "b", Mrkdwn) and isinstance("a" + Mrkdwn("b"), Mrkdwn)
    assert Mrkdwn("%s has %d") % (PING, 3) == f"{PING_ESCAPED} has 3"
    assert Mrkdwn("%(t)s") % {"t": "<x>"} == "&lt;x&gt;"
    assert Mrkdwn(", ").join([PING, mention("U0SAM")]) == f"{PING_ESCAPED}, <@U0SAM>"


def test_constructors() -> None:
    assert (
        bold("<b>") == "*&lt;b&gt;*" and italic("a&b") == "_a&amp;b_" and code("<!here>") == "`&lt;!here&gt;`"
    )
    assert channel("C0GROUP") == "<#C0GROUP>"
    assert mentions(["U0A", "W0B"]) == "<@U0A>, <@W0B>" and mentions([]) == "nobody"
    assert (
        link("https://x.slack.com/archives/C1/p1", "the <minutes>")
        == "<https://x.slack.com/archives/C1/p1|the &lt;minutes&gt;>"
    )
    # An address that could break out of its brackets is not made a link.
    assert link("https://evil.example|click><!channel", "label") == "label"
    assert link("javascript:alert(1)", "x") == "x"
    assert (
        with_mentions("ask <@U0SAM> about <!here> & <@forged")
        == "ask <@U0SAM> about &lt;!here&gt; &amp; &lt;@forged"
    )


def test_person_shows_a_stored_id_that_is_not_a_user_as_text() -> None:
    assert person("U0SAM") == "<@U0SAM>"
    assert person("ecm-bot-cli") == "ecm-bot-cli" and person(None) == "nobody"
    assert person("<!channel>") == "&lt;!channel&gt;"


@pytest.mark.parametrize("bad", ["", "U0SAM>", "<@U0SAM>", "u0sam", "!channel", "U0SAM|boss", "C0GROUP"])
def test_mention_accepts_only_real_user_ids(bad: str) -> None:
    with pytest.raises(ValueError):
        mention(bad)


@pytest.mark.parametrize("bad", ["", "U0SAM", "C0 GROUP", "!here"])
def test_channel_accepts_only_real_channel_ids(bad: str) -> None:
    with pytest.raises(ValueError):
        channel(bad)


def test_section_and_footer_accept_mrkdwn() -> None:
    reply = Reply(text="t", sections=[Section(md("*{}*", "a<b"))], footer=md("by {}", mention("U0SAM")))
    assert reply.sections[0].text == "*a&lt;b*" and reply.footer == "by <@U0SAM>"


def test_a_plain_str_is_escaped_on_construction() -> None:
    # The types say Mrkdwn (mypy checks it); a str that reaches them anyway is shown as text, never trusted.
    reply = Reply(text="t", sections=[Section(PING)], footer=PING)  # type: ignore[arg-type]
    assert reply.sections[0].text == PING_ESCAPED and reply.footer == PING_ESCAPED
    assert isinstance(reply.sections[0].text, Mrkdwn) and isinstance(reply.footer, Mrkdwn)
    error = UserError(PING, PING)
    assert error.message == PING_ESCAPED and error.usage == PING_ESCAPED
    built = UserError(md("{} is not a date", PING), md("Ask {}", mention("U0SAM")))
    assert built.message == f"{PING_ESCAPED} is not a date" and built.usage == "Ask <@U0SAM>"
    (section, usage) = Reply.error(PING, PING).sections
    assert section.text == f":warning: {PING_ESCAPED}" and usage.text == PING_ESCAPED


def test_quote_clip_and_recipient() -> None:
    assert quote(f"one {PING}\ntwo") == f"> one {PING_ESCAPED}\n> two"
    assert quote(with_mentions("ask <@U0SAM>")) == "> ask <@U0SAM>"
    # A cut never ends inside an entity or a mention, so no half-escaped text reaches Slack.
    assert clip(text("a & b"), 5) == "a…" and clip(md("hi {}", mention("U0SAM")), 8) == "hi…"
    assert clip(text("short"), 5) == "short" and isinstance(clip(text("a" * 9), 4), Mrkdwn)
    assert recipient("C0GROUP") == "<#C0GROUP>" and recipient("U0SAM") == "<@U0SAM>"
    assert recipient("<!here>") == "&lt;!here&gt;" and recipient(None) == "nobody"


@pytest.mark.parametrize("broadcast", ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S0TEAM|@leads>"])
def test_renderer_refuses_broadcasts_whatever_a_caller_forgot(broadcast: str) -> None:
    # Mrkdwn(...) trusts its argument: a caller that wrongly trusts user text still cannot ping anyone.
    reply = Reply(text=broadcast, sections=[Section(Mrkdwn(f"hi {broadcast}"))], footer=Mrkdwn(broadcast))
    (message,) = render(reply)
    assert broadcast not in str(message)
    kept = render(
        Reply(text="x", sections=[Section(md("{} <!date^1700000000^{{date}}|today>", mention("U0SAM")))])
    )
    assert "<@U0SAM> <!date^1700000000^{date}|today>" in str(kept)


def test_typed_pings_reach_slack_escaped_through_the_real_path(ws: OfflineWorkspace) -> None:
    """A typed-out `<!channel>` / `<@U…>` (Slack sends typed brackets as &lt; &gt;) in a group name, title,
    note and decision is shown as text in every message and view the bot sends."""
    typed = "&lt;!channel&gt; &lt;@U0FORGED&gt;"
    for command in (
        f'setup name:"Group {typed}" preset:lancashire',
        f"add Title {typed} due:2027-01-31",
        f'update 1 "Note {typed}"',
        'meeting start "Board"',
        f'decide "Decision {typed}"',
        "show 1",
        "decisions",
        "meeting end",
    ):
        out = ws.command(command, user="chair")
        assert not out.is_error, (command, out.text)
    sent = [m for m in ws.standin.messages if m.via != "person"]
    assert sent
    # Headers are plain_text, where Slack renders nothing as a mention; everything else is mrkdwn.
    everything = " ".join(
        m.text + " " + str([b for b in m.blocks if b.get("type") != "header"]) for m in sent
    )
    assert "<!channel>" not in everything and "<@U0FORGED" not in everything
    for word in ("Group", "Title", "Note", "Decision"):
        # (Notes and decisions also break a typed `<@` with a zero-width space when they are read.)
        assert f"{word} &lt;!channel&gt; &lt;" in everything, word
