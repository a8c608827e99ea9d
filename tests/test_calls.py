"""plugins/calls/: what the calls feature hands the host — the call routes' payload schemas and the call options."""

from __future__ import annotations

import pytest

from bling.config.settings import load_settings
from bling.errors import ConfigError
from feature_support import feature, routes_using


def test_its_schemas_are_the_call_routes(services):
    _pm, calls = feature("calls")
    schemas = calls.bling_schemas()
    assert {"twilio_call", "twilio_recording", "twilio_transcription"} <= set(schemas)
    for name in schemas:
        if name != "studio_voicemail":
            assert routes_using(services, name), f"no route uses {name}"


def test_its_options_ring_nobody_by_default_and_check_numbers(env, tmp_path):
    _pm, calls = feature("calls")
    defaults = calls.bling_mailbox_options()().load({})
    assert defaults["ring"] == () and defaults["screen"] is True and defaults["max_voicemail_seconds"] == 120
    config = tmp_path / "bling.toml"
    config.write_text('[mailboxes.206906]\nring = ["617 555 0101"]\n')
    with pytest.raises(ConfigError, match="mailboxes.206906.ring"):
        load_settings(dict(env, BLING_CONFIG=str(config)))
