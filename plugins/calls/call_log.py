"""Leave a trace in Help Scout of every call that is not a voicemail: answered or missed.

Runs in a worker after the call-flow routes answered Twilio (their
``background`` chain), posting ``phone`` threads by the same threading rule
as texts. Which request it follows it reads from the route's payload schema
(``twilio_dial_done`` or ``twilio_voicemail_offer`` in routes.toml):

- ``twilio_dial_done``, bridged: "Call answered by <number>, <duration>." Twilio
  calls the ``<Dial action>`` once the bridged call has ended; the number
  that answered is read from Twilio (the ``DialCallSid`` leg's ``to``).
- ``twilio_dial_done``, not bridged, and the caller already gone (``CallStatus``
  completed): they hung up while the phones rang — a missed call.
- ``twilio_voicemail_offer`` (the call was offered voicemail): once Twilio says the call
  has ended, a call with a recording is left to the ``voicemail`` plugin;
  one without hung up before the beep — a missed call.

A missed call leaves "Missed call from <number> …" (``missed_call_thread``,
on by default) and, with ``missed_call_text_back``, texts the caller
``missed_call_text`` once. Calls from hidden numbers cannot be threaded
and leave only the job's record.
"""

from __future__ import annotations

from . import calls
from bling.clients.conversations import post_from_supporter, subject_for
from bling.errors import RetryLater, TransportError
from bling.hookspecs import hookimpl
from bling.phones import pretty
from bling.words import describe_duration

#: Twilio call statuses of a call still going on.
ACTIVE_STATUSES = {"queued", "ringing", "in-progress"}
#: Extra seconds allowed past ``max_voicemail_seconds`` for the prompt and the recording's end.
VOICEMAIL_GRACE_SECONDS = 60
#: Seconds between later looks at a call that is still going on.
RECHECK_SECONDS = 30


@hookimpl
def handle_event(context, event):
    after = _AFTER.get(context.route.schema)  # the payload routes.toml names for the route (visible in `bling routes`)
    return after(context, event) if after else None


def _dial_done(context, event):
    if event["answered"]:
        return _answered(context, event)
    if event["call_status"] == "completed":
        return _missed(context, event, "they hung up while the phones rang")
    context.state["outcome"] = "sent to voicemail"
    return None


def _answered(context, event):
    phone = calls.caller_phone(event)
    context.state["outcome"] = "answered"
    if phone is None:
        return None
    context.state["supporter"] = phone
    agent, duration = None, event["dial_call_duration"]
    if event["dial_call_sid"]:
        try:
            leg = context.twilio.fetch_call(event["dial_call_sid"])
        except TransportError as ex:
            if not ex.permanent:
                raise
            context.logger.warning("could not read the answering leg %s: %s", event["dial_call_sid"], ex)
        else:
            agent, duration = leg["to"], duration or leg["duration"] or 0
    context.state["answered_by"] = agent
    who = pretty(agent) if agent else "a phone of the ring group"
    return post_from_supporter(context, phone, f"Call answered by {who}, {describe_duration(duration)}.",
                               subject_for("Call", phone), thread_type="phone")


def _after_voicemail_offer(context, event):
    options = context.mailbox_options
    if calls.caller_phone(event) is None:
        context.state["outcome"] = "hidden number: not recorded, nothing to log"
        return None
    if not options.missed_call_thread and not options.missed_call_text_back:
        return None  # nothing to do for a missed call, so no need to find out
    if context.attempt <= 1:  # the prompt is playing right now: look once it must be over
        raise RetryLater("the caller is being offered voicemail",
                         retry_after=options.max_voicemail_seconds + VOICEMAIL_GRACE_SECONDS)
    call = context.twilio.fetch_call(event["call_sid"])
    if call["status"] in ACTIVE_STATUSES:
        raise RetryLater(f"the call is still {call['status']}", retry_after=RECHECK_SECONDS)
    if context.twilio.call_recordings(event["call_sid"]):
        context.state["outcome"] = "voicemail"  # the voicemail plugin posts it
        return None
    return _missed(context, event, "they hung up before leaving a voicemail")


def _missed(context, event, how: str):
    options = context.mailbox_options
    phone = calls.caller_phone(event)
    context.state["outcome"] = "missed"
    if phone is None:
        return None
    context.state["supporter"] = phone
    if options.missed_call_thread:
        post_from_supporter(context, phone, f"Missed call from {pretty(phone)}: {how}.",
                            subject_for("Call", phone), thread_type="phone")
    text = options.missed_call_text.strip()
    if options.missed_call_text_back and text:
        try:
            context.state["text_back_sid"] = context.send_sms_once("missed_call_text", phone, text)
        except TransportError as ex:
            if not ex.permanent:
                raise
            context.state["text_back_error"] = ex.explanation  # e.g. a landline: the missed call is still logged
    return context.state.get("conversation_id")


#: What to log after each kind of call request, by the route's payload schema
#: (its ``background`` chain runs on the ``<Dial>`` action and on the voicemail offer).
_AFTER = {
    "twilio_dial_done": _dial_done,
    "twilio_voicemail_offer": _after_voicemail_offer,
}
