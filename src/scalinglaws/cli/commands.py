"""Importing this module registers every command on the app.

Each group of commands lives in a module named `*_cmds.py` in this package and registers itself with `@app.command`
when imported; this module imports them all, the known groups first in the order `--help` lists them, then any
other in name order. Command modules import only typer at module level and everything else inside the command
functions, so start-up stays fast.
"""

from importlib import import_module
from pkgutil import iter_modules

from . import __path__ as _here

ORDER = ["fit_cmds", "data_cmds", "plan_cmds", "curve_cmds", "decide_cmds", "calibrate_cmds", "report_cmds",
         "store_cmds", "ladder_cmds"]

_found = sorted(m.name for m in iter_modules(_here) if m.name.endswith("_cmds"))
for _name in [n for n in ORDER if n in _found] + [n for n in _found if n not in ORDER]:
    import_module(f"{__package__}.{_name}")

from .app import app  # noqa: E402
from .examples import attach  # noqa: E402

attach(app)
