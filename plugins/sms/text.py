"""Turn an agent's Help Scout reply (HTML) into SMS text, and split long texts.

Help Scout sends agent replies as HTML from its editor (one ``<div>`` per line,
``<br>`` for empty lines, entities, links, lists and a signature after ``--``).
A phone shows none of that markup, so we keep only the words and line breaks
a supporter needs to read the reply.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import Tag

# bs4 is imported where a reply is turned into text (a worker's job), never at import: web
# processes import this module through the plugins but never parse HTML (bs4 is 4 MB a process).

# Elements whose start and end force a new line (empty lines are not added).
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "li", "main", "nav", "ol", "p", "pre", "section",
        "table", "tr", "ul",
    }
)  # fmt: skip
# Elements whose content never reaches the reader.
SKIP_TAGS = frozenset({"head", "script", "style", "template", "title", "noscript"})
# Cells in a row are separated by a space so their words do not run together.
CELL_TAGS = frozenset({"td", "th"})

# Markers in the token stream built from the HTML tree.
_LINE_BREAK = object()  # <br>: always start a new line (an empty one if needed)
_BLOCK_EDGE = object()  # block start/end: start a new line unless already on one

_HTML_SPACE = re.compile(r"[ \t\n\r\f\v]+")
_LINE_SPACE = re.compile(r"[^\S\n]+")  # any whitespace except newline
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\xad"))
_SIGNATURE_DELIMITER = "--"
_LINK_SCHEMES = re.compile(r"^(?:https?://|mailto:|tel:|sms:)", re.IGNORECASE)


def html_to_text(html: str) -> str:
    """Return the readable text of an agent reply, without its signature.

    Works on Help Scout's HTML and on plain text alike, so callers need not
    know which one they were given.
    """
    if not html or not html.strip():
        return ""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    if soup.find(True) is None:
        # Plain text: its newlines are real line breaks, not HTML whitespace.
        text = soup.get_text().replace("\r\n", "\n").replace("\r", "\n")
    else:
        tokens: list[object] = []
        _walk(soup, tokens, preformatted=False)
        text = _render(tokens)
    return _tidy(text)


def split_sms(text: str, limit: int = 1600) -> list[str]:
    """Split ``text`` into ordered parts of at most ``limit`` characters.

    Twilio rejects bodies over 1600 characters (error 21617), so a long reply
    goes out as several texts.  Parts break at a newline (when one falls in the
    second half of the window, so parts stay reasonably full), otherwise at the
    last space; only a single word longer than ``limit`` is cut mid-word.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    remaining = text.strip()
    parts: list[str] = []
    while len(remaining) > limit:
        cut = _cut_position(remaining, limit)
        parts.append(remaining[:cut].rstrip())
        remaining = remaining[cut:].lstrip()
    if remaining:
        parts.append(remaining)
    return parts


def _cut_position(text: str, limit: int) -> int:
    """Index at which to end the next part of ``text`` (which starts non-blank)."""
    window = text[: limit + 1]  # a break right after the limit still fits
    newline = window.rfind("\n")
    if newline >= limit // 2:
        return newline
    spaces = [m.start() for m in re.finditer(r"\s", window)]
    if spaces and spaces[-1] > 0:
        return spaces[-1]
    return limit  # one word longer than the limit: hard split


def _walk(node: Tag, tokens: list[object], preformatted: bool) -> None:
    """Append the text and line markers of ``node``'s children to ``tokens``."""
    from bs4 import NavigableString, Tag
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    for child in node.children:
        if isinstance(child, NavigableString):
            if isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
                continue
            _add_string(str(child), tokens, preformatted)
        elif isinstance(child, Tag):
            _add_tag(child, tokens, preformatted)


def _add_string(text: str, tokens: list[object], preformatted: bool) -> None:
    if not preformatted:
        tokens.append(_HTML_SPACE.sub(" ", text))
        return
    for i, line in enumerate(text.replace("\r\n", "\n").split("\n")):
        if i:
            tokens.append(_LINE_BREAK)
        tokens.append(line)


def _add_tag(tag: Tag, tokens: list[object], preformatted: bool) -> None:
    name = tag.name.lower()
    if name in SKIP_TAGS:
        return
    if name == "br":
        tokens.append(_LINE_BREAK)
    elif name == "hr":
        tokens.extend((_BLOCK_EDGE, _BLOCK_EDGE))
    elif name == "a":
        _add_link(tag, tokens, preformatted)
    elif name == "li":
        tokens.extend((_BLOCK_EDGE, _list_marker(tag)))
        _walk(tag, tokens, preformatted)
        tokens.append(_BLOCK_EDGE)
    elif name in BLOCK_TAGS:
        tokens.append(_BLOCK_EDGE)
        _walk(tag, tokens, preformatted or name == "pre")
        tokens.append(_BLOCK_EDGE)
    else:
        _walk(tag, tokens, preformatted)
        if name in CELL_TAGS:
            tokens.append(" ")


def _add_link(tag: Tag, tokens: list[object], preformatted: bool) -> None:
    """Keep the link text and show the address when the text does not."""
    start = len(tokens)
    _walk(tag, tokens, preformatted)
    label = "".join(t for t in tokens[start:] if isinstance(t, str)).strip()
    href = str(tag.get("href") or "").strip()
    if not href or href.startswith("#") or href.lower().startswith("javascript:"):
        return
    shown = re.sub(r"^mailto:", "", href, flags=re.IGNORECASE)
    if not label:
        tokens.append(shown)
    elif _same_address(label, href):
        return
    else:
        tokens.append(f" ({shown})")


def _same_address(label: str, href: str) -> bool:
    def bare(address: str) -> str:
        return _LINK_SCHEMES.sub("", address.strip()).rstrip("/").lower()

    return bare(label) == bare(href)


def _list_marker(item: Tag) -> str:
    """``- `` for bullet items, ``N. `` for numbered ones."""
    parent = item.find_parent(["ol", "ul"])
    if parent is None or parent.name != "ol":
        return "- "
    try:
        number = int(str(parent.get("start") or 1))
    except ValueError:
        number = 1
    number += sum(1 for s in item.find_previous_siblings("li"))
    return f"{number}. "


def _render(tokens: list[object]) -> str:
    lines = [""]
    for token in tokens:
        if token is _LINE_BREAK:
            lines.append("")
        elif token is _BLOCK_EDGE:
            if lines[-1].strip():
                lines.append("")
        else:
            lines[-1] += token  # type: ignore[operator]
    return "\n".join(lines)


def _tidy(text: str) -> str:
    """Collapse spaces, allow one blank line in a row, drop the signature."""
    text = text.translate(_INVISIBLE).replace("\xa0", " ")
    lines: list[str] = []
    for raw in text.split("\n"):
        line = _LINE_SPACE.sub(" ", raw).strip()
        if line == _SIGNATURE_DELIMITER:
            break
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    return "\n".join(lines).strip()
