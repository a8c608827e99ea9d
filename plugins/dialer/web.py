"""Payload schemas and verifiers of the Call back routes (registered through hooks).

Verifiers run on the raw request before anything is parsed:

- ``dialer_token``: the dialer's signed token (``?t=`` on the page, the
  ``X-Bling-Token`` header from its script). A forged, altered, cut or
  missing token — or no BLING_SECRET_KEY — gets a page (or JSON) saying so.
- ``dialer_action``: the same, and the request must come from the page
  itself: JSON (so other sites' forms and simple requests cannot send it),
  same origin by ``Sec-Fetch-Site``/``Origin``/``Referer``, and the page's
  CSRF value bound to the token.

Expiry is checked by the plugins against the store's clock.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate

from bling.hookspecs import hookimpl
from bling.phones import to_e164
from bling.payloads import HELPSCOUT_ID, STATUS_WORD, TWILIO_SID, EventSchema
from . import tokens, widget
from .page import json_answer, refusal_page
from .twiml import hang_up

CALL_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$", error="not a call-back call id")
TITLES = {"disabled": "Call back is turned off", "missing": "No call-back link", "invalid": "This link is not valid",
          "expired": "This link has expired", "cross-site": "Request refused"}


def token_of(req) -> str | None:
    """The token a request carries: the page's ``?t=`` or the script's header."""
    return req.get_header("X-Bling-Token") or req.get_param("t")


def expected_origin(req, settings) -> str:
    """The origin the page was served from: BLING_PUBLIC_URL's, else the request's."""
    parts = urlsplit(settings.public_base() or req.prefix)
    return f"{parts.scheme}://{parts.netloc}"


def cross_site_problem(req, settings) -> str | None:
    """Why this request may not come from the dialer page itself, or None."""
    origin = expected_origin(req, settings)
    site = req.get_header("Sec-Fetch-Site")
    if site is not None and site != "same-origin":
        return f"Refused: the request came from another site ({site})."
    sent_origin = req.get_header("Origin")
    if sent_origin is not None:
        return None if sent_origin == origin else f"Refused: the request came from {sent_origin}, not {origin}."
    referer = req.get_header("Referer")
    if referer is not None and (referer == origin or referer.startswith(origin + "/")):
        return None
    return "Refused: the request did not say it came from the dialer page."


class DialerToken:
    """Verify the dialer's token; a bad one gets a clear page (or JSON for the script)."""

    failure_status = 403

    def verify(self, req, body: bytes, settings) -> bool:
        try:
            tokens.read(settings.secret_key, token_of(req))
        except tokens.TokenRefused as ex:
            req.context.dialer_refusal = ex
            return False
        return True

    def failure_answer(self, req, settings) -> dict:
        refusal = getattr(req.context, "dialer_refusal", None) or tokens.TokenRefused("invalid", "Refused.")
        status = 503 if refusal.reason == "disabled" else self.failure_status
        if req.get_header("X-Bling-Token") is not None:
            return json_answer({"state": "failed", "message": refusal.message, "final": True}, status)
        return refusal_page(TITLES.get(refusal.reason, "Refused"), refusal.message, status)


class DialerAction(DialerToken):
    """A request that changes something (place or cancel a call): token, same origin, CSRF value."""

    def verify(self, req, body: bytes, settings) -> bool:
        if not super().verify(req, body, settings):
            return False
        claims = tokens.read(settings.secret_key, token_of(req))
        problem = cross_site_problem(req, settings)
        if problem is None and not (req.content_type or "").startswith("application/json"):
            problem = "Refused: the dialer page sends JSON."
        if problem is None and not tokens.csrf_matches(settings.secret_key, req.get_header("X-Bling-CSRF"), claims.token_id):
            problem = "Refused: this page's security value is missing or wrong. Reload the page and try again."
        if problem:
            req.context.dialer_refusal = tokens.TokenRefused("cross-site", problem)
            return False
        return True


class DialerSchema(EventSchema):
    """Requests of the dialer page and its script; the token was verified at the edge."""

    class Meta:
        unknown = RAISE  # the page sends exactly these fields; anything else is refused

    headers = {"X-Bling-Token": "token"}
    token = fields.String(required=True, validate=validate.Length(min=1, max=2000))

    def idempotency_key(self, event: dict) -> str:
        return f"dialer:{tokens.log_id(event['token'])}"  # for logs: never the token

    def locate(self, event: dict, settings):
        mailbox_id = tokens.peek(settings.secret_key, event["token"]).get("m")
        return settings.mailbox_by_id(mailbox_id if isinstance(mailbox_id, int) else None)

    def ignored_answer(self, event: dict) -> dict:
        return json_answer({"state": "failed", "final": True,
                            "message": "Bling no longer serves this conversation's mailbox."}, 410)


class DialerPageSchema(DialerSchema):
    """Route ``dialer-page``: ``GET …?t=<token>``."""

    class Meta:
        unknown = EXCLUDE  # links may pick up tracking parameters on the way

    headers: dict[str, str] = {}
    token = fields.String(data_key="t", required=True, validate=validate.Length(min=1, max=2000))

    def ignored_answer(self, event: dict) -> dict:
        return refusal_page("Not a hotline mailbox", "Bling no longer serves this conversation's mailbox.", 410)


class DialerCallSchema(DialerSchema):
    """Route ``dialer-call`` (POST): only the agent's phone (the supporter comes from the token)."""

    content = "json"
    phone = fields.String(required=True, validate=validate.Length(max=40))


class DialerStatusSchema(DialerSchema):
    """Route ``dialer-status``: ``GET …?call=<id>``."""

    class Meta:
        unknown = EXCLUDE

    call = fields.String(required=True, validate=CALL_ID)


class DialerCancelSchema(DialerSchema):
    """Route ``dialer-cancel`` (POST): which call to end."""

    content = "json"
    call = fields.String(required=True, validate=CALL_ID)


class TwilioDialerSchema(EventSchema):
    """Twilio's requests for a call-back's legs (TwiML fetches and status callbacks)."""

    query = {"call": "call_id", "leg": "leg"}  # Bling put them in the URL Twilio signed
    call_sid = fields.String(data_key="CallSid", required=True,
                             validate=validate.Regexp(TWILIO_SID.format(prefix="CA"), error="not a Twilio call SID"))
    account_sid = fields.String(data_key="AccountSid", required=True,
                                validate=validate.Regexp(TWILIO_SID.format(prefix="AC"), error="not a Twilio account SID"))
    from_ = fields.String(data_key="From", required=True, validate=validate.Length(min=1, max=64))
    to = fields.String(data_key="To", required=True, validate=validate.Length(min=1, max=64))
    call_status = fields.String(data_key="CallStatus", required=True, validate=validate.And(
        validate.Length(min=1), STATUS_WORD))
    digits = fields.String(data_key="Digits", load_default="", validate=validate.Length(max=32))
    call_duration = fields.Integer(data_key="CallDuration", load_default=None, allow_none=True,
                                   validate=validate.Range(min=0, max=10**7))
    call_id = fields.String(required=True, validate=CALL_ID)
    leg = fields.String(load_default="agent", validate=validate.OneOf(["agent", "supporter"]))

    @pre_load
    def _blank_to_missing(self, data, **_kwargs):
        data = dict(data)
        for key in ("CallDuration", "leg"):
            if data.get(key) == "":
                data.pop(key)
        return data

    def idempotency_key(self, event: dict) -> str:
        return f"twilio:dialer:{event['call_id']}:{event['leg']}:{event['call_status']}"

    def supporter_key(self, event: dict, settings) -> str:
        return f"dialer:{event['call_id']}"

    def locate(self, event: dict, settings):
        number = to_e164(event["from_"])  # both legs come from the hotline number
        return settings.mailbox_for("twilio", number) if number else None

    def ignored_answer(self, event: dict) -> str:
        return hang_up()


class _AppTicketSchema(Schema):
    """The sidebar app's ``ticket``: the conversation (id and number)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(load_default=None, allow_none=True, validate=HELPSCOUT_ID)
    number = fields.Integer(load_default=None, allow_none=True, validate=HELPSCOUT_ID)


class _AppUserSchema(Schema):
    """The sidebar app's ``user``: the agent asking."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(load_default=None, allow_none=True, validate=HELPSCOUT_ID)
    fname = fields.String(load_default="", allow_none=True, validate=validate.Length(max=200))
    lname = fields.String(load_default="", allow_none=True, validate=validate.Length(max=200))


class HelpScoutAppSchema(EventSchema):
    """The legacy dynamic sidebar app's POST: ticket, customer, user, mailbox.

    Help Scout leaves out fields without a value; ``ticket`` is ``false``
    for a draft. Ticket and user fields are typed (a bad one is a 422 naming
    it); the customer's phones and e-mails are read leniently
    (bling.payloads.customer_phone).
    """

    content = "json"
    ticket = fields.Nested(_AppTicketSchema, load_default=None, allow_none=True)
    customer = fields.Dict(load_default=dict)
    user = fields.Nested(_AppUserSchema, load_default=dict)
    mailbox_id = fields.Integer(required=True, validate=HELPSCOUT_ID)

    @pre_load
    def _flatten(self, data, **_kwargs):
        if not isinstance(data, dict):
            raise ValidationError("expected a JSON object", "_schema")
        mailbox = data.get("mailbox") if isinstance(data.get("mailbox"), dict) else {}
        ticket = data.get("ticket")
        return {"ticket": ticket if isinstance(ticket, dict) else None,
                "customer": data.get("customer") if isinstance(data.get("customer"), dict) else {},
                "user": data.get("user") if isinstance(data.get("user"), dict) else {},
                **({"mailbox_id": mailbox["id"]} if "id" in mailbox else {})}

    def idempotency_key(self, event: dict) -> str:
        ticket = event["ticket"] or {}
        return f"helpscout:app:{ticket.get('id')}:{event['user'].get('id')}"

    def locate(self, event: dict, settings):
        return settings.mailbox_by_id(event["mailbox_id"])

    def ignored_answer(self, event: dict) -> dict:
        return widget.answer(widget.line_html("Bling does not serve this mailbox, so it cannot call anyone back from here."))


@hookimpl
def bling_schemas():
    return {"helpscout_app": HelpScoutAppSchema, "dialer_page": DialerPageSchema, "dialer_call": DialerCallSchema,
            "dialer_status": DialerStatusSchema, "dialer_cancel": DialerCancelSchema,
            "twilio_dialer": TwilioDialerSchema}


@hookimpl
def bling_verifiers():
    return {"dialer_token": DialerToken(), "dialer_action": DialerAction()}
