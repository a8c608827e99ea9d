"""A voicemail recording as a Help Scout attachment: downloaded with the account's
credentials and attached when it fits, so agents can listen inside Help Scout.

Help Scout documents a 10 MB limit for attachments; the audio travels
base64-encoded in the JSON of the thread, which grows it by a third, so the
download stops at the size whose encoding still fits. A recording too big
to attach, not downloadable, or still unavailable after a few tries is
posted as its URL alone — the voicemail itself is never held up for good
by its audio.
"""

from __future__ import annotations

import base64

from bling.errors import TransportError

#: Help Scout's attachment limit (10 MB per its docs), for the encoded data.
HELPSCOUT_ATTACHMENT_LIMIT = 10 * 1024 * 1024
#: Largest recording whose base64 encoding stays within the limit.
MAX_RECORDING_BYTES = HELPSCOUT_ATTACHMENT_LIMIT * 3 // 4
#: Attempts of a voicemail job during which a failed download is retried;
#: after that the voicemail is posted with the recording URL only.
DOWNLOAD_ATTEMPTS = 3

_EXTENSIONS = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/wav": "wav", "audio/x-wav": "wav",
               "audio/wave": "wav"}


def recording_attachment(context, recording_sid: str, recording_url: str) -> dict | None:
    """The recording as ``{"fileName", "mimeType", "data"}``, or None to post the URL alone.

    A failure that may pass (Twilio not ready, a 5xx) is raised while the
    job has attempts to spare, so the worker retries it later.
    """
    try:
        found = context.twilio.download_recording(recording_url, MAX_RECORDING_BYTES)
    except TransportError as ex:
        if not ex.permanent and context.attempt < DOWNLOAD_ATTEMPTS:
            raise
        context.state["recording_not_attached"] = getattr(ex, "explanation", str(ex))
        context.logger.warning("voicemail %s posted without its audio: %s", recording_sid, ex)
        return None
    if found is None:
        context.state["recording_not_attached"] = "it is larger than Help Scout's attachment limit"
        return None
    audio, mime = found
    context.state.pop("recording_not_attached", None)  # an earlier attempt's reason no longer holds
    extension = _EXTENSIONS.get(mime, "mp3")
    return {"fileName": f"voicemail-{recording_sid or 'recording'}.{extension}", "mimeType": mime,
            "data": base64.b64encode(audio).decode("ascii")}
