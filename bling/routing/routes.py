"""routes.toml: the table of webhook endpoints and the chain each runs.

Each ``[[route]]`` names its ``path``, how its sender is verified
(``verify``), the marshmallow ``schema`` of its payload, its ``chain`` of
plugins (run in the listed order), how it answers (``respond``) and which
queue its jobs wait in (``lane``). This
module only reads and checks the file; names are resolved against the
loaded plugins by :mod:`bling.edge.app`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from bling.errors import ConfigError
from bling.toml_file import read_toml

#: How a route answers. Job routes accept durably and answer at once;
#: ``chain`` routes run their chain in the request and answer its result,
#: and may also accept the event for a ``background`` chain run by a worker.
RESPONSES = {
    "twiml": "empty TwiML <Response/> (text/xml) once the event is accepted",
    "no_content": "204 No Content once the event is accepted",
    "chain": "whatever the chain returns, rendered in the request (TwiML, HTML, JSON)",
}

#: Which queue a route's jobs wait in (bling/jobs/engine.py). Jobs are handed out
#: oldest first within a lane; a ``fast`` job that turns out to need Help Scout
#: budget moves to the ``helpscout`` lane and waits its turn there.
LANES = {
    "helpscout": "its work spends Help Scout's rate budget: handed out oldest first, when the budget has room",
    "fast": "its work starts without Help Scout (e.g. texting an agent's reply): never waits behind the backlog",
}


@dataclass(frozen=True)
class Route:
    """One endpoint: path → verifier → schema → chain → answer."""

    name: str
    path: str
    verify: str  # "" for a route that takes no HTTP request (methods = [])
    schema: str
    chain: tuple[str, ...]
    respond: str = "twiml"
    lane: str = "helpscout"
    background: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("POST",)
    description: str = ""
    options: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def takes_http(self) -> bool:
        """False for a route fed only by a loader (``methods = []``): every request gets 405."""
        return bool(self.methods)

    @property
    def is_job(self) -> bool:
        """True when the chain runs later in a worker, not in the request."""
        return self.respond != "chain"

    @property
    def job_chain(self) -> tuple[str, ...]:
        """The plugins a worker runs for this route's accepted events."""
        return self.chain if self.is_job else self.background


class _RouteSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_-]*$"))
    path = fields.String(required=True, validate=validate.Regexp(r"^/[A-Za-z0-9_/.-]*$", error="must start with / and hold only letters, digits, _ - . /"))
    verify = fields.String()  # required unless methods = [] (checked in load_routes)
    schema = fields.String(required=True)
    chain = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    respond = fields.String(load_default="twiml", validate=validate.OneOf(sorted(RESPONSES)))
    lane = fields.String(load_default="helpscout", validate=validate.OneOf(sorted(LANES)))
    background = fields.List(fields.String(), load_default=list)
    methods = fields.List(fields.String(validate=validate.OneOf(["GET", "POST"])), load_default=["POST"])
    description = fields.String(load_default="")
    options = fields.Dict(keys=fields.String(), values=fields.Dict(), load_default=dict)


class _FileSchema(Schema):
    class Meta:
        unknown = RAISE

    route = fields.List(fields.Dict(), required=True)


def load_routes(path: str) -> list[Route]:
    """Read and check ``path``; raise ConfigError naming file, route and key."""
    raw = read_toml(path, missing=f"{path}: no such file (set BLING_ROUTES)")
    try:
        tables = _FileSchema().load(raw)["route"]
    except ValidationError as ex:
        keys = ", ".join(sorted(ex.messages))
        raise ConfigError(f"{path}: unknown or missing top-level key(s): {keys} (expected [[route]] tables)") from None

    routes: list[Route] = []
    seen: dict[str, str] = {}
    named: dict[str, str] = {}  # code finds routes by name (bling/routing/urls.py): one route per name
    for index, table in enumerate(tables, start=1):
        label = f"[[route]] #{index}" + (f" ({table.get('path')})" if table.get("path") else "")
        try:
            data = _RouteSchema().load(table)
        except ValidationError as ex:
            raise ConfigError(f"{path}: {label}: {_first_problem(ex.messages)}") from None
        if data["path"] in seen:
            raise ConfigError(f"{path}: {label}: key 'path': {data['path']} is already used by {seen[data['path']]}")
        seen[data["path"]] = label
        if data["background"] and data["respond"] != "chain":
            raise ConfigError(f"{path}: {label}: key 'background': only for respond = \"chain\" routes "
                              "(a job route's chain already runs in the background)")
        _check_http(path, label, data)
        name = data.get("name") or data["path"].strip("/").replace("/", "_") or "root"
        if name in named:
            raise ConfigError(f"{path}: {label}: key 'name': {name!r} is already used by {named[name]}")
        named[name] = label
        routes.append(
            Route(
                name=name,
                path=data["path"],
                verify=data.get("verify", ""),
                schema=data["schema"],
                chain=tuple(data["chain"]),
                respond=data["respond"],
                lane=data["lane"],
                background=tuple(data["background"]),
                methods=tuple(data["methods"]),
                description=data["description"],
                options=data["options"],
            )
        )
    if not routes:
        raise ConfigError(f"{path}: no [[route]] tables")
    return routes


def _check_http(path: str, label: str, data: dict) -> None:
    """``verify`` proves an HTTP sender, so a route takes it exactly when it takes HTTP requests.

    ``methods = []`` is a route no HTTP request may feed (a loader's, e.g. Mobile Commons, which
    cannot sign): it names the chain its events run, answers every request 405 and has nothing
    to verify or to answer, so it must run that chain in a worker.
    """
    if data["methods"] and "verify" not in data:
        raise ConfigError(f"{path}: {label}: key 'verify': Missing data for required field "
                          "(only a route with methods = [] takes no HTTP request and has no verifier)")
    if not data["methods"] and "verify" in data:
        raise ConfigError(f"{path}: {label}: key 'verify': a route with methods = [] takes no HTTP request, "
                          "so there is nothing to verify; remove the key")
    if not data["methods"] and data["respond"] == "chain":
        raise ConfigError(f"{path}: {label}: key 'respond': a route with methods = [] answers no request; "
                          "its chain must run in a worker (leave respond out)")


def _first_problem(messages: dict) -> str:
    """One clear sentence: an unknown (mistyped) key first, else the first bad key."""
    unknown = sorted(k for k, v in messages.items() if "Unknown field." in (v if isinstance(v, list) else []))
    if unknown:
        key = unknown[0]
        guess = difflib.get_close_matches(key, list(_RouteSchema().fields), n=1)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        return f"key {key!r}: unknown key{hint}"
    key, value = sorted(messages.items())[0]
    text = value if isinstance(value, str) else " ".join(str(v) for v in (value.values() if isinstance(value, dict) else value))
    return f"key {key!r}: {text}"
