"""After-hours reply (plugin after_hours): outside the mailbox's hours, once per supporter per local day."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bling.jobs.worker import drain
from sms_helpers import text, twilio_posts
from support import MAILBOX_ID, OTHER_HOTLINE, OTHER_MAILBOX_ID, SUPPORTER

CONFIG = """
[mailboxes.206906]
hours = ["mon-fri 09:00-17:00"]
timezone = "America/New_York"

[mailboxes.206907]
hours = ["mon-fri 09:00-17:00"]
timezone = "Europe/London"
"""
pytestmark = pytest.mark.bling_config(CONFIG)


def at(clock, iso: str) -> None:
    """Texts arriving now arrive at ``iso`` (UTC)."""
    clock.now = datetime.fromisoformat(iso).replace(tzinfo=timezone.utc).timestamp()


def replies(vcr) -> int:
    return len(twilio_posts(vcr))


@pytest.mark.vcr
def test_once_per_supporter_per_local_day(client, services, clock, vcr):
    """The day is the mailbox's: 23:30 and 00:30 New York time are two days, though both the 26th in UTC."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    at(clock, "2026-11-26T04:30:00")  # Wed 23:30 EST: closed
    text(client, "Is anyone there?", 1)
    assert drain(services) == {"done": 1} and replies(vcr) == 1
    at(clock, "2026-11-26T05:30:00")  # Thu 00:30 EST: closed, a new local day
    text(client, "Hello?", 2)
    assert drain(services) == {"done": 1} and replies(vcr) == 2
    at(clock, "2026-11-26T11:00:00")  # Thu 06:00 EST: the same local day
    text(client, "Good morning", 3)
    assert drain(services) == {"done": 1} and replies(vcr) == 2
    at(clock, "2026-11-26T15:00:00")  # Thu 10:00 EST: open
    text(client, "Now?", 4)
    assert drain(services) == {"done": 1} and replies(vcr) == 2
    assert vcr.all_played


@pytest.mark.vcr
def test_first_contact_after_hours_gets_it_instead_of_the_auto_reply(client, services, vcr):
    """Wed 07:00 EST (the test clock's 12:00 UTC): one text back, the after-hours one."""
    text(client, "Hi, I need help with my ballot", 1)
    assert drain(services) == {"done": 1}
    assert replies(vcr) == 1 and vcr.all_played
    (row,) = services.store.rows()
    assert '"auto_reply_skipped": "the after-hours reply was sent instead"' in row["result"]


@pytest.mark.vcr
def test_daylight_saving_changes_keep_wall_clock_hours(client, services, clock, vcr):
    """13:30 UTC is 08:30 (closed) before New York's spring change and 09:30 (open) after; the reverse in autumn."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    at(clock, "2026-03-06T13:30:00")  # Fri 08:30 EST: closed
    text(client, "Before the change", 1)
    assert drain(services) == {"done": 1} and replies(vcr) == 1
    at(clock, "2026-03-09T13:30:00")  # Mon 09:30 EDT (clocks went forward on Sunday 8 March): open
    text(client, "After the change", 2)
    assert drain(services) == {"done": 1} and replies(vcr) == 1
    at(clock, "2026-03-09T21:30:00")  # Mon 17:30 EDT: closed
    text(client, "Evening", 3)
    assert drain(services) == {"done": 1} and replies(vcr) == 2
    at(clock, "2026-11-02T13:30:00")  # Mon 08:30 EST (clocks went back on Sunday 1 November): closed
    text(client, "Autumn", 4)
    assert drain(services) == {"done": 1} and replies(vcr) == 3
    assert vcr.all_played


@pytest.mark.vcr
def test_each_mailbox_keeps_its_own_time_zone(client, services, clock, vcr):
    """Wed 18:00 UTC: 13:00 in New York (open), 18:00 in London (closed)."""
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    services.store.remember_conversation(OTHER_MAILBOX_ID, SUPPORTER, 7501, 2)
    at(clock, "2026-11-25T18:00:00")
    text(client, "Hello New York", 1)
    text(client, "Hello London", 2, To=OTHER_HOTLINE)
    assert drain(services) == {"done": 2}
    (sent,) = twilio_posts(vcr)
    assert b"From=%2B442071838750" in sent.body
    assert vcr.all_played


@pytest.mark.vcr
@pytest.mark.bling_config('[defaults]\nhours = ["mon-fri 09:00-17:00"]\ntimezone = "America/New_York"\nafter_hours_reply = ""\n')
def test_empty_after_hours_reply_turns_it_off(client, services, vcr):
    services.store.remember_conversation(MAILBOX_ID, SUPPORTER, 7001, 4)
    text(client, "Is anyone there?", 1)
    assert drain(services) == {"done": 1}
    assert replies(vcr) == 0 and vcr.all_played
