"""The SMS features' state (plugins/sms/state.py) and the host's supporter caches, on SQLite and PostgreSQL."""

from __future__ import annotations

from bling.store import supporters
from bling_local_plugins.sms import state

SID = "SM000000000000000000000000000000a1"


def test_status_never_goes_back_and_keeps_the_first_error(services, clock):
    store = services.store
    state.record_sent(store, SID, 206906, "+16175550123", 7001, "Hello " * 50)
    row = state.sent_message(store, SID)
    assert (row["status"], row["conversation_id"], len(row["preview"])) == ("queued", 7001, 200)
    state.update_status(store, SID, "undelivered", 30003, mailbox_id=206906, phone="+16175550123", conversation_id=None)
    clock.advance(5)
    row = state.update_status(store, SID, "sent", None, mailbox_id=206906, phone="+16175550123", conversation_id=None)
    assert (row["status"], row["error_code"], row["conversation_id"]) == ("undelivered", 30003, 7001)
    state.mark_noted(store, SID)
    assert state.recent_messages(store, only_failed=True)[0]["noted"] is True
    assert state.recent_messages(store, phone="+447700900123") == []


def test_opt_out_reports_changes_per_hotline(services):
    store = services.store
    assert state.set_opt_out(store, "twilio:+16175550100", "+16175550123", True, "STOP") is True
    assert state.set_opt_out(store, "twilio:+16175550100", "+16175550123", True, "QUIT") is False
    assert not state.is_opted_out(store, "twilio:+442071838750", "+16175550123")  # another hotline
    assert [r["phone"] for r in state.opted_out_list(store)] == ["+16175550123"]
    assert state.set_opt_out(store, "twilio:+16175550100", "+16175550123", False, "START") is True
    assert state.opted_out_list(store) == []


def test_matches_replies_and_the_reverse_map(services):
    store = services.store
    supporters.cache_match(store, "+16175550123", None, None)
    supporters.cache_match(store, "+16175550123", 321, "jane@example.org")
    assert supporters.cached_match(store, "+16175550123")["customer_id"] == 321
    supporters.forget_match(store, "+16175550123")
    assert supporters.cached_match(store, "+16175550123") is None
    state.remember_after_hours_reply(store, 206906, "+16175550123", "2026-11-25")
    state.remember_after_hours_reply(store, 206906, "+16175550123", "2026-11-26")
    assert state.after_hours_replied_on(store, 206906, "+16175550123") == "2026-11-26"
    store.remember_conversation(206906, "+16175550123", 7001, 3)
    assert store.phone_for_conversation(206906, 7001) == "+16175550123"
    assert store.phone_for_conversation(206907, 7001) is None
