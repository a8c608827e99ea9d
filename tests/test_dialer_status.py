"""The dialer page follows its call in plain words (plugin dialer_status)."""

from __future__ import annotations

from dialer_legs import call, env, press, token  # noqa: F401 (fixtures: call, env, token)
from dialer_support import agent_status, status, supporter_status, token_for


def test_page_follows_the_call_in_plain_words(client, services, call, token):
    def shown():
        body = status(client, token, call["id"]).json
        return body["state"], body["message"], body["final"]

    assert shown() == ("calling", "Calling you…", False)
    agent_status(client, call["id"], "ringing")
    assert shown() == ("calling", "Calling you… your phone should be ringing.", False)
    agent_status(client, call["id"], "in-progress")
    assert shown() == ("answer", "Answer, then press any key to be connected to (617) 555-0123.", False)
    press(client, call)
    assert shown() == ("connecting", "Connecting you to (617) 555-0123…", False)
    supporter_status(client, call["id"], "in-progress")
    assert shown() == ("connected", "Connected to (617) 555-0123.", False)
    supporter_status(client, call["id"], "completed", CallDuration="192")
    assert shown() == ("ended", "Call ended after 3 min 12 s.", True)


def test_status_only_for_the_link_that_placed_the_call(client, services, call):
    other = token_for(services, conversation_id=6000)
    resp = status(client, other, call["id"])
    assert resp.status_code == 404 and resp.json["message"] == "This link placed no such call."
