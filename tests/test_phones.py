"""Phone numbers: E.164 everywhere, the original blackhole identity kept."""

from __future__ import annotations

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from bling.phones import _NANP_E164, _parsed_e164, blackhole_email, from_blackhole, pretty, to_e164


@pytest.mark.parametrize("raw,expected", [
    ("+16175550100", "+16175550100"), ("(617) 555-0100", "+16175550100"), ("617.555.0100", "+16175550100"),
    ("+1 617 555 0100", "+16175550100"), ("+447700900123", "+447700900123"), ("+33 6 12 34 56 78", "+33612345678"),
    ("anonymous", None), ("unknown", None), ("12345", None), ("", None), (None, None), ("+", None),
])
def test_to_e164(raw, expected):
    assert to_e164(raw) == expected


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.from_regex(_NANP_E164, fullmatch=True) | st.from_regex(r"\A\s*\+1[0-9]{10}\s*\Z"))
def test_north_american_shortcut_gives_what_phonenumbers_gives(raw):
    """E.164 North American numbers skip phonenumbers; whatever the shortcut takes, phonenumbers agrees."""
    assert to_e164(raw) == _parsed_e164(raw.strip(), "US")


def test_nanp_blackhole_keeps_original_ten_digits():
    assert blackhole_email("+16175550123", "bh.example") == "6175550123@bh.example"


def test_international_blackhole_keeps_country_code():
    assert blackhole_email("+447700900123", "bh.example") == "00447700900123@bh.example"


def test_ten_digit_foreign_number_is_not_read_back_as_american():
    danish = "+4532123456"
    assert blackhole_email(danish, "bh.example") == "004532123456@bh.example"
    assert from_blackhole("004532123456@bh.example", "bh.example") == danish


@pytest.mark.parametrize("phone", ["+16175550123", "+447700900123", "+33612345678", "+4532123456", "+4722334455"])
def test_blackhole_round_trip(phone):
    assert from_blackhole(blackhole_email(phone, "bh.example"), "bh.example") == phone


@pytest.mark.parametrize("email", ["someone@example.com", "6175550123@other.example", "abc@bh.example", None, "x", "447700900123@bh.example"])
def test_from_blackhole_rejects_other_addresses(email):
    assert from_blackhole(email, "bh.example") is None


def test_pretty():
    assert pretty("+16175550123") == "(617) 555-0123"
    assert pretty("+447700900123") == "+44 7700 900123"
