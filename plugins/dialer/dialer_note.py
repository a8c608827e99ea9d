"""Note a finished call-back in its conversation, once (background of ``call_status``).

Runs for each status callback Bling accepted; acts only when the whole call
is over (the agent's leg ended and, if the supporter was dialled, theirs
too). One job per call claims the note in the call log, and the note is an
effect of that job, so repeated or crossing callbacks never write twice.
If the supporter leg's last callback is late, the job waits for it a few
times, then notes the outcome as unknown.
"""

from __future__ import annotations

from bling.clients.conversations import add_note
from .call_log import TERMINAL, DialerCalls
from .outcome import WAIT_FOR_SUPPORTER_ATTEMPTS, is_over, note_text
from bling.errors import RetryLater
from bling.hookspecs import hookimpl

#: Seconds between looks for the supporter leg's last callback.
WAIT_SECONDS = 30


@hookimpl
def handle_event(context, event):
    if event["call_status"] not in TERMINAL:
        return None
    log = DialerCalls(context.store)
    call = log.get(event["call_id"])
    if call is None or call["agent_status"] not in TERMINAL:
        return None  # the agent leg's own end writes the note
    if not is_over(call) and context.attempt < WAIT_FOR_SUPPORTER_ATTEMPTS:
        raise RetryLater("the supporter leg has not reported its end yet", retry_after=WAIT_SECONDS)
    if not log.claim_note(call["id"], context.inbox_id):
        return None  # another callback's job wrote it
    context.state["dialer_call"] = call["id"]
    context.state["note_id"] = add_note(context, "dialer_note", call["conversation_id"], note_text(call))
    return context.state["note_id"]
