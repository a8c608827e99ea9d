"""Dialer tokens and CSRF values: bound, expiring, unforgeable (bling_local_plugins.dialer.tokens)."""

from __future__ import annotations

import base64
import json

import pytest
from itsdangerous import URLSafeSerializer

from bling_local_plugins.dialer import tokens
from conftest import FakeClock

KEY = "a-test-key-that-is-long-enough-0123456789"
OTHER_KEY = "another-test-key-long-enough-9876543210"


def make(clock: FakeClock, key: str = KEY, lifetime: int = 3600, **changes) -> str:
    claims = dict(conversation_id=5002, conversation_number=4002, mailbox_id=206906, supporter="+16175550123",
                  user_id=77, agent_name="Jane Agent", now=clock(), lifetime=lifetime)
    claims.update(changes)
    return tokens.issue(key, **claims)


def refused(call) -> tokens.TokenRefused:
    with pytest.raises(tokens.TokenRefused) as ex:
        call()
    return ex.value


def test_token_binds_conversation_mailbox_supporter_and_agent(clock):
    claims = tokens.check(KEY, make(clock), clock())
    assert (claims.conversation_id, claims.mailbox_id, claims.supporter, claims.user_id) == (5002, 206906, "+16175550123", 77)
    assert claims.expires_at == int(clock()) + 3600 and len(claims.token_id) == 16


def test_token_expires_with_the_clock(clock):
    token = make(clock)
    clock.advance(3599)
    assert tokens.check(KEY, token, clock()).supporter == "+16175550123"
    clock.advance(1)
    error = refused(lambda: tokens.check(KEY, token, clock()))
    assert error.reason == "expired" and "60 minutes" in error.message
    assert tokens.read(KEY, token).supporter == "+16175550123"  # genuine, only too old
    assert tokens.check(KEY, token, clock(), grace=tokens.FOLLOW_UP_GRACE_SECONDS)  # status/cancel grace


@pytest.mark.parametrize("field, value", [("s", "+19005550123"), ("c", 1), ("m", 206907), ("u", 78),
                                          ("exp", 9999999999), ("j", "someone-elses-id")])
def test_a_token_with_other_claims_cannot_be_made_without_the_key(clock, field, value):
    """Claims changed and sealed again with any other key are refused."""
    data = tokens.peek(KEY, make(clock))
    data[field] = value
    forged = tokens._fernet(OTHER_KEY).encrypt(json.dumps(data).encode()).decode()
    assert refused(lambda: tokens.read(KEY, forged)).reason == "invalid"


def test_a_link_shows_neither_the_supporter_nor_the_agent(clock):
    """Links pass through browsers, proxies and pasted chats: only this Bling can read them (issue 13)."""
    token = make(clock, agent_name="Jane Agent")
    padded = token + "=" * (-len(token) % 4)
    seen = token + base64.urlsafe_b64decode(padded).decode("latin-1")
    for private in ("6175550123", "Jane", "Agent", "5002", "206906"):
        assert private not in seen
    assert tokens.peek("", token) == {} and tokens.peek(OTHER_KEY, token) == {}


def test_a_signed_only_link_of_the_old_format_is_refused(clock):
    old = URLSafeSerializer(KEY, salt="bling.dialer.token.v1").dumps({"c": 5002, "m": 206906, "s": "+16175550123"})
    assert refused(lambda: tokens.read(KEY, old)).reason == "invalid"


def test_flipped_character_cut_token_and_other_key_are_refused(clock):
    token = make(clock)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (flipped, token[:-5], token + "x", "not-a-token", make(clock, key=OTHER_KEY)):
        assert refused(lambda: tokens.read(KEY, bad)).reason == "invalid"


def test_token_signed_for_another_purpose_is_refused(clock):
    """A CSRF value (same key, other salt) is not a token."""
    claims = tokens.read(KEY, make(clock))
    assert refused(lambda: tokens.read(KEY, tokens.new_csrf(KEY, claims))).reason == "invalid"
    other_salt = URLSafeSerializer(KEY, salt="something.else").dumps({"c": 1})
    assert refused(lambda: tokens.read(KEY, other_salt)).reason == "invalid"


def test_missing_token_and_missing_key_say_so(clock):
    assert refused(lambda: tokens.read(KEY, "")).reason == "missing"
    error = refused(lambda: tokens.read("", make(clock)))
    assert error.reason == "disabled" and "BLING_SECRET_KEY" in error.message


def test_token_dated_in_the_future_is_refused(clock):
    token = make(clock)
    clock.advance(-3600)
    assert refused(lambda: tokens.check(KEY, token, clock())).reason == "invalid"


def test_csrf_value_belongs_to_its_token_only(clock):
    mine = tokens.read(KEY, make(clock))
    theirs = tokens.read(KEY, make(clock, conversation_id=6000))
    value = tokens.new_csrf(KEY, mine)
    assert tokens.csrf_matches(KEY, value, mine.token_id)
    assert not tokens.csrf_matches(KEY, value, theirs.token_id)
    assert not tokens.csrf_matches(OTHER_KEY, value, mine.token_id)
    assert not tokens.csrf_matches(KEY, "", mine.token_id) and not tokens.csrf_matches(KEY, value[:-2], mine.token_id)
    assert value != tokens.new_csrf(KEY, mine)  # a fresh value per page


def test_call_ids_are_stable_distinct_and_keyed(clock):
    token_id = tokens.read(KEY, make(clock)).token_id
    first = tokens.call_id(KEY, token_id, 1)
    assert first == tokens.call_id(KEY, token_id, 1) != tokens.call_id(KEY, token_id, 2)
    assert first != tokens.call_id(OTHER_KEY, token_id, 1)


def test_peek_reads_claims_without_checking_them(clock):
    """Only for routing and logs after the edge verified the token."""
    claims = tokens.peek(KEY, make(clock))
    assert claims["m"] == 206906 and claims["j"] == tokens.read(KEY, make(clock)).token_id
    assert tokens.peek(KEY, "garbage") == {} and tokens.peek(KEY, None) == {} and tokens.peek(KEY, "ü") == {}
