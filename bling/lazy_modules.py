"""Modules imported, and the API clients built, on first use.

Web processes import the API clients' modules (the plugins import them)
but never call Help Scout or Twilio: a request is verified, parsed and
accepted, and a worker calls out later. So ``requests`` (with urllib3,
charset_normalizer, idna, certifi: about 3 MB a process) and the
``twilio`` library's HTTP layer are imported by the first call that needs
them, not by importing the modules that use them; and the clients (whose
construction needs them) are built by their first use.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Callable


class LazyModule:
    """Stands for a module: the first attribute read imports it (once), every read is forwarded."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attribute: str):
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)  # thread-safe: the import lock
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, {'imported' if self._module is not None else 'not imported yet'}>"


class BuiltOnFirstUse:
    """Stands for the object ``build()`` returns: the first attribute read builds it (once), every read is forwarded."""

    def __init__(self, build: Callable[[], Any]):
        self._build = build
        self._built: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, attribute: str):
        built = self._built
        if built is None:
            with self._lock:  # a worker's threads may be first at once
                if self._built is None:
                    self._built = self._build()
                built = self._built
        return getattr(built, attribute)

    def __repr__(self) -> str:
        return repr(self._built) if self._built is not None else "<built on first use>"
