"""Where the command line reaches the fakes (bling_fakes/), and the only module of bling/ that does.

The host never imports the fakes: bling/edge builds the production app and
bling/config reads the production settings without them. The command line
needs them for three things, each imported here lazily, when it is used:

* **settings in the sandbox**: a command run with ``BLING_SANDBOX`` set
  (``bling serve --sandbox`` sets it for itself and its worker;
  scripts/bling sources the running sandbox's flag, URL and store) reads
  the sandbox's settings. ``environ()`` makes them with
  ``bling_fakes.sandbox.config.sandbox_environ`` (generated credentials,
  stand-in URLs; it refuses real credentials) *before* the settings are
  loaded, in each process that loads them;
* **``bling serve --sandbox``**: its start-up (``serve_module``) and the
  app factory its gunicorn workers run (``sandbox_app_factory``: Bling's
  app with the stand-ins and the /sandbox page added);
* **``bling simulate``**: the command group lives with the fakes
  (bling_fakes/commands.py). ``LazyCommands`` lists it and imports it only
  when it is named (or ``bling --help`` lists the commands).

Why not a plugin in the ``bling`` entry-point group (the ``bling_commands``
hook): entry-point plugins are loaded into every Bling process, production
web workers included (``build_services``), so registering the fakes there
would import them into the production app.
"""

from __future__ import annotations

import importlib
import os

import click

FLAG = "BLING_SANDBOX"

#: Commands that live outside bling/: name → "module:attribute", imported when used.
LAZY_COMMANDS = {"simulate": "bling_fakes.commands:simulate"}


def in_sandbox(env=None) -> bool:
    return bool((os.environ if env is None else env).get(FLAG, "").strip())


def environ() -> dict[str, str]:
    """The environment settings are loaded from: os.environ, made the sandbox's when BLING_SANDBOX is set.

    Raises ConfigError when the sandbox refuses (real credentials, a real
    deployment's address or store).
    """
    env = dict(os.environ)
    if not in_sandbox(env):
        return env
    from bling_fakes.sandbox.config import sandbox_environ

    return sandbox_environ(env)


def serve_module():
    """bling_fakes.sandbox.serve: prepare the process, announce the sandbox, provision it once it answers."""
    return importlib.import_module("bling_fakes.sandbox.serve")


def sandbox_app_factory():
    """What each gunicorn worker of ``bling serve --sandbox`` builds instead of Bling's own app."""
    from bling_fakes.sandbox.app import application_factory

    return application_factory


class LazyCommands(click.Group):
    """The ``bling`` group: its own commands, plus ``LAZY_COMMANDS`` imported only when used."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx, name):
        if name in LAZY_COMMANDS and name not in self.commands:
            module, _, attribute = LAZY_COMMANDS[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)
