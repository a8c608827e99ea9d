"""Ringing the group ended (route ``twilio-voice-dial-done``, the ``<Dial action>``).

Bridged — or the caller already hung up — ends the call; anything else
(no answer, busy, failed, every phone screened out) goes to the voicemail
step. The route's ``background`` chain logs the call (plugin ``call_log``).
"""

from __future__ import annotations

from . import call_twiml, calls
from bling.hookspecs import hookimpl
from bling.routing.urls import url_for

#: Routes whose URLs this step writes (TwiML callbacks, links): checked at start-up, bling/routing/chains.py.
NEEDS_ROUTES = (calls.VOICEMAIL_ROUTE,)


@hookimpl
def handle_event(context, event):
    if event["answered"] or event["call_status"] == "completed":  # talked, or the caller already hung up
        return call_twiml.hang_up()
    return call_twiml.to_voicemail("", url_for(context, calls.VOICEMAIL_ROUTE))
