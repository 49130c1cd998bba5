"""Forms through Bolt with real signed payloads: the New action modal (global shortcut, Home button,
`/ecm add` with no text), the Update action modal, the message shortcut, the Home tab's buttons, and
external selects answered by block_suggestion."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from bot.forms import NEW_ACTION_CALLBACK, UPDATE_CALLBACK
from bot.listeners.forms import MESSAGE_SHORTCUT, NEW_ACTION_SHORTCUT
from bot.offline import OfflineWorkspace, block_text
from storage.models import Action, ActionNote, AuditEvent
from tests.support import add_like, ok


def actions(ws: OfflineWorkspace) -> list[Action]:
    with Session(ws.engine) as session:
        return list(session.exec(select(Action).order_by(Action.number)))


def open_new(ws: OfflineWorkspace, user: str = "sam"):  # type: ignore[no-untyped-def]
    out = ws.shortcut(NEW_ACTION_SHORTCUT, user=user)
    assert out.response.status == 200
    modal = ws.modal(user)
    assert modal is not None, "no modal opened"
    return modal


def test_global_shortcut_opens_new_action_form_and_submit_posts_like_add(group: OfflineWorkspace) -> None:
    modal = open_new(group)
    assert modal.view["callback_id"] == NEW_ACTION_CALLBACK
    blocks = {b.get("block_id") for b in modal.view["blocks"]}
    assert {"title", "owners", "org", "due", "outcomes", "districts", "note"} <= blocks
    out = group.submit(
        modal,
        {
            "title": "Map youth provision in Chorley",
            "owners": [group.user("sam"), group.user("priya")],
            "org": "Chorley",
            "due": "2026-12-18",
            "outcomes": ["enjoy-and-achieve", "positive-contribution"],
            "districts": ["chorley"],
            "note": "Start with the youth clubs",
        },
    )
    assert out.errors == {} and out.body == {}
    assert group.modal("sam") is None  # closed
    [action] = actions(group)
    assert action.title == "Map youth provision in Chorley" and action.organisation == "Chorley"
    assert str(action.due_date) == "2026-12-18"
    [post] = out.posted
    assert post.channel == group.channel
    text = group.readable(block_text(post.blocks))
    assert "added action *#1*" in text and "@priya, @sam" in text and "Fri 18 Dec 2026" in text
    # The same post `/ecm add` makes (the core's words), and the first note kept with the action.
    typed = group.command(
        "add Map youth provision in Chorley @sam @priya org:chorley due:18/12/2026 outcome:enjoy,positive district:chorley",
        user="sam",
    )
    assert re.sub(r"\b2\b", "1", str(typed.posted[0].blocks)) == str(post.blocks)
    with Session(group.engine) as session:
        [note] = session.exec(select(ActionNote)).all()
        assert note.text == "Start with the youth clubs"


def test_bad_input_is_answered_on_the_field_with_the_commands_words(group: OfflineWorkspace) -> None:
    modal = open_new(group)
    out = group.submit(modal, {"title": "x" * 400 + " " + "y" * 200})
    assert set(out.errors) == {"title"}
    assert "That title is too long" in out.errors["title"]  # as `/ecm add` says it
    assert group.modal("sam") is not None  # still open, to correct
    assert actions(group) == []
    out = group.submit(modal, {"title": "Fine title", "note": "n" * 3001})
    assert set(out.errors) == {"note"} and "too long" in out.errors["note"]
    assert actions(group) == []


def test_blank_title_is_refused_on_the_field(group: OfflineWorkspace) -> None:
    modal = open_new(group)
    out = group.submit(modal, {"title": "   "})
    assert "An action needs a title" in out.errors["title"]
    assert actions(group) == []


def test_retried_submission_never_creates_twice(group: OfflineWorkspace) -> None:
    modal = open_new(group)
    body = group.standin.submit(modal, {"title": "Only once"})
    first = group.resubmit(body)
    again = group.resubmit(body, retry_num=1)
    assert first.body == {} and again.body == {}
    assert len(actions(group)) == 1
    assert len(first.posted) == 1 and again.posted == []
    with Session(group.engine) as session:
        created = session.exec(
            select(AuditEvent).where(AuditEvent.verb == "created", AuditEvent.entity == "action")
        ).all()
        assert len(created) == 1


def test_person_in_no_group_is_told_how_to_start(ws: OfflineWorkspace) -> None:
    ws.shortcut(NEW_ACTION_SHORTCUT, user="stranger")
    modal = ws.modal("stranger")
    assert modal is not None and not modal.view.get("submit")
    text = block_text(modal.view["blocks"])
    assert "not in an ECM task group" in text and "/ecm setup" in text


def test_person_in_several_groups_chooses_and_the_choices_follow(group: OfflineWorkspace) -> None:
    other = group.standin.add_channel("ecm-preston")
    group.command(
        'setup name:"Preston ECM Task Group" districts:"Preston, Fishwick"', user="chair", channel=other
    )
    group.command("member @sam district:preston", user="chair", channel=other)
    modal = open_new(group)
    group_block = next(b for b in modal.view["blocks"] if b.get("block_id") == "group")
    labels = [o["text"]["text"] for o in group_block["element"]["options"]]
    assert labels == ["Lancashire ECM Task Group", "Preston ECM Task Group"]
    preston = group_block["element"]["options"][1]["value"]
    group.press_select(
        modal,
        "group",
        preston,
        answers={
            "title": "Kept while switching",
            "due": "2027-01-15",
            "outcomes": ["stay-safe", "enjoy-and-achieve"],
        },
    )
    districts = next(b for b in modal.view["blocks"] if b.get("block_id") == "districts")
    assert [o["text"]["text"] for o in districts["element"]["options"]][1:] == ["Preston", "Fishwick"]
    title = next(b for b in modal.view["blocks"] if b.get("block_id") == "title")
    assert title["element"]["initial_value"] == "Kept while switching"
    due = next(b for b in modal.view["blocks"] if b.get("block_id") == "due")
    assert due["element"]["initial_date"] == "2027-01-15"  # a date is a date in either group
    outcomes = next(b for b in modal.view["blocks"] if b.get("block_id") == "outcomes")
    assert [o["value"] for o in outcomes["element"]["initial_options"]] == ["stay-safe", "enjoy-and-achieve"]
    out = group.submit(modal, {"group": preston, "districts": ["fishwick"]})
    assert out.errors == {}
    assert out.posted[0].channel == other


def test_add_with_no_text_opens_the_form_for_this_channels_group(group: OfflineWorkspace) -> None:
    out = group.command("add", user="sam")
    assert not out.is_error, out.text
    modal = group.modal("sam")
    assert modal is not None and modal.view["callback_id"] == NEW_ACTION_CALLBACK
    assert "*Task group:* Lancashire ECM Task Group" in block_text(modal.view["blocks"])
    assert group.submit(modal, {"title": "From the form"}).errors == {}
    assert [a.title for a in actions(group)] == ["From the form"]


def test_home_new_action_button_opens_the_form(group: OfflineWorkspace) -> None:
    home = group.open_home("sam")
    assert home is not None
    group.press(home, "New action")
    modal = group.modal("sam")
    assert modal is not None and modal.view["callback_id"] == NEW_ACTION_CALLBACK


def test_views_open_at_once_within_the_trigger_lifetime(group: OfflineWorkspace) -> None:
    open_new(group)
    [call] = group.standin.calls_to("views.open")
    assert call.ok  # the stand-in refuses a trigger id older than 3 seconds


# ----- Update action -------------------------------------------------------------------------------------


def test_update_from_home_tells_the_channel_what_changed(group: OfflineWorkspace) -> None:
    group.command("add Audit referrals @sam due:30/11/2026 org:chorley", user="chair")
    home = group.open_home("sam")
    assert home is not None
    group.press(home, "Update")
    modal = group.modal("sam")
    assert modal is not None and modal.view["callback_id"] == UPDATE_CALLBACK
    out = group.submit(
        modal, {"status": "in-progress", "rag": "amber", "due": "2026-12-11", "note": "Half the GPs replied"}
    )
    assert out.errors == {}
    text = group.readable(block_text(out.posted[0].blocks))
    assert "status: open → in progress" in text and "due: Mon 30 Nov 2026 → Fri 11 Dec 2026" in text
    assert "Half the GPs replied" in text
    [action] = actions(group)
    assert action.status == "in-progress" and action.rag == "amber"


def test_update_by_someone_else_is_refused_and_changes_nothing(group: OfflineWorkspace) -> None:
    group.command("add Audit referrals @sam", user="chair")
    shown = group.command("show 1", user="priya")
    assert "[Update]" not in shown.text  # priya may not change it: no Update button for her
    home = group.open_home("sam")
    assert home is not None
    # priya presses the Update button sam sees (e.g. a stale or forwarded payload).
    group.standin.homes[group.user("priya")] = home
    home.user = group.user("priya")
    group.press(home, "Update")
    modal = group.modal("priya")
    assert modal is not None and not modal.view.get("submit")
    assert "Only the owners of #1 or a chair can update it" in block_text(modal.view["blocks"])
    assert actions(group)[0].status == "open"


def test_update_button_on_show(group: OfflineWorkspace) -> None:
    group.command("add Audit referrals @sam", user="chair")
    shown = group.command("show 1", user="sam")
    assert "[Update]" in shown.text
    message = shown.ephemeral[0]
    button = next(
        e
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Update"
    )
    group.click(button["action_id"], button["value"], user="sam")
    modal = group.modal("sam")
    assert modal is not None and modal.view["callback_id"] == UPDATE_CALLBACK


def test_dropping_from_the_form_needs_a_chair_and_a_reason(group: OfflineWorkspace) -> None:
    group.command("add Audit referrals @sam", user="chair")
    home = group.open_home("sam")
    group.press(home, "Update")  # type: ignore[arg-type]
    modal = group.modal("sam")
    out = group.submit(modal, {"status": "dropped"})  # type: ignore[arg-type]
    assert "Only a chair can drop #1" in out.errors["note"]
    home = group.open_home("chair")
    # The chair sees the action among the overdue? It has no due date; use /ecm show's button instead.
    shown = group.command("show 1", user="chair")
    button = next(e for b in shown.ephemeral[0].blocks if b["type"] == "actions" for e in b["elements"])
    group.click(button["action_id"], button["value"], user="chair")
    modal = group.modal("chair")
    out = group.submit(modal, {"status": "dropped"})  # type: ignore[arg-type]
    assert "Say why #1 is being dropped" in out.errors["note"]
    out = group.submit(modal, {"status": "dropped", "note": "Covered by the county plan"})  # type: ignore[arg-type]
    assert out.errors == {}
    assert actions(group)[0].status == "dropped"


def test_update_with_nothing_changed_says_so_on_the_form(group: OfflineWorkspace) -> None:
    group.command("add Audit referrals @sam", user="chair")
    home = group.open_home("sam")
    group.press(home, "Update")  # type: ignore[arg-type]
    out = group.submit(group.modal("sam"), {})  # type: ignore[arg-type]
    assert "Nothing to change on #1" in out.errors["note"]


# ----- Home tab buttons ----------------------------------------------------------------------------------


def test_done_on_home_closes_the_action_posts_in_channel_and_refreshes_home(group: OfflineWorkspace) -> None:
    group.command("add Audit referrals @sam", user="chair")
    home = group.open_home("sam")
    out = group.press(home, "Done")  # type: ignore[arg-type]
    assert actions(group)[0].status == "done"
    [post] = out.posted
    assert post.channel == group.channel and "marked *#1* done (from their Home tab)" in block_text(
        post.blocks
    )
    refreshed = group.readable(block_text(group.home_of("sam").view["blocks"]))  # type: ignore[union-attr]
    assert "#1 is marked done" in refreshed and "Audit referrals" not in refreshed.split("---", 1)[1]


def test_snooze_on_home(group: OfflineWorkspace) -> None:
    group.command("add Audit referrals @sam due:01/11/2026", user="chair")
    home = group.open_home("sam")
    group.press(home, "Snooze a week")  # type: ignore[arg-type]
    assert str(actions(group)[0].snoozed_until) == "2026-11-29"
    assert "No chasers for #1" in block_text(group.home_of("sam").view["blocks"])  # type: ignore[union-attr]


def test_done_by_someone_else_is_refused_on_their_home(group: OfflineWorkspace) -> None:
    group.command("add Audit referrals @sam", user="chair")
    home = group.open_home("sam")
    assert home is not None
    home.user = group.user("dev")
    out = group.press(home, "Done")
    assert out.posted == []
    assert actions(group)[0].status == "open"
    text = block_text(group.home_of("dev").view["blocks"])  # type: ignore[union-attr]
    assert ":warning: Only the owners of #1 or a chair can mark it done" in text
    assert f"(owners: <@{group.user('sam')}>)" in text and "&lt;" not in text  # a mention, escaped once


# ----- message shortcut ----------------------------------------------------------------------------------


def test_make_this_an_action_takes_the_text_author_and_permalink(group: OfflineWorkspace) -> None:
    message = group.say(
        "*Can* someone chase the <https://example.org|school nurse> rota? @priya knows", user="sam"
    )
    group.message_shortcut(MESSAGE_SHORTCUT, message, user="chair", author="sam")
    modal = group.modal("chair")
    assert modal is not None
    title = next(b for b in modal.view["blocks"] if b.get("block_id") == "title")
    assert title["element"]["initial_value"].startswith("Can someone chase the school nurse rota? @")
    owners = next(b for b in modal.view["blocks"] if b.get("block_id") == "owners")
    assert owners["element"]["initial_users"] == [group.user("sam")]
    [permalink] = group.standin.calls_to("chat.getPermalink")
    assert permalink.params["message_ts"] == message.ts
    assert group.standin.calls_to("views.update"), "the permalink is added once the form is open"
    # Mentions become names: @priya is not a name the bot holds, so it is asked for once the form is open.
    assert group.standin.calls_to("users.info")
    assert title["element"]["initial_value"].endswith("rota? @priya knows")
    out = group.submit(modal)
    assert out.errors == {}
    link = f"https://ecm-standin.slack.com/archives/{group.channel}/p{message.ts.replace('.', '')}"
    assert link in str(out.posted[0].blocks)
    assert link in group.command("show 1", user="sam").text
    assert link in str(group.open_home("sam").view["blocks"])  # type: ignore[union-attr]


def test_an_action_made_from_a_message_starts_with_the_due_date_and_districts_it_names(
    group: OfflineWorkspace,
) -> None:
    message = group.say(
        "We agreed Preston and Wyre will pilot the holiday club by 15/01/2027, thanks all", user="sam"
    )
    group.message_shortcut(MESSAGE_SHORTCUT, message, user="chair", author="sam")
    modal = group.modal("chair")
    assert modal is not None
    blocks = {b.get("block_id"): b for b in modal.view["blocks"]}
    assert blocks["due"]["element"]["initial_date"] == "2027-01-15"
    chosen = [o["value"] for o in blocks["districts"]["element"]["initial_options"]]
    assert chosen == ["preston", "wyre"]  # named in full; Chorley is not named
    assert "The due date and districts are as the message says: check before adding." in block_text(
        modal.view["blocks"]
    )
    out = group.submit(modal)  # the person checked them: submitted as filled in
    assert out.errors == {}
    shown = group.readable(group.command("show 1", user="sam").text)
    assert "*Due:* Fri 15 Jan 2027" in shown and "*Districts:* Preston, Wyre" in shown, shown


def test_a_message_naming_districts_alone_says_so(group: OfflineWorkspace) -> None:
    message = group.say("Chorley to circulate the new referral form", user="sam")
    group.message_shortcut(MESSAGE_SHORTCUT, message, user="chair", author="sam")
    modal = group.modal("chair")
    assert modal is not None
    shown = block_text(modal.view["blocks"])
    assert "The districts are as the message says: check before adding." in shown, shown
    blocks = {b.get("block_id"): b for b in modal.view["blocks"]}
    assert "initial_date" not in blocks["due"]["element"]


def test_a_message_naming_no_date_or_district_fills_in_neither(group: OfflineWorkspace) -> None:
    message = group.say("Can someone chase the school nurse rota? Last time was 1/1/2026", user="sam")
    group.message_shortcut(MESSAGE_SHORTCUT, message, user="chair", author="sam")
    modal = group.modal("chair")
    assert modal is not None
    blocks = {b.get("block_id"): b for b in modal.view["blocks"]}
    assert "initial_date" not in blocks["due"]["element"]
    assert "initial_options" not in blocks["districts"]["element"]
    assert "as the message says" not in block_text(modal.view["blocks"])


def test_message_shortcut_outside_a_task_group_says_so_and_offers_my_groups(group: OfflineWorkspace) -> None:
    random = group.standin.add_channel("random")
    message = group.say("Let's do the thing", user="sam", channel=random)
    group.message_shortcut(MESSAGE_SHORTCUT, message, user="sam", author="sam")
    modal = group.modal("sam")
    assert modal is not None
    assert "not a task group" in block_text(modal.view["blocks"])
    out = group.submit(modal)
    assert out.errors == {}
    assert out.posted[0].channel == group.channel


# ----- external selects ----------------------------------------------------------------------------------


def test_more_than_100_organisations_use_an_external_select(group: OfflineWorkspace) -> None:
    ok(group.command('add Partner task 0 org:"Partner organisation 000"'))  # one through Slack
    add_like(
        group,
        1,
        [
            {"title": f"Partner task {i}", "organisation": f"Partner organisation {i:03d}"}
            for i in range(1, 110)
        ],
    )
    modal = open_new(group)
    org = next(b for b in modal.view["blocks"] if b.get("block_id") == "org")
    assert org["element"]["type"] == "external_select"
    options = group.suggest(modal, "org", "organisation 10")
    labels = [o["text"]["text"] for o in options]
    assert "Partner organisation 100" in labels and len(labels) <= 100
    assert all("10" in label for label in labels)
    out = group.submit(modal, {"title": "External org", "org": "Partner organisation 105"})
    assert out.errors == {}
    assert actions(group)[-1].organisation == "Partner organisation 105"


def test_update_action_button_on_the_owner_digest_opens_the_form(group: OfflineWorkspace) -> None:
    group.command("add Audit referrals @sam due:02/11/2026", user="chair")
    from commands.posts import owner_digest

    with Session(group.engine) as session:
        digest = owner_digest.render_digest(
            owner_digest.digest_for(session, group.user("sam"), group.clock.now().date())
        )
    buttons = [b for s in digest.sections for b in s.buttons]
    update = next(b for b in buttons if b.label == "Update action")
    group.click(update.action_id, update.value, user="sam", channel=group.user("sam"))
    modal = group.modal("sam")
    assert modal is not None and modal.view["callback_id"] == UPDATE_CALLBACK


def test_a_form_submission_refreshes_the_homes_it_affects(group: OfflineWorkspace) -> None:
    modal = open_new(group)
    group.standin.calls.clear()
    group.submit(modal, {"title": "For priya", "owners": [group.user("priya")]})
    published = {c.params["user_id"] for c in group.standin.calls_to("views.publish")}
    assert {group.user("sam"), group.user("priya")} <= published
    assert "For priya" in str(group.home_of("priya").view["blocks"])  # type: ignore[union-attr]


def test_tampered_values_are_refused_per_field_in_the_commands_words(group: OfflineWorkspace) -> None:
    """Selects and date pickers only offer good values, but a submission is checked as if typed."""
    modal = open_new(group)
    meta = modal.view["private_metadata"]
    values = {
        "group": {"group": {"type": "static_select", "selected_option": {"value": str(1)}}},
        "title": {"title": {"type": "plain_text_input", "value": "Tampered"}},
        "due": {"due": {"type": "datepicker", "selected_date": "31/02/2027"}},
        "districts": {
            "districts": {"type": "multi_static_select", "selected_options": [{"value": "narnia"}]}
        },
        "outcomes": {"outcomes": {"type": "multi_static_select", "selected_options": [{"value": "helthy"}]}},
        "decision": {"decision": {"type": "static_select", "selected_option": {"value": "99"}}},
        "org": {"org": {"type": "static_select", "selected_option": {"value": "o" * 201}}},
    }
    body = group.standin.view_submission(
        group.user("sam"), NEW_ACTION_CALLBACK, meta, values, view_id=modal.id
    )
    out = group.resubmit(body)
    assert set(out.errors) == {"due", "districts", "outcomes", "decision", "org"}
    assert "31/02/2027" in out.errors["due"]
    assert "narnia" in out.errors["districts"]
    assert "Did you mean Be Healthy?" in out.errors["outcomes"]
    assert "There is no decision D99" in out.errors["decision"]
    assert "too long" in out.errors["org"]
    assert actions(group) == []
