"""Per-mailbox call settings in BLING_CONFIG: defaults, and errors naming file, table and key."""

from __future__ import annotations

import pytest

from support import mailbox_options, option_schemas

from bling.errors import ConfigError
from bling.config.mailbox_options import load_mailbox_options
from bling_local_plugins.calls.options import MAX_VOICEMAIL_SECONDS


def load(tmp_path, text: str):
    path = tmp_path / "bling.toml"
    path.write_text(text)
    return load_mailbox_options(str(path), option_schemas())


def test_defaults_ring_nobody_screen_and_record_two_minutes():
    options = mailbox_options()
    assert options.ring == () and options.screen is True and options.ring_timeout == 20
    assert options.max_voicemail_seconds == MAX_VOICEMAIL_SECONDS == 120
    assert options.missed_call_thread is True and options.missed_call_text_back is False
    assert "voicemail" in options.voicemail_auto_reply and "voicemail" in options.voicemail_failure_reply


def test_ring_numbers_are_normalised_to_e164_and_inherit_defaults(tmp_path):
    defaults, mailboxes = load(tmp_path, '[defaults]\nscreen = false\nmissed_call_text_back = true\n'
                                         '[mailboxes.206906]\nring = ["+1 (617) 555-0101", "+44 20 7183 8751"]\n')
    options = mailboxes[206906]
    assert options.ring == ("+16175550101", "+442071838751")
    assert options.screen is False and options.missed_call_text_back is True
    assert defaults.ring == ()


@pytest.mark.parametrize("value,problem", [
    ('["6175550101"]', "is not an E.164 number"),
    ('["+1617555"]', "is not a valid phone number"),
    ('["+16175550101", "+1 617 555 0101"]', "is listed twice"),
    ("[" + ", ".join(f'"+1617555{n:04d}"' for n in range(101, 112)) + "]", "at most 10 numbers"),
])
def test_bad_ring_numbers_are_named(tmp_path, value, problem):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f"[mailboxes.206906]\nring = {value}\n")
    assert "bling.toml: mailboxes.206906.ring:" in str(caught.value) and problem in str(caught.value)


@pytest.mark.parametrize("line,key", [
    ("max_voicemail_seconds = 121", "max_voicemail_seconds"),
    ("ring_timeout = 2", "ring_timeout"),
    ('greeting = "https:// bad url.mp3"', "greeting"),
    ('voicemail_failure_reply = ""', "voicemail_failure_reply"),
    ("missed_call_text = " + '"' + "x" * 1601 + '"', "missed_call_text"),
    ('screen = "sometimes"', "screen"),
])
def test_bad_call_settings_are_named(tmp_path, line, key):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, f"[mailboxes.206906]\n{line}\n")
    assert f"mailboxes.206906.{key}:" in str(caught.value)


def test_greeting_may_be_words_or_an_audio_url(tmp_path):
    _defaults, mailboxes = load(tmp_path, '[mailboxes.206906]\ngreeting = "  Hello!  "\n'
                                          'voicemail_prompt = "https://cdn.example.org/prompt.mp3"\n')
    assert mailboxes[206906].greeting == "Hello!"
    assert mailboxes[206906].voicemail_prompt == "https://cdn.example.org/prompt.mp3"
