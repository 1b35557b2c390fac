"""The command-line interface (see cli/app.py)."""
