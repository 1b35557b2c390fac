"""`mix`: the training mixture that minimises a loss under a limit on another (data mixing law or D-CPT)."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import console, emit_json
from .options import JSON, use
from .plan_cmds import LEVEL_HELP, _number, _table


def _weights(text: str) -> dict[str, float] | str:
    """--minimise TARGET or TARGET=W,TARGET=W -> the planner's minimise."""
    from ..errors import ScalingLawsError

    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) == 1 and "=" not in parts[0]:
        return parts[0]
    out = {}
    for p in parts:
        name, eq, w = p.partition("=")
        if not eq or not name.strip():
            raise ScalingLawsError(f"--minimise '{text}': name one loss, or weigh several as NAME=W,NAME=W, e.g. "
                                   "--minimise c4_loss=0.5,code_loss=0.5")
        out[name.strip()] = _number(w.strip(), "--minimise")
    return out


def _limits(pairs: list[str]) -> dict[str, float]:
    from ..errors import ScalingLawsError

    out = {}
    for p in pairs:
        name, eq, v = p.partition("=")
        if not eq or not name.strip():
            raise ScalingLawsError(f"--limit '{p}': write LOSS=VALUE, the loss it must not exceed, e.g. "
                                   "--limit c4_loss=2.6")
        out[name.strip()] = _number(v.strip(), f"--limit {name.strip()}")
    return out


@app.command("mix")
@use(JSON)
def mix_cmd(
    fit_file: Path = typer.Argument(None, help="A fit of the data mixing law (`fit --law data_mixing --target "
                                    "A,B --shared none -o`)."),
    minimise: str = typer.Option(None, "--minimise", help="The loss to minimise (a target column; `domain` or "
                                 "`general` for D-CPT), or a weighted sum: NAME=W,NAME=W."),
    limit: list[str] = typer.Option([], "--limit", help="LOSS=VALUE: that loss must not exceed VALUE. Repeatable."),
    domain_fit: Path = typer.Option(None, "--domain-fit", help="D-CPT: a fit of law dcpt to the domain loss, its "
                                    "mix_ratio the domain share."),
    general_fit: Path = typer.Option(None, "--general-fit", help="D-CPT: a fit of law dcpt to the general loss, "
                                     "its mix_ratio the general share (1 - the domain share)."),
    params: str = typer.Option(None, "--params", "-N", help="D-CPT: model size N."),
    tokens: str = typer.Option(None, "--tokens", "-D", help="D-CPT: training tokens D."),
    simplex: bool = typer.Option(False, "--simplex", help="Search every mixture, not only the fitted range of each "
                                 "proportion."),
    level: float = typer.Option(None, "--level", help=LEVEL_HELP),
    *, as_json,
):
    """The mixture proportions that minimise a loss, optionally under limits on others, with bootstrap intervals
    (data mixing law, Ye et al. 2024; or the D-CPT domain share, Que et al. 2024)."""
    from ..errors import ScalingLawsError
    from ..fitting import Fit
    from ..plan.mixing import plan_dcpt_ratio, plan_mixture

    span = "simplex" if simplex else "fitted"
    limits = _limits(limit)
    dcpt = domain_fit is not None or general_fit is not None
    if dcpt:
        if fit_file is not None or domain_fit is None or general_fit is None:
            raise ScalingLawsError("D-CPT plans take --domain-fit and --general-fit (and no FIT argument); a data "
                                   "mixing fit is the FIT argument alone")
        if params is None or tokens is None:
            raise ScalingLawsError("a D-CPT ratio plan is at a model size and a number of tokens: give --params and "
                                   "--tokens, e.g. -N 4.2e9 -D 84e9")
        unknown = [k for k in limits if k != "general"]
        if unknown:
            raise ScalingLawsError(f"--limit {unknown[0]}: a D-CPT plan limits the general loss: --limit general=V")
        result = plan_dcpt_ratio(Fit.load(domain_fit), Fit.load(general_fit), params=_number(params, "--params"),
                                 tokens=_number(tokens, "--tokens"), general_limit=limits.get("general"),
                                 minimise=_weights(minimise or "domain"), span=span, level=level)
    else:
        if fit_file is None:
            raise ScalingLawsError("give a fit of the data mixing law (FIT), or two D-CPT fits (--domain-fit, "
                                   "--general-fit)")
        if minimise is None:
            raise ScalingLawsError("--minimise: name the loss to minimise (one of the fit's targets), or weigh "
                                   "several as NAME=W,NAME=W")
        if params is not None or tokens is not None:
            raise ScalingLawsError("--params and --tokens go with D-CPT fits; the data mixing law is of one model "
                                   "size and length already")
        result = plan_mixture(Fit.load(fit_file), minimise=_weights(minimise), limits=limits, span=span, level=level)
    if as_json:
        emit_json(result.to_dict())
        return
    con = console()
    what = " + ".join(f"{w:g}·{t}" if w != 1 else t for t, w in result.objective.items())
    under = "; " + ", ".join(f"{t} <= {v:g}" for t, v in result.limits.items()) if result.limits else ""
    at = f" at N = {result.at['params']:.3g}, D = {result.at['tokens']:.3g}" if result.at else ""
    rows = [(r["quantity"], r["quantity"], r["value"]) for r in result.table]
    intervals = ({r["quantity"]: [r["lower"], r["upper"]] for r in result.table if r["lower"] is not None}
                 if result.intervals else None)
    con.print(_table(f"Mixture minimising {what}{under}{at} ({result.law})", rows, result.level, intervals))
    if result.active:
        con.print(f"[dim]the limit on {', '.join(result.active)} binds[/dim]")
    if result.draws and result.limits:
        con.print(f"[dim]{result.draws_feasible} of {result.draws} bootstrap draws meet the limits[/dim]")
    for w in result.warnings:
        con.print(f"[yellow]warning:[/yellow] {w}")
