"""The Twilio side of Bling: sending texts and reading message history.

Everything goes through the official ``twilio`` library.  Failures are turned
into three kinds of error, because the caller must react differently:

- ``TwilioSendError`` (permanent): Twilio refused the message; retrying the same
  request will fail again, so tell the agent why (``.explanation``).
- ``TwilioTransient``: Twilio did not take the request (rate limit, could not
  connect); it is safe to send again later.
- ``TwilioAmbiguous``: the request left Bling but no clear answer came back; the
  text may have been sent, so look (``find_sent_message``) before sending again.

The auth token is never logged or put into an error message.
"""

from __future__ import annotations

import functools

import json
import re
import threading
from urllib.parse import urlsplit
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException

from bling.errors import AmbiguousOutcome, TransportError
from bling.lazy_modules import LazyModule

if TYPE_CHECKING:
    from twilio.http import HttpClient
    from twilio.http.response import Response

# The twilio library's HTTP layer imports requests: both are loaded by the first call (web processes
# import this module through the plugins but never call Twilio).
requests = LazyModule("requests")
twilio_http = LazyModule("twilio.http")
twilio_http_client = LazyModule("twilio.http.http_client")
twilio_http_response = LazyModule("twilio.http.response")
urllib3_exceptions = LazyModule("urllib3.exceptions")
twilio_rest = LazyModule("bling.clients.twilio_rest")

DEFAULT_BASE_URL = "https://api.twilio.com"

# How far back `find_sent_message` accepts a message as "the one we sent".
SENT_MATCH_SLACK = timedelta(seconds=60)
# Twilio's largest page size for list requests.
MAX_PAGE_SIZE = 1000
# Enough recent messages to one supporter to find an ambiguous send among them.
FIND_SENT_PAGE_SIZE = 50
FIND_SENT_MAX_RECORDS = 200

_EXPLANATIONS: dict[int, str] = {
    20003: "Twilio rejected Bling's Twilio credentials; an administrator needs to check "
    "the Twilio account SID and auth token",
    20429: "Twilio is receiving too many requests right now; try again in a moment",
    21211: "the supporter's phone number is not a valid phone number",
    21408: "texting this country or region is not enabled on the hotline's Twilio account",
    21606: "the hotline number cannot send SMS (it is not SMS-capable or not owned by "
    "Bling's Twilio account)",
    21608: "the hotline's Twilio account is a trial account and can only text verified numbers",
    21610: "the supporter has opted out of texts from this number (they replied STOP); "
    "they must text START to receive texts again",
    21612: "Twilio cannot route texts between the hotline number and this number (unroutable)",
    21614: "the supporter's number is not a mobile number (probably a landline), so it "
    "cannot receive texts",
    21617: "the message is too long for a text (over 1600 characters)",
    30003: "the supporter's phone is unreachable (switched off or out of coverage)",
    30005: "the supporter's number is unknown or no longer active",
    30006: "the supporter's number is a landline or its carrier cannot receive texts",
    30007: "the supporter's carrier blocked the message as spam (carrier filtering)",
    30008: "the text could not be delivered for an unknown reason (Twilio error 30008)",
    30004: "the supporter's number or carrier blocked the message",
    30034: "the hotline number is not registered for US texting (A2P 10DLC), so carriers refuse its texts",
    # WhatsApp (channel errors, mostly in the status callback; whatsapp-reference.md §4)
    21654: "the WhatsApp template was sent without its ContentSid (a Bling bug: tell an administrator)",
    21656: "the WhatsApp template's variables were refused (empty, or not what the template expects)",
    63003: "the supporter's number is not on WhatsApp, or is no longer active there",
    63013: "WhatsApp refused the message under its policies (for a template: an empty variable, or the "
    "template is not approved)",
    63014: "the supporter has blocked the hotline on WhatsApp",
    63016: "the supporter's 24-hour WhatsApp window had closed, and outside it WhatsApp only delivers an "
    "approved template",
    63018: "the hotline's WhatsApp sender has reached WhatsApp's messaging limit; try again later",
    63021: "WhatsApp refused the message's content (a template variable over 1024 characters, or an "
    "unsupported content)",
    63024: "WhatsApp says the supporter's number cannot receive WhatsApp messages",
    63032: "WhatsApp does not allow sending this message to this user",
    63049: "Meta chose not to deliver this WhatsApp template (a marketing template; use a utility one)",
    63051: "the hotline's WhatsApp Business Account is locked by Meta",
    63112: "Meta has disabled or restricted the hotline's WhatsApp Business Account",
}

_AMBIGUOUS_EXPLANATION = (
    "Twilio did not confirm whether the text was sent (no answer in time or the "
    "connection dropped); check before sending it again"
)
_UNREACHABLE_EXPLANATION = "Bling could not reach Twilio, so the text was not sent; try again later"



@functools.cache
def _client_errors() -> tuple[type[Exception], ...]:
    """What the twilio library and its requests transport raise; anything else is a bug."""
    return (TwilioException, requests.exceptions.RequestException)


@functools.cache
def _bad_url_errors() -> tuple[type[Exception], ...]:
    """Raised by requests before any connection is made: Bling's settings are wrong."""
    return (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)


@functools.cache
def _not_connected_errors() -> tuple[type[Exception], ...]:
    """Raised while opening the connection, before the request could reach Twilio."""
    return (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError, requests.exceptions.ProxyError)


def explain_error(code: int | None, default: str | None = None) -> str:
    """Plain words for an agent about a Twilio error code.

    Unknown codes give ``default`` when one is passed, else "Twilio error <code>".
    """
    if code is not None and code in _EXPLANATIONS:
        return _EXPLANATIONS[code]
    if default is not None:
        return default
    return f"Twilio error {code}" if code is not None else "an unexpected Twilio error"


class TwilioSendError(TransportError):
    """Twilio refused or failed a request; by default a permanent refusal.

    The subclasses differ only in what they default to: whether the failure is permanent, and
    the explanation an agent reads when Twilio gave none (``default_explanation``).
    """

    permanent_by_default = True

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        permanent: bool | None = None,
        explanation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.permanent = self.permanent_by_default if permanent is None else permanent
        self.explanation = explanation or self.default_explanation(code)

    @staticmethod
    def default_explanation(code: int | None) -> str:
        return explain_error(code)


class TwilioAmbiguous(TwilioSendError, AmbiguousOutcome):
    """The request was sent but its outcome is unknown: look before sending again.

    ``AmbiguousOutcome`` tells ``Context.effect`` to look for the write first.
    """

    permanent_by_default = False

    @staticmethod
    def default_explanation(code: int | None) -> str:
        return _AMBIGUOUS_EXPLANATION


class TwilioTransient(TwilioSendError):
    """Twilio did not take the request; it is safe to retry later."""

    permanent_by_default = False

    def __init__(self, message: str, *, retry_after: float | None = None, **details) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after

    @staticmethod
    def default_explanation(code: int | None) -> str:
        return explain_error(code, _UNREACHABLE_EXPLANATION)


class TwilioGateway:
    """Sends texts and reads message history for one Twilio account."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        base_url: str = DEFAULT_BASE_URL,
        http_client: HttpClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        """``base_url`` replaces https://api.twilio.com (proxies, local doubles).

        ``timeout`` applies to the default HTTP client; a given ``http_client``
        keeps its own.
        """
        self.account_sid = account_sid
        self.base_url = base_url.rstrip("/")
        self._http = _response_tap()(http_client or twilio_http_client.TwilioHttpClient(timeout=timeout))
        self._auth = (account_sid, auth_token)  # recordings are downloaded with them; never logged
        self._timeout = timeout

    @functools.cached_property
    def _client(self):
        """The twilio library's client, built on first use: a web process that only
        verifies webhooks never loads its ~100 modules (several MB per process)."""
        from twilio.rest import Client

        client = Client(*self._auth, http_client=self._http)
        if self.base_url != DEFAULT_BASE_URL:
            # TWILIO_EDGE/TWILIO_REGION would rewrite the host we were given.
            client.edge = client.region = None
        return client

    @functools.cached_property
    def _api(self):
        """The 2010-04-01 API by path (bling/clients/twilio_rest.py: not the library's resource classes,
        whose ~80 modules cost 6.8 MB in every worker)."""
        return twilio_rest.TwilioRest(self._client, self.base_url, self.account_sid)

    @functools.cached_property
    def _messaging(self):
        """The library's Messaging domain (the Senders API), only for set-up: ``bling provision``."""
        messaging = self._client.messaging
        if self.base_url != DEFAULT_BASE_URL:
            messaging.base_url = self.base_url  # the Senders API (messaging.twilio.com) goes there too
        return messaging

    def __repr__(self) -> str:
        return f"<TwilioGateway {self.account_sid} {self.base_url}>"

    def send_sms(
        self,
        from_: str,
        to: str,
        body: str,
        status_callback: str | None = None,
        media_urls: list[str] | None = None,
        content_sid: str | None = None,
        content_variables: dict[str, str] | None = None,
    ) -> str:
        """Send one text and return its Message SID.

        ``from_`` and ``to`` are E.164 numbers or channel addresses
        (``whatsapp:+1…``). With ``content_sid`` an approved template
        (Content API) is sent with ``content_variables`` instead of a body:
        Twilio refuses ``Body`` and ``MediaUrl`` beside a template.

        Raises ``TwilioSendError`` (permanent), ``TwilioTransient`` (retry
        later) or ``TwilioAmbiguous`` (may have been sent: look first).
        """
        if content_sid:  # a template: its variables, never a body or media beside it
            variables = json.dumps(content_variables, ensure_ascii=False) if content_variables else None
            body, media_urls = None, None
        else:  # the body, unless an MMS has none
            variables, body = None, body if body or not media_urls else None
        fields = {"To": to, "StatusCallback": status_callback or None, "ContentVariables": variables,
                  "From": from_, "Body": body, "MediaUrl": list(media_urls) if media_urls else None,
                  "ContentSid": content_sid or None}
        try:
            message = self._api.create("Messages.json", fields)
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=True) from exc
        return message["sid"]

    def find_sent_message(self, from_: str, to: str, body: str | None, since: datetime) -> str | None:
        """Return the SID of a message already sent with this body (None: any body), else None.

        Used after an ambiguous failure so a text is not sent twice.  The date
        filter is a day wide because Twilio filters on whole days; the
        ``date_created`` check then keeps only messages created since ``since``
        (less a minute for clock skew).
        """
        since = _as_utc(since)
        earliest = since - SENT_MATCH_SLACK
        try:
            messages = self._api.stream("Messages.json", {"To": to, "From": from_, "DateSent>": _day_before(since)},
                                        limit=FIND_SENT_MAX_RECORDS, page_size=FIND_SENT_PAGE_SIZE)
            for message in messages:
                created = twilio_rest.date(message.get("date_created"))
                if (body is None or message.get("body") == body) and created is not None and created >= earliest:
                    return message["sid"]
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=False) from exc
        return None

    def list_inbound(self, to: str, since: datetime, limit: int = 1000) -> list[dict]:
        """Messages received by ``to`` since ``since``, newest first, for reconciliation.

        Each is ``{"sid", "from", "to", "body", "num_media", "date_sent"}`` with
        ``num_media`` an int and ``date_sent`` an aware UTC datetime.
        """
        since = _as_utc(since)
        found: list[dict] = []
        if limit < 1:
            return found
        try:
            messages = self._api.stream("Messages.json", {"To": to, "DateSent>": _day_before(since)},
                                        page_size=min(limit, MAX_PAGE_SIZE))
            for message in messages:
                sent = twilio_rest.date(message.get("date_sent")) or twilio_rest.date(message.get("date_created"))
                if message.get("direction") != "inbound" or sent is None or sent < since:
                    continue
                found.append(
                    {
                        "sid": message["sid"],
                        "from": message.get("from"),
                        "to": message.get("to"),
                        "body": message.get("body") or "",
                        "num_media": int(message.get("num_media") or 0),
                        "date_sent": sent,
                    }
                )
                if len(found) >= limit:
                    break
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=False) from exc
        return found

    def list_media(self, message_sid: str) -> list[dict]:
        """The media of a received MMS as ``{"url", "content_type"}``, like the webhook's."""
        try:
            items = list(self._api.stream(f"Messages/{message_sid}/Media.json", {}))
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=False) from exc
        return [{"url": self.base_url + item["uri"].removesuffix(".json"),
                 "content_type": item.get("content_type") or "application/octet-stream"} for item in items]

    # -- calls and recordings (plugins call_log, voicemail) ------------------

    def fetch_call(self, call_sid: str) -> dict:
        """One call: ``{"sid", "status", "to", "from", "duration"}`` (duration in s, None until it ends)."""
        try:
            call = self._api.fetch(f"Calls/{call_sid}.json")
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=False) from exc
        return {"sid": call["sid"], "status": call.get("status"), "to": call.get("to"), "from": call.get("from"),
                "duration": _seconds(call.get("duration"))}

    def call_recordings(self, call_sid: str) -> list[dict]:
        """The recordings of a call: ``{"sid", "status", "duration"}`` each."""
        try:
            items = list(self._api.stream(f"Calls/{call_sid}/Recordings.json", {}, limit=20))
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=False) from exc
        return [{"sid": item["sid"], "status": item.get("status"), "duration": _seconds(item.get("duration"))}
                for item in items]

    def download_recording(self, url: str, limit: int) -> tuple[bytes, str] | None:
        """Download one of this account's recordings as MP3, with the account's credentials.

        Returns ``(audio, MIME type)``, or None when it is over ``limit``
        bytes. The credentials only ever go to Twilio: a URL that is not a
        recording of this account raises a permanent TwilioSendError.
        Twilio's "not found" (not ready yet, or deleted), 5xx and network
        failures raise TwilioTransient. A redirect to Twilio's CDN is
        followed without the credentials (``requests`` drops them when the
        host changes; tests/test_twilio_calls_api.py checks it).
        """
        media_url = self._recording_media_url(url)
        try:
            response = requests.get(media_url, auth=self._auth, timeout=self._timeout, stream=True)
        except requests.exceptions.RequestException as exc:
            raise TwilioTransient(f"could not download the recording ({type(exc).__name__})") from exc
        with response:
            if response.status_code != 200:
                raise _download_error(response.status_code, _error_code(response.text))
            declared = _seconds(response.headers.get("Content-Length"))
            if declared is not None and declared > limit:
                return None
            audio = bytearray()
            try:
                for chunk in response.iter_content(64 * 1024):
                    audio.extend(chunk)
                    if len(audio) > limit:
                        return None
            except requests.exceptions.RequestException as exc:
                raise TwilioTransient(f"the recording download broke off ({type(exc).__name__})") from exc
        mime = (response.headers.get("Content-Type") or "audio/mpeg").split(";")[0].strip()
        return bytes(audio), mime

    def _recording_media_url(self, url: str) -> str:
        """The MP3 URL of a recording URL Twilio (or a Studio flow) gave, checked to be ours."""
        parts = urlsplit(url.strip())
        base = urlsplit(self.base_url)
        # Twilio's own host serves recordings at the root; a proxy or the sandbox under its path prefix.
        prefixes = {urlsplit(DEFAULT_BASE_URL).netloc: "", base.netloc: base.path.rstrip("/")}
        prefix = prefixes.get(parts.netloc)
        found = None
        if prefix is not None and parts.path.startswith(prefix + "/"):
            found = _RECORDING_PATH.match(parts.path[len(prefix):])
        if parts.scheme not in ("https", "http") or not found or found.group("account") != self.account_sid:
            raise TwilioSendError("not a recording URL of this Twilio account; not sending credentials to it",
                                  explanation="the recording URL does not belong to the hotline's Twilio account")
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{found.group('sid')}.mp3"

    # -- calls (Call back from Help Scout) -------------------------------------

    def create_call(self, from_: str, to: str, url: str, status_callback: str,
                    events: tuple[str, ...] = ("initiated", "ringing", "answered", "completed"),
                    timeout: int = 30) -> dict:
        """Ring ``to`` from ``from_``; Twilio fetches ``url`` for TwiML when answered.

        Returns ``{"sid", "status"}`` (a new call is ``queued``). Raises like
        ``send_sms``: ``TwilioSendError`` (refused), ``TwilioTransient``,
        ``TwilioAmbiguous`` (may ring: its status callbacks will tell).
        """
        try:
            call = self._api.create("Calls.json", {
                "To": to, "From": from_, "StatusCallback": status_callback, "StatusCallbackEvent": list(events),
                "StatusCallbackMethod": "POST", "Timeout": timeout, "Url": url})
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=True) from exc
        return {"sid": call["sid"], "status": call.get("status")}

    def end_call(self, sid: str, status: str) -> str:
        """Hang up a call: ``canceled`` while queued/ringing, ``completed`` once answered.

        Returns the status Twilio reports afterwards.
        """
        try:
            call = self._api.update(f"Calls/{sid}.json", {"Status": status})
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=True) from exc
        return call.get("status")

    # -- set-up (bling provision, bling check --live) ------------------------

    def fetch_account(self) -> dict:
        """The account the credentials belong to: ``{"sid", "status", "type", "friendly_name"}``."""
        try:
            account = self._api.fetch(".json")
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=False) from exc
        return {"sid": account["sid"], "status": account.get("status"), "type": account.get("type"),
                "friendly_name": account.get("friendly_name")}

    def find_number(self, phone_number: str) -> dict | None:
        """The account's IncomingPhoneNumber for ``phone_number`` (E.164), or None if not owned.

        The dict holds ``sid``, ``phone_number``, ``capabilities`` and every
        ``NUMBER_FIELDS`` value as Twilio reports it.
        """
        try:
            found = list(self._api.stream("IncomingPhoneNumbers.json", {"PhoneNumber": phone_number}, limit=20))
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=False) from exc
        for number in found:  # the filter also matches partial numbers
            if number.get("phone_number") == phone_number:
                return _number_dict(number)
        return None

    def update_number(self, sid: str, fields: dict[str, str]) -> dict:
        """Set ``fields`` (keys of ``NUMBER_FIELDS``) on the number ``sid``; return it as updated."""
        unknown = set(fields) - set(NUMBER_FIELDS)
        if unknown:
            raise ValueError(f"not IncomingPhoneNumber settings: {', '.join(sorted(unknown))}")
        try:
            # Twilio's names (sms_url → SmsUrl), in the library's (alphabetical) order
            form = {_twilio_name(name): fields[name] for name in sorted(fields, key=_twilio_name)}
            number = self._api.update(f"IncomingPhoneNumbers/{sid}.json", form)
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=True) from exc
        return _number_dict(number)

    # -- channel senders (WhatsApp; bling provision, bling check --live) ------

    def list_senders(self, channel: str) -> list[dict]:
        """The account's senders on ``channel`` (``whatsapp``), from the Senders API (messaging v2).

        Each is ``{"sid", "sender_id", "status", "webhook", "offline_reasons"}``:
        ``sender_id`` as Twilio writes it (``whatsapp:+E164``), ``webhook`` a
        dict (empty when unset), ``offline_reasons`` a list of ``{code, message}``.
        """
        try:
            found = self._messaging.v2.channels_senders.list(channel=channel)
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=False) from exc
        return [_sender_dict(sender) for sender in found]

    def update_sender_webhook(self, sid: str, webhook: dict[str, str]) -> dict:
        """Set the webhook of the sender ``sid`` (``XE…``); return the sender as Twilio reports it.

        The library posts it as JSON (``{"webhook": {…}}``) and leaves out the
        fields not given, so the sender's profile and configuration stay.
        """
        from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

        update = ChannelsSenderList.MessagingV2ChannelsSenderRequestsUpdate({"webhook": dict(webhook)})
        try:
            sender = self._messaging.v2.channels_senders(sid).update(update)
        except _client_errors() as exc:
            raise self._classify(exc, request_sent=True) from exc
        return _sender_dict(sender)

    def _classify(self, exc: Exception, request_sent: bool) -> TwilioSendError:
        """Map a library/transport failure to Bling's error kinds.

        ``request_sent`` is True for sends, where a lost answer is ambiguous;
        reads are simply retried, so their failures are transient.
        """
        if isinstance(exc, TwilioRestException):
            retry_after = self._http.retry_after()
            return _http_error(exc.status, exc.code, retry_after, request_sent, exc.msg)
        if isinstance(exc, TwilioServiceException):
            detail = exc.detail or exc.title
            return _http_error(exc.status, exc.code, self._http.retry_after(), request_sent, detail)
        response = exc.args[1] if isinstance(exc, TwilioException) and len(exc.args) > 1 else None
        if isinstance(response, twilio_http_response.Response):
            # Page requests raise a bare TwilioException("Unable to fetch page", response).
            code = _error_code(response.text)
            return _http_error(response.status_code, code, self._http.retry_after(), request_sent)
        if isinstance(exc, _bad_url_errors()):
            return TwilioSendError(
                f"Twilio base URL is not usable: {type(exc).__name__}",
                explanation="Bling's Twilio settings are wrong (bad API address); "
                "tell an administrator",
            )
        if isinstance(exc, requests.exceptions.RequestException):
            kind = type(exc).__name__
            if _failed_before_sending(exc):
                return TwilioTransient(f"could not connect to Twilio ({kind}): {exc}")
            if request_sent:
                return TwilioAmbiguous(f"no answer from Twilio after sending ({kind}): {exc}")
            return _read_failed(f"Twilio read failed ({kind}): {exc}")
        # A TwilioException without an HTTP answer, e.g. a page it cannot parse.
        if request_sent:
            return TwilioAmbiguous(f"unexpected answer from Twilio: {exc}")
        return _read_failed(f"unexpected answer from Twilio: {exc}")


def _http_error(
    status: int | None,
    code: int | None,
    retry_after: float | None,
    request_sent: bool,
    detail: str | None = None,
) -> TwilioSendError:
    """Error for an HTTP error answer from Twilio; ``detail`` is Twilio's own message."""
    if code is not None and code == status:
        code = None  # the library falls back to the HTTP status when the body has no code
    label = f"Twilio error {code} (HTTP {status})" if code else f"Twilio HTTP {status}"
    if detail:
        label = f"{label} [{detail}]"
    explanation = explain_error(code, None if code else f"Twilio answered HTTP {status}")
    if status == 429 or code == 20429:
        return TwilioTransient(
            f"{label}: rate limited", code=code or 20429, status=status, retry_after=retry_after
        )
    if status is not None and status >= 500:
        if request_sent:
            return TwilioAmbiguous(f"{label}: server error after sending", code=code, status=status)
        return TwilioTransient(
            f"{label}: server error",
            code=code,
            status=status,
            explanation="Twilio had a server error; try again later",
        )
    return TwilioSendError(
        f"{label}: {explanation}", code=code, status=status, explanation=explanation
    )


#: IncomingPhoneNumber settings Bling provisions (the library's snake_case names).
NUMBER_FIELDS = (
    "sms_url", "sms_method", "sms_fallback_url", "sms_fallback_method", "sms_application_sid",
    "voice_url", "voice_method", "voice_fallback_url", "voice_fallback_method", "voice_application_sid",
    "status_callback", "status_callback_method",
)


def _number_dict(number: dict) -> dict:
    """An IncomingPhoneNumber record as Bling reads it (None for unset values)."""
    found = {name: number.get(name) for name in NUMBER_FIELDS}
    found.update(sid=number["sid"], phone_number=number.get("phone_number"),
                 capabilities=dict(number.get("capabilities") or {}))
    return found


def _twilio_name(name: str) -> str:
    """A ``NUMBER_FIELDS`` name as Twilio's form field: ``sms_fallback_url`` → ``SmsFallbackUrl``."""
    return "".join(part.capitalize() for part in name.split("_"))


def _sender_dict(sender: Any) -> dict:
    """A ChannelsSender instance as a plain dict of what Bling reads."""
    return {"sid": sender.sid, "sender_id": sender.sender_id, "status": sender.status,
            "webhook": dict(sender.webhook or {}), "offline_reasons": list(sender.offline_reasons or [])}


#: A recording's URL path as Twilio gives it (RecordingUrl): no extension, or a media one.
_RECORDING_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})/Recordings/"
                             r"(?P<sid>RE[0-9a-f]{32})(\.(mp3|wav))?$")


def _seconds(value: Any) -> int | None:
    """Twilio's durations and lengths are strings; None when absent or not a number."""
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _download_error(status: int, code: int | None) -> TwilioSendError:
    """A failed recording download: only refused credentials are permanent."""
    if status in (401, 403):
        return TwilioSendError(f"Twilio refused the recording download (HTTP {status})", code=code or 20003,
                               status=status)
    if status == 404:
        return TwilioTransient("Twilio has no such recording (not ready yet, or deleted)", code=code, status=status,
                               explanation="the recording is not available from Twilio")
    return TwilioTransient(f"the recording download failed (HTTP {status})", code=code, status=status,
                           explanation="Twilio could not hand over the recording; try again later")


def _read_failed(message: str) -> TwilioTransient:
    return TwilioTransient(message, explanation="Bling could not read from Twilio; try again later")


def _error_code(text: str) -> int | None:
    try:
        code = json.loads(text).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def _failed_before_sending(exc: requests.exceptions.RequestException) -> bool:
    """True when the connection never opened, so Twilio cannot have the request."""
    if isinstance(exc, _not_connected_errors()):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        # Refused connections and DNS failures: MaxRetryError(reason=NewConnectionError).
        return isinstance(getattr(exc.args[0], "reason", exc.args[0]), urllib3_exceptions.NewConnectionError)
    return False


def _as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC, as Twilio's are."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _day_before(moment: datetime) -> str:
    """``YYYY-MM-DD`` a day before ``moment``: Twilio's DateSent filter is by day."""
    return (moment - timedelta(days=1)).date().isoformat()


@functools.cache
def _response_tap() -> type:
    """The ``_ResponseTap`` class, defined on first use: its base class lives in twilio.http (requests)."""

    class _ResponseTap(twilio_http.HttpClient):
        """Wraps the real HTTP client to remember each thread's last response.

        ``TwilioRestException`` drops the response headers, and a 429's
        ``Retry-After`` is only there.
        """

        def __init__(self, inner: HttpClient) -> None:
            super().__init__(inner.logger, False, inner.timeout)
            self.inner = inner
            self._local = threading.local()

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
            self._local.response = None
            response = self.inner.request(method, url, *args, **kwargs)
            self._local.response = response
            return response

        def retry_after(self) -> float | None:
            """Seconds from the last response's Retry-After header, if it had one."""
            response = getattr(self._local, "response", None)
            headers = getattr(response, "headers", None) or {}
            value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
            try:
                return max(0.0, float(value)) if value is not None else None
            except ValueError:
                return None  # an HTTP date; not worth parsing here

    return _ResponseTap
