"""routes.toml, plugin loading and the hook chain each route runs."""
