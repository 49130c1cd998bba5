"""Attendance at the open meeting: `/ecm here` (yourself), `/ecm present @a @b` and `/ecm apologies @c`
(chairs, for others).

`for:` is a district, a free-text organisation, or a registered member (`for:@dev`: attending in their place,
for their organisation). It defaults to the person's registered organisation. `as:substitute|virtual`.
Representing an organisation needs membership of the task group, or a chair recording it: someone else who
records themselves (`/ecm here for:"Org"`) is recorded as a guest from that organisation, shown as a guest
in attendance and minutes, and never counted as it being represented.
Recording someone again corrects them: the latest record wins and the earlier one stays in the audit trail.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from commands.context import Call
from commands.grammar import mention_ids
from commands.meeting_input import require_open
from commands.mrkdwn import Mrkdwn, md, person
from commands.registry import verb
from commands.replies import Reply, Section, UserError, Visibility
from commands.text import slugify, truncate
from storage import attendance as attendance_store
from storage import groups
from storage import meetings as meeting_store
from storage import members as member_store
from storage.models import Attendance, AttendanceMode, Meeting, Member

MAX_ORG = 200
_AS_WORDS = {
    "present": AttendanceMode.PRESENT,
    "in-person": AttendanceMode.PRESENT,
    "person": AttendanceMode.PRESENT,
    "substitute": AttendanceMode.SUBSTITUTE,
    "sub": AttendanceMode.SUBSTITUTE,
    "deputy": AttendanceMode.SUBSTITUTE,
    "virtual": AttendanceMode.VIRTUAL,
    "remote": AttendanceMode.VIRTUAL,
    "online": AttendanceMode.VIRTUAL,
    "video": AttendanceMode.VIRTUAL,
    "phone": AttendanceMode.VIRTUAL,
}
_COUNCIL_RE = re.compile(r"-(?:borough|district|city)?-?council$")
FOR_EXAMPLES = 'for:chorley, for:"Lancashire Constabulary" or for:@name (standing in for them)'


@dataclass
class ForWhom:
    organisation: str
    member: Member | None = None  # when `for:` named a registered member


def parse_as(value: str | None, default: AttendanceMode = AttendanceMode.PRESENT) -> AttendanceMode:
    if value is None:
        return default
    mode = _AS_WORDS.get(slugify(value))
    if mode is None:
        raise UserError(
            md("“{}” is not a way of attending.", truncate(value, 40)),
            "Use `as:substitute` (standing in for someone) or `as:virtual` (joining remotely).",
        )
    return mode


def resolve_for(call: Call, value: str) -> ForWhom:
    """What `for:` names: a registered member, a district, a registered member's organisation, or a new
    organisation written out in full."""
    value = " ".join(value.split())
    if value.startswith("<@"):
        ids = mention_ids(value)
        if len(ids) != 1:
            raise UserError("`for:` takes one person.", f"For example {FOR_EXAMPLES}.")
        member = member_store.get_member(call.session, call.group_id, ids[0])
        if member is None:
            raise UserError(
                md(
                    "{} is not a registered member of this task group, so I don't know their organisation.",
                    person(ids[0]),
                ),
                f"Give the organisation instead: {FOR_EXAMPLES}.",
            )
        return ForWhom(member.organisation, member)
    if not value:
        raise UserError("`for:` needs an organisation.", f"For example {FOR_EXAMPLES}.")
    if len(value) > MAX_ORG:
        raise UserError(f"That organisation name is too long ({MAX_ORG} characters at most).")
    wanted = slugify(value)
    districts = groups.list_districts(call.session, call.group_id)
    council = _COUNCIL_RE.sub("", wanted)  # "chorley-borough-council" is the Chorley district
    for d in districts:
        if wanted in (d.slug, slugify(d.name)) or council in (d.slug, slugify(d.name)):
            return ForWhom(d.name)
    for m in member_store.list_members(call.session, call.group_id):
        if m.organisation and slugify(m.organisation) == wanted:
            return ForWhom(m.organisation)
    prefixed = [d for d in districts if len(wanted) >= 3 and d.slug.startswith(wanted)]
    if len(prefixed) == 1:
        return ForWhom(prefixed[0].name)
    if len(prefixed) > 1:
        raise UserError(
            md(
                "“{}” could be {}. Please give more of the name.",
                value,
                Mrkdwn(", ").join(d.name for d in prefixed),
            )
        )
    if " " not in value:
        guess = difflib.get_close_matches(wanted, [d.slug for d in districts], n=1, cutoff=0.75)
        if guess:
            name = next(d.name for d in districts if d.slug == guess[0])
            raise UserError(
                md("There is no district “{}”. Did you mean *{}*?", value, name),
                'For another organisation, write its full name: `for:"Barnardo\'s North West"`.',
            )
    return ForWhom(value)


def record_one(
    call: Call, meeting: Meeting, user_id: str, mode: AttendanceMode, for_whom: ForWhom | None
) -> tuple[Attendance, Attendance | None]:
    member = member_store.get_member(call.session, call.group_id, user_id)
    substitute_for: str | None = None
    if member is None and for_whom is not None and not call.is_chair:
        # Recording themselves (only chairs record others): a guest, whatever `for:` says.
        if mode == AttendanceMode.APOLOGIES:
            raise UserError(
                "Only members send apologies for an organisation, and you are not a registered member of this "
                "task group.",
                "A chair can record them: `/ecm apologies @name for:ORG`, or register you with `/ecm member`.",
            )
        return attendance_store.record_attendance(
            call.session,
            meeting,
            user_id=user_id,
            organisation=for_whom.organisation,
            mode=AttendanceMode.GUEST,
            substitute_for=None,
            by=call.user_id,
            at=call.now,
        )
    if for_whom is not None:
        organisation = for_whom.organisation
        named = for_whom.member
        if named is not None and named.user_id != user_id:
            substitute_for = named.user_id
            if mode == AttendanceMode.PRESENT:
                mode = AttendanceMode.SUBSTITUTE  # attending in someone else's place
        elif named is not None and mode == AttendanceMode.SUBSTITUTE:
            raise UserError(
                md("{} can't stand in for themselves.", person(user_id)),
                "Name the member they replace: `for:@name`, or their organisation.",
            )
        if mode == AttendanceMode.SUBSTITUTE and substitute_for is None:
            # "for:chorley as:substitute": standing in for that organisation's member, when there is just one.
            regulars = [
                m
                for m in member_store.list_members(call.session, call.group_id)
                if m.user_id != user_id
                and m.organisation
                and slugify(m.organisation) == slugify(organisation)
            ]
            if len(regulars) == 1:
                substitute_for = regulars[0].user_id
    else:
        if mode == AttendanceMode.SUBSTITUTE:
            raise UserError(
                "A substitute needs `for:`: the member they stand in for, or that member's organisation.",
                'For example `/ecm present @jo as:substitute for:@sam` or `for:"Lancashire Constabulary"`.',
            )
        if member is None:
            who = "You are" if user_id == call.user_id else md("{} is", person(user_id))
            raise UserError(
                md(
                    "{} not a registered member of this task group, so I don't know which organisation to record.",
                    who,
                ),
                f"Add the organisation: {FOR_EXAMPLES} (someone who is not a member is recorded as a guest "
                "from it). Chairs register members with `/ecm member @name district:NAME`.",
            )
        organisation = member.organisation
    return attendance_store.record_attendance(
        call.session,
        meeting,
        user_id=user_id,
        organisation=organisation,
        mode=mode,
        substitute_for=substitute_for,
        by=call.user_id,
        at=call.now,
    )


def describe(record: Attendance, previous: Attendance | None) -> Mrkdwn:
    org = record.organisation or "organisation not set"
    if record.mode == AttendanceMode.APOLOGIES:
        text = md("{} — apologies ({})", person(record.user_id), org)
    elif record.mode == AttendanceMode.GUEST:
        text = md(
            "{} — present as a guest, from {} (not a member of this task group, so this does not count as {} "
            "being represented)",
            person(record.user_id),
            org,
            org,
        )
    elif record.mode == AttendanceMode.SUBSTITUTE:
        text = md("{} — substitute for {}", person(record.user_id), org)
    elif record.mode == AttendanceMode.VIRTUAL:
        text = md("{} — present remotely for {}", person(record.user_id), org)
    else:
        text = md("{} — present for {}", person(record.user_id), org)
    if record.substitute_for:
        text += md(", standing in for {}", person(record.substitute_for))
    if previous is not None:
        same = (previous.mode, previous.organisation, previous.substitute_for) == (
            record.mode,
            record.organisation,
            record.substitute_for,
        )
        if same:
            text += Mrkdwn(" _(already recorded)_")
        else:
            was = md(" for {}", previous.organisation) if previous.organisation else ""
            text += md(" _(corrected; was {}{})_", previous.mode.value, was)
    return text


def attendance_post(call: Call, meeting: Meeting, lines: list[Mrkdwn]) -> list[Reply]:
    """The channel post for attendance just recorded (commands and the attendance form)."""
    number = meeting_store.meeting_number(call.session, meeting)
    label = f"Meeting {number}" if number else "the meeting"
    return [
        Reply(
            text=f"Attendance at {label}: " + "; ".join(lines),
            visibility=Visibility.CHANNEL,
            sections=[
                Section(
                    md("*Attendance at {}*\n{}", label, Mrkdwn("\n").join(md("• {}", line) for line in lines))
                )
            ],
        )
    ]


def _people(call: Call, doing: str) -> list[str]:
    people = list(dict.fromkeys(call.args.mentions))
    if call.args.positional:
        raise UserError(
            md("I don't understand “{}” here. Mention people with @.", truncate(call.args.free_text(), 60))
        )
    if any(p != call.user_id for p in people):
        call.require_chair(doing)
    return people


@verb(
    "present",
    summary="Record who is at the meeting, and for which organisation (chairs, for others).",
    usage="/ecm present @a @b [for:ORG|for:@member] [as:substitute|virtual]",
    examples=[
        "/ecm present @sam @priya",
        "/ecm present @jo for:@dev",
        "/ecm present @kim as:virtual",
        '/ecm present @lee for:"Barnardo\'s North West"',
    ],
    keys=("for", "as"),
    section="Meetings",
    changes=True,
    details="`for:` defaults to each person's registered organisation. `for:@member` records a substitute "
    "standing in for that member (for their organisation). Recording someone again corrects them.",
)
def present(call: Call) -> list[Reply]:
    meeting = require_open(call, "record attendance")
    people = _people(call, "record attendance for other people")
    if not people:
        raise UserError(
            "Say who is present: mention them, e.g. `/ecm present @sam @priya`.", "For yourself: `/ecm here`."
        )
    mode = parse_as(call.args.key("as"))
    if mode == AttendanceMode.APOLOGIES:
        raise UserError("Record apologies with `/ecm apologies @name`.")
    for_whom = resolve_for(call, call.args.keys["for"]) if "for" in call.args.keys else None
    lines = [describe(*record_one(call, meeting, p, mode, for_whom)) for p in people]
    return attendance_post(call, meeting, lines)


@verb(
    "apologies",
    summary="Record apologies for absence (your own, or others' if you chair).",
    usage="/ecm apologies [@a @b] [for:ORG]",
    examples=["/ecm apologies @priya", "/ecm apologies", '/ecm apologies @pat for:"Central Lancashire PCT"'],
    aliases=("apology", "apols"),
    keys=("for",),
    section="Meetings",
    changes=True,
)
def apologies(call: Call) -> list[Reply]:
    meeting = require_open(call, "record apologies")
    people = _people(call, "record apologies for other people") or [call.user_id]
    for_whom = resolve_for(call, call.args.keys["for"]) if "for" in call.args.keys else None
    if for_whom is not None:
        for_whom = ForWhom(for_whom.organisation)  # apologies are never a substitution
    lines = [describe(*record_one(call, meeting, p, AttendanceMode.APOLOGIES, for_whom)) for p in people]
    return attendance_post(call, meeting, lines)


@verb(
    "here",
    summary="Record that you are at the meeting (for your organisation, or another with for:).",
    usage="/ecm here [for:ORG|for:@member] [as:virtual|substitute]",
    examples=["/ecm here", "/ecm here as:virtual", "/ecm here for:@dev", '/ecm here for:"Preston PCT"'],
    aliases=("attending", "iamhere"),
    keys=("for", "as"),
    section="Meetings",
    changes=True,
    details="Someone who is not a member of this task group is recorded as a guest from the organisation "
    "they name: that does not count as it being represented (a chair can record them for it with "
    "`/ecm present @name for:ORG`).",
)
def here(call: Call) -> list[Reply]:
    meeting = require_open(call, "record you as here")
    if call.args.mentions:
        raise UserError("`/ecm here` is for yourself.", "A chair records others with `/ecm present @name`.")
    if call.args.positional:
        raise UserError(md("I don't understand “{}” here.", truncate(call.args.free_text(), 60)))
    mode = parse_as(call.args.key("as"))
    if mode == AttendanceMode.APOLOGIES:
        raise UserError("Send apologies with `/ecm apologies`.")
    for_whom = resolve_for(call, call.args.keys["for"]) if "for" in call.args.keys else None
    if call.caller is None and for_whom is not None and for_whom.member is not None:
        # Representing a member's organisation needs membership, or a chair recording it with `present`.
        raise UserError(
            "Only members of this task group can stand in for a member. You can be recorded as a guest "
            'from your organisation: `/ecm here for:"Your organisation"`.',
            "A chair records a substitute with `/ecm present @name for:@member`.",
        )
    return attendance_post(
        call, meeting, [describe(*record_one(call, meeting, call.user_id, mode, for_whom))]
    )
