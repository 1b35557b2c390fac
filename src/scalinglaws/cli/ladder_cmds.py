"""`ladder plan`, `ladder run`, `ladder status`: train a ladder of small models, forecast its largest before it is
trained, and see where it stands."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import JSON_HELP, console, emit_json

ladder = typer.Typer(help="Plan, train and forecast a ladder of small transformers (pip install "
                     "'scalinglaws\\[train]').", no_args_is_help=True)
app.add_typer(ladder, name="ladder")

STORE_HELP = "The run store every evaluation point goes to (default: $SCALINGLAWS_STORE, else scalinglaws.duckdb)."
CKPT_HELP = "Checkpoint folder (default: PLAN.ckpt beside the plan file)."
DEFAULT_BPE_VOCAB = 4096


@ladder.command("plan")
def plan_cmd(
    output: Path = typer.Option(..., "--output", "-o", help="The plan file to write (TOML; edit it freely)."),
    flops: str = typer.Option(None, "--flops", help="Training FLOPs of the largest rung, e.g. 1.6e13."),
    target_params: str = typer.Option(None, "--target-params", help="Or the largest rung as parameters N ..."),
    target_tokens: str = typer.Option(None, "--target-tokens", help="... and tokens D: its FLOPs are 6·N·D."),
    rungs: int = typer.Option(5, "--rungs", help="Number of rungs."),
    span: float = typer.Option(30.0, "--span", help="Compute of the largest rung over that of the smallest."),
    hold_back: bool = typer.Option(True, "--hold-back/--no-hold-back", help="Forecast the largest rung from the "
                                   "others before training it."),
    gap: float = typer.Option(4.0, "--hold-back-gap", help="Compute of the held-back rung over that of the next."),
    tokens_per_param: float = typer.Option(20.0, "--tokens-per-param", help="Tokens per parameter of each rung."),
    aspect: int = typer.Option(32, "--aspect", help="Width over depth: depth = round(width / aspect)."),
    head_dim: int = typer.Option(16, "--head-dim", help="Width of one attention head; widths are its multiples."),
    seq_len: int = typer.Option(128, "--seq-len", help="Context length in tokens."),
    tokenizer: str = typer.Option("bytes", "--tokenizer", help="bytes (vocabulary 256) or bpe: a byte-level BPE "
                                  "trained on the corpus's training split when the ladder first runs."),
    vocab_size: int = typer.Option(None, "--vocab-size", help="With --tokenizer bpe: its vocabulary (default "
                                   "4096); the embedding's parameters are counted with it."),
    schedule: str = typer.Option("wsd", "--schedule", help="wsd (warmup, stable, cooldown) or cosine."),
    branches: str = typer.Option(None, "--branches", help="WSD: also cool each rung down from its stable phase "
                                 "at these fractions of its steps, e.g. 0.25,0.5: one rung, several lengths."),
    corpus: str = typer.Option("stdlib", "--corpus", help="stdlib (the Python standard library's source), a text "
                               "file or folder, a .jsonl or .parquet file, a .npy array of token ids, or "
                               "addition:D (D-digit sums, for `ladder sample`)."),
    corpus_bytes: int = typer.Option(24_000_000, "--corpus-bytes", help="Bytes of the standard library to read "
                                     "(its first files in path order), or of addition problems to generate."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda (bf16 autocast)."),
    compile_: bool = typer.Option(False, "--compile", help="torch.compile each model (CUDA)."),
    throughput: str = typer.Option("2e10", "--throughput", help="FLOP/s of the device, for the cost in hours; "
                                   "'measure' times a few training steps of the largest rung on --device."),
    hparams: Path = typer.Option(None, "--hparams", help="Learning rates and batch sizes from your own law instead "
                                 "of Step Law: a sweep CSV (params, tokens, lr, batch_size, loss) fitted here, or "
                                 "the JSON of `scalinglaws plan hparams --sweep SWEEP.csv --json`."),
    name: str = typer.Option(None, "--name", help="The ladder's name (default: the file's stem); runs are "
                             "NAME/RUNG in the store."),
    seed: int = typer.Option(0, "--seed", help="Seed of every rung."),
    evals: int = typer.Option(10, "--evals", help="Evaluations (and checkpoints) per rung."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """Plan a ladder of rungs by one shape rule, with tokens, learning rate, batch, schedule and cost."""
    from ..errors import ScalingLawsError
    from ..train import plan_ladder, write_plan
    from .plan_cmds import _number

    if flops is None:
        if target_params is None or target_tokens is None:
            raise ScalingLawsError("give --flops (the largest rung's training FLOPs), or --target-params and "
                                   "--target-tokens")
        budget = 6 * _number(target_params, "--target-params") * _number(target_tokens, "--target-tokens")
    else:
        budget = _number(flops, "--flops")
    fractions = () if not branches else tuple(_number(b, "--branches") for b in branches.split(",") if b.strip())
    measuring = throughput.strip().lower() == "measure"
    plan = plan_ladder(budget, rungs=rungs, span=span, name=name or output.stem, hold_back=hold_back,
                       hold_back_gap=gap, aspect=aspect, head_dim=head_dim, seq_len=seq_len,
                       tokens_per_param=tokens_per_param, seed=seed, evals=evals, schedule=schedule, corpus=corpus,
                       tokenizer=tokenizer, vocab=_vocab(tokenizer, vocab_size),
                       corpus_bytes=corpus_bytes, branches=tuple(sorted(set(fractions))),
                       device=device, compile=compile_, hparams=_hparam_law(hparams),
                       **({} if measuring else {"throughput": _number(throughput, "--throughput")}))
    measured = None
    if measuring:
        from dataclasses import replace

        from ..train.throughput import measure

        measured = measure(plan)
        plan = replace(plan, throughput=measured.flops_per_s)
    write_plan(plan, output)
    if as_json:
        emit_json({**plan.to_dict(), **({"throughput_measured": measured.to_dict()} if measured else {})})
        return
    from rich.table import Table

    table = Table(header_style="bold", box=None)
    for c in ("rung", "depth", "width", "heads", "params", "tokens", "steps", "batch", "lr", "FLOP", "hours"):
        table.add_column(c, justify="left" if c == "rung" else "right")
    for r in plan.rungs:
        table.add_row(r.name + (" (held back)" if r.hold_back else ""), str(r.depth), str(r.width), str(r.heads),
                      f"{r.params:,}", f"{r.tokens:,}", str(r.steps), str(r.batch), f"{r.lr:.3g}", f"{r.flops:.3g}",
                      f"{r.flops / plan.throughput / 3600:.2g}")
    con = console()
    con.print(table)
    if plan.hparams_law:
        con.print(f"learning rates and batch sizes from {plan.hparams}")
    if measured is not None:
        con.print(f"measured {measured.flops_per_s:.3g} FLOP/s ({measured.tokens_per_s:,.0f} tokens/s) training "
                  f"{measured.rung} on {measured.device} for {measured.seconds:.1f} s ({measured.steps} steps)")
    con.print(f"wrote {output}: {len(plan.rungs)} rungs, {plan.flops:.3g} FLOP, {plan.device_hours:.2g} device-hours "
              f"at {plan.throughput:.3g} FLOP/s")


def _vocab(tokenizer: str, vocab_size: int | None) -> int:
    from ..errors import ScalingLawsError

    if tokenizer != "bpe":
        if vocab_size is not None and vocab_size != 256:
            raise ScalingLawsError(f"--vocab-size {vocab_size} needs --tokenizer bpe (bytes have 256)")
        return 256
    return DEFAULT_BPE_VOCAB if vocab_size is None else vocab_size


def _hparam_law(path: Path | None):
    """The user's learning-rate and batch law: fitted to a sweep CSV, or read from a JSON record of one."""
    if path is None:
        return None
    from ..errors import ScalingLawsError

    if not path.is_file():
        raise ScalingLawsError(f"--hparams: no file {path}. Give a sweep CSV or the JSON of `scalinglaws plan "
                               "hparams --sweep SWEEP.csv --json`")
    if path.suffix.lower() == ".json":
        import json

        from ..plan.hparams import law_from_dict

        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ScalingLawsError(f"--hparams: {path} is not JSON ({exc})") from None
        try:
            return law_from_dict(record)
        except ScalingLawsError as exc:
            raise ScalingLawsError(f"--hparams {path}: {exc}") from None
    from ..plan.hparams_fit import fit_hparams

    return fit_hparams(str(path), bootstrap=0).law


@ladder.command("run")
def run_cmd(
    plan: Path = typer.Argument(..., help="The plan file (from `scalinglaws ladder plan`)."),
    store: Path = typer.Option(None, "--store", "-s", help=STORE_HELP),
    checkpoints: Path = typer.Option(None, "--checkpoints", help=CKPT_HELP),
    hold_back: bool = typer.Option(True, "--hold-back/--no-hold-back", help="Forecast the held-back rung before "
                                   "training it, then score the forecast."),
    ray: str = typer.Option(None, "--ray", help="Train the rungs on a Ray cluster: auto, local or HOST:PORT "
                            "(pip install 'scalinglaws\\[ray]')."),
    ray_cpus: int = typer.Option(None, "--ray-cpus", help="CPUs of a local Ray cluster."),
    threads: int = typer.Option(None, "--threads", help="Torch threads per rung on the CPU."),
    devices: int = typer.Option(1, "--devices", help="Train each rung data-parallel over this many devices of this "
                                "machine (GPUs with device = \"cuda\", else CPU processes); the plan's batch is "
                                "split among them."),
    until_width: str = typer.Option(None, "--until-width", help="Before the held-back rung, add the rungs that "
                                    "most narrow its forecast per FLOP until it is this wide, e.g. 5%."),
    extra_budget: str = typer.Option(None, "--extra-budget", help="With --until-width: FLOP for the added rungs."),
    max_extra: int = typer.Option(3, "--max-extra", help="With --until-width: at most this many added rungs."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """Train every rung, writing each evaluation point to the store as it happens; a re-run resumes."""
    import sys

    from ..train import run_ladder

    con = console()
    echo = (lambda line: None) if as_json else con.print
    bar = None
    if not as_json and sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                       console=Console(stderr=True))
    tasks: dict[str, int] = {}

    def progress(rung: str, done: int, total: int) -> None:
        if bar is None:
            return
        if rung not in tasks:
            tasks[rung] = bar.add_task(f"rung {rung}", total=total)
        bar.update(tasks[rung], completed=done)

    if bar is not None:
        bar.start()
    try:
        from .decide_cmds import _width
        from .plan_cmds import _number

        result = run_ladder(plan, store, checkpoints=checkpoints, hold_back=hold_back, ray=ray, ray_cpus=ray_cpus,
                            threads=threads, progress=progress, echo=echo, until_width=_width(until_width),
                            extra_budget=_number(extra_budget, "--extra-budget"), max_extra=max_extra,
                            devices=devices)
    finally:
        if bar is not None:
            bar.stop()
    if as_json:
        out = result.to_dict()
        for r in out["rungs"]:
            r.pop("final_point", None)
        emit_json(out)
        return
    _rungs_table(con, result.rungs)
    con.print(f"points in {result.store}")


def _rungs_table(con, rungs) -> None:
    from rich.table import Table

    table = Table(header_style="bold", box=None)
    for c in ("rung", "steps", "final loss", "tokens/s", "points", "new", "resumed from"):
        table.add_column(c, justify="left" if c == "rung" else "right")
    for r in rungs:
        table.add_row(r["name"], str(r["steps"]), "" if r["loss"] is None else f"{r['loss']:.4f}",
                      "" if r["tokens_per_s"] is None else f"{r['tokens_per_s']:,.0f}", str(r["points"]),
                      str(r["written"]), str(r["resumed_from"] or ""))
        for b in r.get("branches", ()):
            table.add_row(f"  {b['run'].split('/', 1)[-1]} (cooldown branch)", str(b["steps"]), f"{b['loss']:.4f}",
                          "", "", "", "")
    con.print(table)


@ladder.command("status")
def status_cmd(
    plan: Path = typer.Argument(..., help="The plan file."),
    store: Path = typer.Option(None, "--store", "-s", help=STORE_HELP),
    checkpoints: Path = typer.Option(None, "--checkpoints", help=CKPT_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """What is done, running, stopped or failed, and the forecast so far."""
    from ..train import ladder_status
    from ..train.runner import forecast_line, score_line

    status = ladder_status(plan, store, checkpoints=checkpoints)
    if as_json:
        emit_json(status.to_dict())
        return
    from rich.table import Table

    con = console()
    table = Table(header_style="bold", box=None)
    for c in ("rung", "state", "step", "of", "FLOP", "final loss", "note"):
        table.add_column(c, justify="left" if c in ("rung", "state", "note") else "right")
    for r in status.rungs:
        table.add_row(r["name"] + (" (held back)" if r["hold_back"] else ""), r["state"], str(r["step"]),
                      str(r["steps"]), f"{r['flops']:.3g}", "" if r["loss"] is None else f"{r['loss']:.4f}",
                      r["note"])
    con.print(table)
    for f in status.forecasts:
        con.print(score_line(f) if f.get("observed") is not None else forecast_line(f))


@ladder.command("sample")
def sample_cmd(
    plan: Path = typer.Argument(..., help="The plan file of a ladder trained on --corpus addition:D."),
    output: Path = typer.Option(..., "--output", "-o", help="The repeated-sampling table to write (CSV: run, "
                                "params, problem, samples, correct, greedy)."),
    samples: int = typer.Option(256, "--samples", help="Answers sampled per held-out problem."),
    problems: int = typer.Option(None, "--problems", help="Held-out problems to ask (default: all of them)."),
    temperature: float = typer.Option(1.0, "--temperature", help="Sampling temperature (1: the model's own "
                                      "distribution)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the draws."),
    checkpoints: Path = typer.Option(None, "--checkpoints", help=CKPT_HELP),
    threads: int = typer.Option(None, "--threads", help="Torch threads on the CPU."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """Sample each trained rung's answers to held-out problems: the table `scalinglaws emergence` forecasts from,
    with each rung's greedy accuracy."""
    from ..files import write_atomic
    from ..train import sample_ladder

    result = sample_ladder(plan, checkpoints=checkpoints, samples=samples, problems=problems,
                           temperature=temperature, seed=seed, threads=threads)
    write_atomic(output, result.csv())
    if as_json:
        out = result.to_dict()
        out.pop("table")
        emit_json({**out, "output": str(output)})
        return
    from rich.table import Table

    table = Table(header_style="bold", box=None)
    for c in ("rung", "params", "problems", "greedy accuracy", "pass@1", "solved"):
        table.add_column(c, justify="left" if c == "rung" else "right")
    for r in result.rungs:
        table.add_row(r["name"], f"{r['params']:,.0f}", str(r["problems"]), f"{r['greedy_accuracy']:.3f}",
                      f"{r['pass_at_1']:.2e}", f"{100 * r['solved']:.0f}%")
    con = console()
    con.print(table)
    for note in result.notes:
        con.print(note)
    con.print(f"wrote {output}: {len(result.table['run'])} rows, {result.samples} samples per problem at temperature "
              f"{result.temperature:g}; forecast with `scalinglaws emergence {output} --at params=...`")
