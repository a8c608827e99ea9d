"""Place a call-back (route ``dialer-call``, POST): ring the agent from the hotline.

Takes only the token and the agent's phone; the supporter's number comes
from the token alone. Refuses expired links, agent phones outside the
allowed countries or of costly types, and calls over the limits (per link,
per agent phone per hour, one at a time per link). Twilio is asked to ring
the agent; on answer it fetches the route ``dialer-answer``.

The call is placed in the request, not in a background job: the agent is
waiting on the page and must see at once if Twilio refused.
"""

from __future__ import annotations

from . import tokens
from .call_log import CallRefused, DialerCalls, Limits
from .numbers import NumberRefused, agent_phone, allowed_countries, served_numbers, supporter_refusal
from .ownership import refused, status_answer
from .twiml import ANSWER_ROUTE, STATUS_ROUTE
from bling.hookspecs import hookimpl
from bling.routing.urls import url_for
from bling.clients.twilio_api import TwilioAmbiguous, TwilioSendError, TwilioTransient

#: Routes whose URLs this step writes (TwiML callbacks, links): checked at start-up, bling/routing/chains.py.
NEEDS_ROUTES = (ANSWER_ROUTE, STATUS_ROUTE)

#: Seconds the agent's phone rings before Twilio gives up.
AGENT_RING_SECONDS = 30

#: Twilio call errors, in words for the agent (the number called is theirs).
CALL_ERRORS = {
    21211: "Twilio says your number is not a valid phone number.",
    21217: "Twilio says your number is not a valid phone number.",
    21210: "The hotline number cannot place calls with Bling's Twilio account.",
    21212: "The hotline number cannot place calls with Bling's Twilio account.",
    21214: "Twilio cannot reach your number.",
    21215: "The hotline's Twilio account is not allowed to call your country (geographic permissions).",
    21216: "Twilio has blocked calls to your number.",
    20003: "Bling's Twilio credentials were refused; tell an administrator.",
}


@hookimpl
def handle_event(context, event):
    settings, store = context.settings, context.store
    try:
        claims = tokens.check(settings.secret_key, event["token"], store.clock())
    except tokens.TokenRefused as ex:
        return refused(ex.message, 403)
    hotline = context.mailbox.number
    if hotline is None:
        return refused("This mailbox's hotline has no phone number to call from.", 409)
    reason = supporter_refusal(claims.supporter)
    if reason:
        return refused(reason, 403)
    try:
        agent = agent_phone(event["phone"], hotline, allowed_countries(settings, hotline), claims.supporter,
                            served_numbers(settings))
    except NumberRefused as ex:
        return refused(str(ex), 422)
    log = DialerCalls(store)
    try:
        call = log.open(settings.secret_key, claims, agent, hotline,
                        Limits(settings.dialer_calls_per_token, settings.dialer_calls_per_agent_hour))
    except CallRefused as ex:
        return refused(str(ex), 429)
    try:
        placed = context.twilio.create_call(
            from_=hotline, to=agent, url=url_for(context, ANSWER_ROUTE, call=call["id"]),
            status_callback=url_for(context, STATUS_ROUTE, call=call["id"], leg="agent"), timeout=AGENT_RING_SECONDS)
    except TwilioAmbiguous as ex:  # it may ring: its callbacks will tell
        context.logger.warning("call %s: Twilio did not confirm the call: %s", call["id"], ex)
        call = log.unconfirmed(call["id"], "Twilio did not confirm the call")
    except TwilioTransient as ex:
        context.logger.warning("call %s: Twilio did not take the call: %s", call["id"], ex)
        call = log.failed(call["id"], "Twilio could not take the call right now; try again in a moment.")
        return status_answer(call, 503)
    except TwilioSendError as ex:
        context.logger.warning("call %s: Twilio refused the call: %s", call["id"], ex)
        call = log.failed(call["id"], CALL_ERRORS.get(ex.code, ex.explanation))
        return status_answer(call, 502)
    else:
        call = log.placed(call["id"], placed["sid"], placed["status"])
    context.logger.info("call %s: ringing the agent for conversation %s", call["id"], claims.conversation_id)
    return status_answer(call, 201)
