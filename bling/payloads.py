"""Payload schemas of the built-in routes (marshmallow).

Third parties add fields without notice, so unknown fields are dropped
(``EXCLUDE``), never fatal. Each schema also says how its payload arrives
(``content``), which request headers it reads (``headers``), the event's
idempotency key, the mailbox it belongs to and the supporter it concerns
(jobs for one supporter run one at a time).
"""

from __future__ import annotations


from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from bling.hookspecs import hookimpl
from bling.phones import from_blackhole, to_e164

TWILIO_SID = r"^{prefix}[0-9a-fA-F]{{32}}$"
MAX_MEDIA = 10
#: Help Scout ids are positive integers; past 2**53 they are not even exact in JSON (and keys stay short).
HELPSCOUT_ID = validate.Range(min=1, max=2**53, error="not a Help Scout id")
#: A Twilio status word (CallStatus, DialCallStatus, TranscriptionStatus …): lower case and dashes, short.
STATUS_WORD = validate.Regexp(r"^[a-z-]{0,32}$", error="not a Twilio status")


def optional_sid(prefix: str, what: str) -> validate.Regexp:
    """A Twilio SID with this prefix, or empty (Twilio leaves some out)."""
    return validate.Regexp(f"^(|{prefix}[0-9a-fA-F]{{32}})$", error=f"not a Twilio {what} SID")


class EventSchema(Schema):
    """Base of every route schema."""

    class Meta:
        unknown = EXCLUDE

    content = "form"  # or "json"
    headers: dict[str, str] = {}  # request header → event field

    def idempotency_key(self, event: dict) -> str:
        raise NotImplementedError

    def locate(self, event: dict, settings):
        """Return the configured Mailbox this event belongs to, or None."""
        raise NotImplementedError

    def supporter_key(self, event: dict, settings) -> str:
        """Return a key shared by every event of one supporter on one hotline."""
        return self.idempotency_key(event)


class TwilioSmsSchema(EventSchema):
    """Twilio's inbound message webhook (SMS and MMS)."""

    message_sid = fields.String(data_key="MessageSid", required=True,
                                validate=validate.Regexp(TWILIO_SID.format(prefix="(SM|MM)"), error="not a Twilio message SID"))
    account_sid = fields.String(data_key="AccountSid", required=True,
                                validate=validate.Regexp(TWILIO_SID.format(prefix="AC"), error="not a Twilio account SID"))
    from_ = fields.String(data_key="From", required=True, validate=validate.Length(min=1, max=64))
    to = fields.String(data_key="To", required=True, validate=validate.Length(min=1, max=64))
    body = fields.String(data_key="Body", load_default="", validate=validate.Length(max=4000))
    num_media = fields.Integer(data_key="NumMedia", load_default=0, validate=validate.Range(min=0, max=MAX_MEDIA))
    media = fields.List(fields.Dict(), load_default=list)
    messaging_service_sid = fields.String(data_key="MessagingServiceSid", load_default=None,
                                          validate=optional_sid("MG", "messaging service"))
    opt_out_type = fields.String(data_key="OptOutType", load_default=None, validate=validate.Regexp(
        r"^[A-Z_]{0,16}$", error="not a Twilio opt-out type"))

    @pre_load
    def collect_media(self, data, **_kwargs):
        """Fold MediaUrl{N}/MediaContentType{N} pairs into one ``media`` list."""
        data = dict(data)
        media = []
        for index in range(MAX_MEDIA):
            url = data.get(f"MediaUrl{index}")
            if url and len(str(url)) > 2000:
                raise ValidationError("longer than 2000 characters", f"MediaUrl{index}")
            if url:
                media.append({"url": url, "content_type": data.get(f"MediaContentType{index}") or "application/octet-stream"})
        data["media"] = media
        return data

    def idempotency_key(self, event):
        return f"twilio:sms:{event['message_sid']}"

    def locate(self, event, settings):
        number = to_e164(event["to"])
        return settings.mailbox_for("twilio", number) if number else None

    def supporter_key(self, event, settings):
        return f"{to_e164(event['to'])}|{to_e164(event['from_']) or event['from_']}"


class HelpScoutThreadSchema(Schema):
    """One thread as the webhook carries it (v2 and the older shape)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(required=True, validate=HELPSCOUT_ID)
    type = fields.String(load_default="")
    body = fields.String(load_default="", allow_none=True)
    state = fields.String(load_default="published")
    created_at = fields.String(data_key="createdAt", load_default="")
    source = fields.Dict(load_default=dict)
    created_by = fields.Dict(data_key="createdBy", load_default=dict, allow_none=True)
    attachments = fields.List(fields.Dict(), load_default=list)

    @pre_load
    def embedded_attachments(self, data, **_kwargs):
        """v2 threads carry attachments under ``_embedded``; the older shape at the top."""
        embedded = data.get("_embedded") if isinstance(data, dict) else None
        if isinstance(embedded, dict) and isinstance(embedded.get("attachments"), list) and not data.get("attachments"):
            data = {**data, "attachments": embedded["attachments"]}
        return data


class HelpScoutConversationSchema(EventSchema):
    """A Help Scout conversation webhook (``convo.*`` events).

    Accepts the v2 representation (``mailboxId``, ``primaryCustomer``,
    ``_embedded.threads``) and the older one the original Bling parsed
    (``mailbox.id``, ``customer``, a top-level ``threads`` list).
    """

    content = "json"
    headers = {"X-HelpScout-Event": "event_name"}

    event_name = fields.String(load_default="")
    id = fields.Integer(required=True, validate=HELPSCOUT_ID)
    type = fields.String(load_default="")
    status = fields.String(load_default="")
    mailbox_id = fields.Integer(required=True, validate=HELPSCOUT_ID)
    thread_count = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=10**6))
    customer = fields.Dict(load_default=dict)
    threads = fields.List(fields.Nested(HelpScoutThreadSchema), load_default=list)

    @pre_load
    def normalise(self, data, **_kwargs):
        if not isinstance(data, dict):
            raise ValidationError("expected a JSON object", "_schema")
        out = {"event_name": data.get("event_name", ""), "id": data.get("id"),
               "type": data.get("type", ""), "status": data.get("status", "")}
        mailbox = data.get("mailboxId", (data.get("mailbox") or {}).get("id") if isinstance(data.get("mailbox"), dict) else None)
        out["mailbox_id"] = mailbox
        count = data.get("threads") if isinstance(data.get("threads"), int) else data.get("threadCount")
        out["thread_count"] = count
        customer = data.get("primaryCustomer") or data.get("customer") or {}
        out["customer"] = customer if isinstance(customer, dict) else {}
        threads = (data.get("_embedded") or {}).get("threads") if isinstance(data.get("_embedded"), dict) else None
        if threads is None and isinstance(data.get("threads"), list):
            threads = data["threads"]
        out["threads"] = threads or []
        return {k: v for k, v in out.items() if v is not None}

    def idempotency_key(self, event):
        newest = newest_thread(event)
        if newest is not None:
            return f"helpscout:thread:{newest['id']}"
        return f"helpscout:convo:{event['id']}:{event.get('thread_count')}"

    def locate(self, event, settings):
        return settings.mailbox_by_id(event["mailbox_id"])

    def supporter_key(self, event, settings):
        return f"helpscout:{event['mailbox_id']}:{event['id']}"


def newest_thread(event: dict) -> dict | None:
    """Return the most recent thread carried by the webhook, if any."""
    threads = event.get("threads") or []
    if not threads:
        return None
    return max(threads, key=lambda t: (t.get("created_at") or "", t["id"]))


def customer_phone(customer: dict, blackhole_domain: str) -> str | None:
    """Find the supporter's phone in a webhook customer: phone fields or blackhole e-mail.

    Any other shape (a string where a list belongs, numbers, objects) is
    passed over, never fatal: it comes from outside.
    """
    if not isinstance(customer, dict):
        return None
    embedded = customer.get("_embedded") if isinstance(customer.get("_embedded"), dict) else {}
    candidates = [customer.get("phone")]
    for phone in _list(customer.get("phones")) + _list(embedded.get("phones")):
        candidates.append(phone.get("value") if isinstance(phone, dict) else phone)
    for value in candidates:
        number = to_e164(value) if isinstance(value, str) and len(value) <= 64 else None
        if number:
            return number
    emails = [customer.get("email")] + [
        e.get("value") if isinstance(e, dict) else e
        for e in _list(customer.get("emails")) + _list(embedded.get("emails"))]
    for email in emails:
        number = from_blackhole(email, blackhole_domain) if isinstance(email, str) else None
        if number:
            return number
    return None


def _list(value) -> list:
    return value if isinstance(value, list) else []


def refuse_nul_and_deep_nesting(data, limit: int = 32) -> None:
    """Refuse NUL characters anywhere and nesting deeper than ``limit``, naming the field.

    No sender of Bling's puts either in a payload; PostgreSQL cannot store
    NUL, and deep nesting only exists to exhaust the stack.
    """
    pending = [(data, "", 0)]
    while pending:
        value, where, depth = pending.pop()
        if depth > limit:
            raise ValidationError({where or "_schema": [f"nested deeper than {limit} levels"]})
        if isinstance(value, str):
            if "\x00" in value:
                raise ValidationError({where or "_schema": ["contains a NUL character"]})
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else str(key)
                if "\x00" in str(key):
                    raise ValidationError({where or "_schema": ["a field name contains a NUL character"]})
                pending.append((item, name, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value))


@hookimpl
def bling_schemas():
    return {"twilio_sms": TwilioSmsSchema, "helpscout_conversation": HelpScoutConversationSchema}
