"""`/ecm districts`, `/ecm outcomes`, `/ecm members`: what the group is made of."""

from __future__ import annotations

from commands.context import Call
from commands.mrkdwn import Mrkdwn, md, person
from commands.names import OUTCOME_NAMES, OUTCOME_SHORT
from commands.registry import verb
from commands.replies import Reply, Section
from storage import groups
from storage import members as member_store
from storage.models import Outcome, Role


@verb("districts", summary="The districts of this task group.", usage="/ecm districts", section="Task group")
def districts(call: Call) -> list[Reply]:
    found = groups.list_districts(call.session, call.group_id)
    if not found:
        body = Mrkdwn(
            'No districts yet. A chair can add them: `/ecm setup districts:"Blaby, Charnwood"` or `preset:lancashire`.'
        )
    else:
        body = Mrkdwn("\n").join(md("• {} (`district:{}`)", d.name, d.slug) for d in found)
        body += Mrkdwn("\n`district:all` (or `countywide`) means every district.")
    return [
        Reply(text=f"{len(found)} districts", header=f"Districts ({len(found)})", sections=[Section(body)])
    ]


@verb(
    "outcomes",
    summary="The five Every Child Matters outcomes and their short names.",
    usage="/ecm outcomes",
    section="Task group",
    needs_group=False,
)
def outcomes(call: Call) -> list[Reply]:
    body = Mrkdwn("\n").join(md("• *{}* (`outcome:{}`)", OUTCOME_NAMES[o], OUTCOME_SHORT[o]) for o in Outcome)
    return [
        Reply(text="The five ECM outcomes", header="Every Child Matters outcomes", sections=[Section(body)])
    ]


@verb(
    "members",
    summary="Who is in this task group, their organisation and role.",
    usage="/ecm members",
    section="Task group",
)
def members(call: Call) -> list[Reply]:
    found = member_store.list_members(call.session, call.group_id)
    lines = [
        md("• {} — {}", person(m.user_id), m.organisation or "organisation not set")
        + (Mrkdwn(" *(chair)*") if m.role == Role.CHAIR else "")
        for m in found
    ]
    body = Mrkdwn("\n").join(lines) or Mrkdwn("No members registered yet.")
    body += Mrkdwn(
        '\nChairs register members with `/ecm member @name district:NAME` or `org:"Organisation"`.'
    )
    return [Reply(text=f"{len(found)} members", header=f"Members ({len(found)})", sections=[Section(body)])]
