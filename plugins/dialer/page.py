"""The dialer's HTML pages and JSON answers, with the headers that keep them safe.

The page is one self-contained document (HTML, CSS and vanilla JS from
``plugins/dialer/templates/``) so its Content-Security-Policy can forbid everything
else: scripts and styles run only with this response's nonce, and the page
may talk only to its own origin. ``Referrer-Policy: same-origin`` keeps the
token in the URL from leaking to any other site, ``no-store`` keeps it out
of caches, and framing is refused (no clickjacking of the Dial button).
"""

from __future__ import annotations

import html
import json
import secrets
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from string import Template

from bling.phones import phonenumbers, pretty, region_of
from bling.routing.urls import route_path
from .tokens import Claims

#: Names (in routes.toml) of the routes the page's script talks to: Dial, the live status, Cancel.
CALL_ROUTE = "dialer-call"
STATUS_ROUTE = "dialer-status"
CANCEL_ROUTE = "dialer-cancel"
POLL_MILLISECONDS = 1000

BASE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=None)
def _template(name: str) -> str:
    return (Path(__file__).parent / "templates" / name).read_text(encoding="utf-8")


def _page_headers(nonce: str) -> dict:
    policy = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
              "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    return {**BASE_HEADERS, "Content-Security-Policy": policy}


def script_paths(context) -> dict[str, str]:
    """Where the page's script sends Dial, follows the call and sends Cancel: the routes' paths.

    Paths alone, not URLs: the page talks only to its own origin (``connect-src 'self'``).
    """
    return {"callUrl": route_path(context, CALL_ROUTE), "statusUrl": route_path(context, STATUS_ROUTE),
            "cancelUrl": route_path(context, CANCEL_ROUTE)}


def dialer_page(claims: Claims, token: str, csrf: str, hotline: str, calls_allowed: int, paths: dict[str, str],
                sandbox_phone: str | None = None) -> dict:
    """The dialer for one token: whom you call, your phone, Dial, live status, Cancel.

    ``paths``: ``script_paths`` of the request. ``sandbox_phone``: in the sandbox, a fake
    agent phone to suggest (the page says SANDBOX).
    """
    nonce = secrets.token_urlsafe(16)
    config = {"token": token, "csrf": csrf, "callUrl": paths["callUrl"], "statusUrl": paths["statusUrl"],
              "cancelUrl": paths["cancelUrl"], "pollMs": POLL_MILLISECONDS}
    number = f" (conversation #{claims.conversation_number})" if claims.conversation_number else ""
    expires = datetime.fromtimestamp(claims.expires_at, timezone.utc).strftime("%H:%M")
    body = Template(_template("dialer.html")).substitute(
        nonce=nonce, css=_template("dialer.css"), js=_template("dialer.js"),
        supporter=html.escape(pretty(claims.supporter)), conversation=html.escape(number),
        hotline=html.escape(pretty(hotline)), placeholder=html.escape(_example(hotline)),
        expires=expires, calls=calls_allowed, config=_script_json(config), sandbox=_sandbox_banner(sandbox_phone))
    return {"body": body, "content_type": "text/html; charset=utf-8", "status": 200, "headers": _page_headers(nonce)}


def _sandbox_banner(phone: str | None) -> str:
    if phone is None:
        return ""
    return ('<p class="sandbox" data-testid="sandbox-banner"><strong>SANDBOX</strong>: fake phones, nobody real is called. '
            f'Enter a sandbox agent phone, e.g. <code>{html.escape(phone)}</code>.</p>')


def refusal_page(title: str, message: str, status: int) -> dict:
    """A page that says plainly why nothing can be done here."""
    nonce = secrets.token_urlsafe(16)
    body = Template(_template("refused.html")).substitute(
        nonce=nonce, css=_template("dialer.css"), title=html.escape(title), message=html.escape(message))
    return {"body": body, "content_type": "text/html; charset=utf-8", "status": status, "headers": _page_headers(nonce)}


def json_answer(data: dict, status: int = 200) -> dict:
    """A JSON answer for the page's script (never cached)."""
    return {"body": json.dumps(data), "content_type": "application/json", "status": status, "headers": BASE_HEADERS}


def _script_json(data: dict) -> str:
    """JSON safe inside <script>: no character can close the element."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _example(hotline: str) -> str:
    """An example mobile number of the hotline's country, as a placeholder."""
    example = phonenumbers.example_number_for_type(region_of(hotline), phonenumbers.PhoneNumberType.MOBILE)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL) if example else "+1 617 555 0199"
