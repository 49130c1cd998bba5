"""`/ecm member @user [district:NAME | org:"..."] [role:chair|member] [remove]`: chairs register members."""

from __future__ import annotations

from commands.action_fields import resolve_org
from commands.action_view import action_line
from commands.context import Call
from commands.mrkdwn import Mrkdwn, md, person
from commands.names import DistrictRef, match_district
from commands.registry import verb
from commands.replies import Reply, Section, UserError, Visibility
from commands.text import plural
from storage import actions as action_store
from storage import groups
from storage import members as member_store
from storage.actions import ActionFilter
from storage.models import Role


@verb(
    "member",
    summary="Register a member, the organisation they represent and their role (chairs).",
    usage='/ecm member @user [district:NAME | org:"Organisation"] [role:chair|member] [remove]',
    examples=[
        "/ecm member @sam district:chorley",
        '/ecm member @alex org:"Lancashire County Council" role:chair',
        '/ecm member @pat org:"Central Lancashire PCT"',
        "/ecm member @sam remove",
    ],
    keys=("district", "org", "role", "name"),
    key_aliases={"organisation": "org"},
    section="Task group",
    chair_only=True,
    changes=True,
)
def member(call: Call) -> list[Reply]:
    args = call.args
    if not args.mentions:
        raise UserError("Say who: mention the person with @.")
    group = call.task_group
    keys = args.keys
    organisation: str | None = None
    if "district" in keys:
        refs = [DistrictRef(d.id, d.name, d.slug) for d in groups.list_districts(call.session, call.group_id)]  # type: ignore[arg-type]
        organisation = match_district(keys["district"], refs).name
    org = keys.get("org")
    if org is not None:
        if organisation is not None:
            raise UserError("Give either `district:` or `org:`, not both.")
        # A district's name, or an organisation's spelling already used in the group, or as typed.
        organisation = resolve_org(call, org)
    role: Role | None = None
    if "role" in keys:
        try:
            role = Role(keys["role"].lower())
        except ValueError as error:
            raise UserError(
                md("“{}” is not a role.", keys["role"]), "Roles are `role:chair` and `role:member`."
            ) from error
    removing = [w.lower() for w in args.words] == ["remove"]
    if args.words and not removing:
        raise UserError(md("I don't understand “{}” here.", " ".join(args.words)))
    lines = []
    for user_id in args.mentions:
        if removing:
            existing = member_store.get_member(call.session, call.group_id, user_id)
            if existing is None:
                raise UserError(md("{} is not a member of this task group.", person(user_id)))
            if existing.role == Role.CHAIR and len(member_store.chairs(call.session, call.group_id)) == 1:
                raise UserError("That is the group's only chair. Make someone else a chair first.")
            member_store.remove_member(call.session, group, existing, by=call.user_id, at=call.now)
            lines.append(_removed_line(call, user_id))
            continue
        if (
            role == Role.MEMBER
            and user_id == call.user_id
            and len(member_store.chairs(call.session, call.group_id)) == 1
        ):
            raise UserError("You are the group's only chair. Make someone else a chair first.")
        m, changed = member_store.upsert_member(
            call.session,
            group,
            user_id,
            by=call.user_id,
            at=call.now,
            organisation=organisation,
            role=role,
            display_name=keys.get("name"),
        )
        desc = md("{} — {}, {}", person(user_id), m.organisation or "organisation not set", m.role.value)
        lines.append(desc if changed else desc + " (no change)")
    return [
        Reply(
            text="Members updated: " + "; ".join(lines),
            visibility=Visibility.CHANNEL,
            sections=[Section(Mrkdwn("\n").join(md("• {}", line) for line in lines))],
        )
    ]


MAX_LISTED = 10


def _removed_line(call: Call, user_id: str) -> Mrkdwn:
    """Says what happens to a removed member's open actions: they still own them, so list them and say
    how to hand each over."""
    owned = action_store.list_actions(call.session, ActionFilter(group_id=call.group_id, owner=user_id))
    if not owned:
        return md("{} is no longer a member. They own no open actions.", person(user_id))
    shown = Mrkdwn("\n").join(md("• {}", action_line(row, call.today)) for row in owned[:MAX_LISTED])
    more = (
        md("\n…and {} more: `/ecm actions owner:@name`.", len(owned) - MAX_LISTED)
        if len(owned) > MAX_LISTED
        else ""
    )
    return md(
        '{0} is no longer a member, but still owns {1}, so the chasers still go to them:\n{2}{3}\nHand each one over with `/ecm update {4} owner:@name` (the organisation follows the new owner), or close it with `/ecm done {4}` or `/ecm drop {4} "reason"`.',
        person(user_id),
        plural(len(owned), "open action"),
        shown,
        more,
        owned[0].action.number,
    )
