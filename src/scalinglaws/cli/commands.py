"""Importing this module registers every command on the app (one module per group of commands)."""

from . import data_cmds, fit_cmds  # noqa: F401
