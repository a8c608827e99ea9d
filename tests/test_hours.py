"""Business hours: wall-clock windows in the mailbox's zone, across midnight and DST."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bling.config.hours import parse_hours


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


NY = parse_hours(["mon-fri 09:00-17:00", "sat 10:00-14:00"], "America/New_York")


@pytest.mark.parametrize("at,open_", [
    ("2026-11-25T14:00:00", True),    # Wed 09:00 EST
    ("2026-11-25T13:59:59", False),   # Wed 08:59:59 EST
    ("2026-11-25T22:00:00", False),   # Wed 17:00 EST: the end is exclusive
    ("2026-11-28T15:00:00", True),    # Sat 10:00 EST
    ("2026-11-29T15:00:00", False),   # Sunday
    ("2026-07-01T13:00:00", True),    # Wed 09:00 EDT (summer: UTC-4)
    ("2026-07-01T12:59:00", False),
])
def test_new_york_hours(at, open_):
    assert NY.is_open(utc(at)) is open_


def test_same_wall_clock_across_daylight_saving_change():
    hours = parse_hours(["mon-sun 09:00-17:00"], "Europe/London")
    assert not hours.is_open(utc("2026-03-28T08:30:00"))   # Sat 08:30 GMT: closed
    assert hours.is_open(utc("2026-03-29T08:30:00"))       # Sun 09:30 BST (clocks went forward): open
    assert not hours.is_open(utc("2026-03-29T07:30:00"))   # Sun 08:30 BST: closed
    assert not hours.is_open(utc("2026-03-29T16:00:00"))   # Sun 17:00 BST: closed


def test_window_past_midnight():
    hours = parse_hours(["fri 22:00-02:00"], "America/Los_Angeles")
    assert hours.is_open(utc("2026-11-28T07:00:00"))    # Fri 23:00 PST
    assert hours.is_open(utc("2026-11-28T09:59:00"))    # Sat 01:59 PST
    assert not hours.is_open(utc("2026-11-28T10:00:00"))
    assert not hours.is_open(utc("2026-11-27T05:00:00"))  # Thu 21:00


def test_day_lists_and_wrapping_ranges():
    hours = parse_hours(["sat-mon 10:00-12:00", "wed, fri 08:00-09:00"], "UTC")
    assert [w.day for w in hours.windows] == [5, 6, 0, 2, 4]


def test_no_hours_is_always_open():
    assert parse_hours([], "UTC").is_open(utc("2026-11-29T03:00:00"))


def test_tokyo_has_no_dst():
    hours = parse_hours(["mon-fri 09:00-18:00"], "Asia/Tokyo")
    assert hours.is_open(utc("2026-11-25T00:00:00"))  # Wed 09:00 JST


@pytest.mark.parametrize("rules,zone,fragment", [
    (["weekdays 9-5"], "UTC", "is not like"),
    (["mon-fri 09:00-25:00"], "UTC", "not a time of day"),
    (["mon-fry 09:00-17:00"], "UTC", "'fry' is not a day"),
    (["mon 09:00-09:00"], "UTC", "the same time"),
    ([], "Mars/Olympus", "unknown time zone"),
])
def test_bad_rules_are_named(rules, zone, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_hours(rules, zone)


def test_hours_in_bling_config_are_validated(tmp_path):
    from bling.errors import ConfigError
    from bling.config.settings import load_settings
    from support import make_env

    path = tmp_path / "bling.toml"
    path.write_text('[mailboxes.206906]\ntimezone = "America/New_York"\nhours = ["mon-fri 09:00-17:00"]\n')
    settings = load_settings(make_env("sqlite:///x.db", BLING_CONFIG=str(path)))
    assert settings.options(206906).business_hours.is_open(utc("2026-11-25T15:00:00"))
    path.write_text('[mailboxes.206906]\nhours = ["mon-fri 9am-5pm"]\n')
    with pytest.raises(ConfigError, match=r"mailboxes\.206906\.hours"):
        load_settings(make_env("sqlite:///x.db", BLING_CONFIG=str(path)))
