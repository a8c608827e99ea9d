"""Which call a request may touch.

Status and cancel requests from the page name a call id; the id alone is
not enough (it must belong to the token's link), and the link keeps
working for this a few hours after it expired so a call placed in its last
minute can still be followed and hung up. Twilio's TwiML requests must be
about the call's own agent leg.
"""

from __future__ import annotations

from dataclasses import asdict

from bling.phones import to_e164
from . import tokens
from .call_log import DialerCalls
from .outcome import progress
from .page import json_answer


def refused(message: str, status: int) -> dict:
    """A JSON refusal the page shows as a final status."""
    return json_answer({"state": "failed", "message": message, "final": True}, status)


def status_answer(call: dict, status: int = 200) -> dict:
    """The call's live status for the page: ``{"call", "state", "message", "final"}``."""
    return json_answer({"call": call["id"], **asdict(progress(call))}, status)


def own_call(context, event) -> tuple[dict | None, dict | None]:
    """(the call, None) if this request's link placed it, else (None, an answer saying why not)."""
    try:
        claims = tokens.check(context.settings.secret_key, event["token"], context.store.clock(),
                              grace=tokens.FOLLOW_UP_GRACE_SECONDS)
    except tokens.TokenRefused as ex:
        return None, refused(ex.message, 403)
    call = DialerCalls(context.store).get(event["call"])
    if call is None or call["token_id"] != claims.token_id:
        return None, refused("This link placed no such call.", 404)
    return call, None


def agent_leg(call: dict | None, event: dict) -> bool:
    """True if Twilio's request is about this call's agent leg (its SID and number)."""
    return (call is not None and call["agent_sid"] in (None, event["call_sid"])
            and to_e164(event["to"]) == call["agent_phone"])
