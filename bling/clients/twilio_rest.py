"""Twilio's 2010-04-01 REST API by path, through the twilio library's generic layer.

The library's resource classes (``client.api.v2010.account.messages`` and so on)
import the whole account tree on first use: about 80 modules, 6.8 MB in every
worker process (bench/README.md, "What the imports cost"). Bling calls a handful
of its endpoints, so it calls them through the same library's generic parts:
``Version`` (the client's auth, User-Agent, edge and region, its HTTP client,
and ``TwilioRestException`` built from Twilio's error body) and ``Page``
(paging by ``next_page_uri``). The form fields go in the order the resource
classes send them, so a request is the one the library would have made.

Records come back as Twilio's JSON: dicts with snake_case keys (``from``,
``date_created`` as RFC 2822 text; ``date`` turns it into a datetime).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from twilio.base import deserialize, values
from twilio.base.domain import Domain
from twilio.base.page import Page
from twilio.base.version import Version

#: What the resource classes send with each kind of request.
_FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
_READ = {"Accept": "application/json"}


class _Records(Page):
    """A page of plain records (the resource classes wrap each in an instance object)."""

    def get_instance(self, payload: dict[str, Any]) -> dict[str, Any]:
        return payload


class TwilioRest:
    """One account's 2010-04-01 API: ``path`` is relative to ``/2010-04-01/Accounts/<sid>``."""

    def __init__(self, client, base_url: str, account_sid: str) -> None:
        """``client`` is a ``twilio.rest.Client``: its ``request`` signs and sends every call."""
        self._version = Version(Domain(client, base_url), "2010-04-01")
        self._account = f"/Accounts/{account_sid}"

    def create(self, path: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """POST a new resource (a message, a call)."""
        return self._version.create(method="POST", uri=self._uri(path), data=_form(fields), headers=dict(_FORM))

    def update(self, path: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """POST changes to an existing resource (a call's status, a number's webhooks)."""
        return self._version.update(method="POST", uri=self._uri(path), data=_form(fields), headers=dict(_FORM))

    def fetch(self, path: str) -> dict[str, Any]:
        """GET one resource."""
        return self._version.fetch(method="GET", uri=self._uri(path), headers=dict(_READ))

    def stream(self, path: str, params: Mapping[str, Any], limit: int | None = None,
               page_size: int | None = None) -> Iterator[dict[str, Any]]:
        """GET a list, page after page, up to ``limit`` records (the library's paging rules)."""
        limits = self._version.read_limits(limit, page_size)
        query = _form({**params, "PageSize": limits["page_size"]})
        response = self._version.page(method="GET", uri=self._uri(path), params=query, headers=dict(_FORM))
        return self._version.stream(_Records(self._version, response), limits["limit"])

    def _uri(self, path: str) -> str:
        """``Messages.json`` → ``/Accounts/<sid>/Messages.json``; ``.json`` → the account itself."""
        return f"{self._account}{path}" if path.startswith(".") else f"{self._account}/{path}"


def _form(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Fields as the library sends them: unset (None) left out, lists repeated, in the given order."""
    return values.of({name: value for name, value in fields.items() if value is not None})


def date(value: Any) -> datetime | None:
    """A record's RFC 2822 date (``date_created``, ``date_sent``) as an aware datetime, as the library reads it."""
    if not value:
        return None
    parsed = deserialize.rfc2822_datetime(value)
    return parsed if isinstance(parsed, datetime) else None
