"""Offer voicemail (route ``twilio-voice-voicemail``): the prompt, a beep and ``<Record>``.

The ``voicemail_prompt``, then ``<Record>`` of at most
``max_voicemail_seconds``, transcribed, with its callbacks: the record-done
step, the recording (plugin ``voicemail``) and the transcription (plugin
``transcription``). A caller whose number is hidden hears the
``voicemail_failure_reply`` instead, since Bling could neither thread nor
answer the voicemail. The route's ``background`` chain logs a caller who
hangs up before the beep (plugin ``call_log``).
"""

from __future__ import annotations

from . import call_twiml, calls
from bling.hookspecs import hookimpl
from bling.phones import to_e164
from bling.routing.urls import url_for

#: Routes whose URLs this step writes (TwiML callbacks, links): checked at start-up, bling/routing/chains.py.
NEEDS_ROUTES = (calls.RECORD_DONE_ROUTE, calls.RECORDING_ROUTE, calls.TRANSCRIPTION_ROUTE)


@hookimpl
def handle_event(context, event):
    options = context.mailbox_options
    caller = to_e164(event["caller"])
    if caller is None:
        return call_twiml.say_and_hang_up(options.voicemail_failure_reply)
    voicemail = call_twiml.Voicemail(
        prompt=options.voicemail_prompt,
        max_seconds=options.max_voicemail_seconds,
        record_done_url=url_for(context, calls.RECORD_DONE_ROUTE),
        recording_url=url_for(context, calls.RECORDING_ROUTE, caller=caller, hotline=context.mailbox.number),
        transcription_url=url_for(context, calls.TRANSCRIPTION_ROUTE),
    )
    return call_twiml.record(voicemail)
