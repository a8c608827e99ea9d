"""A plugin that raises is isolated to its job and reported; the web process keeps answering."""

from __future__ import annotations

import logging
import shutil
import textwrap

import falcon.testing
import pytest

from bling.edge.app import create_app
from bling.services import build_services
from bling.config.settings import ROOT, load_settings
from bling.jobs.worker import MAX_ATTEMPTS, drain
from support import load_form, post_twilio

ROUTE = '''
[[route]]
path = "/bling/twilio_sms"
verify = "twilio"
schema = "twilio_sms"
chain = {chain}
respond = "{respond}"
'''


@pytest.fixture
def wire(tmp_path, env):
    """An app whose only route runs ``chain``, with plugins/ plus a broken plugin."""

    def build(source: str, chain: list[str], respond: str = "twiml"):
        plugins = tmp_path / "plugins"
        shutil.copytree(ROOT / "plugins", plugins, dirs_exist_ok=True)
        (plugins / "broken.py").write_text(textwrap.dedent(source))
        routes = tmp_path / "routes.toml"
        routes.write_text(ROUTE.format(chain=str(chain).replace("'", '"'), respond=respond))
        settings = load_settings(dict(env, BLING_ROUTES=str(routes), BLING_PLUGINS_DIR=str(plugins)))
        services = build_services(settings, entry_points=False)
        return services, falcon.testing.TestClient(create_app(services))

    return build


RAISES_IN_TRIAGE = '''
    """Broken: its triage raises."""
    from bling.hookspecs import hookimpl

    @hookimpl
    def triage_event(context, event):
        raise KeyError("oops")
'''

IGNORES_SHORT = '''
    """Ignores texts saying 'ignore me'."""
    from bling.hookspecs import hookimpl

    @hookimpl
    def triage_event(context, event):
        return "asked to" if event["body"] == "ignore me" else None

    @hookimpl
    def handle_event(context, event):
        context.state["handled"] = True
'''


def test_a_raising_triage_is_logged_and_the_event_accepted(wire, tmp_path, caplog):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "picky.py").write_text(textwrap.dedent(IGNORES_SHORT))
    services, client = wire(RAISES_IN_TRIAGE, ["broken", "picky"])
    with caplog.at_level(logging.ERROR, logger="bling.chains"):
        accepted = post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    assert accepted.status_code == 200 and accepted.text.endswith("<Response />")
    assert "plugin 'broken' raised in triage_event" in caplog.text
    ignored = post_twilio(client, "/bling/twilio_sms",
                          load_form("sms_basic", Body="ignore me", MessageSid="SM99999999999999999999999999999999"))
    assert ignored.status_code == 200  # the later plugin still had its say
    assert [r["key"] for r in services.store.rows()] == ["twilio:sms:SM11111111111111111111111111111111"]
    assert drain(services) == {"done": 1}


def test_a_raising_handler_retries_then_dead_letters_while_the_web_answers(wire, clock):
    services, client = wire('''
        """Broken: every job raises; it is told once at the end."""
        from bling.hookspecs import hookimpl
        TOLD = []

        @hookimpl
        def handle_event(context, event):
            raise RuntimeError("plugin bug")

        @hookimpl
        def handle_failure(context, event, error):
            TOLD.append(error)
    ''', ["broken"])
    services.store.clock = clock
    assert post_twilio(client, "/bling/twilio_sms", load_form("sms_basic")).status_code == 200
    outcomes: dict[str, int] = {}
    for round_ in range(MAX_ATTEMPTS + 1):
        for outcome, count in drain(services).items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
        second = load_form("sms_basic", MessageSid=f"SM{round_:032d}")
        assert post_twilio(client, "/bling/twilio_sms", second).status_code == 200  # the web never stops answering
        clock.advance(4000)
    assert client.simulate_get("/healthz").status_code == 200
    first = services.store.rows(limit=500)[-1]
    assert first["state"] == "dead" and first["attempts"] == MAX_ATTEMPTS
    assert first["last_error"] == "RuntimeError: plugin bug"
    assert services.plugins["broken"].module.TOLD[0] == "RuntimeError: plugin bug"
    assert outcomes["dead"] >= 1 and outcomes["retry"] >= MAX_ATTEMPTS - 1


def test_a_raising_in_request_chain_answers_500_json_without_a_traceback(wire):
    services, client = wire('''
        """Broken: renders nothing but an exception."""
        from bling.hookspecs import hookimpl

        @hookimpl
        def handle_event(context, event):
            raise RuntimeError("secret internals")
    ''', ["broken"], respond="chain")
    resp = post_twilio(client, "/bling/twilio_sms", load_form("sms_basic"))
    assert resp.status_code == 500 and resp.headers["content-type"].startswith("application/json")
    assert "secret internals" not in resp.text and "Traceback" not in resp.text
    assert client.simulate_get("/healthz").status_code == 200
