"""Add a voicemail's transcription to the caller's conversation, after the voicemail itself.

Twilio's ``transcribeCallback`` (for Bling's ``<Record>`` and for Studio
flows alike) arrives on its own schedule, sometimes before the recording
callback. So the transcription waits — retried later, never dropped —
until the voicemail with the same RecordingSid has been posted, then
follows it into the same conversation by the threading rule:
"Voicemail transcription: …", or "Transcription failed — listen to the
recording: <url>". If that voicemail never arrives or fails for good, the
transcription is posted anyway after a while, so its words are not lost.
"""

from __future__ import annotations

from bling.clients.conversations import post_from_supporter, subject_for
from bling.errors import RetryLater
from bling.hookspecs import hookimpl
from bling.phones import to_e164
from .schemas import recording_key

#: Attempts spent waiting for a voicemail Bling has not received at all.
WAIT_FOR_MISSING_ATTEMPTS = 6
#: A voicemail that is received but not yet posted (e.g. Help Scout is down) is waited for until this many
#: attempts are left, so the transcription is still posted on its own rather than lost.
LAST_ATTEMPTS_KEPT = 2
#: Longest single wait.
MAX_WAIT_SECONDS = 900


@hookimpl
def triage_event(context, event):
    if to_e164(event["caller"]) is None:
        return f"caller {event['caller']!r} is hidden: there is no conversation to add it to"
    return None


@hookimpl
def handle_event(context, event):
    phone = to_e164(event["caller"])
    context.state["supporter"] = phone
    _wait_for_voicemail(context, event)
    return post_from_supporter(context, phone, transcription_text(event), subject_for("Voicemail", phone),
                               thread_type="phone")


def transcription_text(event: dict) -> str:
    if event["status"] != "completed":
        return f"Transcription failed — listen to the recording: {event['recording_url']}"
    words = event["text"].strip() or "(no words were recognised)"
    return f"Voicemail transcription: {words}\n\nRecording: {event['recording_url']}"


def _wait_for_voicemail(context, event) -> None:
    """Raise RetryLater while the voicemail of this recording is still to be posted."""
    if not event["recording_sid"]:
        return
    voicemail = context.store.find_key(recording_key(event["recording_sid"]))
    if voicemail is None:
        if context.attempt < WAIT_FOR_MISSING_ATTEMPTS:
            raise RetryLater("its voicemail has not arrived yet", retry_after=15 * context.attempt)
        context.state["posted_without_voicemail"] = True
        return
    if voicemail["state"] == "pending":
        if context.attempt < context.max_attempts - LAST_ATTEMPTS_KEPT:
            wait = voicemail["next_attempt_at"] - context.store.clock() + 5
            raise RetryLater("its voicemail is not posted yet", retry_after=min(MAX_WAIT_SECONDS, max(5.0, wait)))
        context.state["posted_without_voicemail"] = True
