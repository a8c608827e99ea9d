"""The sandbox's Twilio: the fake (bling_fakes/twilio.py) under /sandbox/twilio, with phones that answer.

What the sandbox adds to the fake: a text Bling sends goes out and reaches
the sandbox phone, and Twilio reports each step to its StatusCallback,
signed (a WhatsApp message also to its sender's status callback URL when it
names none, and it is ``read`` after ``delivered``; one sent outside the
24-hour window ``failed`` with ErrorCode 63016); a call Bling places (Call back) is answered at once by the fake
phone, and its TwiML is walked in a thread by the same code as ``bling
simulate call``.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from bling_fakes.simulate import CallOptions, Target, simulate_call
from bling_fakes.state import FakeState
from bling_fakes.twilio import WHATSAPP, TwilioFake

log = logging.getLogger("bling.sandbox")

PREFIX = "/sandbox/twilio"
DELIVERY_STEP_SECONDS = 0.5  # queued → sent → delivered, each after this long
RING_SECONDS, TALK_SECONDS = 2.0, 5  # a Call back: the phones ring, then the agent and supporter talk

_deliveries: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()


def finish_deliveries(timeout: float = 5.0) -> None:
    """Wait for texts still on their way (their status callbacks), e.g. before Bling stops."""
    for thread in list(_deliveries):
        thread.join(timeout)


def sandbox_twilio(state: FakeState, settings) -> TwilioFake:
    """The fake Twilio account of the sandbox's generated credentials, its texts delivered and calls answered."""
    sid = settings.twilio_account_sid

    def target() -> Target:
        return Target.from_settings(settings, settings.public_base())

    def deliver(row: dict, status_callback: str | None) -> None:
        """The text goes out and reaches the phone; Twilio reports each step to StatusCallback, signed."""
        to_bling = target()
        whatsapp = row["from_"].startswith(WHATSAPP)
        extra: list[tuple[str, str]] = []
        steps: tuple[str, ...] = ("sent", "delivered")
        if whatsapp:
            sender = state.sender(sender_id=row["from_"]) or {"sid": "", "webhook": {}}
            status_callback = status_callback or sender["webhook"].get("status_callback_url")
            extra = [("ChannelPrefix", "whatsapp"), ("ChannelToAddress", row["to"][len(WHATSAPP):]),
                     ("ChannelInstallSid", sender["sid"])]
            steps = ("failed",) if row.get("error_code") else ("sent", "delivered", "read")
        for status in steps:
            time.sleep(DELIVERY_STEP_SECONDS)
            state.set_message_status(row["sid"], status)
            if not status_callback or not to_bling.is_ours(status_callback.split("#", 1)[0]):
                continue
            form = [("SmsSid", row["sid"]), ("SmsStatus", status), ("MessageStatus", status), ("To", row["to"]),
                    ("MessageSid", row["sid"]), ("AccountSid", sid), ("From", row["from_"]),
                    ("ApiVersion", "2010-04-01")] + extra
            if status == "failed" and row.get("error_code"):
                form += [("ErrorCode", str(row["error_code"]))]
            try:
                to_bling.post_twilio(status_callback, form)
            except Exception as ex:  # Bling down: Twilio gives up on a callback too
                log.warning("sandbox: status callback to %s failed: %s", status_callback, type(ex).__name__)

    def answer(call: dict, form: dict) -> None:
        """The fake phone answers; Twilio fetches the call's Url and follows its TwiML."""
        options = CallOptions(answer="answered", status_callback=form.get("StatusCallback") or None,
                              ring_seconds=RING_SECONDS, talk_seconds=TALK_SECONDS)
        lines: list[str] = [f"{call['to']} rings, then answers (a sandbox phone)"]
        state.set_call(call["sid"], "ringing", lines)
        try:
            simulate_call(target(), call["from_"], call["to"], options, on_line=lines.append, start_url=form["Url"],
                          direction="outbound-api", call_sid=call["sid"], on_leg=state.note_leg)
            state.set_call(call["sid"], "completed", lines)
        except Exception as ex:  # the page shows what went wrong
            lines.append(f"the call failed: {type(ex).__name__}: {ex}")
            state.set_call(call["sid"], "failed", lines)

    def on_message(row: dict, status_callback: str | None) -> None:
        thread = threading.Thread(target=deliver, args=(row, status_callback), daemon=True, name="sandbox-delivery")
        thread.start()
        _deliveries.add(thread)

    def on_call(call: dict, form: dict) -> None:
        threading.Thread(target=answer, args=(call, form), daemon=True, name="sandbox-call").start()

    return TwilioFake(state, sid, settings.twilio_auth_token, on_message=on_message, on_call=on_call)
