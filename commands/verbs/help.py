"""`/ecm help [verb]`: the command reference."""

from __future__ import annotations

from commands.context import Call
from commands.dates import DATE_EXAMPLES, DATE_MEANINGS, MORE_DATE_EXAMPLES
from commands.mrkdwn import Mrkdwn, code, md, text
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
            hint = md(" Did you mean `/ecm help {}`?", guess) if guess else ""
            raise UserError(
                md("There is no command “{}”.{}", words[0], hint), "`/ecm help` lists every command."
            )
        lines = [text(spec.summary)]
        if spec.details:
            lines.append(text(spec.details))
        lines.append(md("*Usage:* {}", code(spec.usage)))
        if spec.aliases:
            lines.append(md("*Also:* {}", Mrkdwn(", ").join(code(a) for a in spec.aliases)))
        if spec.examples:
            lines.append(md("*Examples:*\n{}", Mrkdwn("\n").join(code(e) for e in spec.examples)))
        if "due" in spec.keys or "since" in spec.keys:
            lines.append(md("*Dates:* {}, {}. {}", DATE_EXAMPLES, MORE_DATE_EXAMPLES, DATE_MEANINGS))
        if "outcome" in spec.keys:
            lines.append(md("*Outcomes:* {}", outcome_examples()))
        if spec.chair_only:
            lines.append(Mrkdwn("_Chairs only._"))
        return [
            Reply(
                text=f"/ecm {spec.name}: {spec.summary}",
                header=f"/ecm {spec.name}",
                sections=[Section(Mrkdwn("\n").join(lines))],
            )
        ]
    sections: list[Section] = []
    for section in SECTIONS:
        specs = [v for v in VERBS.values() if v.section == section]
        if specs:
            body = Mrkdwn("\n").join(
                md("`/ecm {}` {}", v.name, v.summary) for v in sorted(specs, key=lambda v: v.name)
            )
            sections.append(Section(md("*{}*\n{}", section, body)))
    sections.append(
        Section(
            md(
                "*Dates* are UK style: {}, {}. {}\n*Outcomes:* {}.\n`/ecm help VERB` gives examples for one command.",
                DATE_EXAMPLES,
                MORE_DATE_EXAMPLES,
                DATE_MEANINGS,
                outcome_examples(),
            )
        )
    )
    return [Reply(text="ECM task group bot: commands", header="ECM task group bot", sections=sections)]
