"""routes.toml: the real file is valid; every mistake stops start-up with a clear message."""

from __future__ import annotations

import pytest

from bling.routing.chains import compile_chains
from bling.errors import ConfigError
from bling.routing.plugin_loader import load_plugins
from bling.routing.routes import load_routes
from bling.config.settings import ROOT

GOOD = '''
[[route]]
path = "/bling/twilio_sms"
verify = "twilio"
schema = "twilio_sms"
chain = ["inbound_sms", "autoreply"]
'''
HS = '''
[[route]]
path = "/bling/helpscout_webhook"
verify = "helpscout"
schema = "helpscout_conversation"
chain = ["agent_reply"]
respond = "no_content"
'''


def compile_text(tmp_path, text):
    path = tmp_path / "routes.toml"
    path.write_text(text)
    pm, infos = load_plugins(str(ROOT / "plugins"), entry_points=False)
    return compile_chains(load_routes(str(path)), pm, infos, str(path)), str(path)


def test_the_real_routes_toml_is_valid():
    pm, infos = load_plugins(str(ROOT / "plugins"), entry_points=False)
    chains = compile_chains(load_routes(str(ROOT / "routes.toml")), pm, infos, "routes.toml")
    paths = [c.route.path for c in chains]
    assert paths[:2] == ["/bling/twilio_sms", "/bling/helpscout_webhook"]
    assert "/bling/mobilecommons_messages" in paths  # appended by the Mobile Commons transport
    assert chains[0].route.chain == ("customer_match", "inbound_sms", "opt_out", "after_hours", "autoreply")


def test_defaults_of_a_minimal_route(tmp_path):
    (chain,), _ = compile_text(tmp_path, GOOD)
    assert chain.route.respond == "twiml" and chain.route.methods == ("POST",)
    assert chain.route.name == "bling_twilio_sms"


@pytest.mark.parametrize("text,fragments", [
    (GOOD.replace('"twilio_sms"', '"twilio_smss"'), ["route /bling/twilio_sms", "key 'schema'", "twilio_smss"]),
    (GOOD.replace('verify = "twilio"', 'verify = "twillio"'), ["route /bling/twilio_sms", "key 'verify'", "twillio"]),
    (GOOD.replace('"autoreply"', '"auto_reply"'), ["route /bling/twilio_sms", "key 'chain'", "unknown plugin 'auto_reply'"]),
    (GOOD.replace('chain =', 'chian ='), ["[[route]] #1 (/bling/twilio_sms)", "chian"]),
    (GOOD + GOOD, ["[[route]] #2 (/bling/twilio_sms)", "key 'path'", "already used by [[route]] #1"]),
    (GOOD.replace('path = "/bling/twilio_sms"', 'path = "bling"'), ["key 'path'", "must start with /"]),
    (GOOD + 'respond = "xml"\n', ["key 'respond'"]),
    (GOOD + "background = [\"autoreply\"]\n", ["key 'background'", "only for respond"]),
    (GOOD + "[route.options.agent_reply]\nsources = ['web']\n", ["key 'options.agent_reply'", "not in this route's chain"]),
    (HS + "[route.options.agent_reply]\nsorces = ['web']\n",
     ["route /bling/helpscout_webhook", "key 'options.agent_reply.sorces'", "no option 'sorces' (known: sources)"]),
    (HS + "[route.options.agent_reply]\nsources = 'web'\n", ["key 'options.agent_reply.sources'", "Not a valid list"]),
    (HS + "[route.options.agent_reply]\nsources = []\n", ["key 'options.agent_reply.sources'", "name at least one source"]),
    (GOOD + "[route.options.autoreply]\ntext = 'hi'\n", ["key 'options.autoreply'", "'autoreply' takes no options"]),
    (GOOD + GOOD.replace("/bling/twilio_sms", "/bling/other").replace("[[route]]", '[[route]]\nname = "bling_twilio_sms"'),
     ["[[route]] #2 (/bling/other)", "key 'name'", "'bling_twilio_sms' is already used by [[route]] #1"]),
    (GOOD.replace('verify = "twilio"\n', ""), ["key 'verify'", "Missing data", "methods = []"]),
    (GOOD + "methods = []\n", ["key 'verify'", "takes no HTTP request", "remove the key"]),
    (GOOD.replace('verify = "twilio"\n', "") + 'methods = []\nrespond = "chain"\n', ["key 'respond'", "must run in a worker"]),
    ("[[route]\npath = 1", ["TOML syntax error"]),
    ('[routes]\npath = "/x"\n', ["routes"]),
    ("", ["route"]),
    (GOOD.replace('chain = ["inbound_sms", "autoreply"]', "chain = []"), ["key 'chain'"]),
])
def test_bad_routes_name_file_route_and_key(tmp_path, text, fragments):
    with pytest.raises(ConfigError) as ex:
        compile_text(tmp_path, text)
    message = str(ex.value)
    assert str(tmp_path / "routes.toml") in message
    for fragment in fragments:
        assert fragment in message, message


def test_plugin_options_are_loaded_with_their_defaults(tmp_path):
    """Every plugin of a route that declares Options gets its values, defaults filled in, whether or not
    the route gives any; a plugin that declares none gets no entry."""
    (given, bare), _ = compile_text(tmp_path, HS + "[route.options.agent_reply]\nsources = ['web', 'mobile']\n"
                                    + HS.replace("/bling/helpscout_webhook", "/bling/hs2"))
    assert given.route.options == {"agent_reply": {"sources": ["web", "mobile"]}}
    assert bare.route.options == {"agent_reply": {"sources": ["web"]}}
    (sms,), _ = compile_text(tmp_path, GOOD)
    assert sms.route.options == {}


def test_a_route_without_http_has_no_verifier(tmp_path):
    (chain,), _ = compile_text(tmp_path, GOOD.replace('verify = "twilio"\n', "") + "methods = []\n")
    assert (chain.route.takes_http, chain.route.verify, chain.verifier, chain.route.is_job) == (False, "", None, True)


def test_missing_routes_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_routes(str(tmp_path / "absent.toml"))


def test_bad_routes_stop_the_service_before_serving(env, tmp_path):
    from bling.services import build_services
    from bling.config.settings import load_settings

    (tmp_path / "routes.toml").write_text(GOOD.replace('"autoreply"', '"nope"'))
    with pytest.raises(ConfigError, match="unknown plugin 'nope'"):
        build_services(load_settings(dict(env, BLING_ROUTES=str(tmp_path / "routes.toml"))),
                       entry_points=False)
