"""Twilio's status callbacks move a call-back's legs forward (plugin dialer_progress)."""

from __future__ import annotations

from dialer_legs import call, env, row, talk, token  # noqa: F401 (fixtures: call, env, token)
from dialer_support import SUPPORTER_SID, agent_status


def test_supporter_sid_is_remembered(client, services, call):
    talk(client, call)
    assert row(services, call)["supporter_sid"] == SUPPORTER_SID


def test_a_late_or_repeated_callback_never_moves_a_leg_back(client, services, call):
    """Twilio's callbacks can arrive out of order. Planted bug: leg_status stores whatever arrives last."""
    agent_status(client, call["id"], "in-progress")
    agent_status(client, call["id"], "ringing")  # late
    assert row(services, call)["agent_status"] == "in-progress"
    agent_status(client, call["id"], "completed", CallDuration="20")
    agent_status(client, call["id"], "in-progress")  # a retry of an earlier one
    assert (row(services, call)["agent_status"], row(services, call)["agent_duration"]) == ("completed", 20)
