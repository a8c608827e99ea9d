"""Route paths live only in routes.toml (bling/routing/urls.py): code asks the table by route name.

A path written in code silently stops matching when routes.toml moves the
endpoint — Twilio then posts the next step of a call to a URL Bling no
longer serves. These tests keep paths out of the code and show that an edit
of routes.toml alone moves every URL Bling hands out.
"""

from __future__ import annotations

import pathlib
import re
import tokenize
from urllib.parse import urlsplit

import falcon.testing
import pytest

from bling.config.settings import load_settings
from bling.edge.app import create_app
from bling.errors import ConfigError
from bling.ops import provision
from bling.routing.routes import load_routes
from bling.routing.urls import find_route, route_path, url_for
from bling.services import build_services
from bling.store.core import Store
from call_support import RING_CONFIG, call, twiml
from support import PUBLIC_URL, configured_env

ROOT = pathlib.Path(__file__).resolve().parent.parent
ROUTES = ROOT / "routes.toml"
CODE_DIRS = ("bling", "plugins", "bling_fakes")
#: A URL path of Bling's own: "/bling" as a whole path segment (not e.g. "bling/routing/urls.py").
PATH_LITERAL = re.compile(r"(?<![\w.-])/bling(?=[/\"'?#\s`]|$)")


def path_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string, docstring or comment in Python ``source`` that writes a Bling path."""
    found = []
    for token in tokenize.generate_tokens(iter(source.splitlines(keepends=True)).__next__):
        if token.type in (tokenize.STRING, tokenize.COMMENT, getattr(tokenize, "FSTRING_MIDDLE", -1)) \
                and PATH_LITERAL.search(token.string):
            found.append((token.start[0], token.string.strip()[:80]))
    return found


def test_the_scanner_finds_a_written_path():
    """Planted: each way a path was written in code before routes were asked by name."""
    assert path_literals('VOICE_PATH = "/bling/twilio_voice"\n')
    assert path_literals('url = f"{base}/bling/dialer?t={token}"\n')
    assert path_literals('def f():\n    """Route ``POST /bling/helpscout_app``."""\n')
    assert path_literals('x = 1  # posts to /bling/twilio_sms\n')
    assert path_literals('DIALER = "/bling"\n')
    assert not path_literals('from bling.routing.urls import url_for  # see bling/routing/urls.py\n')


def test_no_python_code_writes_a_route_path():
    """Every path is in routes.toml only: not in code, docstrings or comments of the host, plugins or fakes."""
    offenders = []
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, text in path_literals(path.read_text(encoding="utf-8")):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {text}")
    assert offenders == [], "ask the route table by name (bling.routing.urls.url_for):\n" + "\n".join(offenders)


# -- renaming a path in routes.toml ------------------------------------------------------------


def moved_routes(tmp_path) -> pathlib.Path:
    """routes.toml with every path moved from /bling/… to /hotline/v2/…, names unchanged."""
    text = ROUTES.read_text()
    assert text.count('path = "/bling/') > 10
    moved = tmp_path / "routes.toml"
    moved.write_text(text.replace('path = "/bling/', 'path = "/hotline/v2/'))
    return moved


@pytest.fixture
def moved(store_url, tmp_path, request, clock):
    """Services and a client for Bling with the moved routes.toml."""
    from support import make_env

    env = configured_env(make_env(store_url, BLING_ROUTES=str(moved_routes(tmp_path))), tmp_path, request)
    settings = load_settings(env)
    services = build_services(settings, store=Store(settings.store_url, clock=clock), entry_points=False)
    yield services, falcon.testing.TestClient(create_app(services))
    services.store.close()


def paths_of(*urls: str) -> list[str]:
    for url in urls:
        assert url.startswith(PUBLIC_URL + "/"), url
    return [urlsplit(url).path for url in urls]


@pytest.mark.bling_config(RING_CONFIG)
def test_renaming_paths_moves_the_call_flows_callback_urls(moved):
    services, client = moved
    dial = twiml(call(client, "/hotline/v2/twilio_voice")).find("Dial")
    assert paths_of(dial.get("action"), dial.find("Number").get("url")) == [
        "/hotline/v2/twilio_voice/dial_done", "/hotline/v2/twilio_voice/screen"]
    whisper = twiml(call(client, "/hotline/v2/twilio_voice/screen", "voice_screen",
                         query=urlsplit(dial.find("Number").get("url")).query))
    assert paths_of(whisper.find("Gather").get("action")) == ["/hotline/v2/twilio_voice/accept"]
    record = twiml(call(client, "/hotline/v2/twilio_voice/voicemail", CallStatus="in-progress")).find("Record")
    assert paths_of(record.get("action"), record.get("recordingStatusCallback"), record.get("transcribeCallback")) == [
        "/hotline/v2/twilio_voice/record_done", "/hotline/v2/twilio_voice/recording", "/hotline/v2/twilio_transcription"]


def test_renaming_paths_moves_what_provision_sets(moved):
    services, _client = moved
    routes = provision.route_table(services.settings)
    wanted = provision.desired_number(services.settings, routes)
    assert wanted["sms_url"] == f"{PUBLIC_URL}/hotline/v2/twilio_sms#rc=3&rp=ct,rt,5xx"
    assert wanted["sms_fallback_url"] == f"{PUBLIC_URL}/hotline/v2/twilio_sms_fallback"
    assert wanted["voice_url"] == f"{PUBLIC_URL}/hotline/v2/twilio_voice"
    assert provision.desired_webhook(services.settings)["url"] == f"{PUBLIC_URL}/hotline/v2/helpscout_webhook"
    assert f"  Callback URL:  {PUBLIC_URL}/hotline/v2/helpscout_app" in provision.manual_steps(services.settings, routes)


# -- asking by name ----------------------------------------------------------------------------


def test_url_for_builds_absolute_urls_with_a_sorted_query(services):
    assert url_for(services, "twilio-voice-recording", hotline="+16175550100", caller="+16175550123") == (
        f"{PUBLIC_URL}/bling/twilio_voice/recording?caller=%2B16175550123&hotline=%2B16175550100")
    assert route_path(services.chains, "dialer-status") == "/bling/dialer/status"
    assert find_route(load_routes(str(ROUTES)), "no-such-route") is None


def test_a_missing_route_name_names_the_name_and_routes_toml(services, tmp_path):
    with pytest.raises(ConfigError) as raised:
        url_for(services, "twilio-voice-voicemial")
    message = str(raised.value)
    assert "'twilio-voice-voicemial'" in message and f"routes.toml ({services.settings.routes_path})" in message
    assert "twilio-voice-voicemail" in message  # the names there are, to spot the typo


def test_a_route_without_the_name_a_plugin_needs_stops_start_up(store_url, tmp_path):
    """routes.toml lost the voicemail route's name: start-up stops, naming the file, the route whose
    plugin builds that URL, the plugin and the name, before any caller waits for TwiML that cannot
    be written (url_for's own refusal would come only then)."""
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.read_text().replace('name = "twilio-voice-voicemail"\n', ""))
    from support import make_env

    settings = load_settings(make_env(store_url, BLING_ROUTES=str(routes)))
    with pytest.raises(ConfigError) as raised:
        build_services(settings, entry_points=False)
    message = str(raised.value)
    assert message.startswith(f"{routes}: route /bling/twilio_voice: plugin 'voice_incoming' builds the URL of the "
                              "route named 'twilio-voice-voicemail', which this file lacks")
    assert 'name = \'twilio-voice-voicemail\'' in message and "twilio-voice-screen" in message  # the names there are


def test_every_route_a_plugin_builds_a_url_for_is_declared_in_needs_routes():
    """Each route name plugins/ hands url_for or route_path is in some plugin's NEEDS_ROUTES (so start-up
    checks it), unless the same module asks find_route first (an optional route, e.g. WhatsApp's status).

    Planted bug it catches: a new url_for(context, "some-route") in a plugin with no NEEDS_ROUTES entry."""
    import ast
    import importlib

    from bling.routing.plugin_loader import mount_local_plugins

    mount_local_plugins(ROOT / "plugins")
    built, optional, declared = set(), set(), set()
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        tree = ast.parse(path.read_text())
        module = importlib.import_module("bling_local_plugins." + ".".join(path.relative_to(ROOT / "plugins")
                                                                           .with_suffix("").parts))
        declared.update(getattr(module, "NEEDS_ROUTES", ()))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("url_for", "route_path", "find_route"):
                name = eval(compile(ast.Expression(node.args[1]), str(path), "eval"), vars(module))
                (optional if node.func.id == "find_route" else built).add((path.name, name))
    needed = {name for file, name in built if (file, name) not in optional}
    assert needed, "the scan found no url_for call: it no longer reads the plugins"
    assert needed <= declared, f"built but not declared in any NEEDS_ROUTES: {sorted(needed - declared)}"


def test_two_routes_with_one_name_stop_start_up(tmp_path):
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES.read_text().replace('name = "twilio-voice-screen"', 'name = "twilio-voice"'))
    with pytest.raises(ConfigError, match=r"key 'name': 'twilio-voice' is already used by \[\[route\]\] #5"):
        load_routes(str(routes))
