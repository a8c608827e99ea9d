"""The agent pressed a key (route ``dialer-connect``, the ``<Gather>`` action).

Dials the supporter — the number from the call log, which came from the
signed token — with the hotline number as caller id; the supporter leg
reports to route ``dialer-call-status``. No key, a cancelled call, or a
request about another call hangs up.
"""

from __future__ import annotations

from .call_log import DialerCalls
from .ownership import agent_leg
from .twiml import STATUS_ROUTE, bridge, hang_up
from bling.hookspecs import hookimpl

#: Routes whose URLs this step writes (TwiML callbacks, links): checked at start-up, bling/routing/chains.py.
NEEDS_ROUTES = (STATUS_ROUTE,)


@hookimpl
def handle_event(context, event):
    log = DialerCalls(context.store)
    call = log.get(event["call_id"])
    if not agent_leg(call, event):
        return hang_up()
    if not event["digits"]:
        return hang_up("No key was pressed. Goodbye.")
    if not log.press(call["id"]):
        return hang_up("This call was cancelled. Goodbye.")
    return bridge(context, call)
