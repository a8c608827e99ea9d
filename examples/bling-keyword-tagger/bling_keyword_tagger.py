"""Tag a supporter's Help Scout conversation when their text matches a keyword.

A Bling plugin (entry point ``keyword_tagger``). Put it in a chain after
``inbound_sms``, which says which conversation the text went to, and give
it keywords in routes.toml::

    [[route]]
    path = "/bling/twilio_sms"
    ...
    chain = ["customer_match", "inbound_sms", "opt_out", "keyword_tagger", "after_hours", "autoreply"]

    [route.options.keyword_tagger]
    keywords = { ballot = "voting", vote = "voting", volunteer = "volunteers" }

Keywords match whole words, ignoring case and accents' composed/decomposed
forms. Help Scout replaces a conversation's whole tag set on each write,
so the client reads the current tags first and adds to them.
"""

from __future__ import annotations

import re
import unicodedata

from marshmallow import Schema, fields, validate

from bling.hookspecs import hookimpl

NAME = "keyword_tagger"


class Options(Schema):
    """``[route.options.keyword_tagger]``: Bling loads it at start-up and refuses any other key or a bad value."""

    #: word → tag, e.g. ``{ ballot = "voting" }``
    keywords = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Regexp(r"\S", error="a tag must not be blank")),
                           load_default=dict)


@hookimpl
def handle_event(context, event):
    conversation_id = context.state.get("conversation_id")
    if conversation_id is None:  # the text did not reach a conversation (or no inbound_sms before us)
        return None
    tags = matching_tags(event.get("body") or "", keywords(context.options(NAME)))
    if not tags:
        return None
    applied = context.effect("keyword_tags", lambda: context.helpscout.tag_conversation(conversation_id, tags))
    context.state["keyword_tags"] = applied
    return applied


def keywords(options: dict) -> dict[str, str]:
    """``keywords`` from ``[route.options.keyword_tagger]`` (validated by ``Options`` at start-up): word → tag."""
    return {_fold(word): tag.strip() for word, tag in options["keywords"].items() if word.strip()}


def matching_tags(text: str, table: dict[str, str]) -> list[str]:
    """Tags of the keywords found in ``text`` as whole words, in the table's order, once each."""
    words = set(re.findall(r"\w+", _fold(text)))
    found: list[str] = []
    for word, tag in table.items():
        if word in words and tag not in found:
            found.append(tag)
    return found


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().strip()
