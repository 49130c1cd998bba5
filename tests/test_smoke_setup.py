from bot.offline import OfflineWorkspace


def test_setup_then_districts(ws: OfflineWorkspace) -> None:
    out = ws.command('setup name:"Chorley & friends <!channel>" preset:lancashire')
    assert out.response.status == 200
    assert out.posted, out.text
    assert "South Ribble" in out.text
    assert "&amp;" in out.posted[0].blocks[0]["text"]["text"] or "&amp;" in out.text
    out = ws.command("districts", user="sam")
    assert out.ephemeral and "West Lancashire" in out.text
