"""Put a supporter's message into the right Help Scout conversation.

The rule (the original Bling's): the supporter's newest conversation in the
mailbox gets a new thread while it has fewer than ``thread_cap`` threads
(Help Scout refuses the 101st); otherwise a new ``phone`` conversation is
opened — also, when ``new_conversation_after_days`` is set, if it is
closed and was closed longer ago than that. The supporter → conversation
map in the store makes a returning supporter cost one write; it falls
back to a search when Help Scout says the conversation moved (merged) or
is gone. A customer matched by phone (plugin ``customer_match``) posts by
id. Every write is an effect, so a retried job never posts twice.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from bling.clients.helpscout import HelpScoutMoved, HelpScoutNotFound, HelpScoutThreadLimit
from bling.phones import blackhole_email, pretty

#: Clock skew allowed when matching our own earlier write by its time.
SKEW_SECONDS = 120


@dataclass(frozen=True)
class Post:
    """What to post for a supporter: text, and how a new conversation is named."""

    phone: str
    email: str | None  # the blackhole address, or a matched customer's (None: they have none)
    text: str
    subject: str
    thread_type: str = "customer"  # "phone" for calls and voicemails
    attachments: tuple = field(default=())  # Help Scout objects: fileName, mimeType, data (base64)
    customer_id: int | None = None  # a Help Scout customer matched by phone (plugin customer_match)

    def thread_fields(self) -> dict:
        return {"attachments": list(self.attachments)} if self.attachments else {}

    def customer(self) -> dict:
        """Who writes the thread: the matched customer's id, else the blackhole e-mail."""
        return {"id": self.customer_id} if self.customer_id else {"email": self.email}

    def new_customer(self) -> dict:
        """The customer of a new conversation (a blackhole one is created with the phone)."""
        return self.customer() if self.customer_id else {"email": self.email, "phone": self.phone}


def post_from_supporter(context, phone: str, text: str, subject: str, thread_type: str = "customer",
                        attachments: list[dict] | None = None) -> int:
    """Post ``text`` from the supporter at ``phone``; return the conversation id.

    Sets ``context.state['first_contact']`` (no earlier conversation in this
    mailbox) and ``context.state['conversation_id']``. ``thread_type`` is
    ``customer`` (texts) or ``phone`` (calls, voicemails); ``attachments``
    are Help Scout attachment objects (``fileName``, ``mimeType``, ``data``).
    A customer matched by phone (``context.state['customer']``, plugin
    ``customer_match``) is posted as by id instead of the blackhole e-mail;
    ``context.state['new_to_helpscout']`` (the same plugin found no customer
    at all for the phone) skips the conversation search: there is none.
    """
    matched = context.state.get("customer") or {}
    email = matched.get("email") if matched.get("id") else blackhole_email(phone, context.settings.blackhole_domain)
    post = Post(phone, email, text, subject, thread_type, tuple(attachments or ()), matched.get("id"))
    store, mailbox = context.store, context.mailbox
    cap = context.mailbox_options.thread_cap
    known = store.conversation_for(mailbox.mailbox_id, phone)
    resumed = _resume(context, post, known)
    if resumed is not None:
        return resumed
    for _ in range(3):  # a moved conversation is followed at most a few times
        if known and known["thread_count"] < cap:
            context.state.setdefault("first_contact", False)
            if _known_closed_long_ago(context, known):
                return _open_conversation(context, post)
            try:
                _post_thread(context, known["conversation_id"], post)
            except HelpScoutMoved as ex:
                known = {"conversation_id": ex.new_id, "thread_count": known["thread_count"]}
                store.remember_conversation(mailbox.mailbox_id, phone, ex.new_id, known["thread_count"])
                continue
            except HelpScoutNotFound:
                store.forget_conversation(mailbox.mailbox_id, phone)
                known = None
                break
            except HelpScoutThreadLimit:
                store.remember_conversation(mailbox.mailbox_id, phone, known["conversation_id"], cap)
                return _open_conversation(context, post)
            return _remember(context, phone, known["conversation_id"], known["thread_count"] + 1)
        break
    return _search_then_post(context, post, had_map=known is not None)


def _resume(context, post: Post, known) -> int | None:
    """Finish the write an earlier attempt of this event started, if any.

    Without this a retry could choose differently (e.g. post into the
    conversation its own ambiguous create had in fact made).
    """
    if context.inbox_id is None:
        return None
    for effect in context.store.effects_of(context.inbox_id):
        if effect["name"] == "conversation":
            return _open_conversation(context, post)
        if effect["name"].startswith("thread:"):
            conversation_id = int(effect["name"].split(":", 1)[1])
            _post_thread(context, conversation_id, post)
            count = known["thread_count"] + 1 if known and known["conversation_id"] == conversation_id else 1
            return _remember(context, post.phone, conversation_id, count)
    return None


def _search_then_post(context, post: Post, had_map: bool) -> int:
    cap = context.mailbox_options.thread_cap
    if context.state.get("new_to_helpscout") and not had_map:
        found = []  # customer_match's search saw no customer for this phone: no conversation to find
    else:
        found = context.helpscout.find_conversations(context.mailbox.mailbox_id, post.email) if post.email else []
    if post.customer_id:  # a matched customer may also have e-mail conversations: never text into those
        found = [c for c in found if c.get("type") == "phone"]
    context.state.setdefault("first_contact", not found and not had_map)
    if found and (found[0].get("threads") or 0) < cap and not _closed_long_ago(context, found[0]):
        newest = found[0]
        try:
            _post_thread(context, newest["id"], post)
            return _remember(context, post.phone, newest["id"], (newest.get("threads") or 0) + 1)
        except HelpScoutThreadLimit:
            pass
    return _open_conversation(context, post)


def _open_conversation(context, post: Post) -> int:
    helpscout, mailbox_id = context.helpscout, context.mailbox.mailbox_id

    def create():
        thread = {"type": post.thread_type, "customer": post.customer(), "text": thread_html(post.text),
                  **post.thread_fields()}
        return helpscout.create_conversation(
            mailbox_id, post.subject, customer=post.new_customer(), threads=[thread], type="phone")

    def find(since: float):
        for conversation in (helpscout.find_conversations(mailbox_id, post.email) if post.email else []):
            if _created_since(conversation.get("createdAt"), since):
                return conversation["id"]
        return None

    conversation_id = context.effect("conversation", create, find)
    return _remember(context, post.phone, conversation_id, 1)


def _post_thread(context, conversation_id: int, post: Post) -> int:
    helpscout = context.helpscout
    create = helpscout.create_phone_thread if post.thread_type == "phone" else helpscout.create_customer_thread

    def find(since: float):
        for thread in helpscout.list_threads(conversation_id):
            if thread.get("type") == post.thread_type and _created_since(thread.get("createdAt"), since) \
                    and _same_text(thread.get("body") or "", post.text):
                return thread["id"]
        return None

    def do():
        return create(conversation_id, post.customer(), thread_html(post.text), attachments=list(post.attachments) or None)

    return context.effect(f"thread:{conversation_id}", do, find)


def _remember(context, phone: str, conversation_id: int, thread_count: int) -> int:
    context.store.remember_conversation(context.mailbox.mailbox_id, phone, conversation_id, thread_count)
    context.state["conversation_id"] = conversation_id
    return conversation_id


def add_note(context, name: str, conversation_id: int, text: str) -> int:
    """Add a note (never e-mailed to the blackhole address) exactly once."""
    helpscout = context.helpscout

    def find(since: float):
        for thread in helpscout.list_threads(conversation_id):
            if thread.get("type") == "note" and _created_since(thread.get("createdAt"), since) \
                    and _same_text(thread.get("body") or "", text):
                return thread["id"]
        return None

    return context.effect(name, lambda: helpscout.create_note(conversation_id, thread_html(text)), find)


def thread_html(text: str) -> str:
    """Plain text as Help Scout shows it: thread text is HTML, so escape it and keep line breaks as <br>.

    A supporter's ``<b>hi</b>`` or ``5 < 6 & 7`` (and an agent's name in a
    note) reaches the agent exactly as written, never as markup.
    """
    return html.escape(text.replace("\r\n", "\n"), quote=False).replace("\n", "<br>")


def subject_for(kind: str, phone: str) -> str:
    """Conversation subject naming the supporter's phone, e.g. 'SMS from (617) 555-0100'."""
    return f"{kind} from {pretty(phone)}"


def _created_since(created_at: str | None, since: float) -> bool:
    moment = _timestamp(created_at)
    return moment is not None and moment >= since - SKEW_SECONDS


def _timestamp(value: str | None) -> float | None:
    """Epoch seconds of a Help Scout time (``2026-11-25T12:00:00Z``), or None."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


# -- the optional window: a conversation closed long ago is not reopened ------


def _window_seconds(context) -> float | None:
    days = context.mailbox_options.new_conversation_after_days
    return days * 86400.0 if days else None


def _closed_long_ago(context, conversation: dict) -> bool:
    """Is this conversation closed, and was it closed over ``new_conversation_after_days`` ago?"""
    window = _window_seconds(context)
    if window is None or conversation.get("status") != "closed":
        return False
    closed = _timestamp(conversation.get("closedAt") or conversation.get("userUpdatedAt")
                        or conversation.get("createdAt"))
    return closed is not None and context.store.clock() - closed > window


def _known_closed_long_ago(context, known: dict) -> bool:
    """The same for the remembered conversation, reading it only when it may be that old.

    Bling's own post reopens a conversation, so one Bling posted to within
    the window cannot have been closed for longer: no request is spent.
    """
    window = _window_seconds(context)
    posted = known.get("updated_at")
    if window is None or posted is None or context.store.clock() - posted <= window:
        return False
    try:
        conversation = context.helpscout.get_conversation(known["conversation_id"])
    except (HelpScoutMoved, HelpScoutNotFound):
        return False  # posting to it follows the merge or forgets it, as usual
    return _closed_long_ago(context, conversation)


def _same_text(html: str, text: str) -> bool:
    """Does a thread body Help Scout returns hold exactly the text we posted?"""
    from bs4 import BeautifulSoup  # here, not at import: web processes never parse HTML (4 MB each)

    def squash(value: str) -> str:
        return re.sub(r"\s+", " ", value).strip()

    shown = squash(BeautifulSoup(html, "html.parser").get_text(" "))
    return shown in (squash(text), squash(BeautifulSoup(text, "html.parser").get_text(" ")))
