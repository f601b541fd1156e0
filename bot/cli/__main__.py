"""`python -m bot.cli` is `branchbot`."""

from bot.cli import main

main()
