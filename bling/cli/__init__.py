"""The `bling` command line."""
