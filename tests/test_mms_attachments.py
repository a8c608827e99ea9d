"""MMS both ways: supporters' media become real attachments (inbound_sms); agents' go out as MMS (agent_reply)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bling.config.mailboxes import Mailbox
from bling_local_plugins.sms.media import mms_capable, reply_media
from bling.jobs.worker import drain
from sms_helpers import agent_reply, text, twilio_posts
from support import MAILBOX_ID, SUPPORTER, mailbox_options, option_schemas

TW = "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000"
MEDIA = f"{TW}/Messages/MM22222222222222222222222222222222/Media"


def media_form(items: list[tuple[str, str]]) -> dict:
    form = {"NumMedia": str(len(items)), "MediaUrl0": None, "MediaContentType0": None, "MediaUrl1": None,
            "MediaContentType1": None}
    for index, (url, content_type) in enumerate(items):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = content_type
    return form


@pytest.mark.vcr
@pytest.mark.bling_config("[defaults]\nattachment_max_bytes = 1024\n")
def test_media_over_the_limit_or_unavailable_stay_links(client, services, vcr):
    """One small picture is attached; too large (declared or streamed), missing, or foreign stay links."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 2)
    text(client, "Here is the letter", 1, form="sms_mms", **media_form([
        (f"{MEDIA}/ME01000000000000000000000000000001", "image/jpeg"),
        (f"{MEDIA}/ME02000000000000000000000000000002", "image/png"),
        (f"{MEDIA}/ME03000000000000000000000000000003", "image/gif"),
        (f"{MEDIA}/ME04000000000000000000000000000004", "image/jpeg"),
        ("https://evil.example.com/x.jpg", "image/jpeg"),
    ]))
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # four downloads (never the foreign URL), one thread with one attachment


@pytest.mark.vcr
def test_help_scout_refusing_the_upload_posts_links(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 2)
    text(client, "", 1, form="sms_mms", **media_form([(f"{MEDIA}/ME01000000000000000000000000000001", "image/jpeg")]))
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # the thread with the attachment (413), then the same thread with the link
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["thread_count"] == 3


@pytest.mark.vcr
def test_picture_without_text_is_attached(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 2)
    text(client, "", 1, form="sms_mms", **media_form([(f"{MEDIA}/ME01000000000000000000000000000001", "image/jpeg")]))
    assert drain(services) == {"done": 1}
    assert vcr.all_played


@pytest.mark.vcr
def test_picture_behind_a_cdn_redirect_is_attached_without_credentials_to_the_cdn(client, services, vcr):
    """Twilio's media URL redirects to a signed CDN URL: followed, and the CDN never sees the account's token.

    Planted bug: the redirect followed by hand with ``auth=`` (Basic auth sent to the CDN).
    """
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 2)
    text(client, "", 1, form="sms_mms", **media_form([(f"{MEDIA}/ME01000000000000000000000000000001", "image/jpeg")]))
    assert drain(services) == {"done": 1}
    media, cdn = [r for r in vcr.played_requests if r.method == "GET"]
    assert media.host == "api.twilio.com" and media.headers["Authorization"].startswith("Basic ")
    assert cdn.host == "mms.twiliocdn.com" and "Authorization" not in cdn.headers


PHOTO = {"id": 1234, "hash": "4739784d4ee19b445d0ab600f6a99784628c005a", "mimeType": "image/jpeg", "filename": "photo.jpg",
         "size": 20191, "width": 600, "height": 800, "url": "https://secure.helpscout.net/file/1234/4739784d4e/photo.jpg"}
REPORT = {"id": 1235, "hash": "9f0c1e2d3b4a5968778695a4b3c2d1e0f9a8b7c6", "mimeType": "application/pdf", "filename": "report.pdf",
          "size": 800000, "width": 0, "height": 0, "url": "https://secure.helpscout.net/file/1235/9f0c1e2d3b/report.pdf"}


@pytest.mark.vcr
def test_agent_attachments_go_out_as_mms(client, services, vcr):
    agent_reply(client, _embedded={"attachments": [PHOTO, REPORT]})
    assert drain(services) == {"done": 1}
    (sent,) = twilio_posts(vcr)
    assert b"MediaUrl=https%3A%2F%2Fsecure.helpscout.net%2Ffile%2F1234%2F4739784d4e%2Fphoto.jpg" in sent.body
    assert b"report.pdf" not in sent.body
    assert vcr.all_played  # the note names report.pdf and why it was not sent


@pytest.mark.vcr
@pytest.mark.bling_config("[mailboxes.206906]\nsend_mms = false\n")
def test_hotline_without_mms_sends_text_and_says_so(client, services, vcr):
    agent_reply(client, _embedded={"attachments": [PHOTO]})
    assert drain(services) == {"done": 1}
    (sent,) = twilio_posts(vcr)
    assert b"MediaUrl" not in sent.body
    assert vcr.all_played


@pytest.mark.vcr
def test_reply_with_only_a_picture_is_sent_as_mms(client, services, vcr):
    agent_reply(client, body="<div><br></div>", _embedded={"attachments": [PHOTO]})
    assert drain(services) == {"done": 1}
    (sent,) = twilio_posts(vcr)
    assert b"Body=" not in sent.body and b"MediaUrl=" in sent.body
    assert vcr.all_played


def _context(number="+16175550100", send_mms=None):
    return SimpleNamespace(mailbox=Mailbox("twilio", number, 1), mailbox_options=mailbox_options(send_mms=send_mms))


def test_mms_capability_by_country_or_setting():
    assert mms_capable(_context("+16175550100")) and mms_capable(_context("+14165550100"))  # US, Canada
    assert not mms_capable(_context("+442071838750"))
    assert mms_capable(_context("+442071838750", send_mms=True))
    assert not mms_capable(_context("+16175550100", send_mms=False))


def test_twilio_mms_limits_are_applied():
    pictures = [dict(PHOTO, id=i, filename=f"p{i}.jpg") for i in range(11)]
    urls, note = reply_media(_context(), {"attachments": pictures})
    assert len(urls) == 10 and note == "Not sent: p10.jpg (a text carries at most 10 attachments)."
    big = dict(PHOTO, size=6 * 1024 * 1024)
    api_shape = {"id": 9, "filename": "scan.png", "mimeType": "image/png", "size": 100,
                 "_links": {"web": {"href": "https://secure.helpscout.net/file/9/abc/scan.png"}}}
    no_link = {"id": 10, "filename": "secret.txt", "mimeType": "text/plain", "size": 10}
    urls, note = reply_media(_context(), {"_embedded": {"attachments": [big, api_shape, no_link]}})
    assert urls == ["https://secure.helpscout.net/file/9/abc/scan.png"]
    assert note == ("Not sent: photo.jpg (6.0 MB, over Twilio's 5.0 MB limit for pictures); "
                    "secret.txt (Help Scout gave no public link to it).")
    assert reply_media(_context(), {"attachments": []}) == ([], None)
