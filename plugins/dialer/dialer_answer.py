"""The agent answered a call-back (route ``dialer-answer``, signed by Twilio).

Answers "Press any key to be connected to <supporter>" in a one-digit
``<Gather>``; without a key the call hangs up, so the agent's voicemail can
never start a call to the supporter. A cancelled call, or a request that
is not this call's agent leg, is hung up at once.
"""

from __future__ import annotations

from .call_log import DialerCalls
from .ownership import agent_leg
from .twiml import CONNECT_ROUTE, agent_prompt, hang_up
from bling.hookspecs import hookimpl

#: Routes whose URLs this step writes (TwiML callbacks, links): checked at start-up, bling/routing/chains.py.
NEEDS_ROUTES = (CONNECT_ROUTE,)


@hookimpl
def handle_event(context, event):
    log = DialerCalls(context.store)
    call = log.get(event["call_id"])
    if not agent_leg(call, event):
        return hang_up()
    if call["cancel_requested"]:
        return hang_up("This call was cancelled. Goodbye.")
    log.leg_status(call["id"], "agent", "in-progress", sid=event["call_sid"])
    return agent_prompt(context, call)
