"""Each hook, exercised through a throwaway plugin wired in by routes.toml."""

from __future__ import annotations

import shutil
import textwrap

import falcon.testing
import pytest
import sqlalchemy as sa

from bling.edge.app import create_app
from bling.services import build_services
from bling.config.settings import ROOT, load_settings
from bling.errors import ConfigError
from bling.store.core import Store
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
        context.mailbox = Mailbox("pigeon", "loft-7", context.mailbox.mailbox_id, kind="id")
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


PROBE_TABLE = '''
    """Probe: a plugin with a table of its own, keeping each text it saw."""
    import sqlalchemy as sa
    from bling.hookspecs import hookimpl

    seen = sa.Table("{name}", sa.MetaData(),
                    sa.Column("sid", sa.String(64), primary_key=True),
                    sa.Column("body", sa.Text, nullable=False))

    @hookimpl
    def bling_tables():
        return [seen]

    @hookimpl
    def handle_event(context, event):
        context.store.upsert(seen, {{"sid": event["message_sid"]}}, {{"body": event["body"]}})
'''


def test_hook_bling_tables(wire):
    """The store creates a plugin's table beside its own, and adds the columns and indexes a newer version declares."""
    services, client = wire(PROBE_TABLE.format(name="bling_probe_seen"), ["probe"])
    seen = services.plugins["probe"].module.seen
    try:
        assert services.store.tables["bling_probe_seen"] is seen
        post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
        assert drain(services) == {"done": 1}
        row = {"sid": "SM11111111111111111111111111111111", "body": "Hi, I need help with my ballot"}
        assert services.store.all(sa.select(seen)) == [row]
        newer = sa.Table("bling_probe_seen", sa.MetaData(), sa.Column("sid", sa.String(64), primary_key=True),
                         sa.Column("body", sa.Text, nullable=False), sa.Column("tag", sa.String(32), nullable=True),
                         sa.Index("ix_bling_probe_seen_tag", "tag"))
        upgraded = Store(services.store.url, tables=[newer])  # the plugin's next version, on the same store
        try:
            assert upgraded.all(sa.select(newer)) == [dict(row, tag=None)]  # the old row kept, the new column added
            assert "ix_bling_probe_seen_tag" in {i["name"] for i in sa.inspect(upgraded.engine).get_indexes(newer.name)}
        finally:
            upgraded.close()
    finally:
        seen.drop(services.store.engine, checkfirst=True)  # PostgreSQL's schema outlives the test


def test_two_plugins_declaring_one_table_stop_start_up_naming_both(wire, tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "other_probe.py").write_text(textwrap.dedent(PROBE_TABLE.format(name="bling_probe_seen")))
    with pytest.raises(ConfigError, match="'bling_probe_seen' is declared by two plugins, '(other_)?probe' and '(other_)?probe'"):
        wire(PROBE_TABLE.format(name="bling_probe_seen"), ["probe"])


def test_a_plugin_table_named_like_a_host_table_stops_start_up(wire):
    with pytest.raises(ConfigError, match="'bling_inbox' is declared twice"):
        wire(PROBE_TABLE.format(name="bling_inbox"), ["probe"])


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
