"""`python -m hourglass.cli`: the command line."""

from hourglass.cli import app

app()
