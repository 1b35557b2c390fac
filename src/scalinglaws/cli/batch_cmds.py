"""`batch`: the critical batch, the loss-optimal batch, and the fewest steps and tokens to a loss."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import console, emit_json
from .options import DATA, JSON, RESAMPLING, use
from .plan_cmds import _number, _table


@app.command("batch")
@use(RESAMPLING, DATA, JSON, bootstrap=200, help={"bootstrap": "Resamples for the intervals (with --sweep)."})
def batch_cmd(
    params: str = typer.Option(..., "--params", "-N", help="Model size N (as the sweep's params column counts)."),
    tokens: str = typer.Option(None, "--tokens", "-D", help="Training tokens D: the critical and best batch there."),
    target_loss: str = typer.Option(None, "--target-loss", help="A loss to reach: the fewest tokens and steps."),
    max_steps: str = typer.Option(None, "--max-steps", help="With --target-loss: the batch that reaches it in this "
                                  "many steps (a wall-clock limit), and the tokens that costs."),
    batch: str = typer.Option(None, "--batch", help="With --tokens: the loss and steps at this batch (tokens)."),
    sweep: str = typer.Option(None, "--sweep", help="Fit the batch_size law to a sweep (columns params, tokens, "
                              "batch_size_tokens, loss; each batch's best learning rate is kept)."),
    fit_file: Path = typer.Option(None, "--fit", help="A fit of law batch_size written by `batch --sweep ... -o`."),
    diverged: float = typer.Option(None, "--diverged", help="With --sweep: leave out runs with a loss above this "
                                   "(diverged runs), e.g. 5."),
    output: Path = typer.Option(None, "--output", "-o", help="With --sweep: write the fit here, for --fit."),
    *, bootstrap, level, seed, where, rename, as_json,
):
    """Batch size from a sweep over batch sizes: B_crit, B_opt, the fewest steps and tokens to a loss, and the batch
    that meets a step limit (McCandlish et al. 2018; Kaplan et al. 2020)."""
    from ..errors import ScalingLawsError
    from ..fitting import Fit
    from ..plan.batch import batch_plan, fit_batch

    if (sweep is None) == (fit_file is None):
        raise ScalingLawsError("give one of --sweep SWEEP.csv (fit the batch_size law) or --fit FIT.json")
    if sweep is not None:
        fit = fit_batch(sweep, where=where, rename=rename, diverged=diverged, bootstrap=bootstrap, seed=seed)
        if output is not None:
            fit.save(output)
    else:
        fit = Fit.load(fit_file)
    result = batch_plan(fit, _number(params, "--params"), tokens=_number(tokens, "--tokens"),
                        target_loss=_number(target_loss, "--target-loss"), max_steps=_number(max_steps, "--max-steps"),
                        batch=_number(batch, "--batch"), level=level)
    if as_json:
        emit_json(result.to_dict())
        return
    from ..render.text import num

    con = console()
    p = result.law["params"]
    con.print(f"[bold]{result.law['formula']}[/bold]")
    con.print(f"  B_crit = {p['b']:.4g} · D^{p['gamma']:.3f} tokens")
    if result.tokens is not None:
        rows = [("critical batch B_crit (tokens)", "critical_batch", result.critical_batch),
                ("best batch B_opt (tokens)", "optimal_batch", result.optimal_batch),
                ("loss at B_opt", "loss_at_optimal", result.loss_at_optimal),
                ("steps at B_opt", "steps_at_optimal", result.steps_at_optimal)]
        if result.batch is not None:
            rows += [(f"loss at batch {num(result.batch)}", "loss_at_batch", result.loss_at_batch),
                     (f"steps at batch {num(result.batch)}", "steps_at_batch", result.steps_at_batch)]
        title = f"For N = {num(result.params)}, D = {num(result.tokens)}"
    else:
        rows = [("fewest tokens E_min", "min_tokens", result.min_tokens),
                ("critical batch B_crit (tokens)", "critical_batch", result.critical_batch),
                ("fewest steps S_min", "min_steps", result.min_steps)]
        if result.max_steps is not None:
            rows += [(f"batch for {num(result.max_steps)} steps (tokens)", "batch_for_max_steps",
                      result.batch_for_max_steps),
                     ("tokens it costs", "tokens_for_max_steps", result.tokens_for_max_steps)]
        title = f"To loss {result.target_loss:g} at N = {num(result.params)}"
    con.print(_table(title, rows, result.level, result.intervals))
