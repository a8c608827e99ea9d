"""The screened phone answered the whisper (route ``twilio-voice-accept``, the ``<Gather action>``).

A key press connects the caller to this phone (an empty ``<Response>``:
Twilio bridges); no key hangs up this leg, and the others keep ringing.
"""

from __future__ import annotations

from . import call_twiml
from bling.hookspecs import hookimpl


@hookimpl
def handle_event(context, event):
    return call_twiml.bridge() if event["digits"] else call_twiml.hang_up()
