"""`/ecm setup`: make this channel a task group, or change its settings (chairs)."""

from __future__ import annotations

from commands import chaser_settings
from commands.context import Call
from commands.grammar import split_list
from commands.mrkdwn import Mrkdwn, md, person
from commands.posts.settings import chaser_settings as group_chaser_settings
from commands.posts.settings import update_chaser_settings
from commands.presets import PRESETS
from commands.registry import verb
from commands.replies import Reply, Section, UserError, Visibility
from commands.text import slugify, truncate
from storage import groups
from storage import members as member_store
from storage.models import Role, TaskGroup


def describe_group(call: Call, group: TaskGroup) -> list[Section]:
    districts = groups.list_districts(call.session, group.id)  # type: ignore[arg-type]
    chairs = member_store.chairs(call.session, group.id)  # type: ignore[arg-type]
    lines = [
        md("*Name:* {}", group.name),
        md("*County:* {}", group.county or "not set"),
        md("*Time zone:* {} (the same for every task group: the bot's `ECM_TIMEZONE`)", call.timezone),
        md("*Chairs:* {}", Mrkdwn(", ").join(person(c.user_id) for c in chairs) or "none"),
        md(
            "*Districts ({}):* {}", len(districts), Mrkdwn(", ").join(d.name for d in districts) or "none yet"
        ),
    ]
    # Chaser and digest settings (defaults unless a chair changed them), with the options that change them.
    return [
        Section(Mrkdwn("\n").join(lines)),
        Section(chaser_settings.describe(group_chaser_settings(group))),
    ]


@verb(
    "setup",
    summary="Make this channel a task group, or change its settings (chairs).",
    usage='/ecm setup [name:"..."] [preset:lancashire|leicestershire] [districts:"A, B, C"] [county:NAME] '
    "[chasers:on|off] [nudge-days:N] [digest:monday|off] [escalate-after:N] "
    "[reminders:on|off] [attendance-summary:on|off]",
    examples=[
        '/ecm setup name:"Lancashire ECM Task Group" preset:lancashire',
        '/ecm setup districts:"Blaby, Charnwood, Melton"',
        "/ecm setup",
        *chaser_settings.EXAMPLES[:2],
    ],
    keys=("name", "preset", "districts", "district", "county", "tz", "timezone", *chaser_settings.KEYS),
    section="Task group",
    needs_group=False,
    changes=True,
    details="The first person to run it becomes the group's chair. Running it again with no options shows the "
    "settings; with options it changes them (chairs only). Chasers and digests: "
    + chaser_settings.USAGE
    + ".",
)
def setup(call: Call) -> list[Reply]:
    args = call.args
    keys = args.keys
    preset = None
    if "preset" in keys:
        preset = PRESETS.get(slugify(keys["preset"]))
        if preset is None:
            raise UserError(
                md("There is no preset “{}”.", keys["preset"]),
                "Presets: "
                + ", ".join(f"`{p}`" for p in PRESETS)
                + '. Or list districts: `districts:"A, B"`.',
            )
    tz = keys.get("tz") or keys.get("timezone")
    if tz is not None and tz.strip().lower() != call.timezone.lower():
        # One zone for the whole deployment: dates are parsed before the group is even loaded.
        raise UserError(
            f"The time zone is the same for every task group: {call.timezone}, set by whoever runs the bot "
            "(`ECM_TIMEZONE`), so `tz:` can't change it for one group.",
            "Leave `tz:` out; dates, times and working days all follow " + call.timezone + ".",
        )
    district_text = keys.get("districts") or keys.get("district")
    names: list[str] | None = None
    if district_text is not None:
        names = split_list(district_text)
        if not names:
            raise UserError(
                "`districts:` needs at least one name.", 'For example `districts:"Blaby, Charnwood"`.'
            )
    elif preset:
        names = list(preset.districts)
    if names is not None:
        for district_name in names:
            if len(district_name) > 100:
                raise UserError(
                    md(
                        "The district name “{}” is too long (100 characters at most).",
                        truncate(district_name, 40),
                    )
                )
        pairs = list(dict.fromkeys((n, slugify(n)) for n in names))
        if len({s for _, s in pairs}) != len(pairs):
            raise UserError("Two of those district names are the same.")
    name = keys.get("name") or args.free_text() or None
    chaser_changes = chaser_settings.parse_options(keys)
    if name is not None and len(name) > 200:
        raise UserError("The task group name is too long (200 characters at most).")

    group = call.group
    replies: list[Reply] = []
    if group is None:
        group = groups.create_group(
            call.session,
            team_id=call.ctx.team_id,
            channel_id=call.ctx.channel_id,
            name=name or "ECM Task Group",
            county=keys.get("county") or (preset.county if preset else None),
            timezone=call.timezone,  # kept for the record; every date and time uses the deployment's zone
            user_id=call.user_id,
            at=call.now,
        )
        member_store.upsert_member(
            call.session,
            group,
            call.user_id,
            by=call.user_id,
            at=call.now,
            role=Role.CHAIR,
            organisation=preset.council if preset else "",
        )
        call.group = group
        if names:
            groups.set_districts(call.session, group, pairs, user_id=call.user_id, at=call.now)
        if chaser_changes:
            update_chaser_settings(call.session, group, chaser_changes, user_id=call.user_id, at=call.now)
        replies.append(
            Reply(
                text=md("This channel is now the task group {}.", group.name),
                visibility=Visibility.CHANNEL,
                header=truncate(f"{group.name} is set up", 150),
                sections=[
                    Section(
                        md("{} set up this channel as a task group and is its chair.", person(call.user_id))
                    ),
                    *describe_group(call, group),
                    Section(
                        Mrkdwn(
                            "Next: register members with `/ecm member @name district:NAME` and add actions "
                            "with `/ecm add TITLE due:DATE outcome:safe`. `/ecm help` shows everything."
                        )
                    ),
                ],
            )
        )
        return replies

    wants_change = (
        any(k in keys for k in ("name", "preset", "districts", "district", "county"))
        or bool(args.free_text())
        or bool(chaser_changes)
    )
    if not wants_change:
        return [
            Reply(
                text=md("Settings of {}", group.name),
                header="Task group settings",
                sections=describe_group(call, group),
            )
        ]
    call.require_chair("change the task group's settings")
    changes: dict[str, object] = {}
    if name:
        changes["name"] = name
    if "county" in keys or preset:
        changes["county"] = keys.get("county") or (preset.county if preset else None)
    changed = groups.update_group(call.session, group, changes, user_id=call.user_id, at=call.now)
    added: list[str] = []
    removed: list[str] = []
    if names is not None:
        added, removed = groups.set_districts(call.session, group, pairs, user_id=call.user_id, at=call.now)
    what: list[str] = [
        md("{}: {} → {}", field, str(old or "—"), str(new)) for field, (old, new) in changed.items()
    ]
    if chaser_changes:
        what.extend(
            chaser_settings.change_lines(
                update_chaser_settings(call.session, group, chaser_changes, user_id=call.user_id, at=call.now)
            )
        )
    if added:
        what.append(md("districts added: {}", ", ".join(added)))
    if removed:
        what.append(md("districts removed: {} (their actions keep them)", ", ".join(removed)))
    if not what:
        return [
            Reply(
                text="Nothing changed.",
                sections=[
                    Section(Mrkdwn("Nothing changed; the settings are:")),
                    *describe_group(call, group),
                ],
            )
        ]
    return [
        Reply(
            text=md("{} changed the task group settings: {}", person(call.user_id), Mrkdwn("; ").join(what)),
            visibility=Visibility.CHANNEL,
            header="Task group settings changed",
            sections=[
                Section(md("{} changed: {}", person(call.user_id), Mrkdwn("; ").join(what))),
                *describe_group(call, group),
            ],
        )
    ]
