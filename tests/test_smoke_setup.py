from bot.offline import OfflineWorkspace


def test_setup_then_districts(ws: OfflineWorkspace) -> None:
    out = ws.command('setup name:"Chorley & friends <!channel>" preset:lancashire')
    assert out.response.status == 200
    assert out.posted, out.text
    assert "South Ribble" in out.text
    assert "&amp;" in out.posted[0].blocks[0]["text"]["text"] or "&amp;" in out.text
    out = ws.command("districts", user="sam")
    assert out.ephemeral and "West Lancashire" in out.text


def test_an_unquoted_district_list_or_county_of_several_words_changes_nothing(ws: OfflineWorkspace) -> None:
    # Through Slack: `districts:Burnley,South Ribble` once renamed the group "Ribble" and left it two
    # districts, "Burnley" and "South"; now it is refused, saying how to quote it, and nothing changes.
    ws.command('setup name:"Chorley Task Group" preset:lancashire')
    for command, quoted in (
        ("setup districts:Burnley,South Ribble", 'districts:"Burnley,South Ribble"'),
        ("setup county:West Yorkshire", 'county:"West Yorkshire"'),
    ):
        out = ws.command(command)
        assert out.ephemeral and not out.posted, out.text
        assert "after it is left over. Nothing was saved." in out.text and f"`{quoted}`" in out.text
    out = ws.command("setup")
    assert "Chorley Task Group" in out.text and "Lancashire" in out.text
    assert "South Ribble" in ws.command("districts").text and "Wyre" in ws.command("districts").text
