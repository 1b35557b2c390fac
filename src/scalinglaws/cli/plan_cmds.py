"""`plan`, `approaches`, `hparams` and `flops`: decisions before a big run."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import DATA_HELP, JSON_HELP, console, emit_json
from .options import CALIBRATION, DATA, JSON, RESAMPLING, use

LEVEL_HELP = "Coverage of the intervals (default: the fit's bootstrap level)."
K_HELP = "Training FLOP per parameter per token: C = K·N·D (6 counts a forward and a backward pass)."


def _number(text: str | None, option: str) -> float | None:
    from ..errors import ScalingLawsError

    if text is None:
        return None
    try:
        return float(text.replace("_", ""))
    except ValueError:
        raise ScalingLawsError(f"{option} '{text}' is not a number; write e.g. {option} 5.76e23") from None


def _numbers(text: str | None, option: str) -> list[float] | None:
    if text is None:
        return None
    return [_number(part.strip(), option) for part in text.split(",") if part.strip()]


def _frontier(text: str | None) -> list[float] | None:
    """--frontier LO:HI[:POINTS] (log-spaced) or a comma list of budgets."""
    from ..errors import ScalingLawsError

    if text is None:
        return None
    if ":" in text:
        from ..plan.optimal import budgets

        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ScalingLawsError(f"--frontier '{text}': write LO:HI or LO:HI:POINTS, e.g. 1e20:1e25:11")
        points = 11 if len(parts) == 2 else int(_number(parts[2], "--frontier"))
        return list(budgets(_number(parts[0], "--frontier"), _number(parts[1], "--frontier"), points))
    return _numbers(text, "--frontier")


def _optimise(text: str | None) -> dict:
    """--optimise COL[=LO:HI | =V1,V2,...] -> the planner's optimise, optimise_values, optimise_bounds."""
    from ..errors import ScalingLawsError

    if text is None:
        return {}
    col, _, spec = text.partition("=")
    col, spec = col.strip(), spec.strip()
    if not col:
        raise ScalingLawsError(f"--optimise '{text}': name the column first, e.g. --optimise vocab_size=4096:131072")
    if not spec:
        return {"optimise": col}
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 2:
            raise ScalingLawsError(f"--optimise {text}: write a range as LO:HI, e.g. {col}=4096:131072")
        return {"optimise": col, "optimise_bounds": (_number(parts[0], "--optimise"), _number(parts[1], "--optimise"))}
    return {"optimise": col, "optimise_values": _numbers(spec, "--optimise")}


def _iv(intervals, key) -> str:
    from ..render.text import interval

    if not intervals or intervals.get(key) is None:
        return ""
    return interval(intervals[key])


def _short(v: float) -> str:
    """3 significant digits, exponents without padding: 5.19e9."""
    if v is None or not (abs(v) < float("inf")):
        return "–"
    if v == 0 or 1e-2 <= abs(v) < 1e3:
        return f"{v:.3g}"
    mantissa, exponent = f"{v:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _compact(value: float, iv) -> str:
    return _short(value) + ("" if not iv else f" [{_short(iv[0])}, {_short(iv[1])}]")


def _table(title: str, rows: list[tuple], level=None, intervals=None):
    """A two- or three-column table: quantity, value, interval."""
    from rich.table import Table

    from ..render.text import num

    table = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    table.add_column("")
    table.add_column("value", justify="right")
    if intervals:
        table.add_column(f"{int(round(level * 100))}% interval", justify="right")
    for label, key, value in rows:
        shown = value if isinstance(value, str) else num(value)
        table.add_row(*([label, shown] + ([_iv(intervals, key)] if intervals else [])))
    return table


@app.command("plan")
@use(CALIBRATION, JSON)
def plan_cmd(
    fit_file: Path = typer.Argument(..., help="A fit record written by `scalinglaws fit -o`."),
    flops: str = typer.Option(None, "--flops", "-C", help="Training budget in FLOP, e.g. 5.76e23."),
    inference_tokens: str = typer.Option(None, "--inference-tokens", help="Tokens the model will serve over its "
                                         "life: minimise training plus serving compute (Sardana 2024)."),
    inference_mode: str = typer.Option("match", "--inference-mode", help="match: same loss as the compute-optimal "
                                       "model (or --target-loss) at least total cost; budget: --flops is the total."),
    unique_tokens: str = typer.Option(None, "--unique-tokens", "-U", help="Unique tokens available: plan epochs "
                                      "under data repetition (Muennighoff 2023)."),
    target_loss: str = typer.Option(None, "--target-loss", help="A loss to reach: the tokens, compute and model "
                                    "size it takes."),
    params: str = typer.Option(None, "--params", help="With --target-loss: the tokens a model of this size needs."),
    max_tokens: str = typer.Option(None, "--max-tokens", help="With --target-loss: the smallest model that reaches "
                                   "it within this many tokens (default: unlimited data)."),
    frontier: str = typer.Option(None, "--frontier", help="Also the compute-optimal frontier: LO:HI[:POINTS] or a "
                                 "comma list of budgets."),
    ratios: str = typer.Option(None, "--ratios", help="Over-training table at --flops: tokens-per-parameter ratios, "
                               "e.g. 20,100,500."),
    at: list[str] = typer.Option([], "--at", help="Value of another input the law reads, held fixed: --at lr=3e-4."),
    r_d: str = typer.Option(None, "--r-d", help="With --unique-tokens: decay constant of repeated data (default "
                            "15.4, Muennighoff 2023)."),
    r_n: str = typer.Option(None, "--r-n", help="With --unique-tokens: decay constant of excess parameters "
                            "(default 5.3)."),
    flops_per_param: float = typer.Option(6.0, "--flops-per-param", help=K_HELP),
    serve_flops_per_param: float = typer.Option(2.0, "--serve-flops-per-param", help="Serving FLOP per parameter "
                                                "per token (2: a forward pass)."),
    level: float = typer.Option(None, "--level", help=LEVEL_HELP),
    optimise: str = typer.Option(None, "--optimise", help="Choose another input of the law at --flops too: "
                                 "COL=LO:HI (a range), COL=V1,V2,... (a grid) or COL (the fitted range), e.g. "
                                 "--optimise vocab_size=4096:131072."),
    max_params: str = typer.Option(None, "--max-params", help="With --optimise: at most this many parameters held "
                                   "in memory (experts cost memory, not FLOP)."),
    *, calibration, as_json,
):
    """Plan a run from a fit: compute-optimal, data-constrained, inference-aware, to a target loss, or the best
    value of another input (--optimise)."""
    from ..fitting import Fit
    from ..plan.planner import plan
    from .common import parse_pairs

    fit = Fit.load(fit_file)
    fixed = {k: _number(v, f"--at {k}") for k, v in parse_pairs(at, "--at").items()}
    repetition = {k: v for k, v in (("R_D", _number(r_d, "--r-d")), ("R_N", _number(r_n, "--r-n")))
                  if v is not None}
    result = plan(fit, flops=_number(flops, "--flops"), inference_tokens=_number(inference_tokens,
                  "--inference-tokens"), unique_tokens=_number(unique_tokens, "--unique-tokens"),
                  target_loss=_number(target_loss, "--target-loss"), params=_number(params, "--params"),
                  max_tokens=_number(max_tokens, "--max-tokens"), frontier_flops=_frontier(frontier),
                  ratios=_numbers(ratios, "--ratios"), inference_mode=inference_mode, level=level,
                  flops_per_param=flops_per_param, serve_flops_per_param=serve_flops_per_param, fixed=fixed or None,
                  repetition=repetition or None, calibration=calibration,
                  max_params=_number(max_params, "--max-params"), **_optimise(optimise))
    if as_json:
        emit_json(result.to_dict())
        return
    show_plan(result)


def show_plan(p) -> None:
    from rich.table import Table

    from ..render.text import beyond, num

    con = console()
    over = p.over_budget
    con.print(f"[bold]{p.headline()}[/bold]" if over is None else f"[bold yellow]{p.headline()}[/bold yellow]")
    con.print(f"[dim]law {p.law} · {p.convention}[/dim]")
    rows = [("parameters N", "params", p.params), ("tokens D", "tokens", p.tokens),
            ("tokens per parameter", "tokens_per_param", p.tokens_per_param), ("loss", "loss", p.loss),
            ("training FLOP", "flops", p.flops)]
    if p.axis is not None:
        rows.insert(0, (p.axis.axis, p.axis.axis, p.axis.value))
        rows[1] = (p.axis.size, "params", p.params)
    con.print(_table("", rows, p.level, p.intervals))
    if p.extrapolation > 1:
        con.print(f"[dim]extrapolation: {beyond(p.extrapolation, ('N', 'D'))}[/dim]")
    if p.intervals is None:
        con.print("[dim]no intervals: the fit has no bootstrap (refit with --bootstrap 1000)[/dim]")
    x = p.axis
    if x is not None:
        show_axis(con, x)
    a = p.compute_optimal
    if a is not None and p.objective != "compute-optimal":
        con.print(_table(f"\nCompute-optimal at {num(a.flops)} FLOP ({a.method})",
                         [("N*", "params", a.params), ("D*", "tokens", a.tokens),
                          ("tokens per parameter", "tokens_per_param", a.tokens_per_param), ("loss", "loss", a.loss)],
                         a.level, a.intervals))
    c = p.constrained
    if c is not None:
        con.print(_table(f"\nData-constrained: {num(c.unique_tokens)} unique tokens (R_D {c.repetition['R_D']:.3g}, "
                         f"R_N {c.repetition['R_N']:.3g}: {c.repetition['source']})",
                         [("N", "params", c.params), ("D", "tokens", c.tokens), ("epochs", "epochs", c.epochs),
                          ("loss", "loss", c.loss), ("loss given up to the data wall", "loss_penalty", c.loss_penalty),
                          ("effective tokens D'", "", c.effective_tokens), ("useful budget", "", c.useful_flops)],
                         c.level, c.intervals))
    i = p.inference
    if i is not None:
        con.print(_table(f"\nInference-aware: {num(i.served_tokens)} served tokens ({i.mode}), assuming {i.assumes}",
                         [("N", "params", i.params), ("D", "tokens", i.tokens),
                          ("tokens per parameter", "tokens_per_param", i.tokens_per_param), ("loss", "loss", i.loss),
                          ("training FLOP", "training_flops", i.training_flops),
                          ("serving FLOP", "", i.inference_flops),
                          ("total FLOP", "total_flops", i.total_flops),
                          ("compute-optimal model of that loss", "", i.baseline["params"]),
                          ("its total FLOP", "", i.baseline["total_flops"]),
                          ("total compute saved", "", f"{i.savings:.1%}" + (
                              f"  [{i.intervals['savings'][0]:.1%}, {i.intervals['savings'][1]:.1%}]"
                              if i.intervals and i.intervals.get("savings") else ""))], i.level, i.intervals))
    t = p.target
    if t is not None:
        rows = [("cheapest N", "params", t.params), ("its tokens", "tokens", t.tokens), ("its FLOP", "flops", t.flops),
                ("smallest N that can reach it", "smallest_params", t.smallest_params)]
        if t.given_params is not None:
            rows += [(f"tokens for N = {num(t.given_params)}", "given_tokens", t.given_tokens if t.given_tokens
                      is not None else "never"), ("their FLOP", "given_flops", t.given_flops)]
        con.print(_table(f"\nTarget loss {t.loss:g}, assuming {t.assumes}", rows, t.level, t.intervals))
    f = p.frontier
    if f is not None:
        table = Table(title=f"\nFrontier: N* ∝ C^{f.exponents['params']:.3f}, D* ∝ C^{f.exponents['tokens']:.3f}"
                      + (f"  (a in {_iv(f.intervals, 'params')})" if f.intervals else ""), title_justify="left",
                      header_style="bold", box=None)
        for col in ("FLOP", "N*", "D*", "tokens/param", "loss"):
            table.add_column(col, justify="right")
        for r in f.allocations:
            table.add_row(num(r.flops), num(r.params), num(r.tokens), num(r.tokens_per_param), num(r.loss, 5))
        con.print(table)
    o = p.overtraining
    if o is not None:
        table = Table(title=f"\nOver-training at {num(o.flops)} FLOP (optimum {o.optimal_ratio:.1f} tokens/param)",
                      title_justify="left", header_style="bold", box=None)
        for col in ("tokens/param", "N", "loss", "Δloss", "N for the optimum's loss", "extra compute"):
            table.add_column(col, justify="right")
        for r in o.rows:
            table.add_row(num(r["ratio"]), num(r["params"]), num(r["loss"], 5), f"{r['excess_loss']:+.4f}",
                          num(r["params_same_loss"]), f"{r['compute_overhead']:+.1%}")
        con.print(table)


def show_axis(con, x) -> None:
    """The table of every value of the axis searched, the best one marked."""
    from rich.table import Table

    from ..render.text import num

    con.print(f"[dim]{x.axis}: {x.search}; cost: {x.accounting}[/dim]")
    table = Table(title=f"\n{x.axis} at {num(x.flops)} FLOP: best {num(x.value)}"
                  + (f"  ({_iv(x.intervals, 'value')})" if x.intervals else ""), title_justify="left",
                  header_style="bold", box=None)
    held = x.accounting != "free" and bool(x.table) and x.table[0]["total_params"] is not None
    for col in (x.axis, "N", "D", "loss") + (("params held",) if held else ()):
        table.add_column(col, justify="right")
    rows = list(x.table)
    if len(rows) > 12:  # a long range: every fourth value, and the best one's neighbours
        best = min(range(len(rows)), key=lambda i: float("inf") if rows[i]["loss"] is None else rows[i]["loss"])
        keep = sorted(set(range(0, len(rows), 4)) | {len(rows) - 1} | {best - 1, best, best + 1})
        rows = [rows[i] for i in keep if 0 <= i < len(rows)]
    for r in rows:
        cells = [num(r["value"]), num(r["params"]), num(r["tokens"]), "–" if r["loss"] is None else num(r["loss"], 5)]
        if held:
            cells.append(num(r["total_params"]))
        table.add_row(*cells)
    con.print(table)


@app.command("approaches")
@use(RESAMPLING, DATA, JSON, bootstrap=200, help={"bootstrap": "Resamples for the intervals.",
                                                  "seed": "Seed for the bootstrap."})
def approaches_cmd(
    data: str = typer.Argument(..., help=DATA_HELP),
    flops: str = typer.Option(None, "--flops", "-C", help="Budget to compare N* at (default: 100× the largest)."),
    profile: str = typer.Option("shape", "--profile", help="IsoFLOP profile fit: shape (unbiased), parabola, interp."),
    window: float = typer.Option(0.1, "--window", help="Keep points within this fraction of their budget's best "
                                 "loss."),
    law: str = typer.Option("chinchilla", "--law", "-l", help="Law of approach 3."),
    flops_per_param: float = typer.Option(6.0, "--flops-per-param", help=K_HELP),
    *, bootstrap, level, seed, where, rename, as_json,
):
    """Chinchilla's three approaches to N*(C) side by side on one sweep: do they agree?"""
    from ..plan.approaches import compare_approaches

    result = compare_approaches(data, where=where, rename=rename, flops=_number(flops, "--flops"), profile=profile,
                                window=window, law=law, bootstrap=bootstrap, level=level, seed=seed,
                                flops_per_param=flops_per_param)
    if as_json:
        emit_json(result.to_dict())
        return
    from rich.table import Table

    from ..render.text import num

    con = console()
    pct = f"{int(round(result.level * 100))}%"
    table = Table(title=f"{result.source}: N* ∝ C^a, and the plan at C = {num(result.flops)} ({result.convention}; "
                  f"{pct} intervals)", title_justify="left", header_style="bold", box=None)
    for col in ("approach", "a", "N* at C", "tokens/param"):
        table.add_column(col, justify="right" if col != "approach" else "left", no_wrap=True)
    short = {"envelope": "1 envelope", "isoflop": f"2 {result.profile}", "isoflop-parabola": "2 parabola",
             "parametric": "3 parametric"}
    for r in result.approaches:
        iv = r.intervals or {}
        table.add_row(short[r.name], _compact(r.exponent_params, iv.get("a")),
                      _compact(r.params, iv.get("params")), _compact(r.tokens_per_param, iv.get("tokens_per_param")))
    con.print(table)
    ag = result.agreement
    verdict = {True: "their intervals for a overlap", False: "their intervals for a do NOT overlap",
               None: "no intervals (bootstrap 0)"}[ag["intervals_overlap"]]
    con.print("1: best run per budget · 2: IsoFLOP profile fits · 3: a law fitted to all points, minimised")
    con.print(f"spread of a across approaches 1-3: {ag['exponent_spread']:.3f}; {verdict}; tokens per parameter at "
              f"the target from {num(ag['tokens_per_param_range'][0])} to {num(ag['tokens_per_param_range'][1])}")


@app.command("hparams")
@use(RESAMPLING, DATA, JSON, bootstrap=200, help={"bootstrap": "Resamples for the intervals (with --sweep).",
                                                  "seed": "Seed for the bootstrap."})
def hparams_cmd(
    params: str = typer.Option(None, "--params", "-N", help="Model size N (non-embedding parameters for Step Law)."),
    tokens: str = typer.Option(None, "--tokens", "-D", help="Training tokens D."),
    sweep: str = typer.Option(None, "--sweep", help="Fit your own law to a sweep (columns params, tokens, lr, "
                              "batch_size in tokens, loss) instead of Step Law's published one."),
    seq_len: str = typer.Option(None, "--seq-len", help="Sequence length, to give the batch in sequences."),
    bandwidth: float = typer.Option(0.5, "--bandwidth", help="Smoothing width of each cell's optimum (natural log of "
                                    "lr and batch)."),
    spread: float = typer.Option(0.25, "--spread", help="Ignore runs whose loss exceeds their cell's best by more "
                                 "than this fraction."),
    sensitivity: str = typer.Option(None, "--sensitivity", help="LR sensitivity of each (params, tokens) cell of "
                                    "this sweep (Wortsman et al. 2023) and its trend in N, instead of a "
                                    "recommendation."),
    init_loss: str = typer.Option(None, "--init-loss", help="With --sensitivity: the loss at initialisation, which "
                                  "caps every loss (default: the sweep's largest)."),
    lr_range: str = typer.Option(None, "--lr-range", help="With --sensitivity: LO:HI, the learning rates averaged "
                                 "over (default: each cell's)."),
    transfer_from: str = typer.Option(None, "--transfer-from", help="Carry a tuned AdamW lr to another shape: "
                                      "lr=3e-3,width=256[,wd=0.1][,batch=5e5], with --to-width and/or --to-batch."),
    to_width: str = typer.Option(None, "--to-width", help="With --transfer-from: the new width."),
    to_batch: str = typer.Option(None, "--to-batch", help="With --transfer-from: the new batch size."),
    *, bootstrap, level, seed, where, rename, as_json,
):
    """Learning rate and batch size for a run of N parameters on D tokens (Step Law, or your own sweep); the LR
    sensitivity of a sweep (--sensitivity); a tuned lr carried to another width or batch (--transfer-from)."""
    from ..errors import ScalingLawsError
    from ..plan.hparams import recommend

    if sensitivity is not None or transfer_from is not None:
        _robustness(sensitivity, init_loss, lr_range, transfer_from, to_width, to_batch, where, rename, as_json)
        return
    if params is None or tokens is None:
        raise ScalingLawsError("give --params and --tokens (the run to recommend for), or --sensitivity SWEEP.csv, "
                               "or --transfer-from lr=...,width=...")

    fitted = None
    if sweep is not None:
        from ..plan.hparams_fit import fit_hparams

        fitted = fit_hparams(sweep, where=where, rename=rename, bandwidth=bandwidth, spread=spread,
                             bootstrap=bootstrap, level=level, seed=seed)
    result = recommend(_number(params, "--params"), _number(tokens, "--tokens"),
                       law=None if fitted is None else fitted.law, seq_len=_number(seq_len, "--seq-len"))
    if as_json:
        emit_json({**result.to_dict(), "fit": None if fitted is None else fitted.to_dict()})
        return
    from ..render.text import num

    con = console()
    law = result.law
    con.print(f"[bold]{law['source']}[/bold]")
    con.print(f"  lr* = {law['lr_coef']:.4g} · N^{law['lr_params_exp']:.3f} · D^{law['lr_tokens_exp']:.3f}    "
              f"B* = {law['batch_coef']:.4g} · D^{law['batch_tokens_exp']:.3f}"
              + (f" · N^{law['batch_params_exp']:.3f}" if law["batch_params_exp"] else "") + " tokens")
    if law.get("intervals"):
        ivs = law["intervals"]
        con.print(f"  exponents ({int(round(law['level'] * 100))}%): N in lr {_iv(ivs, 'lr_params_exp')}, D in lr "
                  f"{_iv(ivs, 'lr_tokens_exp')}, D in batch {_iv(ivs, 'batch_tokens_exp')}")
    rows = [("learning rate", "lr", result.lr), ("batch size (tokens)", "batch_size", result.batch_size)]
    if result.batch_sequences is not None:
        rows.append((f"batch size (sequences of {num(result.seq_len)})", "batch_sequences", result.batch_sequences))
    con.print(_table(f"\nFor N = {num(result.params)}, D = {num(result.tokens)}", rows, result.level,
                     result.intervals))
    if result.extrapolation > 1:
        con.print(f"[dim]extrapolation: {result.extrapolation:.3g}× beyond the runs behind the law[/dim]")


def _robustness(sweep, init_loss, lr_range, transfer_from, to_width, to_batch, where, rename, as_json) -> None:
    from ..errors import ScalingLawsError
    from ..plan.lr_robust import lr_sensitivity, transfer
    from ..render.text import num
    from .common import parse_pairs

    con = console()
    if sweep is not None:
        rng = None
        if lr_range is not None:
            parts = lr_range.split(":")
            if len(parts) != 2:
                raise ScalingLawsError(f"--lr-range '{lr_range}': write LO:HI, e.g. --lr-range 1e-4:1e-1")
            rng = tuple(_number(v, "--lr-range") for v in parts)
        result = lr_sensitivity(sweep, where=where, rename=rename, init_loss=_number(init_loss, "--init-loss"),
                                lr_range=rng)
        if as_json:
            emit_json(result.to_dict())
            return
        from rich.table import Table

        table = Table(title=f"{result.source}: LR sensitivity (losses capped at {result.init_loss:.4g}, "
                      f"{result.init_loss_from})", title_justify="left", header_style="bold", box=None)
        for col in ("N", "D", "lrs", "best lr", "best loss", "sensitivity"):
            table.add_column(col, justify="right")
        for c in result.cells:
            table.add_row(num(c["params"]), num(c["tokens"]), str(c["learning_rates"]), num(c["best_lr"]),
                          f"{c['best_loss']:.4f}", f"{c['sensitivity']:.4f}")
        con.print(table)
        if result.trend:
            con.print(f"trend: sensitivity ≈ {result.trend['coef']:.4g} · N^{result.trend['exponent']:.3f} over "
                      f"{result.trend['cells']} cells")
        return
    given = parse_pairs([p for p in transfer_from.split(",") if p.strip()], "--transfer-from")
    unknown = set(given) - {"lr", "width", "wd", "batch"}
    if unknown or "lr" not in given:
        raise ScalingLawsError(f"--transfer-from '{transfer_from}': write lr=3e-3,width=256[,wd=0.1][,batch=5e5]"
                               + (f" ('{sorted(unknown)[0]}' is not one of those)" if unknown else ""))
    value = {k: _number(v, f"--transfer-from {k}") for k, v in given.items()}
    result = transfer(value["lr"], width=value.get("width"), to_width=_number(to_width, "--to-width"),
                      weight_decay=value.get("wd"), batch=value.get("batch"), to_batch=_number(to_batch, "--to-batch"))
    if as_json:
        emit_json(result.to_dict())
        return
    for r in result.rows:
        con.print(f"{r['quantity']}: {num(r['from'])} -> [bold]{num(r['to'])}[/bold]   ({r['rule']}; {r['reference']})")
    for note in result.warnings:
        con.print(f"[dim]{note}[/dim]")


@app.command("flops")
def flops_cmd(
    preset: str = typer.Option(None, "--preset", help="A published shape: gpt3-175b, chinchilla-70b, llama2-7b, "
                               "mixtral-8x7b (other options override its fields)."),
    layers: int = typer.Option(None, "--layers", help="Transformer blocks."),
    width: int = typer.Option(None, "--width", help="Model width d_model."),
    heads: int = typer.Option(None, "--heads", help="Attention heads."),
    vocab: int = typer.Option(None, "--vocab", help="Vocabulary size."),
    seq_len: int = typer.Option(None, "--seq-len", help="Context length (attention FLOPs grow with it)."),
    kv_heads: int = typer.Option(None, "--kv-heads", help="Key/value heads (grouped-query attention)."),
    head_dim: int = typer.Option(None, "--head-dim", help="Head size (default width/heads)."),
    ffn: int = typer.Option(None, "--ffn", help="MLP hidden size (default 4·width)."),
    glu: bool = typer.Option(None, "--glu/--no-glu", help="Gated MLP (SwiGLU): three matrices."),
    tied: bool = typer.Option(None, "--tied/--untied", help="Output embedding tied to the input embedding."),
    positions: str = typer.Option(None, "--positions", help="none | rotary | learned (learned adds S·d)."),
    norm: str = typer.Option(None, "--norm", help="Count norm gains: none | rms | layer."),
    experts: int = typer.Option(None, "--experts", help="Mixture of experts: routed experts per layer."),
    active_experts: int = typer.Option(None, "--active-experts", help="Experts per token (top-k)."),
    expert_ffn: int = typer.Option(None, "--expert-ffn", help="Hidden size of one expert (default --ffn)."),
    shared_ffn: int = typer.Option(None, "--shared-ffn", help="Total hidden size of shared experts."),
    dense_layers: int = typer.Option(None, "--dense-layers", help="Leading layers with a dense MLP."),
    tokens: str = typer.Option(None, "--tokens", "-D", help="Training tokens: also the total training FLOP."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """Parameters and FLOPs per token of a transformer shape, under every common convention, versus 6·N·D."""
    from dataclasses import asdict

    from ..errors import ScalingLawsError
    from ..plan import flops as fl

    given = {"layers": layers, "width": width, "heads": heads, "vocab": vocab, "seq_len": seq_len,
             "kv_heads": kv_heads, "head_dim": head_dim, "ffn": ffn, "glu": glu, "tied": tied, "positions": positions,
             "norm": norm, "experts": experts, "active_experts": active_experts, "expert_ffn": expert_ffn,
             "shared_ffn": shared_ffn, "dense_layers": dense_layers}
    given = {k: v for k, v in given.items() if v is not None}
    fields = asdict(fl.preset(preset)) if preset else {}
    fields.update(given)
    missing = [k for k in ("layers", "width", "heads", "vocab", "seq_len") if k not in fields]
    if missing:
        raise ScalingLawsError(f"a shape needs --{' --'.join(m.replace('_', '-') for m in missing)} (or --preset "
                               f"NAME: {', '.join(fl.PRESETS)})")
    acc = fl.count(fl.Transformer(**fields), tokens=_number(tokens, "--tokens"))
    if as_json:
        emit_json(acc.to_dict())
        return
    from rich.table import Table

    from ..render.text import num

    con = console()
    name = fields.get("name") or "transformer"
    p = acc.params
    con.print(f"[bold]{name}[/bold]: {num(p['total'])} parameters ({num(p['non_embedding'])} non-embedding"
              + (f"; {num(p['active'])} active per token" if p["active"] != p["total"] else "") + ")")
    table = Table(header_style="bold", box=None)
    for col in ("convention", "FLOP per token", "vs 6·N") + (("training FLOP",) if acc.tokens else ()):
        table.add_column(col, justify="right" if col != "convention" else "left")
    for conv, v in acc.flops_per_token.items():
        row = [conv, num(v), f"{acc.ratio_to_6N[conv]:.3f}"]
        if acc.tokens:
            row.append(num(acc.training_flops[conv]))
        table.add_row(*row)
    con.print(table)
    con.print(f"[dim]N counts weight matrices{'' if fields.get('norm', 'none') == 'none' else ' and norm gains'}; "
              "6·N uses all active parameters, embeddings included[/dim]")


@app.command("curate")
def curate_cmd(
    pools: Path = typer.Argument(..., help="Pool table: one row per pool with pool, samples_per_epoch, b, tau "
                                 "(and a, d, pool_rank)."),
    samples: str = typer.Option(..., "--samples", "-n", help="Budgets in samples seen, comma-separated."),
    top: int = typer.Option(None, "--top", help="Mix at most this many top pools (default: every ranked pool)."),
    a: float = typer.Option(None, "--a", help="Shared sample scale a, if the table has none."),
    d: float = typer.Option(None, "--d", help="Shared irreducible error d, if the table has none."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """The best data pool, or mix of the top pools, at each budget of samples (Goyal et al. 2024)."""
    from ..plan.curation import plan_curation

    result = plan_curation(pools, _numbers(samples, "--samples") or [], top=top, a=a, d=d)
    if as_json:
        emit_json(result.to_dict())
        return
    from rich.table import Table

    from ..render.text import num

    con = console()
    table = Table(title=f"Best pool per budget ({result.law}: a = {result.a:g}, d = {result.d:g})")
    for col in ("samples seen", "best", "pools", "error", "epochs of it"):
        table.add_column(col)
    for row in result.best:
        table.add_row(num(row["samples"]), row["candidate"], ", ".join(row["pools"]), f"{row['error']:.4f}",
                      f"{row['epochs']:.3g}")
    con.print(table)
    for w in result.warnings:
        con.print(f"[yellow]warning:[/yellow] {w}")
