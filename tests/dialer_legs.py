"""Shared by the tests of a call-back's legs (tests/test_dialer_{answer,connect,progress,status,cancel,note}.py):
a placed call, its token, and Twilio's requests about it."""

from __future__ import annotations

import pytest

from bling_local_plugins.dialer import tokens
from bling_local_plugins.dialer.call_log import DialerCalls, Limits
from dialer_support import (AGENT, AGENT_SID, SECRET_KEY, agent_status, dialer_env, supporter_status, token_for,
                            twilio_leg)
from sms_helpers import played
from support import HOTLINE

ANSWER, CONNECT = "/bling/dialer/answer", "/bling/dialer/connect"
XML = '<?xml version="1.0" encoding="UTF-8"?>'
HANG_UP = f"{XML}<Response><Hangup /></Response>"



@pytest.fixture
def env(store_url):
    return dialer_env(store_url)

@pytest.fixture
def token(services):
    return token_for(services)

@pytest.fixture
def call(services, token):
    """A call Twilio has accepted (as dialer_call leaves it): ringing the agent is next."""
    log = DialerCalls(services.store)
    opened = log.open(SECRET_KEY, tokens.read(SECRET_KEY, token), AGENT, HOTLINE, Limits(3, 10))
    return log.placed(opened["id"], AGENT_SID, "queued")

def row(services, call) -> dict:
    return DialerCalls(services.store).get(call["id"])

def answer(client, call, **fields):
    return twilio_leg(client, ANSWER, call["id"], "dialer_answer", **fields)

def press(client, call, **fields):
    return twilio_leg(client, CONNECT, call["id"], "dialer_gather", **fields)

def talk(client, call) -> None:
    """The agent answers and presses a key; the supporter's phone rings and they answer."""
    for step in ("initiated", "ringing"):
        agent_status(client, call["id"], step)
    agent_status(client, call["id"], "in-progress")
    answer(client, call)
    press(client, call)
    for step in ("initiated", "ringing", "in-progress"):
        supporter_status(client, call["id"], step)

def notes(vcr) -> int:
    """How many notes Bling wrote (played from the cassette, which holds one)."""
    return played(vcr, "POST", "/notes")

def all_done(services) -> bool:
    """Every accepted status callback's job finished (none failed on a second note)."""
    return set(services.store.counts()) == {"done"}
