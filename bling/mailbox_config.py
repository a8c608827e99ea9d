"""BLING_CONFIG: the optional TOML file of per-mailbox settings.

```toml
[defaults]                      # applies to every mailbox
auto_reply = "Thanks! We got your message."

[mailboxes.206906]              # one table per Help Scout mailbox id
auto_reply = "Thanks for texting the Boston hotline."
thread_cap = 90
```
Unknown keys are an error naming the file, the table and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields

from marshmallow import RAISE, Schema, ValidationError, fields as mfields, validate, validates_schema, post_load

from .errors import ConfigError
from .hours import BusinessHours, parse_hours
from . import voice_config as vc

DEFAULT_AUTO_REPLY = "We've received your message and will get back to you shortly."
DEFAULT_FAILURE_REPLY = (
    "Sorry, we could not receive your message. Please try again later or call us instead."
)
DEFAULT_AFTER_HOURS_REPLY = (
    "Thanks for your message. We're closed right now and will answer when we're back."
)
#: Twilio's own MMS cap; larger inbound media are linked instead of attached.
DEFAULT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class MailboxOptions:
    """Per-mailbox behaviour, each with a sane default."""

    auto_reply: str = DEFAULT_AUTO_REPLY
    failure_reply: str = DEFAULT_FAILURE_REPLY
    thread_cap: int = 90  # Help Scout refuses the 101st thread; keep headroom
    after_hours_reply: str = DEFAULT_AFTER_HOURS_REPLY  # outside ``hours``; once a local day; "" turns it off
    new_conversation_after_days: int | None = None  # a closed conversation idle this long is not reopened
    send_mms: bool | None = None  # agent attachments as MMS; None: yes for US/Canada hotline numbers
    attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES  # larger inbound media stay links
    timezone: str = "UTC"
    hours: tuple[str, ...] = ()  # empty: always open
    # -- calls (plugins voice, call_log, voicemail; see bling/voice_config.py) --
    ring: tuple[str, ...] = ()  # E.164 numbers rung at once (≤ 10); empty: straight to voicemail
    ring_timeout: int = vc.DEFAULT_RING_TIMEOUT  # seconds the phones ring before voicemail
    screen: bool = True  # an answering phone must press a key, so a personal voicemail cannot take the call
    greeting: str = ""  # said (or played, if an audio URL) when a call comes in; empty: none
    voicemail_prompt: str = vc.DEFAULT_VOICEMAIL_PROMPT  # said or played before the beep
    max_voicemail_seconds: int = vc.MAX_VOICEMAIL_SECONDS  # ≤ 120 so Twilio can transcribe
    after_hours_greeting: str = vc.DEFAULT_AFTER_HOURS_GREETING  # outside hours, before the voicemail prompt
    missed_call_thread: bool = True  # a caller who hangs up before the beep leaves a "missed call" thread
    missed_call_text_back: bool = False  # and is texted missed_call_text
    missed_call_text: str = vc.DEFAULT_MISSED_CALL_TEXT
    voicemail_auto_reply: str = vc.DEFAULT_VOICEMAIL_AUTO_REPLY  # texted after a first contact's voicemail
    voicemail_failure_reply: str = vc.DEFAULT_VOICEMAIL_FAILURE_REPLY  # texted once when a voicemail cannot be posted

    @property
    def business_hours(self) -> BusinessHours:
        """The parsed ``hours`` in ``timezone`` (validated when the file is read)."""
        return parse_hours(self.hours, self.timezone)


class _OptionsSchema(Schema):
    class Meta:
        unknown = RAISE

    auto_reply = mfields.String(validate=validate.Length(max=1600))
    failure_reply = mfields.String(validate=validate.Length(min=1, max=1600))
    thread_cap = mfields.Integer(validate=validate.Range(min=1, max=99))
    after_hours_reply = mfields.String(validate=validate.Length(max=1600))
    new_conversation_after_days = mfields.Integer(validate=validate.Range(min=1, max=3650))
    send_mms = mfields.Boolean()
    attachment_max_bytes = mfields.Integer(validate=validate.Range(min=0, max=20 * 1024 * 1024))
    timezone = mfields.String()
    hours = mfields.List(mfields.String())
    ring = vc.RingNumbers()
    ring_timeout = vc.ring_timeout_field()
    screen = mfields.Boolean()
    greeting = vc.SpokenOrPlayed()
    voicemail_prompt = vc.SpokenOrPlayed()
    max_voicemail_seconds = vc.voicemail_seconds_field()
    after_hours_greeting = vc.SpokenOrPlayed()
    missed_call_thread = mfields.Boolean()
    missed_call_text_back = mfields.Boolean()
    missed_call_text = vc.sms_text_field()
    voicemail_auto_reply = vc.sms_text_field()
    voicemail_failure_reply = vc.sms_text_field(required_text=True)

    @validates_schema
    def _hours_parse(self, data, **_kwargs):
        if "hours" in data or "timezone" in data:
            try:
                parse_hours(data.get("hours", []), data.get("timezone", "UTC"))
            except ValueError as ex:
                raise ValidationError(str(ex), "hours" if "hours" in data else "timezone") from None

    @post_load
    def _tuples(self, data, **_kwargs):
        if "hours" in data:
            data["hours"] = tuple(data["hours"])
        return data


class _FileSchema(Schema):
    class Meta:
        unknown = RAISE

    defaults = mfields.Nested(_OptionsSchema, load_default=dict)
    mailboxes = mfields.Dict(
        keys=mfields.String(validate=validate.Regexp(r"^\d+$", error="must be a mailbox id")),
        values=mfields.Nested(_OptionsSchema),
        load_default=dict,
    )


def load_mailbox_options(path: str | None) -> tuple[MailboxOptions, dict[int, MailboxOptions]]:
    """Return (defaults, options by mailbox id) from the file at ``path``."""
    if not path:
        return MailboxOptions(), {}
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"BLING_CONFIG: {path} does not exist") from None
    except tomllib.TOMLDecodeError as ex:
        raise ConfigError(f"{path}: TOML syntax error: {ex}") from None
    try:
        data = _FileSchema().load(raw)
    except ValidationError as ex:
        raise ConfigError(f"{path}: {_describe(ex.messages)}") from None
    defaults = MailboxOptions(**data["defaults"])
    known = {f.name for f in fields(MailboxOptions)}
    per_mailbox = {
        int(mailbox_id): MailboxOptions(**{**{k: getattr(defaults, k) for k in known}, **values})
        for mailbox_id, values in data["mailboxes"].items()
    }
    return defaults, per_mailbox


def _describe(messages, prefix: str = "") -> str:
    """Flatten marshmallow's nested error dict into 'a.b: message' parts."""
    if isinstance(messages, dict):
        parts = []
        for key, value in messages.items():
            if key == "value":  # Dict field nests value errors under 'value'
                parts.append(_describe(value, prefix))
            else:
                parts.append(_describe(value, f"{prefix}.{key}" if prefix else str(key)))
        return "; ".join(parts)
    if isinstance(messages, list):
        return f"{prefix}: {' '.join(str(m) for m in messages)}"
    return f"{prefix}: {messages}"
