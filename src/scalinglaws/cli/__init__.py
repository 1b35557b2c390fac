"""The command-line interface (see cli/app.py).

`main` here is the entry point: `scalinglaws --version` is answered before typer, numpy or any command is imported
(a script that asks for the version should not wait for the whole toolkit); everything else goes to cli/app.py.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:
        from .._version import __version__

        sys.stdout.write(f"scalinglaws {__version__}\n")
        return 0
    from .app import main as full

    return full(argv)


def run() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        sys.exit(main(args))
    from .app import run as full

    full()
