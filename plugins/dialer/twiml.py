"""What each leg of a call-back hears (TwiML, built with the twilio library).

1. Twilio rings the agent (``Url``: route ``dialer-answer``). On answer:
   "Press any key to be connected to …" in a ``<Gather numDigits=1>``; with
   no key (a voicemail box never presses one) the call hangs up.
2. The key press (route ``dialer-connect``) dials the supporter with the
   hotline as caller id; the supporter leg reports to route ``dialer-call-status``.

Callback URLs carry the call id (``bling.routing.urls.url_for``: absolute,
query sorted); Twilio signs them with the rest of the URL.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from bling.routing.urls import url_for
from bling.words import spoken_number

#: Names (in routes.toml) of the routes Twilio calls back during a call-back.
ANSWER_ROUTE = "dialer-answer"
CONNECT_ROUTE = "dialer-connect"
STATUS_ROUTE = "dialer-call-status"
#: Seconds the agent has to press a key after the prompt.
KEY_TIMEOUT_SECONDS = 8
#: Seconds the supporter's phone rings before the call gives up.
SUPPORTER_RING_SECONDS = 30
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")


def agent_prompt(context, call: dict) -> str:
    """On the agent's answer: ask for a key before anyone else is called."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=url_for(context, CONNECT_ROUTE, call=call["id"]), method="POST",
                             timeout=KEY_TIMEOUT_SECONDS, finish_on_key="", action_on_empty_result=False)
    gather.say(f"Press any key to be connected to {spoken_number(call['supporter'])}.", loop=2)
    response.say("No key was pressed. Goodbye.")
    response.hangup()
    return str(response)


def bridge(context, call: dict) -> str:
    """After the key press: dial the supporter, showing the hotline number."""
    response = VoiceResponse()
    response.say("Connecting.")
    dial = response.dial(caller_id=call["hotline"], timeout=SUPPORTER_RING_SECONDS)
    dial.number(call["supporter"], status_callback=url_for(context, STATUS_ROUTE, call=call["id"], leg="supporter"),
                status_callback_event=" ".join(CALL_EVENTS), status_callback_method="POST")
    response.say("The call has ended. Goodbye.")
    response.hangup()
    return str(response)


def hang_up(words: str | None = None) -> str:
    """End the agent's leg, optionally saying why."""
    response = VoiceResponse()
    if words:
        response.say(words)
    response.hangup()
    return str(response)
