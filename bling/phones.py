"""Phone numbers: E.164 normalisation and the blackhole e-mail identity.

Help Scout customers are keyed by e-mail, so the original Bling gave each
supporter the address ``<10 digits>@BLACKHOLE_DOMAIN``. NANP numbers keep
that form so existing conversations keep threading; other countries keep
their country code behind the international prefix ``00``
(``00447700900123@…``), so a 10-digit foreign number (Denmark, Norway…)
can never be read back as a US one.
"""

from __future__ import annotations

import functools
import re

from bling.lazy_modules import LazyModule

#: Loaded by the first number that is not already North American E.164 (web processes seldom see one).
phonenumbers = LazyModule("phonenumbers")

NANP_COUNTRY_CODE = 1
INTERNATIONAL_PREFIX = "00"
#: A North American number already in E.164 (area code and exchange start with 2-9), as Twilio sends
#: ``From`` and ``To``: phonenumbers would give it back unchanged, so it is not parsed (a fifth of an
#: SMS webhook's own work). tests/test_phones.py checks the two agree.
_NANP_E164 = re.compile(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}")


@functools.lru_cache(maxsize=4096)  # pure, and parsed several times per webhook
def to_e164(raw: str | None, region: str = "US") -> str | None:
    """Return ``raw`` as E.164, or None when it is not a dialable number.

    Short codes, ``anonymous``, ``unknown`` and garbage give None.
    """
    if not raw:
        return None
    text = raw.strip()
    if _NANP_E164.fullmatch(text):
        return text
    return _parsed_e164(text, region)


def _parsed_e164(text: str, region: str) -> str | None:
    """``to_e164`` the long way: phonenumbers' parse, possibility and validity checks."""
    if not re.search(r"\d", text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    if phonenumbers.is_valid_number(number) is False and len(
        str(number.national_number)
    ) < 7:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(e164: str) -> str | None:
    """Return the ISO country code (``US``, ``GB``) of an E.164 number."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


def blackhole_email(e164: str, domain: str) -> str:
    """Return the Help Scout e-mail standing for this supporter's phone."""
    number = phonenumbers.parse(e164, None)
    if number.country_code == NANP_COUNTRY_CODE:
        local = str(number.national_number)
    else:
        local = INTERNATIONAL_PREFIX + e164.lstrip("+")
    return f"{local}@{domain}"


def from_blackhole(email: str | None, domain: str) -> str | None:
    """Return the E.164 phone hidden in a blackhole e-mail, or None."""
    if not email or "@" not in email:
        return None
    local, _, host = email.rpartition("@")
    if host.lower() != domain.lower() or not local.isdigit():
        return None
    if local.startswith(INTERNATIONAL_PREFIX):
        candidate = "+" + local[len(INTERNATIONAL_PREFIX):]
    elif len(local) == 10:
        candidate = "+1" + local
    elif len(local) == 11 and local.startswith("1"):
        candidate = "+" + local
    else:
        return None  # not an address Bling makes: never guess a country
    return to_e164(candidate)


def pretty(e164: str) -> str:
    """Format a number for people: national form at home, else international."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == NANP_COUNTRY_CODE
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
