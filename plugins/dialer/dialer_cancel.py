"""Cancel a call-back from the page (route ``dialer-cancel``).

The call is marked cancelled first, so any TwiML Twilio asks for later
hangs up (no supporter is dialled after a cancel, whatever the race).
Then Twilio is told to end the agent's call: ``canceled`` while it is
queued or ringing, ``completed`` once answered.
"""

from __future__ import annotations

from .call_log import TERMINAL, DialerCalls
from .outcome import progress
from .ownership import own_call, status_answer
from bling.hookspecs import hookimpl
from bling.clients.twilio_api import TwilioSendError


@hookimpl
def handle_event(context, event):
    call, refusal = own_call(context, event)
    if refusal:
        return refusal
    if progress(call).final:
        return status_answer(call)
    log = DialerCalls(context.store)
    call = log.request_cancel(call["id"])
    if call["agent_sid"] and call["agent_status"] not in TERMINAL:
        try:
            _end(context, log, call)
        except TwilioSendError as ex:  # the call still hangs up at its next TwiML request
            context.logger.warning("call %s: Twilio did not end the call: %s", call["id"], ex)
    call = log.get(call["id"])
    return status_answer(call)


def _end(context, log: DialerCalls, call: dict) -> None:
    answered = call["agent_status"] == "in-progress"
    status = context.twilio.end_call(call["agent_sid"], "completed" if answered else "canceled")
    if status == "in-progress":  # answered while we cancelled it: hang it up
        status = context.twilio.end_call(call["agent_sid"], "completed")
    if status in TERMINAL:
        log.leg_status(call["id"], "agent", status)
