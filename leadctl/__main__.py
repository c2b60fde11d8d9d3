"""Allow `python -m leadctl`."""

from leadctl.cli import main

main()
