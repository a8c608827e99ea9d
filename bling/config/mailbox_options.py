"""BLING_CONFIG: the optional TOML file of per-mailbox options.

```toml
[defaults]                      # applies to every mailbox
auto_reply = "Thanks! We got your message."

[mailboxes.206906]              # one table per Help Scout mailbox id
auto_reply = "Thanks for texting the Boston hotline."
thread_cap = 90
```
The host declares the options of Help Scout threading and business hours;
every other key is declared by a plugin (``bling_mailbox_options``: a
marshmallow schema whose fields have defaults). A key nobody declares is an
error naming the file, the table and the key.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields as mfields, validate, validates_schema, post_load

from bling.config.hours import BusinessHours, parse_hours
from bling.errors import ConfigError
from bling.toml_file import read_toml


class HostOptions(Schema):
    """The host's own per-mailbox options (Help Scout threading, business hours)."""

    class Meta:
        unknown = RAISE

    thread_cap = mfields.Integer(load_default=90, validate=validate.Range(min=1, max=99))  # Help Scout refuses the 101st thread
    new_conversation_after_days = mfields.Integer(load_default=None, allow_none=True,
                                                  validate=validate.Range(min=1, max=3650))  # a closed conversation idle this long is not reopened
    timezone = mfields.String(load_default="UTC")
    hours = mfields.List(mfields.String(), load_default=())  # empty: always open

    @validates_schema
    def _hours_parse(self, data, **_kwargs):
        if "hours" in data or "timezone" in data:
            try:
                parse_hours(data.get("hours", []), data.get("timezone", "UTC"))
            except ValueError as ex:
                raise ValidationError(str(ex), "hours" if "hours" in data else "timezone") from None

    @post_load
    def _tuples(self, data, **_kwargs):
        if "hours" in data:
            data["hours"] = tuple(data["hours"])
        return data


class MailboxOptions:
    """One mailbox's options, the host's and every loaded plugin's, defaults filled in.

    Read as attributes (``options.auto_reply``); immutable.
    """

    __slots__ = ("_values",)

    def __init__(self, values: dict | None = None, **changes):
        object.__setattr__(self, "_values", {**(values or {}), **changes})

    def __getattr__(self, name: str):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no per-mailbox option {name!r}: neither the host nor a loaded plugin declares it") from None

    def __setattr__(self, name, value):
        raise AttributeError("mailbox options are read-only; use replace()")

    def replace(self, **changes) -> "MailboxOptions":
        return MailboxOptions(self._values, **changes)

    def as_dict(self) -> dict:
        return dict(self._values)

    def __eq__(self, other) -> bool:
        return isinstance(other, MailboxOptions) and other._values == self._values

    def __repr__(self) -> str:
        return f"MailboxOptions({self._values!r})"

    @property
    def business_hours(self) -> BusinessHours:
        """The parsed ``hours`` in ``timezone`` (validated when the file is read)."""
        return parse_hours(self.hours, self.timezone)


def option_keys(schemas: list[type[Schema]]) -> dict[str, type[Schema]]:
    """Each option key → the schema (host's or a plugin's) that declares it; a key declared twice stops start-up."""
    owners: dict[str, type[Schema]] = {}
    for schema in [HostOptions, *schemas]:
        for name, field in schema._declared_fields.items():
            key = field.data_key or name
            if key in owners:
                raise ConfigError(f"per-mailbox option {key!r} is declared twice ({owners[key].__name__} and {schema.__name__})")
            owners[key] = schema
    return owners


def default_options(schemas: list[type[Schema]]) -> MailboxOptions:
    """Every declared option at its default."""
    values: dict = {}
    for schema in [HostOptions, *schemas]:
        values.update(schema().load({}))
    return MailboxOptions(values)


def _load_table(raw, schemas, owners, where: str, partial: bool) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = sorted(set(raw) - set(owners))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown option {unknown[0]!r} (no loaded plugin declares it; "
                          f"known: {', '.join(sorted(owners))})")
    values: dict = {}
    for schema in [HostOptions, *schemas]:
        part = {key: value for key, value in raw.items() if owners[key] is schema}
        try:
            values.update(schema().load(part, partial=partial))
        except ValidationError as ex:
            raise ConfigError(f"{where}.{_describe(ex.messages)}") from None
    return values


def load_mailbox_options(path: str | None, schemas: list[type[Schema]] = ()) -> tuple[MailboxOptions, dict[int, MailboxOptions]]:
    """Return (defaults, options by mailbox id) from the file at ``path``, with every declared option."""
    schemas = list(schemas)
    owners = option_keys(schemas)
    base = default_options(schemas)
    if not path:
        return base, {}
    raw = read_toml(path, missing=f"BLING_CONFIG: {path} does not exist")
    extra = sorted(set(raw) - {"defaults", "mailboxes"})
    if extra:
        raise ConfigError(f"{path}: {extra[0]}: unknown table (only [defaults] and [mailboxes.<id>])")
    defaults = base.replace(**_load_table(raw.get("defaults", {}), schemas, owners, f"{path}: defaults", partial=True))
    per_mailbox = {}
    for mailbox_id, table in (raw.get("mailboxes") or {}).items():
        if not str(mailbox_id).isdigit():
            raise ConfigError(f"{path}: mailboxes.{mailbox_id}: must be a mailbox id")
        values = _load_table(table, schemas, owners, f"{path}: mailboxes.{mailbox_id}", partial=True)
        per_mailbox[int(mailbox_id)] = defaults.replace(**values)
    return defaults, per_mailbox


def _describe(messages, prefix: str = "") -> str:
    """Flatten marshmallow's nested error dict into 'a.b: message' parts."""
    if isinstance(messages, dict):
        parts = []
        for key, value in messages.items():
            if key == "value":  # Dict field nests value errors under 'value'
                parts.append(_describe(value, prefix))
            else:
                parts.append(_describe(value, f"{prefix}.{key}" if prefix else str(key)))
        return "; ".join(parts)
    if isinstance(messages, list):
        return f"{prefix}: {' '.join(str(m) for m in messages)}"
    return f"{prefix}: {messages}"
