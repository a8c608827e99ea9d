"""The live status of a call-back (route ``dialer-status``, ``?call=<id>``), for the page.

Answers ``{"call", "state", "message", "final"}`` in plain words: calling
you…, answer and press a key…, connecting…, connected, ended (how), or the
failure. Only the link that placed the call can read it; a link still
works for this a few hours after it expired, so a late call can be followed.
"""

from __future__ import annotations

from .ownership import own_call, status_answer
from bling.hookspecs import hookimpl


@hookimpl
def handle_event(context, event):
    call, refusal = own_call(context, event)
    if refusal:
        return refusal
    return status_answer(call)
