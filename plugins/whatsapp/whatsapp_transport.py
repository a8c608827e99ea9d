"""Send agents' replies (and Bling's own) for ``whatsapp:`` mailboxes through Twilio.

``From``/``To`` are channel addresses (``whatsapp:+1…``) and Twilio reports
delivery to the SMS status route (``twilio-sms-status``), like a text.

- Inside the supporter's 24-hour window (``window.py``): a free-form
  message, ``Body`` and ``MediaUrl`` as for MMS.
- Outside it, with ``whatsapp_template_sid`` set for the mailbox: that
  approved template, ``ContentSid`` + ``ContentVariables {"1": text}`` and
  no ``Body`` (Twilio refuses both). The text is cut to 1,024 characters
  (63021 beyond) and is never empty (21656/63013); media cannot go with a
  template. ``state['transport_note']`` tells the agent's note so.
- Outside it without a template: nothing is sent; ``WindowClosed`` (a
  permanent TransportError) says why and when the window closed, and
  ``agent_reply`` puts that in its note.
- Twilio refusing a free-form message as outside the window at once (63016
  on create) is believed: the window is marked closed and the template is
  sent instead, or ``WindowClosed`` raised.

Opt-outs: Twilio does not act on STOP for WhatsApp, so nothing but Bling
stops a send to a supporter who opted out. The SMS feature's ``opt_out``
wrapper refuses every transport's send to a supporter opted out of that
hotline, and the hotline is ``whatsapp:<number>``: a WhatsApp STOP stops
WhatsApp, not the number's SMS, and the other way round.
"""

from __future__ import annotations

from datetime import datetime, timezone

from bling.errors import TransportError
from bling.hookspecs import hookimpl
from bling.routing.urls import find_route, public_base, url_for

from . import TRANSPORT
from .schema import PREFIX
from .window import OUTSIDE_WINDOW_CODE, WindowClosed, record_refusal, window, describe

#: The route Twilio reports a message's delivery to (shared with SMS).
STATUS_ROUTE = "twilio-sms-status"
#: WhatsApp's limit for a template variable (Twilio error 63021 beyond).
VARIABLE_MAX = 1024
#: The variable when the agent's reply has no text (attachments only): never empty (21656, 63013).
EMPTY_REPLY_VARIABLE = "We have replied to your message. Please write back to continue the conversation."


def address(number: str) -> str:
    return PREFIX + number


def status_callback(context) -> str | None:
    """The status route's URL, or None when Bling cannot be reached (no public URL) or has no such route."""
    if find_route(context, STATUS_ROUTE) is None or not public_base(context):
        return None
    return url_for(context, STATUS_ROUTE)


def template_variable(body: str) -> str:
    text = (body or "").strip() or EMPTY_REPLY_VARIABLE
    return text if len(text) <= VARIABLE_MAX else text[:VARIABLE_MAX - 1].rstrip() + "…"


@hookimpl
def transport_send_sms(context, mailbox, to, body, media_urls):
    if mailbox is None or mailbox.transport != TRANSPORT:
        return None
    state = window(context.store, mailbox.address, to)
    if state.open:
        try:
            return _free_form(context, mailbox, to, body, media_urls)
        except TransportError as ex:
            if ex.code != OUTSIDE_WINDOW_CODE:
                raise
            context.logger.info("Twilio refused a free-form WhatsApp message to %s as outside the window", to)
            record_refusal(context.store, mailbox.address, to)
            state = window(context.store, mailbox.address, to)
    return _template(context, mailbox, to, body, media_urls, state)


def _free_form(context, mailbox, to, body, media_urls) -> str:
    return context.twilio.send_sms(from_=address(mailbox.number), to=address(to), body=body,
                                   media_urls=media_urls or None, status_callback=status_callback(context))


def _template(context, mailbox, to, body, media_urls, state) -> str:
    options = context.settings.options(mailbox)
    template = options.whatsapp_template_sid
    if not template:
        raise WindowClosed(state, options.timezone)
    variable = template_variable(body)
    sid = context.twilio.send_sms(from_=address(mailbox.number), to=address(to), body="",
                                  status_callback=status_callback(context), content_sid=template,
                                  content_variables={"1": variable})
    cut = ", cut to 1,024 characters" if len((body or "").strip()) > VARIABLE_MAX else ""
    dropped = " Attachments cannot go with a template and were not sent." if media_urls else ""
    context.state["transport_note"] = (
        f"WhatsApp's 24-hour window was closed ({describe(state, options.timezone)}), so it went as the "
        f"mailbox's approved WhatsApp template with the reply as its text{cut}.{dropped}")
    return sid


@hookimpl
def transport_find_sms(context, mailbox, to, body, since):
    if mailbox is None or mailbox.transport != TRANSPORT:
        return None
    free_form = window(context.store, mailbox.address, to).open
    # a template's text is Twilio's rendering, not ours: any message sent to them since the attempt is it
    sid = context.twilio.find_sent_message(address(mailbox.number), address(to), body if free_form else None,
                                           datetime.fromtimestamp(since, timezone.utc))
    return [sid] if sid else []

