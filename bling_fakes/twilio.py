"""A fake Twilio REST API: the calls Bling makes, with the real wire shapes.

One implementation for the sandbox (mounted under /sandbox/twilio, its
state in Bling's store), the benchmark and tests (served on a loopback
port, state in memory). Wire shapes follow docs/reference/twilio.md and
twilio-python's fixtures: HTTP Basic ``AccountSid:AuthToken`` (401/20003
otherwise), form bodies in, JSON out, list pages with
``first_page_uri``/``next_page_uri``, errors as ``{"code", "message",
"more_info", "status"}``. A text must come from one of the account's
numbers (``FakeState(numbers=…)``); a supporter who texted STOP gets
21610, as on Twilio.

What happens after Twilio accepted something is an option:

* ``on_message(row, status_callback)``: the text's way to the phone (the
  sandbox delivers it and posts signed status callbacks to Bling); without
  it a text stays ``queued``;
* ``on_call(call, form)``: a call Bling places (the sandbox's fake phone
  answers and walks the TwiML); without it the call stays ``queued``;
* ``latency``: seconds added to a send, *after* it is recorded, so a
  worker killed mid-send leaves a text it never heard about (the benchmark).

WhatsApp goes through the same Messages API, from a sender of the Senders
API (``/v2/Channels/Senders``, messaging.twilio.com's paths under the same
base URL): ``From``/``To`` are ``whatsapp:+E164``, and the 24-hour rule
holds as Twilio enforces it — a free-form message (``Body``) more than 24
hours after the supporter's last message is accepted (201, ``queued``) and
then fails with 63016, reported in the status callback; a template
(``ContentSid`` + ``ContentVariables``) always goes. ``clock`` is the
fake's time (tests move it). Twilio's STOP handling is for SMS only.
"""

from __future__ import annotations

import base64
import json
import io
import math
import re
import struct
import time
import wave
from datetime import datetime, timezone
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlencode

from bling.phones import to_e164
from bling_fakes.http import Reply, Servable
from bling_fakes.state import FakeState, Message

API = "/2010-04-01/Accounts/{sid}"
SENDERS = "/v2/Channels/Senders"
WHATSAPP = "whatsapp:"
WINDOW_SECONDS = 24 * 3600
#: Twilio's 63016, as the status callback and the message resource report it.
OUTSIDE_WINDOW = (63016, "Failed to send freeform message because you are outside the allowed window. "
                         "If you are using WhatsApp, please use a Message Template.")
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "YES"}


def rfc2822(moment: float) -> str:
    return format_datetime(datetime.fromtimestamp(moment, timezone.utc))


class _Answer(Exception):
    def __init__(self, status: int, body: dict | None = None, content_type: str = "application/json", raw: bytes | None = None):
        self.status, self.body, self.content_type, self.raw = status, body, content_type, raw


def _error(status: int, code: int, message: str) -> _Answer:
    return _Answer(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                            "status": status})


def _parse_day(value: str | None) -> float | None:
    """``DateSent>``/``DateSent<`` as the library sends them (YYYY-MM-DD or an ISO-8601 UTC time)."""
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    return None


class TwilioFake(Servable):
    """A fake Twilio account over a ``FakeState`` (see the module docstring for the options)."""

    def __init__(self, state: FakeState | None, account_sid: str, auth_token: str, *, on_message=None, on_call=None,
                 latency: float = 0.0, clock=time.time):
        self.state = state if state is not None else FakeState.in_memory()
        self.sid, self.auth_token = account_sid, auth_token
        self.prefix = API.format(sid=self.sid)
        self.on_message, self.on_call, self.latency, self.clock = on_message, on_call, latency, clock

    # -- what the benchmark and tests read and seed (not HTTP) ------------------------------------

    def sent(self) -> list[Message]:
        """Texts Bling sent through the API, oldest first."""
        return [m for m in self.state.all_messages() if m.direction == "outbound-api"]

    def record_inbound(self, sid: str, from_: str, to: str, body: str) -> None:
        """A supporter's text, so the account's message log (Bling's reconciliation reads it) holds it too."""
        self.state.add_message("inbound", from_, to, body, "received", sid=sid)

    # -- HTTP --------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
        """Answer one request (``headers`` with lower-case names)."""
        try:
            status, found = self.route(method, path, query, headers, body)
            answer = _Answer(status, found)
        except _Answer as raised:
            answer = raised
        reply_headers = {"Twilio-Request-Id": "RQ" + "0" * 32, "Content-Type": answer.content_type}
        if answer.raw is not None:
            return Reply(answer.status, reply_headers, answer.raw)
        payload = b"" if answer.body is None else json.dumps(answer.body).encode()
        if method == "POST" and path.endswith("/Messages.json") and answer.status == 201 and self.latency:
            time.sleep(self.latency)  # after recording: a killed sender leaves an ambiguous send
        return Reply(answer.status, reply_headers, payload)

    def route(self, method: str, path: str, params: dict, headers: dict, body: bytes):
        expected = base64.b64encode(f"{self.sid}:{self.auth_token}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            raise _error(401, 20003, "Authenticate")
        if path == SENDERS or path.startswith(SENDERS + "/"):
            return self.senders_api(method, path, params, body)
        if not path.startswith(self.prefix):
            raise _error(404, 20404, "The requested resource was not found")
        rest = path[len(self.prefix):]
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)) if method == "POST" else {}
        if rest == ".json" and method == "GET":
            return 200, self.account_json()
        if rest == "/Messages.json":
            return (201, self.create_message(form)) if method == "POST" else (200, self.list_messages(params, path))
        if re.fullmatch(r"/Messages/(SM|MM)[0-9a-f]{32}/Media\.json", rest):
            return 200, self._page("media_list", path, [], params)
        if rest == "/IncomingPhoneNumbers.json" and method == "GET":
            return 200, self.list_numbers(params, path)
        match = re.fullmatch(r"/IncomingPhoneNumbers/(PN[0-9a-f]{32})\.json", rest)
        if match and method == "POST":
            return 200, self.update_number(match[1], form)
        if rest == "/Calls.json" and method == "POST":
            return 201, self.create_call(form)
        match = re.fullmatch(r"/Calls/(CA[0-9a-f]{32})\.json", rest)
        if match and method == "POST":
            return 200, self.update_call(match[1], form)
        if match and method == "GET":
            call = self.state.call(match[1])
            if call is None:
                raise _error(404, 20404, "The requested resource was not found")
            return 200, self.call_json(call)
        match = re.fullmatch(r"/Calls/(CA[0-9a-f]{32})/Recordings\.json", rest)
        if match and method == "GET":
            items = [self.recording_json(r) for r in self.state.recordings_of(call_sid=match[1])]
            return 200, self._page("recordings", path, items, params)
        match = re.fullmatch(r"/Recordings/(RE[0-9a-f]{32})(\.mp3|\.wav|\.json)?", rest)
        if match and method == "GET":
            return self.recording(match[1], match[2] or "")
        raise _error(404, 20404, "The requested resource was not found")

    # -- account, numbers ------------------------------------------------------------------

    def account_json(self) -> dict:
        return {"auth_token": "[sandbox]", "friendly_name": "Bling sandbox", "owner_account_sid": self.sid,
                "sid": self.sid, "status": "active", "type": "Full", "date_created": rfc2822(0), "date_updated": rfc2822(0),
                "subresource_uris": {}, "uri": f"{self.prefix}.json"}

    def number_json(self, number: dict) -> dict:
        config = number["config"]
        found = {"account_sid": self.sid, "address_requirements": "none", "api_version": "2010-04-01", "beta": False,
                 "capabilities": {"mms": True, "sms": True, "voice": True}, "date_created": rfc2822(0),
                 "date_updated": rfc2822(0), "emergency_status": "Inactive", "friendly_name": number["phone_number"],
                 "origin": "twilio", "phone_number": number["phone_number"], "sid": number["sid"],
                 "trunk_sid": None, "uri": f"{self.prefix}/IncomingPhoneNumbers/{number['sid']}.json",
                 "voice_caller_id_lookup": False, "bundle_sid": None}
        for name in ("sms_url", "sms_fallback_url", "status_callback", "sms_application_sid", "voice_application_sid"):
            found[name] = config.get(name, "")
        for name in ("voice_url", "voice_fallback_url"):
            found[name] = config.get(name) or None
        for name in ("sms_method", "sms_fallback_method", "voice_method", "voice_fallback_method", "status_callback_method"):
            found[name] = config.get(name, "POST")
        return found

    def list_numbers(self, params, path) -> dict:
        wanted = params.get("PhoneNumber")
        items = [self.number_json(n) for n in self.state.all_numbers() if not wanted or n["phone_number"] == wanted]
        return self._page("incoming_phone_numbers", path, items, params)

    def update_number(self, sid: str, form: dict) -> dict:
        names = {"SmsUrl": "sms_url", "SmsMethod": "sms_method", "SmsFallbackUrl": "sms_fallback_url",
                 "SmsFallbackMethod": "sms_fallback_method", "SmsApplicationSid": "sms_application_sid",
                 "VoiceUrl": "voice_url", "VoiceMethod": "voice_method", "VoiceFallbackUrl": "voice_fallback_url",
                 "VoiceFallbackMethod": "voice_fallback_method", "VoiceApplicationSid": "voice_application_sid",
                 "StatusCallback": "status_callback", "StatusCallbackMethod": "status_callback_method"}
        changes = {names[k]: v for k, v in form.items() if k in names}
        updated = self.state.update_number(sid, changes)
        if updated is None:
            raise _error(404, 20404, "The requested resource was not found")
        return self.number_json(updated)

    # -- WhatsApp senders (messaging.twilio.com/v2/Channels/Senders) ---------------------------------

    def senders_api(self, method: str, path: str, params: dict, body: bytes):
        """List, fetch and update (JSON) the account's WhatsApp senders."""
        if path == SENDERS and method == "GET":
            wanted = params.get("Channel")
            items = [self.sender_json(s) for s in self.state.all_senders()
                     if not wanted or s["sender_id"].startswith(wanted + ":")]
            url = f"https://messaging.twilio.com{SENDERS}?Channel={wanted or ''}&PageSize=20&Page=0"
            return 200, {"senders": items, "meta": {"page": 0, "page_size": 20, "first_page_url": url,
                                                    "previous_page_url": None, "url": url, "next_page_url": None,
                                                    "key": "senders"}}
        match = re.fullmatch(SENDERS + r"/(XE[0-9a-f]{32})", path)
        sender = self.state.sender(sid=match[1]) if match else None
        if sender is None:
            raise _error(404, 20404, "The requested resource was not found")
        if method == "GET":
            return 200, self.sender_json(sender)
        if method == "POST":
            try:
                update = json.loads(body or b"{}")
            except ValueError:
                raise _error(400, 20001, "Invalid JSON in request body") from None
            webhook = update.get("webhook") or {}
            unknown = set(webhook) - {"callback_url", "callback_method", "fallback_url", "fallback_method",
                                      "status_callback_url", "status_callback_method"}
            if not isinstance(webhook, dict) or unknown:
                raise _error(400, 20001, f"Invalid webhook field(s): {', '.join(sorted(unknown))}")
            return 202, self.sender_json(self.state.update_sender(sender["sid"], webhook))
        raise _error(405, 20004, "Method not allowed")

    def sender_json(self, sender: dict) -> dict:
        hook = {"callback_url": None, "callback_method": "POST", "fallback_url": None, "fallback_method": "POST",
                "status_callback_url": None, "status_callback_method": "POST", **sender["webhook"]}
        return {"sid": sender["sid"], "status": sender["status"], "sender_id": sender["sender_id"],
                "configuration": {"waba_id": "1234567890", "verification_method": None, "verification_code": None,
                                  "voice_application_sid": None, "account_type": None},
                "webhook": hook, "profile": {"name": "Bling sandbox"}, "compliance": None,
                "properties": {"quality_rating": "HIGH", "messaging_limit": "1K Customers/24hr"},
                "offline_reasons": None, "url": f"https://messaging.twilio.com{SENDERS}/{sender['sid']}"}

    def create_whatsapp(self, form: dict) -> dict:
        """A WhatsApp message: from a sender, to a whatsapp: address; free-form only inside the 24-hour window."""
        to, from_, content = form.get("To", ""), form.get("From", ""), form.get("ContentSid", "")
        if self.state.sender(sender_id=from_) is None:
            raise _error(400, 63007, "Twilio could not find a Channel with the specified From address")
        if not to.startswith(WHATSAPP) or to_e164(to[len(WHATSAPP):]) != to[len(WHATSAPP):]:
            raise _error(400, 21910, "Invalid From and To pair. From and To should be of the same channel")
        body = form.get("Body", "")
        if content:
            if not re.fullmatch(r"HX[0-9a-fA-F]{32}", content):
                raise _error(400, 21655, "The ContentSid is Invalid.")
            variables = form.get("ContentVariables", "")
            try:
                values = json.loads(variables) if variables else {}
            except ValueError:
                raise _error(400, 21656, "The ContentVariables Parameter is invalid.") from None
            if not isinstance(values, dict) or any(v in ("", None) for v in values.values()):
                raise _error(400, 21656, "The ContentVariables Parameter is invalid.")
            body = f"[template {content}] " + " · ".join(str(values[k]) for k in sorted(values))
        elif not body and not form.get("MediaUrl"):
            raise _error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            raise _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        row = self.state.add_message("outbound-api", from_, to, body, "queued", created_at=self.clock())
        if not content and not self.in_window(from_, to):
            row["error_code"], row["note"] = OUTSIDE_WINDOW[0], f"Twilio error {OUTSIDE_WINDOW[0]}: {OUTSIDE_WINDOW[1]}"
            if self.on_message is None:  # nobody walks it out: it fails at once
                self.state.set_message(row["sid"], "failed", row["note"])
            else:
                self.state.set_message(row["sid"], "queued", row["note"])
        if self.on_message is not None:
            self.on_message(row, form.get("StatusCallback"))
        return self.message_json(row)

    def in_window(self, sender: str, supporter: str) -> bool:
        """Whether ``supporter`` wrote to ``sender`` in the last 24 hours (only their messages open the window)."""
        recent = self.state.list_messages(to=sender, from_=supporter, since=self.clock() - WINDOW_SECONDS, limit=1)
        return any(m["direction"] == "inbound" for m in recent)

    # -- messages ------------------------------------------------------------------------------

    def create_message(self, form: dict) -> dict:
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if from_.startswith(WHATSAPP):
            return self.create_whatsapp(form)
        if self.state.number(phone_number=from_) is None:
            raise _error(400, 21606, f"The 'From' phone number provided ({from_}) is not a valid message-capable "
                                     "Twilio phone number for this destination/account.")
        if to_e164(to) != to:
            raise _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not body and not form.get("MediaUrl"):
            raise _error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            raise _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if self.opted_out(from_, to):
            raise _error(400, 21610, "Attempt to send to unsubscribed recipient")
        row = self.state.add_message("outbound-api", from_, to, body, "queued")
        if self.on_message is not None:
            self.on_message(row, form.get("StatusCallback"))
        return self.message_json(row)

    def opted_out(self, hotline: str, phone: str) -> bool:
        """Whether ``phone``'s latest keyword to ``hotline`` was STOP (Twilio's default opt-out)."""
        for message in self.state.list_messages(to=hotline, from_=phone):
            word = message["body"].strip().upper()
            if word in STOP_WORDS:
                return True
            if word in START_WORDS:
                return False
        return False

    def list_messages(self, params, path) -> dict:
        since = _parse_day(params.get("DateSent>") or params.get("DateSent"))
        before = _parse_day(params.get("DateSent<"))
        rows = self.state.list_messages(to=params.get("To"), from_=params.get("From"), since=since, before=before,
                                        limit=None)
        return self._page("messages", path, [self.message_json(r) for r in rows], params)

    def message_json(self, row: dict) -> dict:
        uri = f"{self.prefix}/Messages/{row['sid']}"
        created = rfc2822(row["created_at"])
        error = _error_of(row.get("note"))
        return {"account_sid": self.sid, "api_version": "2010-04-01", "body": row["body"], "date_created": created,
                "date_sent": created, "date_updated": created,
                "direction": "inbound" if row["direction"] == "inbound" else "outbound-api",
                "error_code": error[0] if error else None, "error_message": error[1] if error else None,
                "from": row["from_"], "messaging_service_sid": None,
                "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD", "sid": row["sid"],
                "status": row["status"] if row["direction"] != "inbound" else "received",
                "subresource_uris": {"media": f"{uri}/Media.json"}, "to": row["to"], "uri": f"{uri}.json"}

    # -- calls and recordings --------------------------------------------------------------------

    def create_call(self, form: dict) -> dict:
        to, from_ = form.get("To", ""), form.get("From", "")
        if self.state.number(phone_number=from_) is None:
            raise _error(400, 21210, f"The source phone number provided, {from_}, is not yet verified for your account.")
        if to_e164(to) != to:
            raise _error(400, 21217, f"Phone number {to} is not a valid phone number.")
        if not form.get("Url") and not form.get("Twiml"):
            raise _error(400, 21205, "Url parameter is required.")
        call = self.state.add_call("outbound-api", from_, to, "queued")
        if form.get("Url") and self.on_call is not None:
            self.on_call(call, form)
        return self.call_json(call)

    def update_call(self, sid: str, form: dict) -> dict:
        call = self.state.call(sid)
        if call is None:
            raise _error(404, 20404, "The requested resource was not found")
        if form.get("Status") in ("canceled", "completed"):
            self.state.set_call(sid, form["Status"], (call["log"] or "").splitlines() + ["hung up through the API"])
            call = self.state.call(sid)
        return self.call_json(call)

    def call_json(self, call: dict) -> dict:
        ended = call["status"] in ("completed", "busy", "failed", "no-answer", "canceled")
        recorded = sum(r["duration"] for r in self.state.recordings_of(call_sid=call["sid"]))
        return {"account_sid": self.sid, "api_version": "2010-04-01", "date_created": rfc2822(call["created_at"]),
                "direction": call["direction"], "duration": str(recorded) if ended else None, "end_time": None,
                "from": call["from_"],
                "price": None, "sid": call["sid"], "start_time": None, "status": call["status"], "to": call["to"],
                "uri": f"{self.prefix}/Calls/{call['sid']}.json"}

    def recording_json(self, recording: dict) -> dict:
        return {"account_sid": self.sid, "api_version": "2010-04-01", "call_sid": recording["call_sid"],
                "channels": 1, "date_created": rfc2822(recording["created_at"]), "duration": str(recording["duration"]),
                "sid": recording["sid"], "source": "RecordVerb", "status": "completed",
                "uri": f"{self.prefix}/Recordings/{recording['sid']}.json"}

    def recording(self, sid: str, extension: str):
        found = self.state.recordings_of(sid=sid)
        if not found:
            raise _error(404, 20404, "The requested resource was not found")
        if extension == ".json":
            return 200, self.recording_json(found[0])
        if extension == ".mp3":
            raise _Answer(200, raw=silent_mp3(found[0]["duration"]), content_type="audio/mpeg")
        raise _Answer(200, raw=beep_wav(), content_type="audio/x-wav")

    # -- paging -----------------------------------------------------------------------------------

    def _page(self, key: str, path: str, items: list, params) -> dict:
        size = min(1000, max(1, int(params.get("PageSize") or 50)))
        page = max(0, int(params.get("Page") or 0))
        chunk = items[page * size:(page + 1) * size]
        base = {k: v for k, v in params.items() if k not in ("Page", "PageToken")}
        more = (page + 1) * size < len(items)
        return {key: chunk, "first_page_uri": f"{path}?{urlencode({**base, 'Page': 0})}",
                "next_page_uri": f"{path}?{urlencode({**base, 'Page': page + 1, 'PageToken': f'PA{page + 1}'})}" if more else None,
                "previous_page_uri": None, "page": page, "page_size": size, "start": page * size,
                "end": page * size + max(0, len(chunk) - 1), "uri": f"{path}?{urlencode(params)}"}


def _error_of(note: str | None) -> tuple[int, str] | None:
    """(code, message) of a message that failed: its note says ``Twilio error <code>: <message>``."""
    match = re.match(r"Twilio error (\d+): (.*)", note or "")
    return (int(match[1]), match[2]) if match else None


def beep_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A short 440 Hz tone: what a sandbox voicemail sounds like."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                                 for i in range(int(rate * seconds))))
    return buffer.getvalue()


def silent_mp3(seconds: int) -> bytes:
    """Silent MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz): a valid MP3 of ``seconds``."""
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
    return frame * max(1, int(seconds * 38.28))
