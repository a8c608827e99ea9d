"""Secrets never reach a log line: known secret values and credential shapes are replaced by ``[redacted]``.

The values of the secret settings (and any registered later, e.g. the
sandbox's generated ones) are replaced wherever they appear, and so are
bearer/basic credentials, password/secret/token fields and passwords in
URLs, whatever logged them — in messages and tracebacks alike.
"""

from __future__ import annotations

import re
import threading

#: Environment variables whose values are secret by their name (the host's and any plugin's,
#: e.g. HELPSCOUT_APP_SECRET, BLING_SECRET_KEY, MOBILECOMMONS_PASSWORD), registered before settings
#: are even read; once read, ``Settings.secret_values`` adds every secret a plugin declares.
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|_KEY)$|(SECRET|PASSWORD|TOKEN)_")
#: Shapes of credentials, whatever their value: headers, JSON/form fields, URL passwords.
_PATTERNS = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 [redacted]"),
    (re.compile(r'(?i)("?(?:client_secret|access_token|auth_token|password|secret)"?\s*[:=]\s*"?)[^"&\s,}]+'), r"\1[redacted]"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@/\s]+@"), r"\1[redacted]@"),
)
#: Text without any of these words cannot match a pattern above: most log values (paths, ids, numbers)
#: are then passed after one search instead of three substitutions (a log line is written per request).
_TRIGGER = re.compile(r"(?i)bearer|basic|secret|token|password|://")


class Redactor:
    """Replaces known secret values and credential shapes in text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._longest_first: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        with self._lock:
            self._secrets.update(v for v in values if v and len(v) >= 6)
            self._longest_first = tuple(sorted(self._secrets, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._longest_first:
            if secret in text:
                text = text.replace(secret, "[redacted]")
        if _TRIGGER.search(text) is None:
            return text
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


redact = Redactor()


def add_secrets_of(settings) -> None:
    """Register the secret values of ``settings`` (called wherever services are built)."""
    redact.add(*settings.secret_values())


def add_secrets_from_environment(environ) -> None:
    """Register the secret settings' values as the environment holds them (before they are validated)."""
    redact.add(*(value for name, value in environ.items() if SECRET_NAME.search(name)))
