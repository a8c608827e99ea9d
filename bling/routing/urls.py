"""Where a route is served: code asks the route table by route name, never writes a path.

routes.toml is the only place a path is written, so moving an endpoint is an
edit of that file alone: the callback URLs Bling hands Twilio, the links it
puts in Help Scout and the URLs ``bling provision`` sets all follow. A name
code needs but routes.toml lacks is a ConfigError naming the name and the
file, never a guessed path; a chain plugin lists the names it needs in its
module's ``NEEDS_ROUTES``, so that error comes at start-up
(``bling.routing.chains.check_routes_needed``).

Absolute URLs are built from BLING_PUBLIC_URL or, when it is not set, from
the URL of the request being answered — the same base the Twilio signature
check uses, so Twilio's signature of a callback matches what Bling checks
(Twilio requires absolute URLs for ``<Record>`` and ``<Dial>`` actions
reached from a redirect). Query parameters go in alphabetical order,
because Twilio has been seen to re-sort them before signing.
"""

from __future__ import annotations

from urllib.parse import urlencode

from bling.errors import ConfigError
from bling.routing.routes import Route


def routes_of(where) -> list[Route]:
    """The route table ``where`` holds: a Context, the Services, compiled chains or routes."""
    services = getattr(where, "services", where)  # a Context carries the process's Services
    items = getattr(services, "chains", where)
    return [getattr(item, "route", item) for item in items]


def find_route(where, name: str) -> Route | None:
    """The route named ``name``, or None when routes.toml has none (for routes that are optional)."""
    return next((route for route in routes_of(where) if route.name == name), None)


def route_path(where, name: str) -> str:
    """The path of the route named ``name``; a ConfigError naming it and routes.toml when there is none."""
    route = find_route(where, name)
    if route is None:
        known = ", ".join(sorted(route.name for route in routes_of(where))) or "none"
        raise ConfigError(f"{_routes_file(where)}: no route named {name!r}, which Bling needs to build its URL "
                          f"(give the [[route]] that serves it name = {name!r}; named routes: {known})")
    return route.path


def url_for(where, name: str, /, **query: str) -> str:
    """The absolute URL of the route named ``name``, query sorted by name.

    ``where`` is the Context of the request or job (its base: BLING_PUBLIC_URL,
    else the request's own URL) or the Services (BLING_PUBLIC_URL only).
    """
    url = public_base(where) + route_path(where, name)
    if query:
        url += "?" + urlencode(sorted(query.items()))
    return url


def public_base(where) -> str:
    """``scheme://host`` Twilio and Help Scout reach Bling at: BLING_PUBLIC_URL, else the request's own."""
    return where.settings.public_base() or (getattr(where, "request_base", "") or "").rstrip("/")


def _routes_file(where) -> str:
    """The routes.toml being read, for error messages (``routes.toml`` when not known)."""
    settings = getattr(where, "settings", None)
    path = getattr(settings, "routes_path", None)
    return f"routes.toml ({path})" if path else "routes.toml"
