"""bling/words.py: numbers read aloud to a caller and durations written in notes (the call flow and call-backs share them)."""

import pytest

from bling.words import describe_duration, spoken_number


@pytest.mark.parametrize("phone,spoken", [
    ("+16175550123", "6 1 7, 5 5 5, 0 1 2 3"),
    ("(617) 555-0123", "6 1 7, 5 5 5, 0 1 2 3"),  # read as a US number, like Twilio's From
    ("+442071838750", "4 4, 2 0, 7 1 8 3, 8 7 5 0"),  # another country: its code first, as pretty() writes it
    ("anonymous", "an unknown number"),
    ("", "an unknown number"),
    (None, "an unknown number"),
])
def test_spoken_number_reads_digit_by_digit_in_groups(phone, spoken):
    assert spoken_number(phone) == spoken


@pytest.mark.parametrize("seconds,words", [
    (0, "0 s"), (45, "45 s"), (59, "59 s"), (60, "1 min"), (130, "2 min 10 s"), (3599, "59 min 59 s"),
    (3600, "1 h 0 min"), (5430, "1 h 30 min"), (-5, "0 s"),
])
def test_describe_duration(seconds, words):
    assert describe_duration(seconds) == words
