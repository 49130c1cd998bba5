"""`/ecm add TITLE [@owner ...] [org:] [due:] [outcome:] [district:] [decision:]`: a new action, posted in the channel."""

from __future__ import annotations

from commands.action_input import (
    check_title,
    free_text,
    member_org,
    owners_from,
    parse_decision,
    parse_district_choice,
    parse_due,
    past_due_warning,
    resolve_org,
)
from commands.action_view import action_line
from commands.context import Call
from commands.names import parse_outcomes
from commands.registry import verb
from commands.replies import Reply, Section, Visibility
from commands.text import esc, truncate
from storage import actions as store
from storage import meetings as meeting_store


@verb(
    "add",
    summary="Add an action to the plan; it is posted in the channel.",
    usage="/ecm add TITLE [@owner ...] [owner:@user] [org:DISTRICT-OR-ORG] [due:DATE] [outcome:NAME,...] "
    "[district:NAME,...|all] [decision:D3]",
    examples=[
        "/ecm add Audit school nurse referrals @sam due:end of month outcome:healthy district:chorley",
        '/ecm add "Map youth provision" org:"Lancashire County Council" due:28/02/2027 outcome:enjoy,positive '
        "district:all",
        "/ecm add Share missing-from-home protocol @dev @priya due:next friday outcome:safe",
    ],
    aliases=("new",),
    keys=(
        "owner",
        "owners",
        "org",
        "organisation",
        "due",
        "outcome",
        "outcomes",
        "district",
        "districts",
        "decision",
    ),
    changes=True,
    details="The free words form the title; people mentioned are its owners (you, if nobody is). The "
    "organisation defaults to the first owner's registered one; `org:` takes a district name or any "
    "organisation. `district:all` (or `countywide`) means every district. During a meeting the action is "
    "recorded as agreed at it.",
)
def add(call: Call) -> list[Reply]:
    args = call.args
    keys = args.keys
    title = check_title(free_text(args.tokens))
    owners = owners_from(call, args.tokens) or [call.user_id]
    warnings: list[str] = []

    org_value = keys.get("org") or keys.get("organisation")
    if org_value is not None:
        organisation = resolve_org(call, org_value)
    else:
        organisation = member_org(call, owners[0])
        if not organisation:
            warnings.append(
                f"<@{owners[0]}> has no registered organisation, so this action has none. A chair can "
                "register it with `/ecm member @name district:NAME`, or give `org:` on the action."
            )

    due = None
    if "due" in keys:
        due = parse_due(keys["due"], call.today)

    outcome_value = keys.get("outcome") or keys.get("outcomes")
    outcomes = parse_outcomes(outcome_value) if outcome_value is not None else []
    district_value = keys.get("district") or keys.get("districts")
    district_ids: list[int] = []
    countywide = False
    if district_value is not None:
        choice = parse_district_choice(call, district_value)
        countywide = choice.countywide
        district_ids = [] if countywide else [d.id for d in choice.districts]

    decision = parse_decision(call, keys["decision"]) if "decision" in keys else None
    meeting = meeting_store.open_meeting(call.session, call.group_id)

    row = store.create_action(
        call.session,
        call.task_group,
        title=title,
        owners=owners,
        organisation=organisation,
        due_date=due,
        outcomes=outcomes,
        district_ids=district_ids,
        countywide=countywide,
        by=call.user_id,
        at=call.now,
        meeting_id=meeting.id if meeting else None,
        decision_id=decision.id if decision else None,
    )
    number = row.action.number
    warning = past_due_warning(due, call.today, number)
    if warning:
        warnings.insert(0, warning)
    lines = [f":new: <@{call.user_id}> added action *#{number}*", action_line(row, call.today)]
    if decision is not None:
        lines.append(f"From decision *D{decision.number}*: {esc(truncate(decision.text, 200))}")
    if meeting is not None:
        lines.append(f"Agreed at {esc(meeting.title)}.")
    replies = [
        Reply(
            text=f"New action #{number}: {esc(truncate(title, 200))}",
            visibility=Visibility.CHANNEL,
            sections=[Section("\n".join(lines))],
            footer=f"`/ecm show {number}` for details · `/ecm update {number} status:in-progress` · "
            f"`/ecm done {number}`",
        )
    ]
    if warnings:
        replies.append(
            Reply(
                text=f"Added #{number}, with a warning.",
                sections=[Section(f"Added *#{number}*. " + "\n".join(warnings))],
            )
        )
    return replies
