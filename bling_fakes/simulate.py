"""Send a running Bling the requests Twilio and Help Scout would, correctly signed.

Development then needs no tunnel and no phone: ``bling simulate sms`` posts
the form Twilio posts for a text, signed with TWILIO_AUTH_TOKEN over the
URL Twilio would call (BLING_PUBLIC_URL + path); ``simulate agent-reply``
posts the v2 conversation Help Scout posts, signed with
HELPSCOUT_WEBHOOK_SECRET; ``simulate call`` walks the TwiML Bling answers
like Twilio's call engine does — following ``<Dial action>`` (no answer or
answered, with the ``<Number url>`` whisper), ``<Gather action>``,
``<Record action>`` with its recording-status and transcription callbacks,
and ``<Redirect>`` — so it works with whatever the voice routes return.

Requests go to ``Target.url`` (default http://127.0.0.1:5000) while being
signed for the public URL, exactly as Bling checks them behind a proxy.
The sandbox uses the same code for its phones and Help Scout side.
"""

from __future__ import annotations

import json
import secrets
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

from bling.lazy_modules import LazyModule
from bling.edge.verifiers import helpscout_signature

requests = LazyModule("requests")  # `bling serve` imports this module (its CLI); its web processes never send

DEFAULT_URL = "http://127.0.0.1:5000"
MAX_STEPS = 25  # a TwiML loop (e.g. <Record> without action) must not run forever


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: the prefix and 32 hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass
class Target:
    """Where to send requests and how to sign them."""

    url: str
    public_url: str
    account_sid: str
    auth_token: str
    webhook_secret: str
    twilio_api_url: str = "https://api.twilio.com"
    session: requests.Session = field(default_factory=lambda: requests.Session())
    timeout: float = 15.0

    @classmethod
    def from_settings(cls, settings, url: str | None = None) -> "Target":
        url = (url or DEFAULT_URL).rstrip("/")
        return cls(url=url, public_url=settings.public_base() or url, account_sid=settings.twilio_account_sid,
                   auth_token=settings.twilio_auth_token, webhook_secret=settings.helpscout_webhook_secret,
                   twilio_api_url=settings.twilio_api_url.rstrip("/"))

    def public(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    def is_ours(self, url: str) -> bool:
        return url.startswith(self.public_url.rstrip("/") + "/")

    def wire_url(self, signed_url: str) -> str:
        """The URL to send to: the signed (public) URL moved onto ``self.url``."""
        return self.url + signed_url[len(self.public_url.rstrip("/")):]

    def post_twilio(self, signed_url: str, params: list[tuple[str, str]], method: str = "POST") -> requests.Response:
        """Send a Twilio webhook: form fields signed with the auth token over ``signed_url``."""
        signed_url = signed_url.split("#", 1)[0]  # connection overrides are not part of the signature
        validator = RequestValidator(self.auth_token)
        if method.upper() == "GET":
            joiner = "&" if "?" in signed_url else "?"
            full = signed_url + joiner + urlencode(params)
            headers = {"X-Twilio-Signature": validator.compute_signature(full, {})}
            return self.session.get(self.wire_url(full), headers=headers, timeout=self.timeout)
        headers = {"X-Twilio-Signature": validator.compute_signature(signed_url, dict(params)),
                   "Content-Type": "application/x-www-form-urlencoded", "I-Twilio-Idempotency-Token": secrets.token_hex(16)}
        return self.session.post(self.wire_url(signed_url), data=urlencode(params), headers=headers, timeout=self.timeout)

    def post_helpscout(self, path: str, payload: dict, event: str) -> requests.Response:
        """Send a Help Scout webhook: the raw JSON body signed with the webhook secret."""
        body = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-HelpScout-Event": event,
                   "X-HelpScout-Signature": helpscout_signature(self.webhook_secret, body)}
        return self.session.post(self.wire_url(self.public(path)), data=body, headers=headers, timeout=self.timeout)


# -- texts --------------------------------------------------------------------


def sms_form(account_sid: str, from_: str, to: str, body: str, sid: str | None = None,
             media: list[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The fields Twilio posts for an incoming text (empty geo fields included: they are signed)."""
    sid = sid or new_sid("MM" if media else "SM")
    form = [("ToCountry", "US"), ("ToState", ""), ("SmsMessageSid", sid), ("NumMedia", str(len(media))),
            ("ToCity", ""), ("FromZip", ""), ("SmsSid", sid), ("FromState", ""), ("SmsStatus", "received"),
            ("FromCity", ""), ("Body", body), ("FromCountry", "US"), ("To", to), ("ToZip", ""),
            ("NumSegments", "1"), ("MessageSid", sid), ("AccountSid", account_sid), ("From", from_),
            ("ApiVersion", "2010-04-01")]
    for index, (url, content_type) in enumerate(media):
        form += [(f"MediaContentType{index}", content_type), (f"MediaUrl{index}", url)]
    return form


def whatsapp_form(account_sid: str, from_: str, to: str, body: str, profile_name: str,
                  sid: str | None = None) -> list[tuple[str, str]]:
    """The fields Twilio posts for an incoming WhatsApp message (``whatsapp:+E164`` addresses).

    The keys and their order follow a real capture of a plain-text message
    (whatsapp-reference §1): ``WaId`` is the sender's digits without ``+``.
    """
    sid = sid or new_sid("SM")
    return [("SmsMessageSid", sid), ("NumMedia", "0"), ("ProfileName", profile_name), ("SmsSid", sid),
            ("WaId", from_.removeprefix("whatsapp:").lstrip("+")), ("SmsStatus", "received"), ("Body", body),
            ("To", to), ("NumSegments", "1"), ("ReferralNumMedia", "0"), ("MessageSid", sid),
            ("AccountSid", account_sid), ("From", from_), ("ApiVersion", "2010-04-01")]


def send_sms(target: Target, from_: str, to: str, body: str, path: str,
             media: list[tuple[str, str]] = ()) -> tuple[str, requests.Response]:
    """Text ``body`` from ``from_`` to the hotline ``to`` at ``path`` (the SMS route's); return (MessageSid, Bling's answer)."""
    form = sms_form(target.account_sid, from_, to, body, media=media)
    sid = dict(form)["MessageSid"]
    return sid, target.post_twilio(target.public(path), form)


# -- agent replies ------------------------------------------------------------


def iso_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def agent_reply_payload(conversation_id: int, mailbox_id: int, customer: dict, text: str,
                        thread_id: int | None = None, subject: str = "", agent: dict | None = None) -> dict:
    """The v2 conversation Help Scout posts for ``convo.agent.reply.created`` (newest thread: the reply)."""
    thread_id = thread_id or int(time.time() * 1000) % 10**9
    agent = agent or {"id": 1, "type": "user", "first": "Sam", "last": "Agent", "email": "agent@example.org"}
    now = iso_now()
    reply = {"id": thread_id, "type": "message", "status": "active", "state": "published",
             "action": {"type": "default", "text": ""}, "body": f"<div>{_html_escape(text)}</div>",
             "source": {"type": "web", "via": "user"}, "customer": {"id": customer.get("id"), "email": customer.get("email")},
             "createdBy": agent, "assignedTo": {"id": agent["id"], "type": "user"}, "to": [customer.get("email")],
             "cc": [], "bcc": [], "createdAt": now, "openedAt": None, "_embedded": {"attachments": []}}
    return {"id": conversation_id, "number": conversation_id, "threads": 2, "type": "phone", "folderId": 1,
            "status": "active", "state": "published", "subject": subject, "preview": text[:80], "mailboxId": mailbox_id,
            "createdBy": {"id": customer.get("id"), "type": "customer", "email": customer.get("email")},
            "createdAt": now, "userUpdatedAt": now, "source": {"type": "api", "via": "customer"},
            "tags": [], "cc": [], "bcc": [], "primaryCustomer": {"type": "customer", **customer}, "customFields": [],
            "_embedded": {"threads": [reply]}}


def send_agent_reply(target: Target, payload: dict, path: str) -> requests.Response:
    """Post Help Scout's agent-reply webhook to ``path`` (the webhook route's)."""
    return target.post_helpscout(path, payload, "convo.agent.reply.created")


def _html_escape(text: str) -> str:
    from html import escape

    return escape(text).replace("\n", "<br>")


# -- calls ----------------------------------------------------------------------


@dataclass
class CallOptions:
    """How the simulated caller and the ring group behave."""

    answer: str = "no-answer"  # no-answer | answered | busy | failed
    speech: str = "Hello, this is a test voicemail."  # the voicemail's transcription
    digits: str = "1"  # pressed at a <Gather>
    recording_seconds: int = 7
    status_callback: str | None = None  # the number's StatusCallback URL, if any
    voice_path: str = ""  # the voice route's path, where a call starts (unless simulate_call gets start_url)
    ring_seconds: float = 0.0  # how long a phone rings before it answers (the sandbox waits for real)
    talk_seconds: int = 42  # how long an answered call lasts (slept for real when ring_seconds > 0)


@dataclass
class CallLog:
    """What happened, step by step, for printing and for tests."""

    call_sid: str
    lines: list[str] = field(default_factory=list)
    requests: list[tuple[str, int]] = field(default_factory=list)  # (url, status)
    recording_url: str | None = None

    def say(self, line: str) -> None:
        self.lines.append(line)


def simulate_call(target: Target, from_: str, to: str, options: CallOptions | None = None,
                  on_line: Callable[[str], None] | None = None, *, start_url: str | None = None,
                  direction: str = "inbound", call_sid: str | None = None,
                  on_recording: Callable[[str, str, int], None] | None = None,
                  on_leg: Callable[[str, str, str, str], None] | None = None) -> CallLog:
    """Call the hotline and follow Bling's TwiML the way Twilio does.

    ``start_url``/``direction="outbound-api"`` walk a call Bling placed
    through the REST API (the sandbox's Calls stand-in): the called phone
    answers and Twilio fetches ``start_url``. ``on_recording(sid, call_sid,
    seconds)`` learns of each recording before its callbacks are sent;
    ``on_leg(sid, from, to, status)`` of each phone a ``<Dial>`` rang.
    """
    walker = _CallWalker(target, from_, to, options or CallOptions(), on_line, call_sid, direction)
    walker.on_recording, walker.on_leg = on_recording, on_leg
    return walker.run(start_url)


class _CallWalker:
    def __init__(self, target: Target, from_: str, to: str, options: CallOptions, on_line,
                 call_sid: str | None = None, direction: str = "inbound"):
        self.target, self.options = target, options
        self.log = CallLog(call_sid or new_sid("CA"))
        self.on_line = on_line
        self.on_recording = None
        self.on_leg = None
        self.base = {"AccountSid": target.account_sid, "ApiVersion": "2010-04-01", "CallSid": self.log.call_sid,
                     "Called": to, "Caller": from_, "Direction": direction, "From": from_, "To": to,
                     "FromCountry": "US", "ToCountry": "US", "CallStatus": "ringing"}
        self.started = time.time()
        self.later: list[tuple[str, list[tuple[str, str]], str]] = []  # async callbacks after the call
        self.steps = 0

    def note(self, line: str) -> None:
        self.log.say(line)
        if self.on_line:
            self.on_line(line)

    def request(self, url: str, extra: dict[str, str], method: str = "POST") -> ET.Element | None:
        """Ask Bling for TwiML at ``url``; None ends the call (error or not TwiML)."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.note(f"stopped after {MAX_STEPS} requests (a TwiML loop?)")
            return None
        if not self.target.is_ours(url):
            self.note(f"→ {url}: not Bling's URL, not followed")
            return None
        params = list({**self.base, **extra}.items())
        response = self.target.post_twilio(url, params, method)
        self.log.requests.append((url, response.status_code))
        path = urlsplit(url).path
        if response.status_code != 200:
            self.note(f"→ {method} {path}: HTTP {response.status_code} {response.text[:200]} (Twilio would use the fallback URL)")
            return None
        self.note(f"→ {method} {path}: 200")
        try:
            return ET.fromstring(response.content)
        except ET.ParseError:
            self.note("  the answer is not TwiML; the call ends")
            return None

    def run(self, start_url: str | None = None) -> CallLog:
        self.note(f"call {self.log.call_sid} from {self.base['From']} to {self.base['To']}")
        url = start_url or self.target.public(self.options.voice_path)
        if start_url:  # a call placed through the API: the called phone rings, then answers
            if self.options.status_callback and self.options.ring_seconds:  # CallStatus is "ringing" still
                self.callback(self.options.status_callback, {"CallbackSource": "call-progress-events",
                                                             "SequenceNumber": "0", "Timestamp": _rfc2822()})
            self.ring()
            self.base["CallStatus"] = "in-progress"
            if self.options.status_callback:
                self.callback(self.options.status_callback, {"CallbackSource": "call-progress-events",
                                                             "SequenceNumber": "0", "Timestamp": _rfc2822()})
        document = self.request(url, {})
        self.base["CallStatus"] = "in-progress"
        while document is not None:
            document, url = self.walk(document, url)
        self.base["CallStatus"] = "completed"
        duration = str(max(1, int(time.time() - self.started)))
        if self.options.status_callback:
            self.callback(self.options.status_callback, {"CallDuration": duration, "CallbackSource": "call-progress-events",
                                                         "SequenceNumber": "0", "Timestamp": _rfc2822()})
        for cb_url, params, what in self.later:
            self.note(f"  later: {what}")
            self.callback(cb_url, dict(params))
        self.note("call ended")
        return self.log

    def callback(self, url: str, extra: dict[str, str]) -> None:
        """A status-style callback: its answer does not steer the call."""
        if not self.target.is_ours(url):
            self.note(f"→ {url}: not Bling's URL, not called")
            return
        response = self.target.post_twilio(url, list({**self.base, **extra}.items()))
        self.log.requests.append((url, response.status_code))
        self.note(f"→ POST {urlsplit(url).path}: {response.status_code}")

    def walk(self, document: ET.Element, url: str) -> tuple[ET.Element | None, str]:
        """Run one TwiML document; return the next document (and its URL) or (None, url) when the call ends."""
        if document.tag != "Response":
            self.note(f"  <{document.tag}> is not a TwiML <Response>; the call ends")
            return None, url
        for verb in document:
            tag, text = verb.tag, (verb.text or "").strip()
            if tag in ("Say", "Play"):
                self.note(f"  {tag.lower()}: {text}")
            elif tag == "Pause":
                self.note(f"  pause {verb.get('length', '1')}s")
            elif tag in ("Hangup", "Reject"):
                self.note(f"  {tag.lower()}")
                return None, url
            elif tag == "Redirect":
                target = urljoin(url, text)
                return self.request(target, {}, verb.get("method", "POST")), target
            elif tag == "Gather":
                for child in verb:
                    if child.tag in ("Say", "Play"):
                        self.note(f"  {child.tag.lower()}: {(child.text or '').strip()}")
                action = urljoin(url, verb.get("action") or url)
                self.note(f"  caller presses {self.options.digits}")
                return self.request(action, {"Digits": self.options.digits}, verb.get("method", "POST")), action
            elif tag == "Dial":
                outcome = self.dial(verb, url)
                if verb.get("action"):
                    action = urljoin(url, verb.get("action"))
                    return self.request(action, outcome, verb.get("method", "POST")), action
                if outcome["DialCallStatus"] == "completed":
                    return None, url
            elif tag == "Record":
                return self.record(verb, url)
            else:
                self.note(f"  <{tag}> ignored by the simulator")
        return None, url

    def dial(self, verb: ET.Element, url: str) -> dict[str, str]:
        numbers = [(child.text or "").strip() for child in verb if child.tag in ("Number", "Client", "Sip")]
        numbers = numbers or [(verb.text or "").strip()]
        self.note(f"  dial {', '.join(numbers)} (timeout {verb.get('timeout', '30')}s, callerId {verb.get('callerId', '-')})")
        child_sid = new_sid("CA")
        answer = self.options.answer
        if answer == "answered":
            whisper = next((c for c in verb if c.tag == "Number" and c.get("url")), None)
            if whisper is not None and not self.whisper(whisper, url, child_sid):
                answer = "no-answer"
        first = next((c for c in verb if c.tag == "Number"), None)
        if self.on_leg:
            caller_id = verb.get("callerId") or self.base["To"]
            for index, number in enumerate(numbers):
                status = ("in-progress" if index == 0 else "canceled") if answer == "answered" else answer
                self.on_leg(child_sid if index == 0 else new_sid("CA"), caller_id, number, status)
        if answer == "answered":
            self.ring()
            talk = str(self.options.talk_seconds)
            self.note(f"  {numbers[0]} answers; caller and agent talk for {talk}s")
            self.leg_events(first, url, child_sid, [("answered", "in-progress", {})])
            if self.options.ring_seconds:  # real time: the dialer page shows the call in progress meanwhile
                time.sleep(self.options.talk_seconds)
            self.leg_events(first, url, child_sid, [("completed", "completed", {"CallDuration": talk})])
            if self.on_leg:
                self.on_leg(child_sid, verb.get("callerId") or self.base["To"], numbers[0], "completed")
            return {"DialCallStatus": "completed", "DialCallSid": child_sid, "DialCallDuration": talk, "DialBridged": "true"}
        self.note(f"  nobody answers ({answer})")
        self.leg_events(first, url, child_sid, [("completed", answer, {})])
        return {"DialCallStatus": answer, "DialCallSid": child_sid, "DialBridged": "false"}

    def ring(self) -> None:
        if self.options.ring_seconds:
            self.note(f"  ringing ({self.options.ring_seconds:g}s)")
            time.sleep(self.options.ring_seconds)

    def leg_events(self, number: ET.Element | None, url: str, child_sid: str, events) -> None:
        """The ``<Number statusCallback>`` progress events Twilio sends for the dialled leg."""
        if number is None or not number.get("statusCallback"):
            return
        wanted = (number.get("statusCallbackEvent") or "completed").split()
        callback = urljoin(url, number.get("statusCallback"))
        to = (number.text or "").strip()
        for event, status, extra in events:
            if event not in wanted:
                continue
            leg = {"CallSid": child_sid, "ParentCallSid": self.log.call_sid, "Direction": "outbound-dial", "To": to,
                   "Called": to, "CallStatus": status, "CallbackSource": "call-progress-events", "Timestamp": _rfc2822()}
            saved, self.base = self.base, {**self.base, **leg}
            try:
                self.callback(callback, extra)
            finally:
                self.base = saved

    def whisper(self, number: ET.Element, url: str, child_sid: str) -> bool:
        """Run the ``<Number url>`` screen on the answering phone; True if the agent accepts."""
        screen_url = urljoin(url, number.get("url"))
        leg = {"CallSid": child_sid, "ParentCallSid": self.log.call_sid, "Direction": "outbound-dial",
               "To": (number.text or "").strip(), "Called": (number.text or "").strip(), "CallStatus": "in-progress"}
        saved, self.base = self.base, {**self.base, **leg}
        try:
            document = self.request(screen_url, {}, number.get("method", "POST"))
            if document is None:
                return False
            gather = document.find("Gather")
            if gather is None:
                return document.find("Hangup") is None
            self.note(f"  agent presses {self.options.digits} to accept")
            answer = self.request(urljoin(screen_url, gather.get("action") or screen_url), {"Digits": self.options.digits})
            return answer is not None and answer.find("Hangup") is None
        finally:
            self.base = saved

    def record(self, verb: ET.Element, url: str) -> tuple[ET.Element | None, str]:
        recording_sid = new_sid("RE")
        recording_url = f"{self.target.twilio_api_url}/2010-04-01/Accounts/{self.target.account_sid}/Recordings/{recording_sid}"
        self.log.recording_url = recording_url
        if self.on_recording:
            self.on_recording(recording_sid, self.log.call_sid, self.options.recording_seconds)
        seconds = str(self.options.recording_seconds)
        self.note(f"  beep; caller says: {self.options.speech!r} ({seconds}s), then hangs up")
        recorded = {"RecordingUrl": recording_url, "RecordingSid": recording_sid, "RecordingDuration": seconds}
        if verb.get("recordingStatusCallback"):
            self.later.append((urljoin(url, verb.get("recordingStatusCallback")), list({
                **recorded, "RecordingStatus": "completed", "RecordingChannels": "1", "RecordingSource": "RecordVerb",
                "ErrorCode": "0", "RecordingStartTime": _rfc2822()}.items()), "recording status callback"))
        if verb.get("transcribe", "false") == "true" and verb.get("transcribeCallback"):
            self.later.append((urljoin(url, verb.get("transcribeCallback")), list({
                **recorded, "TranscriptionSid": new_sid("TR"), "TranscriptionText": self.options.speech,
                "TranscriptionStatus": "completed", "TranscriptionType": "fast",
                "TranscriptionUrl": f"{recording_url}/Transcriptions/{new_sid('TR')}"}.items()), "transcription callback"))
        action = urljoin(url, verb.get("action") or url)
        self.base["CallStatus"] = "completed"  # the caller hung up after the message
        return self.request(action, {**recorded, "Digits": "hangup"}, verb.get("method", "POST")), action


def _rfc2822() -> str:
    from email.utils import format_datetime

    return format_datetime(datetime.now(timezone.utc))
