"""Helpers for tests: a test environment, signed requests, fixture files."""

from __future__ import annotations

import functools
import pathlib

import json
import os
from urllib.parse import urlencode

import falcon
from twilio.request_validator import RequestValidator

from bling.edge.verifiers import helpscout_signature

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")

PUBLIC_URL = "https://hotline.example.com"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
ACCOUNT_SID = "AC00000000000000000000000000000000"
WEBHOOK_SECRET = "test-webhook-secret"
HOTLINE = "+16175550100"
MAILBOX_ID = 206906
OTHER_HOTLINE = "+442071838750"
OTHER_MAILBOX_ID = 206907
SUPPORTER = "+16175550123"
BLACKHOLE = "blackhole.example.org"


def make_env(store_path: str, **overrides: str) -> dict[str, str]:
    """A complete environment for Bling, with fake credentials."""
    env = {
        "HELPSCOUT_API_CLIENT_ID": "test-client-id",
        "HELPSCOUT_API_CLIENT_SECRET": "test-client-secret",
        "HELPSCOUT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "BLACKHOLE_DOMAIN": BLACKHOLE,
        "BLING_MAILBOXES": f"twilio:{HOTLINE}:{MAILBOX_ID}, twilio:{OTHER_HOTLINE}:{OTHER_MAILBOX_ID}",
        "BLING_PUBLIC_URL": PUBLIC_URL,
        "BLING_STORE_URL": store_path,
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def configured_env(env: dict, tmp_path, request) -> dict:
    """``env`` with BLING_CONFIG from the test's ``bling_config`` marker (the closest one) or ``env`` parameter, if any."""
    marker = request.node.get_closest_marker("bling_config")
    text = getattr(request, "param", None) or (marker.args[0] if marker else None)
    if not text:
        return env
    path = tmp_path / "bling.toml"
    path.write_text(text)
    return dict(env, BLING_CONFIG=str(path))


def load_form(name: str, **overrides: str) -> list[tuple[str, str]]:
    """A Twilio form fixture (tests/fixtures/twilio/<name>.txt) as ordered pairs."""
    from urllib.parse import parse_qsl

    with open(os.path.join(FIXTURES, "twilio", f"{name}.txt")) as handle:
        pairs = parse_qsl(handle.read().strip(), keep_blank_values=True)
    present = {k for k, _ in pairs}
    pairs = [(k, overrides.get(k, v)) for k, v in pairs if overrides.get(k, v) is not None or k not in overrides]
    pairs += [(k, v) for k, v in overrides.items() if k not in present and v is not None]
    return pairs


def load_json(name: str) -> dict:
    with open(os.path.join(FIXTURES, "helpscout", f"{name}.json")) as handle:
        return json.load(handle)


def twilio_signature(url: str, pairs, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, dict(pairs))


def post_twilio(client, path: str, pairs, signature: str | None = "auto", query: str = ""):
    """POST a form the way Twilio does, signed for BLING_PUBLIC_URL + path."""
    body = urlencode(pairs)
    url = PUBLIC_URL + path + (f"?{query}" if query else "")
    headers = {}
    if signature == "auto":
        headers["X-Twilio-Signature"] = twilio_signature(url, pairs)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.simulate_post(path, body=body, query_string=query or None,
                                content_type=falcon.MEDIA_URLENCODED, headers=headers)


def post_helpscout(client, path: str, payload, event: str = "convo.agent.reply.created",
                   secret: str = WEBHOOK_SECRET, signature: str | None = "auto"):
    """POST JSON the way a Help Scout webhook does, signed with ``secret``."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"X-HelpScout-Event": event} if event else {}
    if signature == "auto":
        headers["X-HelpScout-Signature"] = helpscout_signature(secret, body)
    elif signature is not None:
        headers["X-HelpScout-Signature"] = signature
    return client.simulate_post(path, body=body, content_type=falcon.MEDIA_JSON, headers=headers)


@functools.lru_cache(maxsize=1)
def local_plugin_files() -> dict[str, pathlib.Path]:
    """Every plugin of plugins/ by name → its file: modules, feature packages (their ``__init__.py``) and
    the modules a package lists in ``PLUGINS`` — as the plugin loader finds them."""
    from bling.routing.plugin_loader import load_plugins
    from bling.config.settings import ROOT

    infos = load_plugins(str(ROOT / "plugins"), entry_points=False)[1]
    return {name: pathlib.Path(info.module.__file__) for name, info in infos.items() if info.source.startswith("local:")}


def plugin_module(name: str):
    """plugins/<name>.py as Bling loads it: the module object whose hooks Bling registers."""
    from bling.routing.plugin_loader import load_plugins
    from bling.config.settings import ROOT

    return load_plugins(str(ROOT / "plugins"), entry_points=False)[1][name].module


def feature_tables() -> list:
    """The tables the feature packages of plugins/ declare (``bling_tables``), as ``build_services`` gathers
    them: a test that builds ``Store(url, tables=feature_tables())`` can use the features' state."""
    from bling.config.settings import ROOT
    from bling.routing.plugin_loader import load_plugins
    from bling.store.plugin_tables import declared_tables

    return declared_tables(load_plugins(str(ROOT / "plugins"), entry_points=False)[0])


def feature_store(url: str, **kwargs):
    """A ``Store`` holding the host's tables and the features' (``feature_tables``)."""
    from bling.store.core import Store

    return Store(url, tables=feature_tables(), **kwargs)


@functools.lru_cache(maxsize=1)
def option_schemas() -> tuple:
    """The per-mailbox option schemas of plugins/ (``bling_mailbox_options``), as ``load_settings`` gathers them."""
    from bling.config.settings import ROOT, option_schemas as gather
    from bling.routing.plugin_loader import load_plugins

    return tuple(gather(load_plugins(str(ROOT / "plugins"), entry_points=False)[0]))


def mailbox_options(**changes):
    """Every declared per-mailbox option at its default, with ``changes``."""
    from bling.config.mailbox_options import default_options

    return default_options(list(option_schemas())).replace(**changes)
