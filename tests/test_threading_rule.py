"""The threading rule teams can set: new_conversation_after_days (bling/clients/conversations.py), for texts and voicemails."""

from __future__ import annotations

import pytest

from bling.context import Context
from bling.clients.conversations import post_from_supporter, subject_for
from bling.jobs.worker import drain
from sms_helpers import text, twilio_posts
from support import MAILBOX_ID, SUPPORTER, mailbox_options, option_schemas

DAY = 86400



@pytest.fixture
def env(env, tmp_path):
    path = tmp_path / "bling.toml"
    path.write_text("[defaults]\nnew_conversation_after_days = 30\n")
    return dict(env, BLING_CONFIG=str(path))


@pytest.mark.vcr
def test_conversation_closed_long_ago_is_not_reopened(client, services, clock, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    clock.advance(40 * DAY)
    text(client, "Hi again", 1)
    assert drain(services) == {"done": 1}
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 7701
    assert vcr.all_played and twilio_posts(vcr) == []  # a returning supporter: no auto-reply


@pytest.mark.vcr
def test_conversation_closed_recently_is_reopened(client, services, clock, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    clock.advance(40 * DAY)  # Bling last posted 40 days ago, but an agent closed it 10 days ago
    text(client, "Hi again", 1)
    assert drain(services) == {"done": 1}
    known = services.store.conversation_for(MAILBOX_ID, SUPPORTER)
    assert (known["conversation_id"], known["thread_count"]) == (7001, 5)
    assert vcr.all_played


@pytest.mark.vcr
def test_recent_activity_costs_no_extra_request(client, services, clock, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    clock.advance(5 * DAY)
    text(client, "Hi again", 1)
    assert drain(services) == {"done": 1}
    assert vcr.all_played and len(vcr.played_requests) == 2  # token + the thread: no GET of the conversation


@pytest.mark.vcr
def test_search_finds_a_conversation_closed_long_ago(client, services, vcr):
    text(client, "Hi again", 1)
    assert drain(services) == {"done": 1}
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 7702
    assert vcr.all_played and twilio_posts(vcr) == []  # known to Help Scout: not a first contact


@pytest.mark.vcr
def test_the_rule_serves_voicemails_too(services, clock, vcr):
    """The voice plugins call post_from_supporter with thread_type="phone": the same rule applies."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    clock.advance(40 * DAY)
    context = Context(settings=services.settings, route=None, services=services,
                      mailbox=services.settings.mailbox_by_id(MAILBOX_ID))
    conversation_id = post_from_supporter(context, SUPPORTER, "Voicemail (0:12)", subject_for("Voicemail", SUPPORTER),
                                          thread_type="phone")
    assert conversation_id == 7703 and context.state["first_contact"] is False
    assert vcr.all_played


@pytest.mark.parametrize("line, key", [("new_conversation_after_days = 0", "new_conversation_after_days"),
                                        ("send_mms = \"maybe\"", "send_mms"),
                                        ("attachment_max_bytes = -1", "attachment_max_bytes"),
                                        ("after_hours_reply = 7", "after_hours_reply")])
def test_bad_sms_settings_are_named(tmp_path, line, key):
    from bling.errors import ConfigError
    from bling.config.mailbox_options import load_mailbox_options

    path = tmp_path / "bling.toml"
    path.write_text(f"[mailboxes.206906]\n{line}\n")
    with pytest.raises(ConfigError, match=f"mailboxes.206906.{key}"):
        load_mailbox_options(str(path), option_schemas())


def test_sms_settings_defaults_and_per_mailbox_values(tmp_path):
    from bling.config.mailbox_options import load_mailbox_options

    path = tmp_path / "bling.toml"
    path.write_text("[defaults]\nnew_conversation_after_days = 30\n[mailboxes.206906]\nsend_mms = false\n")
    defaults, per_mailbox = load_mailbox_options(str(path), option_schemas())
    assert (defaults.new_conversation_after_days, defaults.send_mms, defaults.attachment_max_bytes) == (30, None, 5 * 1024 * 1024)
    assert per_mailbox[206906].send_mms is False and per_mailbox[206906].new_conversation_after_days == 30
    assert "closed right now" in defaults.after_hours_reply
