"""Outcome and district names as people type them, with "did you mean …?" for near misses."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from commands.grammar import split_list
from commands.mrkdwn import Mrkdwn, md
from commands.replies import UserError
from commands.text import slugify
from storage.models import Outcome

OUTCOME_NAMES: dict[Outcome, str] = {
    Outcome.BE_HEALTHY: "Be Healthy",
    Outcome.STAY_SAFE: "Stay Safe",
    Outcome.ENJOY_AND_ACHIEVE: "Enjoy and Achieve",
    Outcome.POSITIVE_CONTRIBUTION: "Make a Positive Contribution",
    Outcome.ECONOMIC_WELLBEING: "Achieve Economic Well-being",
}

OUTCOME_SHORT: dict[Outcome, str] = {
    Outcome.BE_HEALTHY: "healthy",
    Outcome.STAY_SAFE: "safe",
    Outcome.ENJOY_AND_ACHIEVE: "enjoy",
    Outcome.POSITIVE_CONTRIBUTION: "positive",
    Outcome.ECONOMIC_WELLBEING: "economic",
}

_OUTCOME_ALIASES: dict[str, Outcome] = {}
for _outcome, _words in {
    Outcome.BE_HEALTHY: ["behealthy", "healthy", "health", "bh"],
    Outcome.STAY_SAFE: ["staysafe", "safe", "safety", "ss"],
    Outcome.ENJOY_AND_ACHIEVE: ["enjoyandachieve", "enjoyachieve", "enjoy", "achieve", "ea"],
    Outcome.POSITIVE_CONTRIBUTION: [
        "makeapositivecontribution",
        "makepositivecontribution",
        "positivecontribution",
        "positive",
        "contribution",
        "pc",
        "mapc",
    ],
    Outcome.ECONOMIC_WELLBEING: [
        "achieveeconomicwellbeing",
        "economicwellbeing",
        "economic",
        "wellbeing",
        "ewb",
        "aewb",
        "aew",
    ],
}.items():
    for _word in _words:
        _OUTCOME_ALIASES[_word] = _outcome


def _squash(text: str) -> str:
    """Lower-case, `&`/`and` and punctuation removed: "Enjoy & Achieve" == "enjoy-and-achieve"."""
    text = text.lower().replace("&", " ")
    text = re.sub(r"\band\b", " ", text)
    return re.sub(r"[^a-z0-9]", "", text)


def outcome_examples() -> str:
    return ", ".join(f"`{OUTCOME_SHORT[o]}`" for o in Outcome)


def parse_outcome(name: str) -> Outcome:
    squashed = _squash(name)
    found = _OUTCOME_ALIASES.get(squashed) or _OUTCOME_ALIASES.get(squashed.replace("and", ""))
    if found:
        return found
    guess = difflib.get_close_matches(squashed, list(_OUTCOME_ALIASES), n=1, cutoff=0.6)
    hint = md(" Did you mean *{}*?", OUTCOME_NAMES[_OUTCOME_ALIASES[guess[0]]]) if guess else ""
    raise UserError(
        md("I don't know the outcome “{}”.{}", name, hint),
        f"The five outcomes are {outcome_examples()} (or their full names). Several: `outcome:safe,healthy`.",
    )


def parse_outcomes(value: str) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for item in split_list(value):
        outcome = parse_outcome(item)
        if outcome not in outcomes:
            outcomes.append(outcome)
    if not outcomes:
        raise UserError("`outcome:` needs a name.", f"Outcomes: {outcome_examples()}.")
    return outcomes


@dataclass(frozen=True)
class DistrictRef:
    id: int
    name: str
    slug: str


@dataclass(frozen=True)
class DistrictChoice:
    districts: list[DistrictRef]
    countywide: bool


COUNTYWIDE_WORDS = {"all", "countywide", "county-wide", "county"}


def match_district(name: str, districts: Sequence[DistrictRef]) -> DistrictRef:
    wanted = slugify(name)
    for d in districts:
        if wanted in (d.slug, slugify(d.name)):
            return d
    prefixed = [d for d in districts if d.slug.startswith(wanted)] if wanted else []
    if len(prefixed) == 1:
        return prefixed[0]
    listing = (
        Mrkdwn(", ").join(d.name for d in districts)
        or 'none yet (chairs add them with `/ecm setup districts:"A, B"`)'
    )
    if len(prefixed) > 1:
        raise UserError(
            md(
                "“{}” could be {}. Please give more of the name.",
                name,
                Mrkdwn(", ").join(d.name for d in prefixed),
            ),
            md("Districts in this group: {}.", listing),
        )
    guess = difflib.get_close_matches(wanted, [d.slug for d in districts], n=1, cutoff=0.6)
    hint = md(" Did you mean *{}*?", next(d.name for d in districts if d.slug == guess[0])) if guess else ""
    raise UserError(
        md("There is no district “{}” in this task group.{}", name, hint), md("Districts: {}.", listing)
    )


def parse_districts(value: str, districts: Sequence[DistrictRef]) -> DistrictChoice:
    """`chorley,south-ribble`, `"South Ribble"`, or `all`/`countywide` for every district."""
    items = split_list(value)
    if not items:
        raise UserError("`district:` needs a name.", "For example `district:chorley` or `district:all`.")
    if any(slugify(item) in COUNTYWIDE_WORDS for item in items):
        return DistrictChoice(districts=list(districts), countywide=True)
    chosen: list[DistrictRef] = []
    for item in items:
        d = match_district(item, districts)
        if d not in chosen:
            chosen.append(d)
    return DistrictChoice(districts=chosen, countywide=False)
