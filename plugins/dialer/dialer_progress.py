"""Follow a call-back's legs (route ``dialer-call-status``, Twilio status callbacks).

Moves the agent's or the supporter's leg forward in the call log (repeated
or late callbacks never move it back), so the page shows the live status
at once. The route's background chain (``dialer_note``) writes the note.
"""

from __future__ import annotations

from .call_log import DialerCalls
from bling.hookspecs import hookimpl


@hookimpl
def handle_event(context, event):
    DialerCalls(context.store).leg_status(event["call_id"], event["leg"], event["call_status"],
                                         sid=event["call_sid"], duration=event["call_duration"])
    return None  # Twilio ignores a status callback's answer: empty TwiML
