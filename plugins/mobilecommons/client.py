"""Mobile Commons XML API client: send a text, list received texts, read a profile.

Built on ``requests`` with HTTP basic auth (MOBILECOMMONS_USERNAME /
MOBILECOMMONS_PASSWORD); the wire format lives in
:mod:`bling_local_plugins.mobilecommons.shapes` (modelled, not recorded: see there).
Failures become typed exceptions, so callers branch on classes:

* ``MobileCommonsRefused`` (and ``…InvalidPhone``, ``…InvalidCampaign``,
  ``…OptedOut``): the API said no; retrying cannot help.
* ``MobileCommonsAuthError``: the credentials were refused; the job waits.
* ``MobileCommonsTransient``: 429/5xx/timeout/unreadable answer; retry.
* ``MobileCommonsAmbiguous``: a send may or may not have happened; look
  (the profile's messages) before sending again.

All are ``TransportError``s, so plugins handle them like any provider's.
The password never appears in a message or a log line.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Iterator

from bling import __version__
from . import shapes
from bling.errors import AmbiguousOutcome, TransportError
from bling.lazy_modules import LazyModule

requests = LazyModule("requests")  # loaded by the first call: web processes never call out
urllib3_exceptions = LazyModule("urllib3.exceptions")

log = logging.getLogger(__name__)

#: (connect, read) seconds.
TIMEOUT = (5.0, 30.0)
#: Pages followed at most in one window (100 000 messages at 100 a page).
MAX_PAGES = 1000


def user_agent() -> str:
    return f"bling/{__version__} python-requests/{requests.__version__}"


class MobileCommonsError(TransportError):
    """A Mobile Commons call failed; ``explanation`` is for an agent's note."""

    permanent = True

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None,
                 explanation: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.explanation = explanation or message


class MobileCommonsRefused(MobileCommonsError):
    """The API answered with an error document: sending the same again fails again."""


class MobileCommonsInvalidPhone(MobileCommonsRefused):
    """Mobile Commons cannot text this phone number."""


class MobileCommonsInvalidCampaign(MobileCommonsRefused):
    """The campaign id (BLING_MAILBOXES) is not one of the account's."""


class MobileCommonsOptedOut(MobileCommonsRefused):
    """The supporter opted out of the campaign."""


class MobileCommonsAuthError(MobileCommonsError):
    """401: the credentials were refused; the job is kept until they are fixed."""

    permanent = False


class MobileCommonsTransient(MobileCommonsError):
    """429, 5xx, a timeout or an unreadable answer: the same call may work later."""

    permanent = False


class MobileCommonsAmbiguous(MobileCommonsTransient, AmbiguousOutcome):
    """A send left Bling but no clear answer came back: look before sending again."""


_REFUSALS: dict[str, tuple[type[MobileCommonsRefused], str]] = {
    "invalid_phone": (MobileCommonsInvalidPhone, "Mobile Commons cannot text the supporter's phone number"),
    "invalid_campaign": (MobileCommonsInvalidCampaign,
                         "the hotline's Mobile Commons campaign id is not valid (check BLING_MAILBOXES)"),
    "opted_out": (MobileCommonsOptedOut, "the supporter has opted out of texts from this campaign"),
}


class MobileCommonsClient:
    """One Mobile Commons account."""

    def __init__(self, username: str, password: str, base_url: str = shapes.API_URL,
                 session: requests.Session | None = None, timeout: tuple[float, float] = TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.session = session or requests.Session()
        self.session.auth = (username, password)
        self.timeout = timeout
        self._password = password

    @classmethod
    def from_settings(cls, settings) -> "MobileCommonsClient":
        return cls(settings.mobilecommons_username, settings.mobilecommons_password, settings.mobilecommons_api_url)

    def __repr__(self) -> str:
        return f"MobileCommonsClient({self.base_url!r})"

    # -- endpoints -----------------------------------------------------------

    def send_message(self, campaign_id: str, phone: str, body: str) -> shapes.SentMessage:
        """Text ``body`` to ``phone`` (E.164) from ``campaign_id``; return the queued message."""
        root = self._call("POST", shapes.SEND_MESSAGE, data=shapes.send_params(campaign_id, phone, body))
        return self._shape(shapes.sent_message, root, write=True)

    def received_page(self, since: datetime, until: datetime, page: int,
                      limit: int = shapes.PAGE_LIMIT) -> shapes.MessagesPage:
        """One page of the messages supporters sent between ``since`` and ``until``."""
        root = self._call("GET", shapes.RECEIVED_MESSAGES, params=shapes.received_params(since, until, page, limit))
        return self._shape(shapes.messages_page, root, write=False)

    def received_messages(self, since: datetime, until: datetime, limit: int = shapes.PAGE_LIMIT,
                          on_page: Callable[[int, int | None], None] | None = None) -> Iterator[shapes.ReceivedMessage]:
        """Every received message in the window, page after page.

        Stops at ``page_count``, or (when the server does not say it) at the
        first page shorter than ``limit``.
        """
        for number in range(1, MAX_PAGES + 1):
            page = self.received_page(since, until, number, limit)
            if on_page is not None:
                on_page(number, page.page_count)
            yield from page.messages
            last = page.page_count if page.page_count is not None else None
            if (last is not None and number >= last) or (last is None and len(page.messages) < limit):
                return
        log.warning("Mobile Commons still had pages after %d; stopped there", MAX_PAGES)

    def profile(self, phone: str, include_messages: bool = False) -> shapes.Profile:
        """The supporter's profile (and message history when asked)."""
        root = self._call("GET", shapes.PROFILE, params=shapes.profile_params(phone, include_messages))
        return self._shape(shapes.profile, root, write=False)

    # -- the one request path ------------------------------------------------

    def _call(self, method: str, endpoint: str, *, params: dict | None = None, data: dict | None = None):
        write = method == "POST"
        what = f"Mobile Commons {method} {endpoint}"
        try:
            response = self.session.request(method, self.base_url + endpoint, params=params, data=data,
                                            headers={"Accept": "application/xml", "User-Agent": user_agent()},
                                            timeout=self.timeout)
        except (requests.Timeout, requests.ConnectionError) as ex:
            if write and not _nothing_sent(ex):
                raise MobileCommonsAmbiguous(f"{what}: {type(ex).__name__}; the text may have been sent",
                                             explanation="Mobile Commons did not confirm whether the text was sent") from None
            raise MobileCommonsTransient(f"{what}: {type(ex).__name__}; nothing was sent",
                                         explanation="Bling could not reach Mobile Commons") from None
        status = response.status_code
        log.debug("%s -> %s", what, status)
        if status == 401:
            raise MobileCommonsAuthError(f"{what}: 401, the credentials were refused (check MOBILECOMMONS_USERNAME "
                                         "and MOBILECOMMONS_PASSWORD)", status=status,
                                         explanation="Mobile Commons refused Bling's credentials")
        if status == 429 or status >= 500:
            kind = MobileCommonsAmbiguous if write and status != 429 else MobileCommonsTransient
            raise kind(f"{what}: HTTP {status}", status=status,
                       explanation="Mobile Commons is not answering right now")
        try:
            root = shapes.parse(response.content)
        except shapes.ShapeError as ex:
            kind = MobileCommonsAmbiguous if write else MobileCommonsTransient
            raise kind(f"{what}: HTTP {status}, {self._scrub(str(ex))}", status=status,
                       explanation="Mobile Commons gave an answer Bling cannot read") from None
        error = shapes.api_error(root)
        if error is not None:
            raise _refusal(what, error, status)
        if status >= 300:
            raise MobileCommonsRefused(f"{what}: HTTP {status}", status=status)
        return root

    def _shape(self, parse, root, *, write: bool):
        try:
            return parse(root)
        except shapes.ShapeError as ex:
            kind = MobileCommonsAmbiguous if write else MobileCommonsTransient
            raise kind(f"Mobile Commons answer not understood: {ex}",
                       explanation="Mobile Commons gave an answer Bling cannot read") from None

    def _scrub(self, text: str) -> str:
        return text.replace(self._password, "[redacted]") if self._password else text


def _refusal(what: str, error: shapes.ApiError, status: int) -> MobileCommonsRefused:
    kind, explanation = _REFUSALS.get(error.kind, (MobileCommonsRefused, None))
    explanation = explanation or f"Mobile Commons refused the text: {error.message}"
    return kind(f"{what}: error {error.code}: {error.message}", code=error.code, status=status,
                explanation=explanation)


def _nothing_sent(ex: requests.RequestException) -> bool:
    """True when no connection was made, so the request cannot have arrived."""
    if isinstance(ex, requests.ConnectTimeout):
        return True
    reason = getattr(ex.args[0], "reason", None) if ex.args else None
    return isinstance(reason, urllib3_exceptions.NewConnectionError)
