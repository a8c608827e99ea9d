"""html_to_text turns agent replies into SMS text; split_sms keeps texts under Twilio's limit."""

import random
import re

import pytest

from bling_local_plugins.sms.text import html_to_text, split_sms

# --- html_to_text ------------------------------------------------------------------------------

HELP_SCOUT_REPLY = (
    "<div>Hi there,</div><div><br></div><div>Thanks &amp; bye</div>"
    "<div>--</div><div>Jane<br>Hotline team</div>"
)


def test_help_scout_reply_keeps_empty_line_and_drops_signature():
    assert html_to_text(HELP_SCOUT_REPLY) == "Hi there,\n\nThanks & bye"


def test_signature_delimiter_with_trailing_space_and_whitespace_around():
    html = "<p>See you Monday.</p><p>  --&nbsp;</p><p>Jane Doe</p><p>Hotline</p>"
    assert html_to_text(html) == "See you Monday."


def test_dashes_inside_a_line_are_not_a_signature():
    html = "<div>Call 9--5 only -- weekdays</div><div>---</div><div>Bye</div>"
    assert html_to_text(html) == "Call 9--5 only -- weekdays\n---\nBye"


def test_only_a_signature_gives_empty_text():
    assert html_to_text("<div>--</div><div>Jane<br>Hotline team</div>") == ""
    assert html_to_text("-- \nJane") == ""


@pytest.mark.parametrize(
    "html", ["", "   ", "\n\t ", "<div><br></div>", "<p>&nbsp;</p><div> </div>"]
)
def test_empty_or_blank_input_gives_empty_text(html):
    assert html_to_text(html) == ""


def test_br_breaks_lines_and_blocks_end_lines():
    html = "<p>One<br>Two<br/>Three</p><h2>Title</h2><blockquote>Quoted</blockquote>After"
    assert html_to_text(html) == "One\nTwo\nThree\nTitle\nQuoted\nAfter"


def test_trailing_br_in_block_does_not_add_a_blank_line():
    assert html_to_text("<div>First<br></div><div>Second</div>") == "First\nSecond"


def test_at_most_one_blank_line_in_a_row():
    html = "<div>A</div><div><br></div><div><br></div><div><br></div><div>B</div><br><br><br>C"
    assert html_to_text(html) == "A\n\nB\n\nC"


def test_entities_are_decoded_and_nbsp_is_a_plain_space():
    html = "<div>Fish&nbsp;&amp;&nbsp;chips &lt;3 &quot;now&quot; &#8212; caf&eacute;</div>"
    text = html_to_text(html)
    assert text == 'Fish & chips <3 "now" \u2014 caf\u00e9'
    assert "\xa0" not in text


def test_spaces_collapse_within_lines_and_source_newlines_are_spaces():
    html = "<div>  lots   of \t spaces\n   and a\nsource newline  </div>"
    assert html_to_text(html) == "lots of spaces and a source newline"


def test_inline_markup_keeps_words_together():
    html = "<p>This is <b>very</b> <i>important</i>: <span style='color:red'>read</span> it</p>"
    assert html_to_text(html) == "This is very important: read it"


def test_link_text_is_kept_and_url_appended_when_different():
    html = '<p>Read <a href="https://example.org/faq">our FAQ</a> first.</p>'
    assert html_to_text(html) == "Read our FAQ (https://example.org/faq) first."


@pytest.mark.parametrize(
    "html",
    [
        '<a href="https://example.org/faq">https://example.org/faq</a>',
        '<a href="https://example.org/faq/">example.org/faq</a>',
        '<a href="mailto:help@example.org">help@example.org</a>',
    ],
)
def test_link_whose_text_is_the_url_is_not_repeated(html):
    assert html_to_text(html) in {"https://example.org/faq", "example.org/faq", "help@example.org"}
    assert "(" not in html_to_text(html)


def test_link_without_text_shows_the_url_and_anchor_links_show_text_only():
    html = '<p>Map: <a href="https://maps.example/x"></a></p><p><a href="#top">Back to top</a></p>'
    assert html_to_text(html) == "Map: https://maps.example/x\nBack to top"


def test_nested_lists_become_lines_with_markers():
    html = (
        "<div>Options:</div><ul><li>Vote early<ul><li>In person</li><li>By mail</li></ul></li>"
        "<li>Vote on election day</li></ul><ol><li>Check</li><li>Go</li></ol>"
    )
    assert html_to_text(html) == (
        "Options:\n- Vote early\n- In person\n- By mail\n- Vote on election day\n1. Check\n2. Go"
    )


def test_table_rows_end_lines_and_cells_are_spaced():
    html = "<table><tr><td>Mon</td><td>9-5</td></tr><tr><th>Tue</th><td>closed</td></tr></table>"
    assert html_to_text(html) == "Mon 9-5\nTue closed"


def test_scripts_styles_and_comments_are_dropped():
    html = "<style>p{color:red}</style><!-- tracking --><p>Hello</p><script>alert(1)</script>"
    assert html_to_text(html) == "Hello"


def test_full_help_scout_style_document():
    html = """
    <html><head><title>Reply</title></head><body>
      <div>Hi Sam,</div>
      <div><br></div>
      <div>Your polling place is <a href="https://vote.example.org/where?id=1&amp;x=2">here</a>.
      Bring&nbsp;ID.</div>
      <div><br></div>
      <div><br></div>
      <div>Best,</div>
      <div>-- </div>
      <div>Jane | Hotline<br>
      <a href="https://example.org">example.org</a></div>
    </body></html>
    """
    assert html_to_text(html) == (
        "Hi Sam,\n\nYour polling place is here (https://vote.example.org/where?id=1&x=2). "
        "Bring ID.\n\nBest,"
    )


def test_plain_text_keeps_its_line_breaks():
    text = "Hi there,\r\n\r\n\r\nThanks  &  bye\n  Jane  \n-- \nHotline team"
    assert html_to_text(text) == "Hi there,\n\nThanks & bye\nJane"


def test_plain_text_entities_are_decoded():
    assert html_to_text("Tom &amp; Jerry") == "Tom & Jerry"


def test_invisible_characters_are_removed():
    assert html_to_text("<div>\u200bHello\ufeff there</div>") == "Hello there"


# --- split_sms ---------------------------------------------------------------------------------


def test_empty_text_gives_no_parts():
    assert split_sms("") == []
    assert split_sms(" \n\t ") == []


def test_short_text_is_one_trimmed_part():
    assert split_sms("  Hello there \n") == ["Hello there"]


def test_exactly_the_limit_is_one_part():
    text = " ".join(["abcd"] * 320) + "e"  # 320 * 5 - 1 + 1 = 1600 characters
    assert len(text) == 1600
    assert split_sms(text) == [text]
    assert split_sms("z" * 1600) == ["z" * 1600]


def test_one_over_the_limit_is_two_parts():
    text = " ".join(["abcd"] * 320) + "ef"
    assert len(text) == 1601
    parts = split_sms(text)
    assert len(parts) == 2
    assert all(len(p) <= 1600 for p in parts)
    assert parts[1] == "abcdef"
    assert " ".join(parts) == text


def test_break_at_space_right_after_the_limit():
    text = "a" * 10 + " " + "b" * 5
    assert split_sms(text, limit=10) == ["a" * 10, "b" * 5]


def test_prefers_newline_over_space():
    text = "first line here\nsecond line is longer"
    assert split_sms(text, limit=30) == ["first line here", "second line is longer"]


def test_newline_too_early_is_not_used():
    text = "hi\n" + "word " * 10
    parts = split_sms(text, limit=30)
    assert parts[0].startswith("hi\nword")
    assert all(len(p) <= 30 for p in parts)


def test_word_longer_than_limit_is_hard_split():
    word = "x" * 25
    assert split_sms(f"go {word} now", limit=10) == ["go", "x" * 10, "x" * 10, "x" * 5 + " now"]
    assert split_sms(word, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_limit_counts_python_characters():
    text = "\u00e9\U0001f600 " * 300  # 900 characters, more bytes and UTF-16 units
    assert split_sms(text) == [text.strip()]


def test_invalid_limit():
    with pytest.raises(ValueError):
        split_sms("hello", limit=0)


@pytest.mark.parametrize("seed", range(40))
def test_split_property(seed):
    rng = random.Random(seed)
    limit = rng.choice([5, 12, 40, 160, 1600])
    count = rng.randint(0, 400)
    words = [
        "".join(rng.choice("abcdefgh") for _ in range(rng.randint(1, limit))) for _ in range(count)
    ]
    separators = [rng.choice([" ", " ", " ", "\n", "\n\n", "  "]) for _ in words]
    text = "".join(w + s for w, s in zip(words, separators))

    parts = split_sms(text, limit=limit)

    assert all(0 < len(p) <= limit for p in parts)
    assert all(p == p.strip() for p in parts)
    assert re.split(r"\s+", " ".join(parts).strip()) == (words or [""])
    if len(text.strip()) <= limit:
        assert parts == ([text.strip()] if text.strip() else [])


@pytest.mark.parametrize("seed", range(20))
def test_split_property_with_overlong_words(seed):
    rng = random.Random(1000 + seed)
    limit = rng.choice([3, 8, 20])
    count = rng.randint(1, 60)
    words = [
        "".join(rng.choice("xyz") for _ in range(rng.randint(1, 3 * limit))) for _ in range(count)
    ]
    text = " ".join(words)

    parts = split_sms(text, limit=limit)

    assert all(0 < len(p) <= limit for p in parts)
    assert all(p == p.strip() for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
    for part in parts:  # whole words stay whole unless they alone exceed the limit
        for piece in part.split():
            assert piece in words or len(piece) <= limit
