"""Allow ``python -m calfsim.cli``."""

from calfsim.cli._app import main

main()
