"""A call comes in (route ``twilio-voice``, the number's "A call comes in"): ring the group, or voicemail.

Answers in the request (``respond = "chain"``) from configuration alone, so
Twilio gets its TwiML at once: the greeting, then ``<Dial>`` of every
``ring`` number at once with the hotline as caller ID (each answering phone
is screened first when ``screen`` is on); with no ring numbers, or outside
business ``hours``, straight to the voicemail step (after the
``after_hours_greeting`` when closed).
"""

from __future__ import annotations

from . import call_twiml, calls
from bling.hookspecs import hookimpl
from bling.routing.urls import url_for

#: Routes whose URLs this step writes (TwiML callbacks, links): checked at start-up, bling/routing/chains.py.
NEEDS_ROUTES = (calls.VOICEMAIL_ROUTE, calls.SCREEN_ROUTE, calls.DIAL_DONE_ROUTE)


@hookimpl
def handle_event(context, event):
    options = context.mailbox_options
    voicemail_url = url_for(context, calls.VOICEMAIL_ROUTE)
    if not options.business_hours.is_open(calls.now(context)):
        return call_twiml.to_voicemail(options.after_hours_greeting, voicemail_url)
    if not options.ring:
        return call_twiml.to_voicemail(options.greeting, voicemail_url)
    hotline = context.mailbox.number
    screen_url = url_for(context, calls.SCREEN_ROUTE, caller=event["caller"], hotline=hotline) \
        if options.screen else None
    group = call_twiml.RingGroup(hotline=hotline, numbers=options.ring, timeout=options.ring_timeout,
                                 dial_done_url=url_for(context, calls.DIAL_DONE_ROUTE),
                                 screen_url=screen_url)
    return call_twiml.ring(options.greeting, group)
