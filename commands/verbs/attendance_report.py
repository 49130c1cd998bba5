"""`/ecm attendance [last:N] [since:DATE] [district:NAME] [by:member]`: who keeps coming, in counts."""

from __future__ import annotations

from commands import meeting_view as view
from commands.context import Call
from commands.dates import format_date
from commands.mrkdwn import md
from commands.names import DistrictRef, match_district
from commands.numbers import whole_number
from commands.registry import verb
from commands.replies import Reply, UserError, Visibility
from commands.text import plural, slugify, truncate
from storage import attendance as attendance_store
from storage import groups

MAX_LAST = 100
_BY = {
    "member": True,
    "members": True,
    "person": True,
    "people": True,
    "user": True,
    "organisation": False,
    "organisations": False,
    "org": False,
    "orgs": False,
    "organization": False,
}


@verb(
    "attendance",
    summary="Attendance counts per organisation (or per member) over recent meetings.",
    usage="/ecm attendance [last:N] [since:DATE] [district:NAME] [by:member]",
    examples=[
        "/ecm attendance",
        "/ecm attendance last:12",
        "/ecm attendance since:1 Sep 2026 by:member",
        "/ecm attendance district:chorley",
    ],
    keys=("last", "since", "district", "by"),
    section="Meetings",
    details="For each organisation: meetings held, how many it was represented at (present, substitute or "
    "remotely), apologies and absences; those represented at fewer than half are named. Counts, not "
    "percentages. Cancelled meetings never count. Default: the last 6 meetings.",
)
def attendance(call: Call) -> list[Reply]:
    keys = call.args.keys
    if call.args.positional or call.args.mentions:
        raise UserError(md("I don't understand “{}” here.", truncate(call.args.free_text() or "@…", 60)))
    last: int | None = None
    if "last" in keys:
        last = whole_number(keys["last"], 1, MAX_LAST)
        if last is None:
            raise UserError(
                f"`last:` takes a number of meetings from 1 to {MAX_LAST}.", "For example `last:12`."
            )
    since = None
    if "since" in keys:
        since_day = view.past_date(keys["since"], call.today, "since")
        since = view.local_midnight(since_day, call.timezone)
    if last is None and since is None:
        last = view.DEFAULT_LAST
    by_member = False
    if "by" in keys:
        choice = _BY.get(slugify(keys["by"]))
        if choice is None:
            raise UserError(
                md("“{}” is not a way to count.", keys["by"]), "Use `by:member` (default: by organisation)."
            )
        by_member = choice
    organisation = None
    if "district" in keys:
        refs = [
            DistrictRef(d.id, d.name, d.slug)
            for d in groups.list_districts(call.session, call.group_id)
            if d.id is not None
        ]
        organisation = match_district(keys["district"], refs).name
    chosen = attendance_store.closed_meetings(call.session, call.group_id, last=last, since=since)
    scope = f"the last {plural(last, 'meeting')}" if last else "the meetings"
    if since is not None:
        scope += f" since {format_date(since_day)}"
    if organisation:
        scope = md("{} ({})", scope, organisation)
    return [
        view.attendance_reply(
            call.session,
            call.task_group,
            chosen,
            call.timezone,
            by_member=by_member,
            organisation=organisation,
            visibility=Visibility.EPHEMERAL,
            scope=scope,
            channel=False,
        )
    ]
