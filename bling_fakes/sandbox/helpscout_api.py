"""The sandbox's Help Scout: the fake (bling_fakes/helpscout.py) under /sandbox/helpscout.

It takes only the sandbox's generated client credentials and knows only the
fake hotlines' mailboxes; there is no rate limit to run into.
"""

from __future__ import annotations

from bling_fakes.helpscout import HelpScoutFake
from bling_fakes.sandbox.state import SandboxState

PREFIX = "/sandbox/helpscout"


def sandbox_helpscout(state: SandboxState, settings) -> HelpScoutFake:
    return HelpScoutFake(state, base_url=settings.helpscout_api_url, client_id=settings.helpscout_client_id,
                         client_secret=settings.helpscout_client_secret, mailboxes=state.mailboxes())
