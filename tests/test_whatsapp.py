"""The WhatsApp feature package (plugins/whatsapp/): the hooks its __init__ implements.

The provisioning part's behaviour is tested in tests/test_whatsapp_provisioning.py; here the
package's own hook is driven as Bling calls it.
"""

from __future__ import annotations

import os

from bling.config.mailboxes import Mailbox
from bling.config.settings import load_settings
from bling.services import build_services
from support import FIXTURES, plugin_module

#: Routes with the WhatsApp route (name and path are what provisioning reads).
ROUTES = os.path.join(FIXTURES, "whatsapp_provision", "routes.toml")


class _Twilio:
    account_sid = "AC00000000000000000000000000000000"

    def list_senders(self, channel):
        assert channel == "whatsapp"
        return [{"sid": "XE" + "0" * 32, "sender_id": "whatsapp:+16175550100", "status": "ONLINE", "webhook": {}}]


def test_bling_provision_plans_the_whatsapp_hotlines_only(env):
    whatsapp = plugin_module("whatsapp")
    services = build_services(load_settings(dict(env, BLING_ROUTES=ROUTES)), twilio=_Twilio(), entry_points=False)
    hotlines = [Mailbox("twilio", "+16175550100", 206906), Mailbox("whatsapp", "+16175550100", 206906)]
    (item,) = whatsapp.bling_provision(services=services, mailboxes=hotlines)
    assert item.kind == "whatsapp-sender" and item.mailbox == hotlines[1]
    assert item.ref == "XE" + "0" * 32 and item.action == "update" and item.apply is not None
