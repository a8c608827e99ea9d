"""Answer each step of a call with TwiML: ring the mailbox's group, screen, then voicemail.

Runs in the request (``respond = "chain"``) on every call route, reading
only configuration, so Twilio gets its answer at once:

- ``incoming`` (the number's "A call comes in"): greeting, then ``<Dial>``
  of every ``ring`` number at once with the hotline as caller ID; with no
  ring numbers, or outside business ``hours``, straight to voicemail (after
  the ``after_hours_greeting`` when closed).
- ``screen``: the whisper an answering phone hears ("Hotline call from …
  Press any key to accept."); no key hangs up that leg, so a personal
  voicemail box never takes the call. ``accept``: the key was pressed.
- ``dial_done``: bridged → hang up (the call is over); anything else → voicemail.
- ``voicemail``: the prompt and ``<Record>`` (beep, ``max_voicemail_seconds``,
  transcribed) with its callbacks; a caller whose number is hidden hears the
  ``voicemail_failure_reply`` instead, since Bling could not post or answer it.
- ``record_done``: hang up.
"""

from __future__ import annotations

from . import call_twiml

from . import calls
from bling.hookspecs import hookimpl
from bling.phones import to_e164


@hookimpl
def handle_event(context, event):
    answer = _STEPS.get(event.get("step"))
    return answer(context, event) if answer else None


def _incoming(context, event) -> str:
    options = context.mailbox_options
    voicemail_url = calls.callback_url(context, calls.VOICEMAIL_PATH)
    if not options.business_hours.is_open(calls.now(context)):
        return call_twiml.to_voicemail(options.after_hours_greeting, voicemail_url)
    if not options.ring:
        return call_twiml.to_voicemail(options.greeting, voicemail_url)
    hotline = context.mailbox.number
    screen_url = calls.callback_url(context, calls.SCREEN_PATH, caller=event["caller"], hotline=hotline) \
        if options.screen else None
    group = call_twiml.RingGroup(hotline=hotline, numbers=options.ring, timeout=options.ring_timeout,
                                 dial_done_url=calls.callback_url(context, calls.DIAL_DONE_PATH),
                                 screen_url=screen_url)
    return call_twiml.ring(options.greeting, group)


def _screen(context, event) -> str:
    accept_url = calls.callback_url(context, calls.ACCEPT_PATH, caller=event["caller"], hotline=event["hotline"])
    return call_twiml.screen(calls.spoken_number(event["caller"]), accept_url)


def _accept(context, event) -> str:
    return call_twiml.bridge() if event["digits"] else call_twiml.hang_up()


def _dial_done(context, event) -> str:
    if event["answered"] or event["call_status"] == "completed":  # talked, or the caller already hung up
        return call_twiml.hang_up()
    return call_twiml.to_voicemail("", calls.callback_url(context, calls.VOICEMAIL_PATH))


def _voicemail(context, event) -> str:
    options = context.mailbox_options
    caller = to_e164(event["caller"])
    if caller is None:
        return call_twiml.say_and_hang_up(options.voicemail_failure_reply)
    voicemail = call_twiml.Voicemail(
        prompt=options.voicemail_prompt,
        max_seconds=options.max_voicemail_seconds,
        record_done_url=calls.callback_url(context, calls.RECORD_DONE_PATH),
        recording_url=calls.callback_url(context, calls.RECORDING_PATH, caller=caller, hotline=context.mailbox.number),
        transcription_url=calls.callback_url(context, calls.TRANSCRIPTION_PATH),
    )
    return call_twiml.record(voicemail)


def _record_done(context, event) -> str:
    return call_twiml.hang_up()


_STEPS = {
    "incoming": _incoming,
    "screen": _screen,
    "accept": _accept,
    "dial_done": _dial_done,
    "voicemail": _voicemail,
    "record_done": _record_done,
}
