"""Allow ``python -m streamwise``."""

from streamwise.cli.app import main

main()
