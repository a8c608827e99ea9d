"""Sender verification, done on the raw body before anything is parsed.

- ``twilio``: ``X-Twilio-Signature`` over the public URL (BLING_PUBLIC_URL +
  path + query, so a proxy in front does not break it) and every received
  form field, empty ones included. Form bodies are checked by
  ``form_signature_valid`` (the ``twilio`` library's algorithm, with the
  fields' part of the signed string built once instead of once per URL
  form); everything else by the ``twilio`` library itself. A verified form
  is kept on ``req.context.signed_form``, so the edge does not parse the
  body a second time.
- ``helpscout``: ``X-HelpScout-Signature``, base64 HMAC-SHA1 of the raw body
  keyed with HELPSCOUT_WEBHOOK_SECRET
  (https://developer.helpscout.com/webhooks/#verifying).
- ``helpscout_app``: the same for the sidebar app, keyed with HELPSCOUT_APP_SECRET.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from urllib.parse import unquote, urlparse

from twilio.request_validator import RequestValidator, add_port, remove_port

from bling.hookspecs import hookimpl


def public_url(req, settings) -> str:
    """The URL the sender signed: BLING_PUBLIC_URL + path + query, or the request's."""
    base = settings.public_base()
    return base + req.relative_uri if base else req.uri


def form_pairs(text: str) -> list[tuple[str, str]]:
    """``urllib.parse.parse_qsl(text, keep_blank_values=True)``, in half the time.

    Every field is split and decoded the same way (``+`` is a space, then
    %-escapes as UTF-8, bad bytes replaced); a field with neither is taken
    as it is, which is most of what Twilio sends. ``tests/test_edge.py``
    checks both agree.
    """
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "+" in name or "%" in name:
            name = unquote(name.replace("+", " "))
        if "+" in value or "%" in value:
            value = unquote(value.replace("+", " "))
        pairs.append((name, value))
    return pairs


class _MultiParams(dict):
    """Form fields for RequestValidator, keeping repeated keys (it calls getall)."""

    def __init__(self, pairs):
        super().__init__()
        self._all: dict[str, list[str]] = {}
        for key, value in pairs:
            self._all.setdefault(key, []).append(value)
            self[key] = value

    def getall(self, key):
        return self._all[key]


class TwilioSignature:
    """Verify ``X-Twilio-Signature``; a forgery gets 403."""

    failure_status = 403

    def verify(self, req, body: bytes, settings) -> bool:
        signature = req.get_header("X-Twilio-Signature")
        if not signature:
            return False
        validator = RequestValidator(settings.twilio_auth_token)
        url = public_url(req, settings)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if req.method != "POST" or (not body and not req.content_type):
            return validator.validate(url, {}, signature)
        if (req.content_type or "").startswith("application/x-www-form-urlencoded"):
            params = _MultiParams(form_pairs(text))
            if not form_signature_valid(settings.twilio_auth_token, url, params, signature):
                return False
            req.context.signed_form = params  # what was verified is what the edge parses
            return True
        if "bodySHA256=" in url:
            # JSON bodies: the signed URL carries the body's hash; the validator checks both.
            return validator.validate(url, text, signature)
        return False  # any other body is not covered by the signature: refuse it


def form_signature_valid(auth_token: str, url: str, params: _MultiParams, signature: str) -> bool:
    """Twilio's check of a form webhook (``RequestValidator.validate``), the same signatures accepted.

    Twilio signs the URL followed by each field name and value (names
    sorted, each name's distinct values sorted), HMAC-SHA1 with the auth
    token, base64; the URL as Twilio saw it may or may not carry the
    default port, so both forms are tried. The library rebuilds the field
    part for each URL form; here it is built once (a fifth of an SMS
    webhook's own work). ``tests/test_edge.py`` checks both agree.
    """
    fields = "".join(name + value for name in sorted(params) for value in sorted(set(params.getall(name))))
    key, given = auth_token.encode("utf-8"), signature.encode("utf-8")
    valid = False
    for form in _url_forms(url):  # both, always: no early exit
        mac = hmac.new(key, (form + fields).encode("utf-8"), hashlib.sha1)
        valid |= hmac.compare_digest(base64.b64encode(mac.digest()), given)
    return valid


@functools.lru_cache(maxsize=256)  # a handful of routes behind one public URL
def _url_forms(url: str) -> tuple[str, str]:
    """The URL without and with its default port, as ``RequestValidator.validate`` tries them."""
    parsed = urlparse(url)
    return remove_port(parsed), add_port(parsed)


def helpscout_signature(secret: str, body: bytes) -> str:
    """Return the base64 HMAC-SHA1 Help Scout puts in X-HelpScout-Signature."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()).decode("ascii")


class HelpScoutSignature:
    """Verify ``X-HelpScout-Signature`` with the webhook secret; a forgery gets 401."""

    failure_status = 401
    secret_setting = "helpscout_webhook_secret"

    def verify(self, req, body: bytes, settings) -> bool:
        signature = req.get_header("X-HelpScout-Signature")
        secret = getattr(settings, self.secret_setting, "")
        if not signature or not secret:  # an empty key would let anyone sign
            return False
        expected = helpscout_signature(secret, body)
        return hmac.compare_digest(expected, signature.strip())


class HelpScoutAppSignature(HelpScoutSignature):
    """The (legacy) sidebar app's signature: same scheme, the app's own secret.

    Without HELPSCOUT_APP_SECRET every request is refused (401).
    """

    secret_setting = "helpscout_app_secret"


@hookimpl
def bling_verifiers():
    return {"twilio": TwilioSignature(), "helpscout": HelpScoutSignature(), "helpscout_app": HelpScoutAppSignature()}
