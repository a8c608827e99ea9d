"""TwilioGateway's call and recording reads, against hand-authored cassettes.

The recording download carries the account's credentials, so these tests
also prove they are sent (HTTP Basic) to Twilio and to nothing else.
"""

from __future__ import annotations

import base64

import pytest
import requests

from bling.clients.twilio_api import TwilioGateway, TwilioSendError, TwilioTransient

ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"  # fake
CALL_SID = "CA" + "3" * 32
LEG_SID = "CA" + "4" * 32
RECORDING_SID = "RE" + "5" * 32
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}"
LOCAL_DOUBLE = "http://127.0.0.1:8999"


@pytest.fixture
def gateway():
    return TwilioGateway(ACCOUNT_SID, AUTH_TOKEN)


@pytest.mark.vcr
def test_download_recording_as_mp3_with_basic_auth(vcr, gateway, monkeypatch):
    sent = []
    real_get = requests.get

    def watched_get(url, **kwargs):
        response = real_get(url, **kwargs)
        sent.append(response.request)
        return response

    monkeypatch.setattr(requests, "get", watched_get)
    audio, mime = gateway.download_recording(RECORDING_URL, limit=1024)
    assert mime == "audio/mpeg" and audio.startswith(b"ID3") and len(audio) == 18
    (request,) = sent
    assert request.url == RECORDING_URL + ".mp3"
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert vcr.all_played


@pytest.mark.vcr
def test_download_follows_the_redirect_to_the_cdn_without_credentials(vcr, gateway):
    """Twilio answers a recording's media URL with a redirect to a signed CDN URL.

    Planted bug: the redirect followed by hand with ``auth=`` (the account's token sent to the CDN).
    """
    audio, mime = gateway.download_recording(RECORDING_URL, limit=1024)
    assert mime == "audio/mpeg" and audio.startswith(b"ID3") and len(audio) == 18
    twilio, cdn = vcr.played_requests
    assert twilio.uri == RECORDING_URL + ".mp3" and twilio.headers["Authorization"].startswith("Basic ")
    assert cdn.host == "com-twilio-us1-recordings.s3.amazonaws.com" and "Authorization" not in cdn.headers


@pytest.mark.vcr
def test_download_gives_up_past_the_limit(vcr, gateway):
    assert gateway.download_recording(RECORDING_URL, limit=10) is None
    assert vcr.all_played


@pytest.mark.vcr
def test_download_of_a_recording_not_ready_is_transient(vcr, gateway):
    with pytest.raises(TwilioTransient) as caught:
        gateway.download_recording(RECORDING_URL + ".wav", limit=1024)
    assert caught.value.status == 404 and caught.value.permanent is False
    assert AUTH_TOKEN not in str(caught.value)


@pytest.mark.parametrize("url", [
    RECORDING_URL.replace("api.twilio.com", "evil.example.net"),
    RECORDING_URL.replace(ACCOUNT_SID, "AC" + "9" * 32),
    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SM{'1' * 32}",
    "ftp://api.twilio.com" + RECORDING_URL[len("https://api.twilio.com"):],
])
def test_credentials_only_ever_go_to_this_accounts_recordings(gateway, url):
    with pytest.raises(TwilioSendError) as caught:  # raised before any request (the network is blocked)
        gateway.download_recording(url, limit=1024)
    assert caught.value.permanent is True


@pytest.mark.vcr
def test_download_goes_through_the_configured_api_url(vcr):
    gateway = TwilioGateway(ACCOUNT_SID, AUTH_TOKEN, base_url=LOCAL_DOUBLE)
    audio, _mime = gateway.download_recording(RECORDING_URL, limit=1024)
    assert audio.startswith(b"ID3")
    assert vcr.played_requests[0].uri == f"{LOCAL_DOUBLE}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}.mp3"


@pytest.mark.vcr
def test_fetch_call_reads_who_answered(vcr, gateway):
    assert gateway.fetch_call(LEG_SID) == {"sid": LEG_SID, "status": "completed", "to": "+16175550101",
                                           "from": "+16175550100", "duration": 130}


@pytest.mark.vcr
def test_call_recordings_lists_the_calls_recordings(vcr, gateway):
    assert gateway.call_recordings(CALL_SID) == [{"sid": RECORDING_SID, "status": "completed", "duration": 35}]


@pytest.mark.vcr
def test_fetch_call_server_error_is_transient(vcr, gateway):
    with pytest.raises(TwilioTransient):
        gateway.fetch_call(CALL_SID)
