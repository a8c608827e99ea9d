"""Dialer links (encrypted) and CSRF values (signed), keyed with BLING_SECRET_KEY.

A token is JSON naming the conversation, mailbox, supporter number and agent
(Help Scout user id and name), with its issue and expiry times, encrypted and
authenticated with Fernet (cryptography: AES-CBC + HMAC-SHA256). A link is
seen by browsers, proxies and whoever an agent pastes it to, so it must not
show the supporter's number or the agent's name (issue 13): only this Bling
can read it, and changing any byte of it makes it invalid. CSRF values carry
nothing private and stay signed (itsdangerous).
The signature is checked at the edge (verifier ``dialer_token``); expiry is
checked by the plugins against the store's clock, so tests can move time.

Token ids and call ids are HMACs too (not random), so they cannot be guessed
without the key and the same inputs give the same ids (cassettes can match
the exact callback URLs Bling gives Twilio).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer

TOKEN_SALT = "bling.dialer.token.v2"  # v2: encrypted; links made by v1 (signed only) are refused
CSRF_SALT = "bling.dialer.csrf.v1"
#: Status and cancel keep working this long after a link expires (a call placed
#: in the link's last minute must still be followed and hung up).
FOLLOW_UP_GRACE_SECONDS = 4 * 3600


class TokenRefused(Exception):
    """A token that cannot be used; ``message`` says why in plain words."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # disabled | missing | invalid | expired
        self.message = message


@dataclass(frozen=True)
class Claims:
    """What a valid token binds together."""

    conversation_id: int
    conversation_number: int | None
    mailbox_id: int
    supporter: str
    user_id: int
    agent_name: str
    issued_at: int
    expires_at: int
    token_id: str


def issue(secret_key: str, *, conversation_id: int, conversation_number: int | None, mailbox_id: int,
          supporter: str, user_id: int, agent_name: str, now: float, lifetime: int) -> str:
    """Return a signed token for one agent to call one supporter back."""
    issued = int(now)
    token_id = _digest(secret_key, f"token|{conversation_id}|{mailbox_id}|{supporter}|{user_id}|{issued}")[:16]
    payload = {"c": conversation_id, "n": conversation_number, "m": mailbox_id, "s": supporter,
               "u": user_id, "a": agent_name, "iat": issued, "exp": issued + lifetime, "j": token_id}
    return _fernet(secret_key).encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode("ascii")


def read(secret_key: str, token: str | None) -> Claims:
    """Return the claims of a genuine token, expired or not; raise TokenRefused."""
    if not secret_key:
        raise TokenRefused("disabled", "Call back is turned off on this Bling: BLING_SECRET_KEY is not set.")
    if not token:
        raise TokenRefused("missing", "This link has no call-back token. Open Call back again from the Help Scout sidebar.")
    try:
        data = json.loads(_decrypt(secret_key, token))
        return _claims(data)
    except (KeyError, TypeError, ValueError, UnicodeEncodeError):
        raise TokenRefused("invalid", "This link is not valid: it was changed, cut short or not made by this Bling. "
                                      "Open Call back again from the Help Scout sidebar.") from None


def check(secret_key: str, token: str | None, now: float, grace: int = 0) -> Claims:
    """Return the claims of a genuine token that has not expired (``grace`` seconds allowed)."""
    claims = read(secret_key, token)
    if now >= claims.expires_at + grace:
        minutes = max(1, (claims.expires_at - claims.issued_at) // 60)
        raise TokenRefused("expired", f"This link has expired (links work for {minutes} minutes). "
                                      "Open Call back again from the Help Scout sidebar for a new one.")
    if now < claims.issued_at - 300:
        raise TokenRefused("invalid", "This link is dated in the future; check the server clock.")
    return claims


def peek(secret_key: str, token: str | None) -> dict:
    """The raw claims of a token *already verified at the edge*, expiry unchecked ({} if unreadable).

    For routing and logs only (which mailbox, which link); never for a decision.
    """
    if not token or not secret_key:
        return {}
    try:
        data = json.loads(_decrypt(secret_key, token))
    except (ValueError, UnicodeEncodeError):
        return {}
    return data if isinstance(data, dict) else {}


def log_id(token: str) -> str:
    """A short stand-in for a token in logs and keys: neither the token nor anything in it."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:16]


def new_csrf(secret_key: str, claims: Claims) -> str:
    """A fresh per-page value the page must send back with every action."""
    return _serializer(secret_key, CSRF_SALT).dumps({"j": claims.token_id, "p": secrets.token_urlsafe(9)})


def csrf_matches(secret_key: str, value: str | None, token_id: str) -> bool:
    """True if ``value`` was made by this Bling for a page of this token."""
    if not secret_key or not value:
        return False
    try:
        data = _serializer(secret_key, CSRF_SALT).loads(value)
    except BadData:
        return False
    return isinstance(data, dict) and hmac.compare_digest(str(data.get("j", "")), token_id)


def call_id(secret_key: str, token_id: str, sequence: int) -> str:
    """The id of the ``sequence``-th call placed with a token (unguessable, stable)."""
    return _digest(secret_key, f"call|{token_id}|{sequence}")[:22]


def _claims(data: dict) -> Claims:
    number = data.get("n")
    return Claims(conversation_id=int(data["c"]), conversation_number=int(number) if number is not None else None,
                  mailbox_id=int(data["m"]), supporter=str(data["s"]), user_id=int(data["u"]),
                  agent_name=str(data.get("a") or ""), issued_at=int(data["iat"]), expires_at=int(data["exp"]),
                  token_id=str(data["j"]))


def _serializer(secret_key: str, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=salt)


def _fernet(secret_key: str):
    """The link cipher: a 32-byte Fernet key derived from BLING_SECRET_KEY for this purpose alone.

    cryptography is imported here, not at start-up: its OpenSSL bindings cost every web process
    ~7 MB, and only Call back links need them.
    """
    from cryptography.fernet import Fernet

    derived = hmac.new(secret_key.encode(), TOKEN_SALT.encode(), hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def _decrypt(secret_key: str, token: str) -> bytes:
    """The plaintext of a genuine link; ValueError for anything this Bling did not make."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(secret_key).decrypt(token.encode("ascii"))
    except InvalidToken:
        raise ValueError("not a link this Bling made") from None


def _digest(secret_key: str, message: str) -> str:
    mac = hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=").replace("-", "x").replace("_", "y")
