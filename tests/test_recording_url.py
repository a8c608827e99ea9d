"""Which recording URLs Bling downloads with the account's credentials, and from where.

Twilio hands out RecordingUrl on api.twilio.com; behind a proxy or in the
sandbox, BLING_TWILIO_API_URL has a path prefix and the recording is fetched
(and, in the sandbox, also announced) under that prefix.
"""

import pytest

from bling.clients.twilio_api import TwilioGateway, TwilioSendError

SID = "AC" + "0" * 32
RECORDING = "RE" + "1" * 32
PATH = f"/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}"


def gateway(base_url: str) -> TwilioGateway:
    return TwilioGateway(SID, "0123456789abcdef0123456789abcdef", base_url=base_url)


def test_twilio_url_is_fetched_as_mp3_from_twilio():
    assert gateway("https://api.twilio.com")._recording_media_url(f"https://api.twilio.com{PATH}") \
        == f"https://api.twilio.com{PATH}.mp3"


@pytest.mark.parametrize("base", ["http://127.0.0.1:5000/sandbox/twilio", "https://proxy.example.org/twilio/"])
def test_url_under_the_base_urls_path_prefix_is_fetched_there(base):
    prefixed = base.rstrip("/")
    assert gateway(base)._recording_media_url(f"{prefixed}{PATH}.wav") == f"{prefixed}{PATH}.mp3"


def test_twilio_url_is_fetched_through_a_proxy_with_a_path_prefix():
    base = "https://proxy.example.org/twilio"
    assert gateway(base)._recording_media_url(f"https://api.twilio.com{PATH}") == f"{base}{PATH}.mp3"


@pytest.mark.parametrize("url", [
    f"https://proxy.example.org{PATH}",  # the proxy's host, but outside its prefix
    f"https://proxy.example.org/other{PATH}",
    f"https://evil.example.org/twilio{PATH}",
    f"https://api.twilio.com/2010-04-01/Accounts/AC{'9' * 32}/Recordings/{RECORDING}",  # another account
])
def test_urls_elsewhere_are_refused(url):
    with pytest.raises(TwilioSendError, match="not a recording URL"):
        gateway("https://proxy.example.org/twilio")._recording_media_url(url)
