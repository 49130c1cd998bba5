"""manifest.yml validates against Slack's manifest schema (shipped in ../shared, not in this repo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"


def load_manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


@pytest.mark.skipif(
    not SCHEMA.exists(),
    reason="../shared/slack/manifest.schema.1.0.0.json is not beside this "
    "clone (a newcomer's clone has no ../shared); the manifest schema check needs it",
)
def test_manifest_validates_against_slack_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(Draft7Validator(schema).iter_errors(load_manifest()), key=str)
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_manifest_declares_ecm_command_as_the_bot_expects() -> None:
    manifest = load_manifest()
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/ecm"]
    # The grammar relies on Slack escaping mentions as <@U…>.
    assert commands[0]["should_escape"] is True
    assert commands[0]["usage_hint"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert {"commands", "chat:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])


def test_schema_check_would_catch_a_broken_manifest() -> None:
    if not SCHEMA.exists():
        pytest.skip("../shared/slack/manifest.schema.1.0.0.json is absent")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = load_manifest()
    broken["display_information"]["name"] = "x" * 80  # over Slack's 35-character limit
    assert list(Draft7Validator(schema).iter_errors(broken))


def test_manifest_grants_the_scopes_reports_and_imports_use() -> None:
    scopes = set(load_manifest()["oauth_config"]["scopes"]["bot"])
    # files_upload_v2 for reports/exports, files.info + download for imports, users.lookupByEmail for owners.
    assert {"files:write", "files:read", "users:read", "users:read.email"} <= scopes


def test_manifest_declares_home_tab_shortcuts_and_event_the_bot_answers() -> None:
    from bot.listeners.forms import MESSAGE_SHORTCUT, NEW_ACTION_SHORTCUT

    manifest = load_manifest()
    features = manifest["features"]
    assert features["app_home"]["home_tab_enabled"] is True
    shortcuts = {s["callback_id"]: s for s in features["shortcuts"]}
    assert shortcuts[NEW_ACTION_SHORTCUT]["type"] == "global"
    assert shortcuts[MESSAGE_SHORTCUT]["type"] == "message"
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    # Views, shortcuts and chat.getPermalink need no scope of their own: nothing beyond what posting, the
    # files (reports, exports, imports) and finding a scheduled post whose outcome is unknown need.
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "im:write",
        "files:write",
        "files:read",
        "users:read",
        "users:read.email",
        "channels:history",
        "groups:history",
        "im:history",
    }


def test_manifest_grants_reading_history_where_scheduled_posts_go() -> None:
    # conversations.history, to find a post whose outcome is unknown before sending it again: public and
    # private task-group channels and owners' DMs; the bot posts in no group DM, so no mpim:history.
    scopes = set(load_manifest()["oauth_config"]["scopes"]["bot"])
    assert {"channels:history", "groups:history", "im:history"} <= scopes
    assert "mpim:history" not in scopes
