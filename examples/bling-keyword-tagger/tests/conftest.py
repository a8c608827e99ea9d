"""Fixtures for testing a Bling plugin from its own package: Bling wired with a routes.toml
whose chain names this plugin, Help Scout replayed from cassettes."""

from __future__ import annotations

import os
from urllib.parse import urlencode

import falcon
import falcon.testing
import pytest
from twilio.request_validator import RequestValidator

from bling.edge.app import create_app
from bling.services import build_services
from bling.config.settings import ROOT, load_settings
from bling.store.core import Store

HERE = os.path.dirname(os.path.abspath(__file__))
PUBLIC_URL = "https://hotline.example.com"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"

ROUTES = '''
[[route]]
path = "/bling/twilio_sms"
verify = "twilio"
schema = "twilio_sms"
chain = ["inbound_sms", "keyword_tagger", "autoreply"]

[route.options.keyword_tagger]
keywords = { ballot = "voting", vote = "voting", "bénévole" = "volunteers" }
'''


@pytest.fixture(scope="module")
def vcr_cassette_dir(request):
    return os.path.join(HERE, "cassettes", request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="session")
def vcr_config():
    """Credentials are scrubbed; the body must match, so a wrong tag set cannot pass."""
    return {"filter_headers": ["authorization"], "filter_post_data_parameters": ["client_id", "client_secret"],
            "record_mode": "none",
            "match_on": ["method", "scheme", "host", "port", "path", "query", "body"]}


@pytest.fixture
def services(tmp_path):
    """Bling as deployed: built-in plugins, installed packages (this one), our routes.toml."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    env = {"HELPSCOUT_API_CLIENT_ID": "test-client-id", "HELPSCOUT_API_CLIENT_SECRET": "test-client-secret",
           "HELPSCOUT_WEBHOOK_SECRET": "test-webhook-secret", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
           "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "BLACKHOLE_DOMAIN": "blackhole.example.org",
           "BLING_MAILBOXES": "twilio:+16175550100:206906", "BLING_PUBLIC_URL": PUBLIC_URL,
           "BLING_STORE_URL": f"sqlite:///{tmp_path / 'bling.db'}", "BLING_ROUTES": str(routes),
           "BLING_PLUGINS_DIR": str(ROOT / "plugins")}
    settings = load_settings(env)
    built = build_services(settings, store=Store(settings.store_url, clock=lambda: 1795608000.0),
                           entry_points=True)
    yield built
    built.store.close()


@pytest.fixture
def text(services):
    """Deliver a supporter's text the way Twilio does (signed)."""
    client = falcon.testing.TestClient(create_app(services))

    def send(body: str, sid: str = "SM" + "1" * 32):
        form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+16175550123", "To": "+16175550100",
                "Body": body, "NumMedia": "0"}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/bling/twilio_sms", form)
        resp = client.simulate_post("/bling/twilio_sms", body=urlencode(form), content_type=falcon.MEDIA_URLENCODED,
                                    headers={"X-Twilio-Signature": signature})
        assert resp.status_code == 200
        return resp

    return send
