"""What a plugin declares to the host: settings (``bling_settings``) and periodic tasks (``bling_periodic_tasks``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Setting:
    """One environment variable of a plugin.

    ``parse`` turns the raw text (the default when unset) into the value
    ``settings.<field>`` holds, raising ValueError with a plain reason;
    ``required_if(settings)`` says when leaving it empty stops start-up.
    """

    name: str
    field: str
    default: str
    purpose: str
    parse: Callable[[str], Any] = str
    secret: bool = False
    required_if: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class PeriodicTask:
    """Work one worker process (any) does every ``every`` seconds: ``run(services)``."""

    name: str
    every: float
    run: Callable[[Any], object]
