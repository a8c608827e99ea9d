"""Calls: ring group, screening, voicemail, transcription and the call log.

Each step of the call flow is a route of its own in routes.toml whose chain
names its own plugin (``voice_incoming`` … ``voice_record_done``), so
``bling routes`` shows what answers each request.
"""

from bling.hookspecs import hookimpl

from .schemas import bling_schemas  # noqa: F401  (the call routes' payloads)

#: Modules that are plugins in their own right (named in routes.toml chains).
PLUGINS = ("voice_incoming", "voice_screen", "voice_accept", "voice_dial_done", "voice_voicemail",
           "voice_record_done", "voicemail", "transcription", "call_log")


@hookimpl
def bling_mailbox_options():
    from .options import VoiceOptions

    return VoiceOptions
