"""Bling wired with a routes.toml whose twilio-sms chain ends with daily_tally (installed as a package)."""

from __future__ import annotations

from urllib.parse import urlencode

import falcon
import falcon.testing
import pytest
from twilio.request_validator import RequestValidator

from bling.config.settings import ROOT, load_settings
from bling.edge.app import create_app
from bling.services import build_services

PUBLIC_URL = "https://hotline.example.com"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
HOTLINE, OTHER_HOTLINE = "+16175550100", "+16175550199"

ROUTES = '''
[[route]]
name = "twilio-sms"
path = "/bling/twilio_sms"
verify = "twilio"
schema = "twilio_sms"
chain = ["daily_tally"]
respond = "twiml"
'''


@pytest.fixture
def env(tmp_path):
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    config = tmp_path / "bling.toml"
    config.write_text('[defaults]\ntimezone = "America/New_York"\n[mailboxes.206907]\ntally = false\n')
    return {"HELPSCOUT_API_CLIENT_ID": "test-client-id", "HELPSCOUT_API_CLIENT_SECRET": "test-client-secret",
            "HELPSCOUT_WEBHOOK_SECRET": "test-webhook-secret", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "BLACKHOLE_DOMAIN": "blackhole.example.org",
            "BLING_MAILBOXES": f"twilio:{HOTLINE}:206906, twilio:{OTHER_HOTLINE}:206907",
            "BLING_PUBLIC_URL": PUBLIC_URL, "BLING_STORE_URL": f"sqlite:///{tmp_path / 'bling.db'}",
            "BLING_ROUTES": str(routes), "BLING_CONFIG": str(config), "BLING_PLUGINS_DIR": str(ROOT / "plugins")}


@pytest.fixture
def services(env):
    built = build_services(load_settings(env), entry_points=True)
    yield built
    built.store.close()


@pytest.fixture
def text(services):
    """Deliver a supporter's text the way Twilio does (signed)."""
    client = falcon.testing.TestClient(create_app(services))

    def send(sid: str, to: str = HOTLINE):
        form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+16175550123", "To": to,
                "Body": "hello", "NumMedia": "0"}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/bling/twilio_sms", form)
        resp = client.simulate_post("/bling/twilio_sms", body=urlencode(form), content_type=falcon.MEDIA_URLENCODED,
                                    headers={"X-Twilio-Signature": signature})
        assert resp.status_code == 200, resp.text

    return send
