"""The WhatsApp feature package (plugins/whatsapp/__init__.py): its transport, schema, table and option.

A hotline number serves SMS and WhatsApp into one mailbox; a WhatsApp message threads into the
supporter's conversation like a text, says it came by WhatsApp, and brings its media in as MMS do.
"""

from __future__ import annotations

import pytest

from bling.config.settings import load_settings
from bling.errors import ConfigError
from bling.jobs.worker import drain
from bling.store.supporters import last_channel
from support import HOTLINE, MAILBOX_ID, SUPPORTER, configured_env, make_env
from whatsapp_helpers import MAILBOXES, env, wa_mailbox, whatsapp  # noqa: F401  (env: the fixture)

MEDIA = "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/MM22222222222222222222222222222201/Media"


def test_one_number_serves_sms_and_whatsapp(settings, services):
    """bling_transports: whatsapp: entries are phone numbers, a channel of their own, on Twilio."""
    sms, wa = settings.mailbox_for("twilio", HOTLINE), wa_mailbox(settings)
    assert (sms.mailbox_id, wa.mailbox_id) == (MAILBOX_ID, MAILBOX_ID)
    assert (wa.number, wa.channel, wa.provider, wa.kind) == (HOTLINE, "WhatsApp", "twilio", "phone")
    assert settings.mailbox_by_id(MAILBOX_ID) == sms  # the first entry listed: the default channel
    assert "bling_whatsapp_sessions" in services.store.tables  # bling_tables


def test_whatsapp_numbers_are_normalised_and_checked(store_url):
    settings = load_settings(make_env(store_url, BLING_MAILBOXES="whatsapp: (617) 555-0100 :206906"))
    assert settings.mailboxes[0].address == HOTLINE
    with pytest.raises(ConfigError, match=r"BLING_MAILBOXES entry 1 \('whatsapp:sandbox:206906'\): 'sandbox' is not a phone number"):
        load_settings(make_env(store_url, BLING_MAILBOXES="whatsapp:sandbox:206906"))


@pytest.mark.parametrize("value,ok", [("HX0123456789abcdef0123456789abcdef", True), ("", True),
                                      ("HX0123", False), ("MG0123456789abcdef0123456789abcdef", False)])
def test_whatsapp_template_sid_is_checked_at_start_up(store_url, tmp_path, request, value, ok):
    """bling_mailbox_options: a template SID that is not HX + 32 hex stops start-up naming the key."""
    path = tmp_path / "bling.toml"
    path.write_text(f'[mailboxes.{MAILBOX_ID}]\nwhatsapp_template_sid = "{value}"\n')
    env = dict(make_env(store_url, BLING_MAILBOXES=MAILBOXES), BLING_CONFIG=str(path))
    if ok:
        assert load_settings(env).options(MAILBOX_ID).whatsapp_template_sid == value
    else:
        with pytest.raises(ConfigError, match="whatsapp_template_sid"):
            load_settings(env)


@pytest.mark.vcr
def test_a_whatsapp_message_threads_into_the_supporters_conversation(client, services, vcr):
    """bling_schemas: the same conversation map as texts; the thread names the channel and the profile."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)  # they texted before
    whatsapp(client, "Hola, I need help with my ballot")
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # one thread on 7001, ending "(sent on WhatsApp by “Maria Luz”)"
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER) | {"updated_at": 0} == {
        "mailbox_id": MAILBOX_ID, "phone": SUPPORTER, "conversation_id": 7001, "thread_count": 5, "updated_at": 0}
    assert last_channel(services.store, MAILBOX_ID, SUPPORTER)["transport"] == "whatsapp"


@pytest.mark.vcr
def test_whatsapp_media_are_attached_as_for_mms(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 2)
    whatsapp(client, "", NumMedia="1", MediaUrl0=f"{MEDIA}/ME01000000000000000000000000000001",
             MediaContentType0="image/jpeg", ProfileName="")
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # the picture downloaded with the account's credentials and attached


def test_a_form_without_whatsapp_addresses_is_refused(client, services):
    resp = whatsapp(client, "hi", expect=422, From=SUPPORTER)
    assert "From" in resp.text and "whatsapp:" in resp.text
    assert services.store.rows() == []


def test_a_message_to_a_number_without_a_whatsapp_entry_is_not_stored(client, services, store_url, tmp_path, request):
    whatsapp(client, "hi", To="whatsapp:+442071838750")  # a twilio: (SMS) hotline, not a WhatsApp one
    assert services.store.rows() == []


def test_a_new_supporters_conversation_is_named_after_the_channel(settings):
    from bling.clients.conversations import subject_for

    assert subject_for(wa_mailbox(settings).channel, SUPPORTER) == "WhatsApp from (617) 555-0123"


class _Senders:
    """A Twilio gateway with one ONLINE WhatsApp sender on the hotline."""

    account_sid = "AC00000000000000000000000000000000"

    def list_senders(self, channel):
        assert channel == "whatsapp"
        return [{"sid": "XE" + "0" * 32, "sender_id": f"whatsapp:{HOTLINE}", "status": "ONLINE", "webhook": {}}]


def test_bling_provision_plans_the_whatsapp_hotlines_only(settings):
    """bling_provision: the package's set-up item covers its WhatsApp hotline (tests/test_whatsapp_provisioning.py: the rest)."""
    from bling.config.mailboxes import Mailbox
    from bling.services import build_services
    from support import plugin_module

    services = build_services(settings, twilio=_Senders(), entry_points=False)
    hotlines = [Mailbox("twilio", HOTLINE, MAILBOX_ID), Mailbox("whatsapp", HOTLINE, MAILBOX_ID)]
    (item,) = plugin_module("whatsapp").bling_provision(services=services, mailboxes=hotlines)
    assert item.kind == "whatsapp-sender" and item.mailbox == hotlines[1]
    assert item.ref == "XE" + "0" * 32 and item.action == "update" and item.apply is not None
