"""Reading Bling's TOML files (routes.toml, BLING_CONFIG) with errors that name the file."""

from __future__ import annotations

import tomllib

from bling.errors import ConfigError


def read_toml(path: str, missing: str) -> dict:
    """The parsed file; ConfigError ``missing`` when it does not exist, or naming the file and the syntax error."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(missing) from None
    except tomllib.TOMLDecodeError as ex:
        raise ConfigError(f"{path}: TOML syntax error: {ex}") from None
