"""Settings: the original variable names, sane defaults, clear errors."""

from __future__ import annotations

import pytest

from bling.errors import ConfigError
from bling.config.mailboxes import Mailbox, parse_mailboxes
from bling.declarations import Transport
from bling.config.settings import load_settings, store_url_from
from support import make_env


def base_env(**overrides):
    return make_env("sqlite:///bling.db", **overrides)


def test_complete_environment_loads():
    settings = load_settings(base_env())
    assert settings.blackhole_domain == "blackhole.example.org"
    assert [m.mailbox_id for m in settings.mailboxes] == [206906, 206907]
    assert settings.mailbox_for("twilio", "+16175550100").mailbox_id == 206906
    assert settings.mailbox_by_id(206907).address == "+442071838750"
    assert settings.helpscout_api_url == "https://api.helpscout.net"
    assert settings.twilio_api_url == "https://api.twilio.com"


def test_every_missing_variable_is_named_at_once():
    env = base_env(TWILIO_AUTH_TOKEN=None, BLACKHOLE_DOMAIN="  ")
    with pytest.raises(ConfigError) as ex:
        load_settings(env)
    assert "TWILIO_AUTH_TOKEN" in str(ex.value) and "BLACKHOLE_DOMAIN" in str(ex.value)
    assert "HELPSCOUT_API_CLIENT_ID" not in str(ex.value)


def test_defaults_are_sane():
    env = base_env(BLING_PUBLIC_URL=None, BLING_STORE_URL=None)
    settings = load_settings(env)
    assert settings.store_url == "sqlite:///bling.db"
    assert settings.public_url == ""
    assert settings.max_body_bytes == 262144
    assert settings.options(206906).auto_reply.startswith("We've received your message")
    assert settings.options(206906).thread_cap == 90


@pytest.mark.parametrize("name", ["BLING_PUBLIC_URL", "BLING_HELPSCOUT_API_URL", "BLING_TWILIO_API_URL"])
def test_malformed_url_is_named(name):
    with pytest.raises(ConfigError, match=name):
        load_settings(base_env(**{name: "api.example.com"}))


def test_base_urls_are_overridable():
    settings = load_settings(base_env(BLING_HELPSCOUT_API_URL="http://127.0.0.1:9001",
                                      BLING_TWILIO_API_URL="http://127.0.0.1:9002"))
    assert settings.helpscout_api_url == "http://127.0.0.1:9001"
    assert settings.twilio_api_url == "http://127.0.0.1:9002"


def test_bad_body_limit_is_named():
    with pytest.raises(ConfigError, match="BLING_MAX_BODY_BYTES"):
        load_settings(base_env(BLING_MAX_BODY_BYTES="lots"))


@pytest.mark.parametrize("value,expected", [
    ("bling.db", "sqlite:///bling.db"),
    ("/var/lib/bling/bling.db", "sqlite:////var/lib/bling/bling.db"),
    ("postgres://u@h/db", "postgresql://u@h/db"),
    ("postgresql://u@h/db", "postgresql://u@h/db"),
])
def test_store_url_shorthands(value, expected):
    assert store_url_from(value) == expected


def test_store_url_unknown_scheme_is_refused():
    with pytest.raises(ConfigError, match="BLING_STORE_URL"):
        store_url_from("mysql://u@h/db")


# -- BLING_MAILBOXES -----------------------------------------------------------


TRANSPORTS = {"twilio": Transport("twilio"), "mobilecommons": Transport("mobilecommons", address="id")}


def test_mailboxes_tolerate_spaces_and_number_formats():
    parsed = parse_mailboxes(" twilio:(617) 555-0100:206906 ,twilio: +44 20 7183 8750 :206907,"
                             "mobilecommons:12345:206908, ", TRANSPORTS)
    assert parsed == [Mailbox("twilio", "+16175550100", 206906), Mailbox("twilio", "+442071838750", 206907),
                      Mailbox("mobilecommons", "12345", 206908, kind="id")]
    assert parsed[0].number == "+16175550100" and parsed[2].number is None


@pytest.mark.parametrize("value,fragment", [
    ("twilio:+16175550100", "expected '<transport>"),
    ("twilio:+16175550100:abc", "mailbox id 'abc' is not a number"),
    ("twilio:not-a-number:206906", "is not a phone number"),
    ("twilio:+16175550100:1,twilio:617-555-0100:2", "listed twice"),
    ("", "no mailboxes configured"),
    ("tw ilio:+16175550100:1", "not a plugin name"),
    ("twilio:+16175550100:1, fax:+16175550101:2", "entry 2 ('fax:+16175550101:2'): no loaded plugin serves the "
                                                  "transport 'fax' (known: mobilecommons, twilio)"),
])
def test_malformed_mailboxes_name_the_entry(value, fragment):
    with pytest.raises(ConfigError) as ex:
        parse_mailboxes(value, TRANSPORTS)
    assert fragment in str(ex.value) and "BLING_MAILBOXES" in str(ex.value)


# -- BLING_CONFIG ---------------------------------------------------------------


def test_mailbox_options_file(tmp_path):
    path = tmp_path / "bling.toml"
    path.write_text('[defaults]\nthread_cap = 50\n[mailboxes.206906]\nauto_reply = "Hi from Boston"\n')
    settings = load_settings(base_env(BLING_CONFIG=str(path)))
    assert settings.options(206906).auto_reply == "Hi from Boston"
    assert settings.options(206906).thread_cap == 50  # defaults fill the rest
    assert settings.options(206907).thread_cap == 50
    assert settings.options(206907).auto_reply.startswith("We've received")


@pytest.mark.parametrize("text,fragment", [
    ("[mailboxes.206906]\nauto_replyy = 'x'\n", "mailboxes.206906.auto_replyy: unknown option 'auto_replyy'"),
    ("[mailboxes.206906]\nauto_reply = 5\n", "mailboxes.206906.auto_reply: Not a valid string"),  # a plugin's option
    ("[mailboxes.boston]\nauto_reply = 'x'\n", "must be a mailbox id"),
    ("[defaults]\nthread_cap = 100\n", "defaults.thread_cap"),
    ("[defaults\n", "TOML syntax error"),
    ("[other]\n", "other: unknown table"),
])
def test_bad_options_file_names_file_and_key(tmp_path, text, fragment):
    path = tmp_path / "bling.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as ex:
        load_settings(base_env(BLING_CONFIG=str(path)))
    assert str(path) in str(ex.value) and fragment in str(ex.value)


def test_missing_options_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="BLING_CONFIG"):
        load_settings(base_env(BLING_CONFIG=str(tmp_path / "nope.toml")))
