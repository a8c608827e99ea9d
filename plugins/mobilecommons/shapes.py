"""Mobile Commons' wire format, all in one place: MODELLED, NOT RECORDED.

Mobile Commons documents its XML API behind a paywall. Everything here is
modelled from what is public: the original Bling's client and loader
(its ``bling/mc/client.py`` and ``bling/mc_loader.py``, and the profile it parsed,
``shared/seed/sample_mobile_commons_profile.json``), and open-source
clients (DoSomething's PHP and Node libraries, Sahana Eden's poller, a
profiles fixture). When a real response disagrees, correct it HERE: the
client, the transport and the loader only use the names this module gives.

What is reasonably sure: HTTP basic auth; ``https://secure.mcommons.com/api/``;
``GET messages`` (received messages, ``start_time``/``end_time``/``limit``/
``page``; ``<messages page=… page_count=…>``; each ``<message id=… type=…>``
with ``phone_number``, ``body``, ``received_at`` and ``<campaign id=…>``);
``POST send_message`` (``campaign_id``, ``phone_number``, ``body``);
``GET profile`` (``phone_number``, ``include_messages``); every answer is a
``<response success="true|false">``, and an error is ``<error id=…>``.
What is guessed is marked "modelled" below.

Fields are read as an attribute *or* a child element (see ``_field``):
the public sources disagree on which, and either way parses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from bling.lazy_modules import LazyModule
from bling.phones import to_e164

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

# The XML parser is loaded by the first answer parsed (a worker's job): web processes import this
# module through the plugins but never read Mobile Commons' XML.
ElementTree = LazyModule("defusedxml.ElementTree")
defusedxml_common = LazyModule("defusedxml.common")

API_URL = "https://secure.mcommons.com/api/"

# -- requests -----------------------------------------------------------------

SEND_MESSAGE = "send_message"  # POST form: campaign_id, phone_number, body
RECEIVED_MESSAGES = "messages"  # GET: start_time, end_time, limit, page
PROFILE = "profile"  # GET: phone_number, include_messages (1/0)

#: Received messages asked for per page (the public clients use 100; 1000 is said to be the cap).
PAGE_LIMIT = 100
#: ``start_time``/``end_time`` as the public clients send them (ISO 8601, UTC).
PARAM_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: Times inside responses: ``2019-09-27 23:08:09 UTC`` (seen in the sample profile).
RESPONSE_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z")


def send_params(campaign_id: str, phone: str, body: str) -> dict[str, str]:
    """Form fields of ``send_message``."""
    return {"campaign_id": campaign_id, "phone_number": phone_param(phone), "body": body}


def received_params(since: datetime, until: datetime, page: int, limit: int = PAGE_LIMIT) -> dict[str, str]:
    """Query of ``messages`` for one page of a time window."""
    return {"start_time": _param_time(since), "end_time": _param_time(until), "limit": str(limit), "page": str(page)}


def profile_params(phone: str, include_messages: bool) -> dict[str, str]:
    """Query of ``profile``."""
    return {"phone_number": phone_param(phone), "include_messages": "1" if include_messages else "0"}


def phone_param(e164: str) -> str:
    """A phone as Mobile Commons shows them: digits with the country code, no ``+`` (``15555555555``)."""
    return e164.lstrip("+")


def phone_from(value: str | None) -> str | None:
    """E.164 from a Mobile Commons phone (``15555555555``; ``+…`` and 10-digit US forms tolerated)."""
    digits = "".join(ch for ch in value or "" if ch.isdigit())
    if not digits:
        return None
    return to_e164("+" + digits) if len(digits) > 10 else to_e164(digits)


# -- responses ------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMessage:
    """One message a supporter sent to a campaign."""

    id: str
    phone: str | None  # E.164, None when Mobile Commons gave no usable number
    body: str
    received_at: datetime | None
    campaign_id: str | None
    message_type: str  # "reply", "opt_in", "generic" … (modelled)
    profile_id: str | None = None


@dataclass(frozen=True)
class MessagesPage:
    """One page of received messages; ``page_count`` when the server says it."""

    messages: list[ReceivedMessage]
    page: int
    page_count: int | None


@dataclass(frozen=True)
class SentMessage:
    """What ``send_message`` answers: the new message's id and status."""

    id: str
    status: str


@dataclass(frozen=True)
class ProfileMessage:
    """A message in a profile's history, either way."""

    id: str
    message_type: str
    status: str
    body: str
    when: datetime | None
    campaign_id: str | None

    @property
    def outgoing(self) -> bool:
        """Sent to the supporter (``status`` is ``sent``/``queued``/``delivered``; modelled)."""
        return self.status.lower() in OUTGOING_STATUSES


@dataclass(frozen=True)
class Profile:
    """A supporter's Mobile Commons profile."""

    id: str
    phone: str | None
    first_name: str
    last_name: str
    email: str
    status: str
    opted_out_at: datetime | None
    campaign_ids: frozenset[str]
    custom_fields: dict[str, str | None] = field(default_factory=dict)
    messages: tuple[ProfileMessage, ...] = ()


#: Profile message statuses that mean "sent to the supporter" (modelled from the sample).
OUTGOING_STATUSES = frozenset({"sent", "queued", "delivered"})


@dataclass(frozen=True)
class ApiError:
    """``<response success="false"><error id="…" message="…"/></response>``."""

    code: int | None
    message: str

    @property
    def kind(self) -> str:
        """``invalid_phone``, ``invalid_campaign``, ``opted_out`` or ``other``."""
        return ERROR_KINDS.get(self.code, "other") if self.code is not None else "other"


#: Error ids Bling treats specially (modelled: the numbering is behind the paywall;
#: an unknown id is still a refusal, explained with the server's own message).
ERROR_KINDS: dict[int, str] = {
    4: "invalid_campaign",
    5: "invalid_phone",
    6: "opted_out",
}


class ShapeError(ValueError):
    """The body is not the XML this module models (or is unsafe XML)."""


def parse(text: str | bytes) -> Element:
    """Parse a response body into its ``<response>`` element, safely."""
    try:
        root = ElementTree.fromstring(text)
    except defusedxml_common.DefusedXmlException as ex:
        raise ShapeError(f"unsafe XML refused ({type(ex).__name__})") from None
    except ElementTree.ParseError as ex:
        raise ShapeError(f"not XML: {ex}") from None
    if root.tag != "response":
        raise ShapeError(f"expected a <response> document, got <{root.tag}>")
    return root


def api_error(root: Element) -> ApiError | None:
    """The error a ``success="false"`` response carries, or None on success."""
    error = root.find("error")
    if root.get("success", "true").lower() != "false" and error is None:
        return None
    if error is None:
        return ApiError(None, "Mobile Commons answered success=false without an <error>")
    code = _field(error, "id")
    message = _field(error, "message") or (error.text or "").strip() or "no message"
    return ApiError(int(code) if code and code.isdigit() else None, message)


def messages_page(root: Element) -> MessagesPage:
    """``GET messages``: one page of received messages."""
    container = root.find("messages")
    if container is None:
        raise ShapeError("no <messages> in the response")
    messages = [_received(element) for element in container.findall("message")]
    return MessagesPage(messages, _int(container.get("page")) or 1, _int(container.get("page_count")))


def sent_message(root: Element) -> SentMessage:
    """``POST send_message``: the message Mobile Commons queued."""
    element = root.find("message")
    if element is None or not _field(element, "id"):
        raise ShapeError("no <message id=…> in the send_message response")
    return SentMessage(_field(element, "id"), _field(element, "status") or "queued")


def profile(root: Element) -> Profile:
    """``GET profile``: the supporter and (when asked) their messages."""
    element = root.find("profile")
    if element is None or not _field(element, "id"):
        raise ShapeError("no <profile id=…> in the response")
    subscriptions = element.findall("subscriptions/subscription")
    custom = {_field(c, "name"): _field(c, "value") or (c.text or "").strip()  # value as text, as the original read it
              for c in element.findall("custom_columns/custom_column")}
    return Profile(
        id=_field(element, "id"),
        phone=phone_from(_field(element, "phone_number")),
        first_name=_field(element, "first_name"),
        last_name=_field(element, "last_name"),
        email=_field(element, "email"),
        status=_field(element, "status"),
        opted_out_at=_time(_field(element, "opted_out_at")),
        campaign_ids=frozenset(c for c in (_field(s, "campaign_id") for s in subscriptions) if c),
        custom_fields={k: (v or None) for k, v in custom.items() if k},
        messages=tuple(_profile_message(m) for m in element.findall("messages/message")),
    )


def _received(element: Element) -> ReceivedMessage:
    campaign = element.find("campaign")
    return ReceivedMessage(
        id=_field(element, "id"),
        phone=phone_from(_field(element, "phone_number")),
        body=_field(element, "body"),
        received_at=_time(_field(element, "received_at") or _field(element, "when")),
        campaign_id=(_field(campaign, "id") if campaign is not None else _field(element, "campaign_id")) or None,
        message_type=_field(element, "type") or _field(element, "message_type"),
        profile_id=_profile_id(element),
    )


def _profile_message(element: Element) -> ProfileMessage:
    campaign = element.find("campaign")
    return ProfileMessage(
        id=_field(element, "id"),
        message_type=_field(element, "message_type") or _field(element, "type"),
        status=_field(element, "status"),
        body=_field(element, "body"),
        when=_time(_field(element, "when")),
        campaign_id=(_field(campaign, "id") if campaign is not None else None) or None,
    )


def _profile_id(element: Element) -> str | None:
    """``<profile>123</profile>``, or ``<profile id="123">…</profile>`` with include_profile."""
    found = element.find("profile")
    if found is None:
        return None
    return found.get("id") or (found.text or "").strip() or None


def _field(element: Element, name: str) -> str:
    """An attribute or a child element's text, stripped; '' when absent."""
    value = element.get(name)
    if value is None:
        child = element.find(name)
        value = child.text if child is not None and child.text else ""
    return value.strip()


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _time(value: str) -> datetime | None:
    for fmt in RESPONSE_TIME_FORMATS:
        try:
            moment = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return None


def _param_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(PARAM_TIME_FORMAT)


# -- example documents (the cassettes are authored from these) ----------------

#: ``POST send_message`` accepted (modelled).
EXAMPLE_SENT = """<?xml version="1.0" encoding="UTF-8"?>
<response success="true">
  <message id="{id}" type="generic" status="queued">
    <phone_number>{phone}</phone_number>
    <profile>{profile_id}</profile>
    <body>{body}</body>
    <sent_at>{when}</sent_at>
    <message_template_id/>
    <campaign id="{campaign_id}" active="true">Hotline</campaign>
  </message>
</response>
"""

#: ``GET messages``: one page; ``{messages}`` holds EXAMPLE_RECEIVED items.
EXAMPLE_MESSAGES = """<?xml version="1.0" encoding="UTF-8"?>
<response success="true">
  <messages page="{page}" limit="{limit}" page_count="{page_count}">{messages}
  </messages>
</response>
"""

#: One received message (``type`` attribute and ``received_at`` per the public pollers).
EXAMPLE_RECEIVED = """
    <message id="{id}" type="{type}">
      <phone_number>{phone}</phone_number>
      <profile>{profile_id}</profile>
      <body>{body}</body>
      <received_at>{when}</received_at>
      <campaign id="{campaign_id}" active="true">Hotline</campaign>
    </message>"""

#: An API error (``<error id=…>`` per the original Bling; ``message`` modelled).
EXAMPLE_ERROR = """<?xml version="1.0" encoding="UTF-8"?>
<response success="false">
  <error id="{code}" message="{message}"/>
</response>
"""
