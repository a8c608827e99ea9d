"""The sandbox's web app: Bling's own app (``create_app``) with the stand-ins and the /sandbox page added.

Bling's app factory knows nothing of the sandbox: ``bling serve
--sandbox`` runs gunicorn with ``application_factory`` below instead of
bling/edge/wsgi.py's, and the sandbox's settings come from
``sandbox_environ`` (bling_fakes/sandbox/config.py) here, in the process
that builds the app, before Bling reads them.
"""

from __future__ import annotations

import os

from bling.edge.app import create_app
from bling_fakes.sandbox import mount
from bling_fakes.sandbox.config import sandbox_environ


def create_sandbox_app(services):
    """Bling's app for ``services`` (sandbox settings), with the fake Twilio and Help Scout and the page."""
    app = create_app(services)
    mount(app, services)
    return app


def sandbox_settings(environ: dict[str, str] | None = None):
    """Bling's settings in the sandbox: ``environ`` (default os.environ) made the sandbox's, then loaded."""
    from bling.config.settings import load_settings

    return load_settings(sandbox_environ(dict(os.environ if environ is None else environ)))


def application_factory():
    """What each gunicorn worker of ``bling serve --sandbox`` builds (after fork), as bling.edge.wsgi's does."""
    from bling.config.settings import require_public_url
    from bling.services import build_services

    settings = sandbox_settings()
    require_public_url(settings)
    return create_sandbox_app(build_services(settings))
