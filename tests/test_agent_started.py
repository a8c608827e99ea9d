"""Agent-started texts: an agent's new phone conversation is texted, and the answer threads into it.

Plugins agent_reply (accepts ``convo.created``) and agent_started (points the
supporter's map and identity at that conversation). [UNCONFIRMED] how Help
Scout types the first thread of a phone conversation an agent creates: the
fixture has it as the agent's published ``message``, as a reply reads back.
"""

from __future__ import annotations

import copy

import pytest

from bling.store.supporters import cached_match
from bling.jobs.worker import drain
from sms_helpers import text
from support import MAILBOX_ID, load_json, post_helpscout

DANA = "+16175550188"



def started(client, event="convo.created", payload=None):
    resp = post_helpscout(client, "/bling/helpscout_webhook", payload or load_json("agent_started_v2"), event=event)
    assert resp.status_code == 204
    return resp


@pytest.mark.vcr
def test_agent_started_conversation_is_texted_and_the_answer_threads_into_it(client, services, vcr):
    started(client)
    assert drain(services) == {"done": 1}
    assert services.store.conversation_for(MAILBOX_ID, DANA)["conversation_id"] == 5101
    assert cached_match(services.store, DANA)["customer_id"] == 777
    started(client, event="convo.agent.reply.created")  # the same first thread reported again: texted once
    assert drain(services) == {}
    text(client, "Yes please", 1, From=DANA)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # one GET of the customer, one SMS, one note, Dana's answer in 5101 as customer 777


def test_conversations_not_started_by_an_agent_are_not_texted(client, services):
    by_customer = load_json("agent_started_v2")
    thread = by_customer["_embedded"]["threads"][0]
    thread.update(type="customer", createdBy={"id": 777, "type": "customer"}, source={"type": "email", "via": "customer"})
    by_bling = copy.deepcopy(by_customer)
    by_bling["_embedded"]["threads"][0]["source"] = {"type": "api", "via": "customer"}
    email = load_json("agent_started_v2")
    email["type"] = "email"
    for payload in (by_customer, by_bling, email):
        started(client, payload=payload)
    assert services.store.rows() == []
