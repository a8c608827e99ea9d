"""The sidebar widget's markup, limited to what Help Scout's dynamic apps keep.

Help Scout strips inline CSS, JavaScript and undocumented HTML from a
(legacy) dynamic app's answer and supports no interactive element but
links, so the widget is a heading and a ``c-sb-list`` of documented
classes: the supporter's number and a "Call back" link to the dialer.
Every value is HTML-escaped.
"""

from __future__ import annotations

from html import escape

TITLE = "Hotline"


def callback_html(supporter: str, dialer_url: str, minutes: int) -> str:
    """The supporter's number and the link that opens the dialer."""
    return (f"<h4>{TITLE}</h4>"
            '<ul class="c-sb-list c-sb-list--two-line">'
            '<li class="c-sb-list-item"><span class="c-sb-list-item__label">Supporter\'s phone'
            f' <span class="c-sb-list-item__text">{escape(supporter)}</span></span></li>'
            f'<li class="c-sb-list-item"><a href="{escape(dialer_url, quote=True)}">Call back</a>'
            f' <span class="c-sb-list-item__text">from the hotline number; the link works for {minutes} minutes</span></li>'
            "</ul>")


def line_html(text: str) -> str:
    """One short line saying why there is nothing to call."""
    return (f"<h4>{TITLE}</h4>"
            f'<ul class="c-sb-list"><li class="c-sb-list-item"><span class="c-sb-list-item__text">{escape(text)}</span></li></ul>')


def answer(html: str) -> dict:
    """The JSON Help Scout expects: ``{"html": …}``."""
    return {"html": html}
