"""The `scalinglaws` command: a thin layer over the library.

Each command parses its options, calls one library function and renders the result. Expected errors print one line,
`Error: …`, and exit 1; warnings print `Warning: …` on stderr; anything unexpected prints a short traceback (no
locals) and exits 2. The command modules register themselves on `app` when imported below.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings

import typer

from ..errors import EXTRAS, ScalingLawsError, ScalingLawsWarning, missing

COMPLETE_VAR = "_SCALINGLAWS_COMPLETE"  # the environment variable a shell's completion script sets

app = typer.Typer(
    name="scalinglaws",
    help="Fit, check and use neural scaling laws: forecasts of large training runs from a ladder of small ones.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context,
          version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True)):
    if version:
        from .._version import __version__

        typer.echo(f"scalinglaws {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


@app.command("completion")
def completion_cmd(shell: str = typer.Argument(..., help="bash, zsh, fish or powershell.")):
    """Print the shell's completion script for scalinglaws: commands, options and files complete with Tab."""
    from typer.completion import completion_init, get_completion_script

    shells = ("bash", "zsh", "fish", "powershell")
    if shell not in shells:
        raise ScalingLawsError(f"completion: unknown shell '{shell}'. Choose one of: {', '.join(shells)}")
    completion_init()
    typer.echo(get_completion_script(prog_name="scalinglaws", complete_var=COMPLETE_VAR, shell=shell))


def _show_warning(message, category, filename, lineno, file=None, line=None):
    text = str(message).strip().splitlines()[0] if str(message).strip() else category.__name__
    if issubclass(category, ScalingLawsWarning):
        sys.stderr.write(f"Warning: {text}\n")
    elif not issubclass(category, (DeprecationWarning, PendingDeprecationWarning)):
        sys.stderr.write(f"Warning ({category.__name__}): {text}\n")


def main(argv: list[str] | None = None) -> int:
    from . import commands  # noqa: F401  (registers every command on app)
    from .common import set_table_format

    set_table_format("table")  # each command starts from the default output
    if os.environ.get(COMPLETE_VAR):  # a shell asking for completions (`scalinglaws completion SHELL` installs it)
        from typer.completion import completion_init

        completion_init()
    warnings.showwarning = _show_warning
    warnings.simplefilter("default")
    try:
        app(args=argv, standalone_mode=False, prog_name="scalinglaws")
        sys.stdout.flush()  # a full disk or a closed pipe on stdout is reported here, not at exit
    except ScalingLawsError as exc:
        from .options import flag_message  # the library names Python arguments; here they are flags

        sys.stderr.write(f"Error: {flag_message(exc)}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130
    except RecursionError:
        sys.stderr.write("Error: the input is nested too deeply to read (a formula, JSON or filter many thousands "
                         "of levels deep). Simplify it\n")
        return 1
    except OSError as exc:  # the system refused a read or a write (a full disk, a closed pipe, no permission)
        sys.stderr.write(f"Error: {_os_message(exc)}\n")
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # usage errors of the option parser first (duck-typed: its classes moved between
        # typer releases), then the truly unexpected
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        top = (getattr(exc, "name", None) or "").split(".")[0] if isinstance(exc, ImportError) else ""
        if top in EXTRAS:  # an optional package met where no feature asked for it by name
            sys.stderr.write(f"Error: {missing(top, 'this command')}\n")
            return 1
        if type(exc).__name__ == "Abort":
            sys.stderr.write("Aborted.\n")
            return 1
        frames = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-4)
        sys.stderr.write("".join(frames))
        sys.stderr.write("Internal error: this is a bug in scalinglaws; please report it with the command you ran.\n")
        return 2
    return 0


def _os_message(exc: OSError) -> str:
    why = exc.strerror or type(exc).__name__
    where = exc.filename if exc.filename is not None else "standard output"
    return f"could not read or write {where} ({why}); nothing more was written. Free some space or check the path"


def run() -> None:
    code = main()
    try:
        sys.stdout.flush()
    except OSError:
        code = code or 1
    if code:  # output that could not be written is dropped, not retried at exit (one line, no second message)
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
    sys.exit(code)


if __name__ == "__main__":
    run()
