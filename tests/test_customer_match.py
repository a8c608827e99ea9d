"""The right customer: a supporter already in Help Scout is recognised by phone (plugin customer_match)."""

from __future__ import annotations

from urllib.parse import unquote_plus

import pytest

from bling.store.supporters import cached_match
from bling.jobs.worker import drain
from sms_helpers import text
from support import MAILBOX_ID, SUPPORTER, plugin_module



@pytest.mark.vcr
def test_supporter_who_once_emailed_is_recognised(client, services, clock, vcr):
    """Found by phone; their e-mail conversation is left alone; texts post as them, by id."""
    text(client, "Hi, I need help with my ballot", 1)
    assert drain(services) == {"done": 1}
    assert cached_match(services.store, SUPPORTER)["customer_id"] == 321
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 7401
    clock.advance(60)
    text(client, "Are you there?", 2)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # one search by phone only; the second text is one write, as customer 321


@pytest.mark.vcr
def test_blings_own_or_another_numbers_customer_is_not_a_match(client, services, vcr):
    """The search finds Bling's blackhole customer and someone with another number: the blackhole identity it is."""
    text(client, "Hi, I need help with my ballot", 1)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    assert cached_match(services.store, SUPPORTER)["customer_id"] is None  # "no match", cached


@pytest.mark.vcr
def test_search_result_without_contacts_reads_the_customer(client, services, vcr):
    text(client, "Hi, I need help with my ballot", 1)
    assert drain(services) == {"done": 1}
    assert vcr.all_played  # GET /v2/customers/321, then a thread in their phone conversation
    assert cached_match(services.store, SUPPORTER) ["email"] == "jane@example.org"
    assert services.store.conversation_for(MAILBOX_ID, SUPPORTER)["conversation_id"] == 6002


@pytest.mark.vcr
def test_refused_search_falls_back_to_the_blackhole_identity(client, services, vcr):
    text(client, "Hi, I need help with my ballot", 1)
    assert drain(services) == {"done": 1}
    assert vcr.all_played
    assert cached_match(services.store, SUPPORTER)["customer_id"] is None


@pytest.mark.vcr
def test_known_supporter_is_not_searched(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    text(client, "Hi, I need help with my ballot", 1)
    assert drain(services) == {"done": 1}
    assert vcr.all_played and len(vcr.played_requests) == 2  # token + one thread
    assert cached_match(services.store, SUPPORTER) is None


def test_search_forms():

    plugin = plugin_module("customer_match")
    assert plugin.search_forms("+16175550123") == ["+16175550123", "6175550123"]
    assert plugin.search_forms("+447700900123") == ["+447700900123", "7700900123"]


@pytest.mark.vcr
def test_a_callers_number_is_matched_the_same_way(services, vcr):
    """Voice events carry ``caller``: listed before ``voicemail`` in a chain, the plugin serves calls too."""
    from bling.context import Context

    plugin = plugin_module("customer_match")
    context = Context(settings=services.settings, route=None, services=services,
                      mailbox=services.settings.mailbox_by_id(MAILBOX_ID))
    assert plugin.handle_event(context, {"caller": "(617) 555-0123", "hotline": "+16175550100"}) == 321
    assert context.state["customer"] == {"id": 321, "email": "jane@example.org"}
    assert vcr.all_played


@pytest.mark.vcr
def test_a_burst_of_new_supporters_is_looked_up_five_at_a_time(client, services, vcr):
    """After a broadcast: the first job's search also asks about the never-seen supporters queued
    behind it (as many as fit Help Scout's 500 characters: five here), finds nobody, and each of
    them then costs its create alone — no search, no conversation search (issue 11).

    Planted bugs it catches: no look-ahead (six searches), a conversation search after a search
    that found nobody, a query longer than 500 characters (all six in one)."""
    phones = [f"+1617555{n:04d}" for n in range(201, 207)]
    for n, phone in enumerate(phones, start=1):
        text(client, f"Hi, I need help with my ballot ({n})", n, From=phone)
    assert drain(services) == {"done": 6}
    searches = [r for r in vcr.played_requests if "/customers/search" in r.uri]
    assert len(searches) == 2 and all(len(unquote_plus(r.uri.split("query=")[1])) <= 500 for r in searches)
    assert all(p[2:] in unquote_plus(searches[0].uri) for p in phones[:5])
    assert not any("/v2/conversations?" in r.uri for r in vcr.played_requests)
    assert [services.store.conversation_for(MAILBOX_ID, p)["conversation_id"] for p in phones] == list(range(7101, 7107))
    assert all(cached_match(services.store, p)["nobody"] for p in phones)
