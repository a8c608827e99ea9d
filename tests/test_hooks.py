"""Each hook, exercised through a throwaway plugin wired in by routes.toml."""

from __future__ import annotations

import shutil
import textwrap

import falcon.testing
import pytest

from bling.edge.app import create_app
from bling.services import build_services
from bling.config.settings import ROOT, load_settings
from bling.jobs.worker import drain
from support import load_form, post_twilio

SMS_ROUTE = '''
[[route]]
path = "/bling/twilio_sms"
verify = "{verify}"
schema = "{schema}"
chain = {chain}
'''


@pytest.fixture
def wire(tmp_path, env):
    """Build an app whose plugins/ holds the built-ins plus ``plugin_source``."""

    def build(plugin_source: str, chain: list[str], verify: str = "twilio", schema: str = "twilio_sms",
              extra_env: dict | None = None):
        plugins = tmp_path / "plugins"
        shutil.copytree(ROOT / "plugins", plugins, dirs_exist_ok=True)
        (plugins / "probe.py").write_text(textwrap.dedent(plugin_source))
        routes = tmp_path / "routes.toml"
        routes.write_text(SMS_ROUTE.format(verify=verify, schema=schema, chain=str(chain).replace("'", '"')))
        settings = load_settings(dict(env, BLING_ROUTES=str(routes), BLING_PLUGINS_DIR=str(plugins), **(extra_env or {})))
        services = build_services(settings, entry_points=False)
        return services, falcon.testing.TestClient(create_app(services))

    return build


def test_hook_handle_event(wire):
    services, client = wire('''
        """Probe."""
        from bling.hookspecs import hookimpl

        @hookimpl
        def handle_event(context, event):
            context.state["probe"] = [event["body"], context.mailbox.mailbox_id, context.attempt]
    ''', ["probe"])
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    assert drain(services) == {"done": 1}
    (row,) = services.store.rows()
    assert '"probe": ["Hi, I need help with my ballot", 206906, 1]' in row["result"]


def test_hook_triage_event(wire):
    services, client = wire('''
        """Probe."""
        from bling.hookspecs import hookimpl

        @hookimpl
        def triage_event(context, event):
            return "a test" if event["body"] == "ignore me" else None

        @hookimpl
        def handle_event(context, event):
            pass
    ''', ["probe"])
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic", Body="ignore me"))
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic", MessageSid="SM99999999999999999999999999999999"))
    assert [r["key"] for r in services.store.rows()] == ["twilio:sms:SM99999999999999999999999999999999"]


def test_hook_handle_failure(wire):
    services, client = wire('''
        """Probe."""
        from bling.errors import PermanentError
        from bling.hookspecs import hookimpl
        TOLD = []

        @hookimpl
        def handle_event(context, event):
            raise PermanentError("cannot")

        @hookimpl
        def handle_failure(context, event, error):
            TOLD.append(error)
    ''', ["probe"])
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    assert drain(services) == {"dead": 1}
    assert services.plugins["probe"].module.TOLD == ["PermanentError: cannot"]


def test_hook_bling_schemas(wire):
    services, client = wire('''
        """Probe: a schema that keys SMS by body, to show schemas are pluggable."""
        from bling.hookspecs import hookimpl
        from bling.payloads import TwilioSmsSchema

        class ByBody(TwilioSmsSchema):
            def idempotency_key(self, event):
                return "body:" + event["body"]

        @hookimpl
        def bling_schemas():
            return {"by_body": ByBody}

        @hookimpl
        def handle_event(context, event):
            pass
    ''', ["probe"], schema="by_body")
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    assert [r["key"] for r in services.store.rows()] == ["body:Hi, I need help with my ballot"]


def test_hook_bling_verifiers(wire):
    services, client = wire('''
        """Probe: a verifier that trusts nobody."""
        from bling.hookspecs import hookimpl

        class Nobody:
            failure_status = 418

            def verify(self, req, body, settings):
                return False

        @hookimpl
        def bling_verifiers():
            return {"nobody": Nobody()}

        @hookimpl
        def handle_event(context, event):
            pass
    ''', ["probe"], verify="nobody")
    assert post_twilio(client, "/bling/twilio_sms", load_form("sms_basic")).status_code == 418
    assert services.store.rows() == []


PIGEON = '''
    """Probe: a third-party transport named pigeon."""
    from bling.hookspecs import hookimpl
    SENT = []

    @hookimpl
    def transport_send_sms(context, mailbox, to, body, media_urls):
        if mailbox.transport != "pigeon":
            return None
        SENT.append((mailbox.address, to, body))
        return f"pigeon-{len(SENT)}"

    @hookimpl
    def transport_find_sms(context, mailbox, to, body, since):
        if mailbox.transport != "pigeon":
            return None
        return [f"pigeon-{i + 1}" for i, sent in enumerate(SENT) if sent[1:] == (to, body)]

    @hookimpl
    def handle_event(context, event):
        from bling.config.mailboxes import Mailbox
        context.mailbox = Mailbox("pigeon", "loft-7", context.mailbox.mailbox_id)
        context.state["sid"] = context.send_sms_once("hello", "+16175550123", "coo")
'''


def test_hook_transport_send_sms(wire):
    services, client = wire(PIGEON, ["probe"])
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    assert drain(services) == {"done": 1}
    assert services.plugins["probe"].module.SENT == [("loft-7", "+16175550123", "coo")]


def test_hook_transport_find_sms(wire):
    services, client = wire(PIGEON, ["probe"])
    post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    (row,) = services.store.rows()
    services.store.effect_started(row["id"], "hello")  # an earlier attempt died mid-send
    services.plugins["probe"].module.SENT.append(("loft-7", "+16175550123", "coo"))
    assert drain(services) == {"done": 1}
    assert len(services.plugins["probe"].module.SENT) == 1  # found, not sent again


def test_chain_route_answers_in_request_and_runs_background_in_worker(tmp_path, env):
    plugins = tmp_path / "plugins"
    shutil.copytree(ROOT / "plugins", plugins, dirs_exist_ok=True)
    (plugins / "render.py").write_text(textwrap.dedent('''
        """Probe: answers TwiML in the request."""
        from bling.hookspecs import hookimpl

        @hookimpl
        def handle_event(context, event):
            return '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>'
    '''))
    (plugins / "later.py").write_text(textwrap.dedent('''
        """Probe: runs in the worker afterwards."""
        from bling.hookspecs import hookimpl

        @hookimpl
        def handle_event(context, event):
            context.state["later"] = event["message_sid"]
    '''))
    routes = tmp_path / "routes.toml"
    routes.write_text(SMS_ROUTE.format(verify="twilio", schema="twilio_sms", chain='["render"]')
                      + 'respond = "chain"\nbackground = ["later"]\n')
    settings = load_settings(dict(env, BLING_ROUTES=str(routes), BLING_PLUGINS_DIR=str(plugins)))
    services = build_services(settings, entry_points=False)
    client = falcon.testing.TestClient(create_app(services))
    resp = post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    assert resp.text.endswith("<Response><Say>Hello</Say></Response>")
    assert resp.headers["content-type"].startswith("text/xml")
    assert drain(services) == {"done": 1}
    (row,) = services.store.rows()
    assert '"later": "SM11111111111111111111111111111111"' in row["result"]
