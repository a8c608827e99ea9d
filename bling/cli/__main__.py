"""``python -m bling.cli``: the same command line as ``bling``."""

from bling.cli.main import main

main()
