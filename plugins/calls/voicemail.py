"""Post a voicemail into the caller's Help Scout conversation, with its audio attached.

Fed by Twilio's recording status callback for Bling's own ``<Record>``
(route ``twilio-voice-recording``) and by Studio flows through the
original voicemail endpoint (route ``twilio-voicemail``). The ``phone`` thread goes where the
caller's texts go (same threading rule), says who called and for how long,
and carries the recording's URL and — downloaded with the account's
credentials when it fits Help Scout's attachment limit — the audio itself.

A first contact is texted the mailbox's ``voicemail_auto_reply``. A
voicemail that finally cannot reach Help Scout texts the caller the
``voicemail_failure_reply``, once.
"""

from __future__ import annotations

from bling.clients.conversations import post_from_supporter, subject_for
from bling.errors import TransportError
from bling.clients.helpscout import HelpScoutError
from bling.hookspecs import hookimpl
from bling.phones import pretty, to_e164
from bling.words import describe_duration
from .recordings import recording_attachment

#: Help Scout's answer to a request body it will not take.
TOO_LARGE = 413


@hookimpl
def triage_event(context, event):
    if to_e164(event["caller"]) is None:
        return f"caller {event['caller']!r} is hidden: there is no one to thread or answer"
    if event["status"] == "absent":
        return "Twilio made no recording (absent)"
    return None


@hookimpl
def handle_event(context, event):
    phone = to_e164(event["caller"])
    context.state["supporter"] = phone
    subject = subject_for("Voicemail", phone)
    if event["status"] != "completed":
        text = (f"Voicemail from {pretty(phone)}: Twilio could not record it (recording {event['status']}). "
                "Please call them back.")
        post_from_supporter(context, phone, text, subject, thread_type="phone")
    else:
        attachment = recording_attachment(context, event["recording_sid"], event["recording_url"])
        _post_with_audio(context, phone, event, subject, attachment)
    _auto_reply(context, phone)
    return context.state.get("conversation_id")


def voicemail_text(phone: str, event: dict, note: str = "") -> str:
    """The thread text: who, how long, where to listen."""
    text = (f"Voicemail from {pretty(phone)}, {describe_duration(event['duration'])}.\n\n"
            f"Recording: {event['recording_url']}")
    return f"{text}\n\n({note})" if note else text


def _post_with_audio(context, phone: str, event: dict, subject: str, attachment: dict | None) -> None:
    """Post with the audio; if Help Scout refuses the size, post the URL alone."""
    note = _not_attached(context) if attachment is None else ""
    try:
        post_from_supporter(context, phone, voicemail_text(phone, event, note), subject, thread_type="phone",
                            attachments=[attachment] if attachment else None)
    except HelpScoutError as ex:
        if attachment is None or ex.status != TOO_LARGE:
            raise
        context.state["recording_not_attached"] = "Help Scout refused it as too large"
        post_from_supporter(context, phone, voicemail_text(phone, event, _not_attached(context)), subject,
                            thread_type="phone")


def _not_attached(context) -> str:
    reason = context.state.get("recording_not_attached")
    return f"The audio is not attached: {reason}." if reason else ""


def _auto_reply(context, phone: str) -> None:
    text = context.mailbox_options.voicemail_auto_reply.strip()
    if not text or not context.state.get("first_contact"):
        return
    try:
        context.state["auto_reply_sid"] = context.send_sms_once("auto_reply", phone, text)
    except TransportError as ex:
        if not ex.permanent:
            raise  # retried later; the voicemail already posted is not repeated
        context.state["auto_reply_error"] = ex.explanation  # e.g. a landline caller


@hookimpl
def handle_failure(context, event, error):
    phone = to_e164(event["caller"])
    if phone and "conversation_id" not in context.state:  # only if it never reached Help Scout
        context.send_sms_once("failure_reply", phone, context.mailbox_options.voicemail_failure_reply)
