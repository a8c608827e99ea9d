"""MMS media both ways: supporters' pictures into Help Scout, agents' attachments out.

Inbound: Twilio's media URLs need the account's credentials, which only
go to the configured Twilio API host (never to a URL from elsewhere). Each
item is downloaded up to the mailbox's ``attachment_max_bytes`` and becomes
a real Help Scout attachment (file name, MIME type, base64 data); an item
that is larger or cannot be fetched stays a link in the thread text.

Outbound: Help Scout gives each attachment of an agent's reply a
public-facing ``url`` (webhook attachment object; the API's thread shape
has ``_links.web.href``). Twilio fetches those itself, within its MMS
limits: at most 10 items, 5 MB for JPEG/PNG/GIF and 500 KB for other types.
"""

from __future__ import annotations

import base64
import mimetypes
import time
from dataclasses import dataclass

from bling.lazy_modules import LazyModule
from bling.phones import region_of

requests = LazyModule("requests")  # loaded by the first download: web processes never download

DOWNLOAD_TIMEOUT = 15.0
#: All of one text's downloads together, well inside the worker's 120 s lease.
DOWNLOAD_BUDGET_SECONDS = 45.0
#: Twilio's MMS limits for media it fetches (Messages resource, MediaUrl).
MMS_MAX_ITEMS = 10
MMS_IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/gif"})
MMS_IMAGE_MAX_BYTES = 5 * 1024 * 1024
MMS_OTHER_MAX_BYTES = 500 * 1024
#: Hotline countries whose long codes send MMS (Twilio: US and Canada).
MMS_REGIONS = frozenset({"US", "CA"})


@dataclass(frozen=True)
class Linked:
    """An inbound item left as a link, and why."""

    url: str
    content_type: str
    reason: str


def inbound_attachments(context, media: list[dict]) -> tuple[list[tuple[dict, dict]], list[Linked]]:
    """Download the supporter's media: ([(media item, Help Scout attachment)], items left as links)."""
    settings = context.settings
    cap = context.mailbox_options.attachment_max_bytes
    prefix = f"{settings.twilio_api_url.rstrip('/')}/2010-04-01/Accounts/{settings.twilio_account_sid}/"
    attached: list[tuple[dict, dict]] = []
    linked: list[Linked] = []
    deadline = time.monotonic() + DOWNLOAD_BUDGET_SECONDS
    for item in media:
        url, declared = item["url"], item.get("content_type") or "application/octet-stream"
        if not url.startswith(prefix):
            linked.append(Linked(url, declared, "not a media address of this Twilio account"))
            continue
        if cap <= 0:
            linked.append(Linked(url, declared, "attachments are turned off (attachment_max_bytes = 0)"))
            continue
        left = deadline - time.monotonic()
        if left <= 1:
            linked.append(Linked(url, declared, "not downloaded: the other media took too long"))
            continue
        data, content_type, problem = _download(url, (settings.twilio_account_sid, settings.twilio_auth_token), cap,
                                                min(DOWNLOAD_TIMEOUT, left))
        content_type = content_type or declared
        if problem:
            context.logger.info("media %s left as a link: %s", url.rsplit("/", 1)[-1], problem)
            linked.append(Linked(url, declared, problem))
            continue
        attached.append((item, {"fileName": _file_name(url, content_type), "mimeType": content_type,
                                 "data": base64.b64encode(data).decode("ascii")}))
    return attached, linked


def _download(url: str, auth: tuple[str, str], cap: int, timeout: float) -> tuple[bytes, str | None, str | None]:
    """(bytes, content type, problem); the body is never read past ``cap``.

    Redirects are followed (``requests`` drops the credentials when the host changes).
    """
    try:
        with requests.get(url, auth=auth, stream=True, timeout=timeout) as response:
            if response.status_code != 200:
                return b"", None, f"Twilio answered HTTP {response.status_code}"
            content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip() or None
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > cap:
                return b"", content_type, f"too large to attach: {_size(int(length))}, limit {_size(cap)}"
            chunks, total = [], 0
            for chunk in response.iter_content(64 * 1024):
                total += len(chunk)
                if total > cap:
                    return b"", content_type, f"too large to attach: over the {_size(cap)} limit"
                chunks.append(chunk)
            return b"".join(chunks), content_type, None
    except requests.RequestException as ex:
        return b"", None, f"could not be downloaded: {type(ex).__name__}"


def _file_name(url: str, content_type: str) -> str:
    """``ME….jpg``: Twilio media have no name, but their sid is unique."""
    extension = {"image/jpeg": ".jpg", "audio/mpeg": ".mp3", "text/plain": ".txt"}.get(content_type) \
        or mimetypes.guess_extension(content_type) or ".bin"
    return url.rstrip("/").rsplit("/", 1)[-1] + extension


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{max(1, round(count / 1024))} KB"


def linked_lines(linked: list[Linked]) -> list[str]:
    """Thread-text lines for media left as links (type, URL, why)."""
    return [f"- {item.content_type}: {item.url}" + (f" ({item.reason})" if item.reason else "") for item in linked]


# -- outbound: an agent's attachments as MMS ---------------------------------------


def reply_attachments(thread: dict) -> list[dict]:
    """The attachments of a Help Scout thread, in either shape the webhook or API gives."""
    embedded = thread.get("_embedded") if isinstance(thread.get("_embedded"), dict) else {}
    items = thread.get("attachments") or embedded.get("attachments") or []
    return [item for item in items if isinstance(item, dict)]


def mms_capable(context, mailbox=None) -> bool:
    """Can this hotline send MMS? ``send_mms`` in BLING_CONFIG, else yes for US/Canada numbers.

    ``mailbox`` is the entry the reply goes out on (default: the event's); a
    channel other than SMS on Twilio (WhatsApp) carries media in every country.
    """
    mailbox = mailbox or context.mailbox
    if mailbox is not None and mailbox.channel != "SMS" and mailbox.provider == "twilio":
        return True
    configured = context.mailbox_options.send_mms
    if configured is not None:
        return configured
    number = mailbox.number if mailbox else None
    return bool(number) and region_of(number) in MMS_REGIONS


def reply_media(context, thread: dict, mailbox=None) -> tuple[list[str], str | None]:
    """(URLs Twilio should fetch, a sentence for the note about what was not sent or None)."""
    items = reply_attachments(thread)
    if not items:
        return [], None
    if not mms_capable(context, mailbox):
        which = f"The {len(items)} attachments were" if len(items) > 1 else "The attachment was"
        return [], f"{which} not sent: this hotline number cannot send MMS (picture messages)."
    urls: list[str] = []
    skipped: list[str] = []
    for item in items:
        name = item.get("filename") or item.get("fileName") or "an attachment"
        url = item.get("url") or ((item.get("_links") or {}).get("web") or {}).get("href")
        reason = _mms_problem(item, url, len(urls))
        if reason:
            skipped.append(f"{name} ({reason})")
        else:
            urls.append(url)
    return urls, ("Not sent: " + "; ".join(skipped) + ".") if skipped else None


def _mms_problem(item: dict, url: str | None, already: int) -> str | None:
    if not url or not url.startswith("https://"):
        return "Help Scout gave no public link to it"
    if already >= MMS_MAX_ITEMS:
        return f"a text carries at most {MMS_MAX_ITEMS} attachments"
    mime = (item.get("mimeType") or "").lower()
    size = item.get("size") if isinstance(item.get("size"), int) else 0
    limit = MMS_IMAGE_MAX_BYTES if mime in MMS_IMAGE_TYPES else MMS_OTHER_MAX_BYTES
    if size > limit:
        kind = "pictures" if mime in MMS_IMAGE_TYPES else "files other than JPEG, PNG or GIF pictures"
        return f"{_size(size)}, over Twilio's {_size(limit)} limit for {kind}"
    return None
