"""The /ecm grammar: words, quotes (straight and curly), keys, mentions, lists and date phrases."""

from __future__ import annotations

from datetime import date

import pytest

from commands.grammar import Kind, mention_ids, parse, split_list, tokenize
from commands.names import DistrictRef, parse_districts, parse_outcome, parse_outcomes
from commands.replies import UserError
from storage.models import Outcome

TODAY = date(2026, 11, 23)  # a Monday


def test_verb_words_keys_mentions_and_quotes() -> None:
    args = parse('ADD Review the “Stay Safe” plan <@U123|sam> org:"South Ribble" outcome:safe,healthy', TODAY)
    assert args.verb == "add"
    assert args.free_text() == "Review the Stay Safe plan"
    assert args.mentions == ["U123"]
    assert args.keys == {"org": "South Ribble", "outcome": "safe,healthy"}


def test_keys_are_case_insensitive_and_repeat_into_lists() -> None:
    args = parse("actions Outcome:safe OUTCOME:healthy", TODAY)
    assert args.keys == {"outcome": "safe,healthy"}


def test_date_keys_take_following_words_while_they_read_as_a_date() -> None:
    args = parse("add Audit schools due:next friday outcome:safe", TODAY)
    assert args.keys["due"] == "next friday"
    assert args.free_text() == "Audit schools"
    args = parse("add Review CAF due:in 2 weeks time outcome:safe", TODAY)
    assert args.keys["due"] == "in 2 weeks time" and args.free_text() == "Review CAF"
    args = parse("add Review CAF due:friday 11/12", TODAY)
    assert args.keys["due"] == "friday 11/12" and args.free_text() == "Review CAF"
    assert args.dates["due"].day == date(2026, 12, 11)
    # A title wholly after the date is still a title: nothing is split or joined.
    args = parse("add due:28 Aug 2027 Report to the Board", TODAY)
    assert args.keys["due"] == "28 Aug 2027" and args.free_text() == "Report to the Board"


@pytest.mark.parametrize(
    "command, read_as, words",
    [
        ("add Report due:28 Aug 2027 to the Board", "Sat 28 Aug 2027", "to the Board"),
        ("add Plan due:friday Review", "Fri 27 Nov 2026", "Review"),
        ("add due:friday 3 reports", "Fri 27 Nov 2026", "3 reports"),
        ("add Review CAF due:friday may need GP", "Fri 27 Nov 2026", "may need GP"),
        ('update 3 "Chased" due:friday again', "Fri 27 Nov 2026", "again"),
    ],
)
def test_words_after_a_date_never_quietly_join_the_text(command: str, read_as: str, words: str) -> None:
    with pytest.raises(UserError) as info:
        parse(command, TODAY)
    assert f"as {read_as}, so “{words}” would become part of the" in info.value.message
    assert "Nothing was saved" in info.value.message
    assert "put the whole date in quotes" in (info.value.usage or "")


@pytest.mark.parametrize(
    "command, read_as, words, quoted, text_first",
    [
        (
            "add Review the pathway org:NHS Lancashire",
            "`org:NHS` as the organisation",
            "Lancashire",
            'org:"NHS Lancashire"',
            "/ecm add Review the pathway Lancashire org:NHS",
        ),
        (
            "add Map provision org:Chorley Council due:friday",
            "`org:Chorley` as the organisation",
            "Council",
            'org:"Chorley Council"',
            "/ecm add Map provision Council org:Chorley due:friday",
        ),
        (
            'update 3 "Chased" organisation:Preston City Council',
            "`organisation:Preston` as the organisation",
            "City Council",
            'organisation:"Preston City Council"',
            '/ecm update 3 "Chased" City Council organisation:Preston',
        ),
        (
            'update 3 "Renamed" title:Map youth provision',
            "`title:Map` as the title",
            "youth provision",
            'title:"Map youth provision"',
            '/ecm update 3 "Renamed" youth provision title:Map',
        ),
    ],
)
def test_words_after_a_text_key_never_quietly_join_the_text(
    command: str, read_as: str, words: str, quoted: str, text_first: str
) -> None:
    with pytest.raises(UserError) as info:
        parse(command, TODAY)
    assert f"I read {read_as}, so “{words}” would become part of the" in info.value.message
    assert "Nothing was saved" in info.value.message
    assert f"`{quoted}`" in (info.value.usage or "")
    assert f"`{text_first}`" in (info.value.usage or "")


def test_an_updates_words_after_a_text_key_are_refused_even_as_the_whole_note() -> None:
    with pytest.raises(UserError) as info:
        parse("update 3 title:Map youth provision", TODAY)
    assert (
        "I read `title:Map` as the title, so “youth provision” would become the note." in info.value.message
    )
    assert '`title:"Map youth provision"`' in (info.value.usage or "")
    assert (
        parse('update 3 "Chased" title:"Map youth provision"', TODAY).keys["title"] == "Map youth provision"
    )


@pytest.mark.parametrize(
    "command, org, text",
    [
        ('add Review the pathway org:"NHS Lancashire" due:friday', "NHS Lancashire", "Review the pathway"),
        (
            "add org:Chorley Map provision",
            "Chorley",
            "Map provision",
        ),  # nothing before: the words are the title
        ("add Map provision org:Chorley <@U123SAM|sam>", "Chorley", "Map provision"),
    ],
)
def test_a_text_key_with_its_text_on_one_side_is_read(command: str, org: str, text: str) -> None:
    args = parse(command, TODAY)
    assert args.keys["org"] == org and args.free_text() == text


@pytest.mark.parametrize(
    "command, quoted",
    [
        ("member <@U1|pat> org:Lancashire Constabulary role:member", 'org:"Lancashire Constabulary"'),
        ("member <@U1|pat> name:Pat Jones", 'name:"Pat Jones"'),
        ("here for:Lancashire Constabulary as:virtual", 'for:"Lancashire Constabulary"'),
        ("apologies <@U1|pat> for:NHS Lancashire", 'for:"NHS Lancashire"'),
        ("setup districts:Burnley,South Ribble", 'districts:"Burnley,South Ribble"'),
        ("setup county:West Yorkshire", 'county:"West Yorkshire"'),
        ("setup name:New Name Here", 'name:"New Name Here"'),
        ("meeting start title:December task group", 'title:"December task group"'),
        ("meeting cancel reason:Not quorate", 'reason:"Not quorate"'),
        ('schedule every:"2nd tuesday" at:10:00 title:Autumn task group', 'title:"Autumn task group"'),
    ],
)
def test_words_after_a_text_key_in_a_verb_without_text_are_its_value_unquoted(
    command: str, quoted: str
) -> None:
    with pytest.raises(UserError) as info:
        parse(command, TODAY)
    assert "after it is left over. Nothing was saved." in info.value.message
    assert f"`{quoted}`" in (info.value.usage or "")
    assert parse('member <@U1|pat> org:"Lancashire Constabulary" role:member', TODAY).keys["role"] == "member"
    # A setup's words before its keys, or after a key that is not text, are still the group's name.
    assert parse("setup Chorley Task Group county:Lancashire", TODAY).free_text() == "Chorley Task Group"
    assert parse("setup preset:lancashire Chorley Task Group", TODAY).free_text() == "Chorley Task Group"


def test_a_refused_date_keeps_the_action_number_first() -> None:
    with pytest.raises(UserError) as info:
        parse('update 3 "Chased" due:friday again', TODAY)
    assert '`/ecm update 3 "Chased" again due:friday`' in (info.value.usage or "")


def test_refusal_shows_how_to_write_it() -> None:
    with pytest.raises(UserError) as info:
        parse("add Review CAF due:friday with schools <@U1|sam> outcome:safe", TODAY)
    assert "the title (“Review CAF with schools”)" in info.value.message
    assert info.value.usage == (
        'If “with schools” is part of the date, put the whole date in quotes: `due:"friday with schools"`. '
        "If it belongs to the title, put the title first and the date after it: "
        "`/ecm add Review CAF with schools due:friday @sam outcome:safe`."
    )


def test_a_date_error_quotes_the_whole_phrase() -> None:
    with pytest.raises(UserError) as info:
        parse("add Review due:next blursday outcome:safe", TODAY)
    assert '"next blursday"' in info.value.message and "thursday" in info.value.message


def test_length_is_counted_as_typed_not_as_slack_escapes_it() -> None:
    typed = "add " + "&" * 2990
    assert len(tokenize(typed.replace("&", "&amp;"))) == 2
    with pytest.raises(UserError, match=r"too long \(3001 characters"):
        tokenize("add " + "&amp;" * 2997)


def test_impossible_date_phrase_is_an_error_not_a_shorter_date() -> None:
    with pytest.raises(UserError):
        parse("add Audit due:29 feb 2027 schools", TODAY)


def test_slack_entities_become_harmless_text() -> None:
    args = parse(
        "add Tell <!channel> and <!here> see <https://example.org|the plan> in <#C1|general> &amp; more",
        TODAY,
    )
    assert args.free_text() == "Tell @channel and @here see the plan in #general & more"


def test_unclosed_quote_and_overlong_text_are_user_errors() -> None:
    with pytest.raises(UserError, match="closing quote"):
        tokenize('add "never closed')
    with pytest.raises(UserError, match="too long"):
        tokenize("add " + "x" * 4000)


def test_urls_and_bare_colons_are_words_not_keys() -> None:
    tokens = tokenize("Note: check http://example.org")
    assert [t.kind for t in tokens] == [Kind.WORD, Kind.WORD, Kind.WORD]


def test_mention_lists() -> None:
    assert mention_ids("<@U1>,<@U2|jo>") == ["U1", "U2"]
    with pytest.raises(UserError):
        mention_ids("jo")
    assert split_list(" a, ,b ,") == ["a", "b"]


@pytest.mark.parametrize(
    "name, outcome",
    [
        ("safe", Outcome.STAY_SAFE),
        ("SS", Outcome.STAY_SAFE),
        ("Stay Safe", Outcome.STAY_SAFE),
        ("healthy", Outcome.BE_HEALTHY),
        ("bh", Outcome.BE_HEALTHY),
        ("Enjoy & Achieve", Outcome.ENJOY_AND_ACHIEVE),
        ("enjoy-and-achieve", Outcome.ENJOY_AND_ACHIEVE),
        ("achieve", Outcome.ENJOY_AND_ACHIEVE),
        ("ea", Outcome.ENJOY_AND_ACHIEVE),
        ("Make a Positive Contribution", Outcome.POSITIVE_CONTRIBUTION),
        ("pc", Outcome.POSITIVE_CONTRIBUTION),
        ("contribution", Outcome.POSITIVE_CONTRIBUTION),
        ("Achieve Economic Well-being", Outcome.ECONOMIC_WELLBEING),
        ("wellbeing", Outcome.ECONOMIC_WELLBEING),
        ("ewb", Outcome.ECONOMIC_WELLBEING),
    ],
)
def test_outcome_names_and_aliases(name: str, outcome: Outcome) -> None:
    assert parse_outcome(name) == outcome


def test_unknown_outcome_suggests() -> None:
    with pytest.raises(UserError, match="Did you mean \\*Stay Safe"):
        parse_outcome("saef")
    assert parse_outcomes("safe,ss,healthy") == [Outcome.STAY_SAFE, Outcome.BE_HEALTHY]


DISTRICTS = [
    DistrictRef(1, "South Ribble", "south-ribble"),
    DistrictRef(2, "Chorley", "chorley"),
    DistrictRef(3, "Ribble Valley", "ribble-valley"),
    DistrictRef(4, "West Lancashire", "west-lancashire"),
]


def test_districts_by_name_slug_prefix_and_all() -> None:
    assert parse_districts('"South Ribble"', DISTRICTS).districts == [DISTRICTS[0]]
    assert parse_districts("south-ribble,CHORLEY", DISTRICTS).districts == [DISTRICTS[0], DISTRICTS[1]]
    assert parse_districts("west", DISTRICTS).districts == [DISTRICTS[3]]
    choice = parse_districts("countywide", DISTRICTS)
    assert choice.countywide and len(choice.districts) == 4


def test_ambiguous_and_unknown_districts() -> None:
    with pytest.raises(UserError, match="could be"):
        parse_districts(
            "ribble", [DistrictRef(1, "Ribble A", "ribble-a"), DistrictRef(2, "Ribble B", "ribble-b")]
        )
    with pytest.raises(UserError, match="Did you mean \\*Chorley"):
        parse_districts("chorely", DISTRICTS)


def test_quoted_item_in_a_comma_list() -> None:
    args = parse('add Visit district:"South Ribble",chorley outcome:safe', TODAY)
    assert args.keys == {"district": "South Ribble,chorley", "outcome": "safe"}
    assert args.free_text() == "Visit"
    args = parse('add Visit district:chorley,\u201cSouth Ribble\u201d,"West Lancashire" now', TODAY)
    assert args.keys == {"district": "chorley,South Ribble,West Lancashire"}
    assert args.free_text() == "Visit now"


def test_a_mention_inside_quotes_reads_as_an_at_name() -> None:
    args = parse('update 1 "Agreed with <@U123|sam> at the Board"', TODAY)
    assert args.quoted == ["Agreed with @sam at the Board"]


def test_slack_links_and_broadcasts_in_key_values_become_plain_text() -> None:
    # Slack turns typed URLs, e-mail addresses, #channels and @here into entities, inside quotes too.
    args = parse(
        'add Thing org:"<http://nhs.uk|nhs.uk> team" district:<!here> owner:<@U1|sam>,<@U2> '
        'name:"Ask <mailto:a@b.org|a@b.org> in <#C1|general>"',
        TODAY,
    )
    assert args.keys["org"] == "nhs.uk team"
    assert args.keys["district"] == "@here"
    assert mention_ids(args.keys["owner"]) == ["U1", "U2"]  # people stay mentions
    assert args.keys["name"] == "Ask a@b.org in #general"
