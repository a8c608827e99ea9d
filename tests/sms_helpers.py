"""Helpers shared by the SMS-feature tests (opt-outs, delivery status, attachments…)."""

from __future__ import annotations

import copy

from support import load_form, load_json, post_helpscout, post_twilio



def sms_sid(n: int) -> str:
    return f"SM{n:032x}"


def text(client, body: str, n: int, form: str = "sms_basic", **overrides):
    """The supporter texts ``body`` (message sid number ``n``); Bling must answer 200."""
    sid = sms_sid(n)
    resp = post_twilio(client, "/bling/twilio_sms", load_form(form, Body=body, MessageSid=sid, SmsSid=sid,
                                                              SmsMessageSid=sid, **overrides))
    assert resp.status_code == 200, resp.text
    return resp


def agent_reply(client, thread_id: int = 90003, body: str | None = None, event: str = "convo.agent.reply.created",
                payload: dict | None = None, **thread_changes):
    """An agent's reply webhook (tests/fixtures/helpscout/agent_reply_v2.json), newest thread changed."""
    payload = copy.deepcopy(payload or load_json("agent_reply_v2"))
    newest = payload["_embedded"]["threads"][0]
    newest["id"] = thread_id
    if body is not None:
        newest["body"] = body
    newest.update(thread_changes)
    resp = post_helpscout(client, "/bling/helpscout_webhook", payload, event=event)
    assert resp.status_code == 204, resp.text
    return payload


def twilio_posts(vcr) -> list:
    """The Twilio POSTs sent so far, in the order sent (``vcr.requests`` is the whole cassette)."""
    return sent(vcr, "POST", "", host="twilio")


def sent(vcr, method: str, path_part: str, host: str = "") -> list:
    """Requests like this that Bling sent and the cassette answered, in the order sent."""
    return [r for r in vcr.played_requests if r.method == method and path_part in r.path and host in r.host]


def played(vcr, method: str, path_part: str) -> int:
    """How many times requests like this were played so far (vcr.requests is the cassette, play_counts what ran)."""
    return sum(count for i, count in vcr.play_counts.items()
               if vcr.requests[i].method == method and path_part in vcr.requests[i].path)


def drain_until_dead(services, clock) -> dict:
    """Run the queue through every attempt (the clock moved past each retry); the summed outcomes."""
    from bling.jobs.worker import MAX_ATTEMPTS, drain

    outcomes: dict = {}
    for _ in range(MAX_ATTEMPTS + 2):
        for outcome, count in drain(services).items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
        clock.advance(4000)
    return outcomes
