"""Screen an answering phone (route ``twilio-voice-screen``, the ``<Number url>`` whisper).

The phone hears "Hotline call from … Press any key to accept." in a
one-digit ``<Gather>`` whose action is the accept step; no key hangs up
that leg only, so a personal voicemail box never takes the call.
"""

from __future__ import annotations

from . import call_twiml, calls
from bling.hookspecs import hookimpl
from bling.routing.urls import url_for
from bling.words import spoken_number

#: Routes whose URLs this step writes (TwiML callbacks, links): checked at start-up, bling/routing/chains.py.
NEEDS_ROUTES = (calls.ACCEPT_ROUTE,)


@hookimpl
def handle_event(context, event):
    accept_url = url_for(context, calls.ACCEPT_ROUTE, caller=event["caller"], hotline=event["hotline"])
    return call_twiml.screen(spoken_number(event["caller"]), accept_url)
