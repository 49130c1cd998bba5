"""`/ecm help [verb]`: the command reference."""

from __future__ import annotations

from commands.context import Call
from commands.dates import DATE_EXAMPLES, DATE_MEANINGS, MORE_DATE_EXAMPLES
from commands.mrkdwn import Mrkdwn, md
from commands.names import outcome_examples
from commands.registry import SECTIONS, VERBS, load_verbs, lookup, suggest, verb
from commands.replies import Reply, Section, UserError


@verb(
    "help",
    summary="This list, or help on one command.",
    usage="/ecm help [command]",
    examples=["/ecm help", "/ecm help add"],
    aliases=("?", "commands"),
    section="Help",
    needs_group=False,
)
def help_verb(call: Call) -> list[Reply]:
    load_verbs()
    words = call.args.words
    if words:
        spec = lookup(words[0].lower())
        if spec is None:
            guess = suggest(words[0].lower())
            hint = f" Did you mean `/ecm help {guess}`?" if guess else ""
            raise UserError(
                md("There is no command “{}”.{}", words[0], Mrkdwn(hint)), "`/ecm help` lists every command."
            )
        lines = [spec.summary]
        if spec.details:
            lines.append(spec.details)
        lines.append(f"*Usage:* `{spec.usage}`")
        if spec.aliases:
            lines.append("*Also:* " + ", ".join(f"`{a}`" for a in spec.aliases))
        if spec.examples:
            lines.append("*Examples:*\n" + "\n".join(f"`{e}`" for e in spec.examples))
        if "due" in spec.keys or "since" in spec.keys:
            lines.append(f"*Dates:* {DATE_EXAMPLES}, {MORE_DATE_EXAMPLES}. {DATE_MEANINGS}")
        if "outcome" in spec.keys:
            lines.append(f"*Outcomes:* {outcome_examples()}")
        if spec.chair_only:
            lines.append("_Chairs only._")
        return [
            Reply(
                text=f"/ecm {spec.name}: {spec.summary}",
                header=f"/ecm {spec.name}",
                sections=[Section("\n".join(lines))],
            )
        ]
    sections: list[Section] = []
    for section in SECTIONS:
        specs = [v for v in VERBS.values() if v.section == section]
        if specs:
            body = "\n".join(f"`/ecm {v.name}` {v.summary}" for v in sorted(specs, key=lambda v: v.name))
            sections.append(Section(f"*{section}*\n{body}"))
    sections.append(
        Section(
            f"*Dates* are UK style: {DATE_EXAMPLES}, {MORE_DATE_EXAMPLES}. {DATE_MEANINGS}\n*Outcomes:* {outcome_examples()}.\n"
            "`/ecm help VERB` gives examples for one command."
        )
    )
    return [Reply(text="ECM task group bot: commands", header="ECM task group bot", sections=sections)]
