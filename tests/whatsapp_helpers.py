"""Helpers shared by the WhatsApp tests: a hotline number serving SMS and WhatsApp into one mailbox.

Inbound fixtures (tests/fixtures/twilio/whatsapp_*.txt) follow the real captures quoted in the
WhatsApp reference brief (§1, §2: key set of a sandbox inbound post and of status callbacks);
the undelivered-with-63016 combination is [UNCONFIRMED] (assembled from confirmed keys).
"""

from __future__ import annotations

import pytest

from support import HOTLINE, MAILBOX_ID, OTHER_HOTLINE, OTHER_MAILBOX_ID, configured_env, load_form, make_env, post_twilio

#: The hotline number texts (twilio:) and WhatsApps (whatsapp:) into the same mailbox; SMS is listed first.
MAILBOXES = f"twilio:{HOTLINE}:{MAILBOX_ID}, whatsapp:{HOTLINE}:{MAILBOX_ID}, twilio:{OTHER_HOTLINE}:{OTHER_MAILBOX_ID}"
WHATSAPP = "/bling/twilio_whatsapp"
STATUS = "/bling/twilio_sms_status"
TEMPLATE = "HXc0ffee00000000000000000000000001"
WITH_TEMPLATE = f'[mailboxes.{MAILBOX_ID}]\nwhatsapp_template_sid = "{TEMPLATE}"\n'
HOUR = 3600.0


@pytest.fixture
def env(store_url, tmp_path, request):
    """The test environment with MAILBOXES (a ``bling_config`` marker still becomes BLING_CONFIG)."""
    return configured_env(make_env(store_url, BLING_MAILBOXES=MAILBOXES), tmp_path, request)


def wa_sid(n: int) -> str:
    return f"SM{0x22222222222222222222222222222200 + n:032x}"


def whatsapp(client, body: str, n: int = 1, expect: int = 200, **overrides):
    """The supporter writes ``body`` on WhatsApp (message sid number ``n``)."""
    sid = wa_sid(n)
    resp = post_twilio(client, WHATSAPP, load_form("whatsapp_basic", Body=body, MessageSid=sid, SmsSid=sid,
                                                   SmsMessageSid=sid, **overrides))
    assert resp.status_code == expect, resp.text
    return resp


def wa_mailbox(settings):
    return settings.mailbox_for("whatsapp", HOTLINE)
