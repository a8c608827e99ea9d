"""The voicemail ended (route ``twilio-voice-record-done``, the ``<Record action>``): hang up.

The recording itself arrives later, on its own route (plugin ``voicemail``).
"""

from __future__ import annotations

from . import call_twiml
from bling.hookspecs import hookimpl


@hookimpl
def handle_event(context, event):
    return call_twiml.hang_up()
