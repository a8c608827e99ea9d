"""How ``scripts/serve.sh`` starts Bling: the sandbox when nothing is configured, else the real thing.

A newcomer's first command should run something. With no Twilio or Help
Scout setting at all, serve.sh starts the sandbox (fake accounts) and says
so loudly; with some but not all, it stops and names what is missing and
where to put it. Values still as in an unfilled copy of
examples/env.example are refused everywhere the CLI starts Bling: they
look like settings but point at nobody.
"""

from __future__ import annotations

from pathlib import Path

from bling.errors import ConfigError
from bling.config.settings import REQUIRED, ROOT

ENV_EXAMPLE = ROOT / "examples" / "env.example"
ENV_FILE = ROOT / ".env"


def example_values(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """The non-empty ``NAME=value`` lines of examples/env.example (its placeholders)."""
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#") and value.strip():
            found[name.strip()] = value.strip()
    return found


def placeholders(env: dict[str, str]) -> list[str]:
    """Names whose value is still the placeholder of examples/env.example."""
    examples = example_values()
    return [name for name, value in examples.items() if env.get(name, "").strip() == value]


def refuse_placeholders(env: dict[str, str]) -> None:
    """Stop with a message naming every setting still holding its example value."""
    found = placeholders(env)
    if found:
        raise ConfigError(
            f"{', '.join(found)} still hold the example values of examples/env.example "
            f"({', '.join(f'{n}={env[n].strip()}' for n in found)}): put your own values in {ENV_FILE}, "
            "or delete that file to try the sandbox (no accounts needed)")


def wants_sandbox(env: dict[str, str]) -> bool:
    """True when no account setting is present; ConfigError when only some are."""
    refuse_placeholders(env)
    present = [name for name in REQUIRED if env.get(name, "").strip()]
    if not present:
        return True
    missing = [name for name in REQUIRED if name not in present]
    if missing:
        raise ConfigError(
            "Bling is partly configured. Missing:\n  "
            + "\n  ".join(f"{name}: {REQUIRED[name]}" for name in missing)
            + f"\nPut them in {ENV_FILE} (examples/env.example lists every setting; docs/getting-started.md "
            f"explains each), or remove {', '.join(present)} to run the sandbox instead.")
    return False


def sandbox_banner(url: str, cli_hint: str) -> str:
    """What serve.sh prints when it chose the sandbox: what this is, where to look, how to go live."""
    rule = "=" * 78
    return "\n".join([
        rule,
        "SANDBOX: no Twilio or Help Scout settings found, so Bling runs against its",
        "built-in FAKE Twilio and Help Scout. Nothing here reaches a real person.",
        "",
        f"  Open the sandbox page:   {url}/sandbox",
        f"  Use the CLI:             {cli_hint}",
        "",
        "To go live: cp examples/env.example .env, fill in your Twilio and Help Scout",
        "settings (docs/getting-started.md, 'Going live'), and run scripts/serve.sh again.",
        rule,
    ])
