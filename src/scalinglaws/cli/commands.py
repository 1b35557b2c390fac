"""Importing this module registers every command on the app.

Each group of commands lives in a module named `*_cmds.py` in this package and registers itself with `@app.command`
when imported; this module imports them all, in name order. Command modules import only typer at module level and
everything else inside the command functions, so start-up stays fast.
"""

from importlib import import_module
from pkgutil import iter_modules

from . import __path__ as _here

for _info in sorted(iter_modules(_here), key=lambda m: m.name):
    if _info.name.endswith("_cmds"):
        import_module(f"{__package__}.{_info.name}")
