"""Which phones the dialer may call: the toll-fraud rules.

The agent's phone is typed into a web page, so it is the number an attacker
would choose: it must be a valid number in an allowed country (by default
the hotline's own) and not a premium-rate, shared-cost or similar number
that earns its owner money. The supporter's number comes only from a signed
token and is refused for the same costly number types.
"""

from __future__ import annotations

import functools

from bling.phones import phonenumbers, pretty, region_of, to_e164


@functools.cache
def costly_types() -> dict[int, str]:
    """Number types Bling never calls, in words for the agent (phonenumbers is loaded on first use)."""
    kind = phonenumbers.PhoneNumberType
    return {
        kind.PREMIUM_RATE: "a premium-rate number",
        kind.SHARED_COST: "a shared-cost number",
        kind.UAN: "a universal access number",
        kind.PERSONAL_NUMBER: "a personal (forwarding) number",
        kind.PAGER: "a pager",
        kind.VOICEMAIL: "a voicemail access number",
    }


class NumberRefused(Exception):
    """The number may not be called; the message says why, for the agent."""


def allowed_countries(settings, hotline: str) -> tuple[str, ...]:
    """BLING_DIALER_COUNTRIES, or the hotline's own country."""
    if settings.dialer_countries:
        return settings.dialer_countries
    home = region_of(hotline)
    return (home,) if home else ()


def agent_phone(raw: str, hotline: str, countries: tuple[str, ...], supporter: str, served: tuple[str, ...] = ()) -> str:
    """Return the agent's phone in E.164 or raise NumberRefused saying why.

    ``served`` are every hotline number Bling answers: calling one would
    ring another hotline (its ring group, or a loop back into Bling).
    """
    text = (raw or "").strip()
    if not text:
        raise NumberRefused("Enter your phone number.")
    home = region_of(hotline) or "US"
    number = to_e164(text, home)
    parsed = _parse(number) if number else None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise NumberRefused(f"{text} is not a valid phone number. Use the international form, e.g. +1 617 555 0199.")
    region = phonenumbers.region_code_for_number(parsed)
    if region not in countries:
        where = ", ".join(countries) or "none configured"
        raise NumberRefused(f"Bling only calls agents' phones in {where}; {pretty(number)} is in {region or 'an unknown country'}.")
    costly = costly_types().get(phonenumbers.number_type(parsed))
    if costly:
        raise NumberRefused(f"Bling will not call {pretty(number)}: it is {costly}.")
    if number == hotline:
        raise NumberRefused("That is the hotline's own number; enter your personal phone.")
    if number in served:
        raise NumberRefused(f"{pretty(number)} is one of Bling's hotlines; enter your personal phone.")
    if number == supporter:
        raise NumberRefused("That is the supporter's number; enter your own phone.")
    return number


def served_numbers(settings) -> tuple[str, ...]:
    """Every phone number Bling serves (BLING_MAILBOXES' twilio: numbers)."""
    return tuple(m.number for m in settings.mailboxes if m.number)


def supporter_refusal(supporter: str) -> str | None:
    """Why the supporter's number must not be called, or None."""
    parsed = _parse(supporter)
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return f"{supporter} is not a valid phone number, so Bling will not call it."
    costly = costly_types().get(phonenumbers.number_type(parsed))
    return f"Bling will not call {pretty(supporter)}: it is {costly}." if costly else None


def _parse(e164: str | None):
    try:
        return phonenumbers.parse(e164, None) if e164 else None
    except phonenumbers.NumberParseException:
        return None
