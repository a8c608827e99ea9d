"""What a call-back is doing and how it ended, in plain words.

One reading of a call-log row serves both the page's live status and the
note left in the conversation, so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from bling.words import describe_duration
from bling.phones import pretty
from .call_log import TERMINAL

#: How long the note job waits for the supporter leg's last callback.
WAIT_FOR_SUPPORTER_ATTEMPTS = 4


@dataclass(frozen=True)
class Progress:
    """For the page: a state name, words for people, and whether it is over."""

    state: str  # calling | answer | connecting | connected | cancelling | ended | failed
    message: str
    final: bool = False


@dataclass(frozen=True)
class Outcome:
    """How a finished call went: ``note`` for the conversation, ``page`` for the agent."""

    kind: str  # completed | no-answer | busy | failed | cancelled | agent-* | no-key | unknown
    note: str
    page: str


def is_over(call: dict) -> bool:
    """Both legs have finished (or the supporter was never called)."""
    if call["agent_status"] not in TERMINAL:
        return False
    return not call["pressed"] or call["supporter_status"] in TERMINAL


def progress(call: dict) -> Progress:
    """The live status the dialer page shows."""
    supporter = pretty(call["supporter"])
    agent, leg = call["agent_status"], call["supporter_status"]
    if agent == "failed" and call["error"] and not call["agent_sid"]:
        return Progress("failed", f"The call could not be placed: {call['error']}", final=True)
    if agent in TERMINAL:
        return Progress("ended", outcome(call).page, final=True)
    if call["cancel_requested"]:
        return Progress("cancelling", "Cancelling…")
    if call["pressed"]:
        if leg == "in-progress":
            return Progress("connected", f"Connected to {supporter}.")
        if leg in TERMINAL:
            return Progress("ended", outcome(call).page, final=True)
        return Progress("connecting", f"Connecting you to {supporter}…")
    if agent == "in-progress":
        return Progress("answer", f"Answer, then press any key to be connected to {supporter}.")
    if agent == "ringing":
        return Progress("calling", "Calling you… your phone should be ringing.")
    if call["error"]:
        return Progress("calling", "Calling you… (Twilio has not confirmed the call yet.)")
    return Progress("calling", "Calling you…")


def outcome(call: dict) -> Outcome:
    """How the call ended (call only once ``is_over`` or the agent leg ended)."""
    agent, leg = call["agent_status"], call["supporter_status"]
    if call["pressed"]:
        if leg == "completed":
            seconds = call["supporter_duration"]
            length = describe_duration(seconds) if seconds is not None else "duration unknown"
            return Outcome("completed", f"completed, {length}", f"Call ended after {length}.")
        if call["cancel_requested"] or leg == "canceled":
            return Outcome("cancelled", "cancelled before the supporter answered", "Cancelled.")
        words = {"no-answer": ("no answer", "The supporter did not answer."),
                 "busy": ("busy", "The supporter's line was busy."),
                 "failed": ("failed (Twilio could not reach the supporter's number)",
                            "The call to the supporter failed.")}
        if leg in words:
            return Outcome(leg, *words[leg])
        return Outcome("unknown", "outcome unknown (Twilio did not report the call to the supporter)",
                       "The call has ended.")
    if call["cancel_requested"] or agent == "canceled":
        return Outcome("cancelled", "cancelled before the supporter was called", "Cancelled.")
    if agent == "completed":
        return Outcome("no-key", "not connected: the agent's phone answered but no key was pressed "
                                 "(voicemail?), so the supporter was not called",
                       "No key was pressed, so the supporter was not called.")
    words = {"no-answer": ("not connected: the agent's phone did not answer", "Your phone did not answer."),
             "busy": ("not connected: the agent's phone was busy", "Your phone was busy."),
             "failed": ("not connected: the call to the agent's phone failed"
                        + (f" ({call['error']})" if call["error"] else ""), "The call to your phone failed.")}
    return Outcome(f"agent-{agent}", *words.get(agent, ("outcome unknown", "The call has ended.")))


def note_text(call: dict) -> str:
    """The note left in the conversation: who called whom, from where, and how it went."""
    who = call["agent_name"] or "An agent"
    verb = "called" if call["pressed"] else "tried to call"
    return (f"{who} {verb} {pretty(call['supporter'])} back from the hotline {pretty(call['hotline'])} "
            f"with Bling's dialer: {outcome(call).note}.")
