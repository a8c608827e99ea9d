"""Calls (the `voice` plugins): ring group, screening, voicemail, transcription and the call log."""

from bling.hookspecs import hookimpl

from .schemas import bling_schemas  # noqa: F401  (the call routes' payloads)

#: Modules that are plugins in their own right (named in routes.toml chains).
PLUGINS = ("voice", "voicemail", "transcription", "call_log")


@hookimpl
def bling_mailbox_options():
    from .options import VoiceOptions

    return VoiceOptions
