"""Report sections for fits: the fitted law with its intervals, diagnostics and data; the compute-optimal plan;
and, for several fits, their parameters side by side."""

from __future__ import annotations

import warnings
from html import escape

import numpy as np

from ..errors import ScalingLawsError
from ..render.html_tables import allocation_html, fit_param_rows, predictions_html, table
from ..render.text import interval, num
from .sections import Context, Section, near, section_kind, try_figure

FIT = "scalinglaws.fitting.record:Fit"


def _title(fit, label: str) -> str:
    return f"Fit: {fit.law} to {fit.data.get('source', '?')}" + (f" ({label})" if label else "")


def diagnostics_rows(fit) -> list[list]:
    starts = fit.starts
    rows = [["objective", f"{fit.objective:.6g} ({fit.loss.get('kind')}"
             + (f", δ = {fit.loss['delta']:g}" if "delta" in fit.loss and fit.loss.get("kind") == "huber" else "")
             + (f", {fit.loss['space']} residuals" if "space" in fit.loss else "") + ")"],
            ["converged", "yes" if fit.converged else "NO"],
            ["starts", f"{starts.get('reached_best')} of {starts.get('refined')} refined starts (from "
                       f"{starts.get('candidates')} candidates) reached the best objective"],
            ["points / runs", f"{fit.n_points} / {fit.n_runs}"],
            ["parameters at a bound", ", ".join(fit.at_bounds) or "none"]]
    if fit.bootstrap is not None:
        b = fit.bootstrap
        rows.append(["bootstrap", f"{b.n} resamples by {b.unit}, {int(round(b.level * 100))}% intervals, "
                                  f"{b.failed} refits did not converge"])
    else:
        rows.append(["bootstrap", "none: refit with --bootstrap 1000 for intervals"])
    rows.append(["seed / version", f"{fit.seed} / scalinglaws {fit.version}"])
    return rows


def provenance(fit, ctx: Context, label: str) -> tuple[str, list[str]]:
    """Where the fit's data came from, whether those rows are still what the fit saw, and which runs they are."""
    from ..plots.fitdata import fit_data

    d = fit.data
    rows = [["source", d.get("source")], ["filters", " and ".join(d.get("where", [])) or "none"],
            ["data hash", d.get("hash")], ["rows / runs", f"{d.get('rows')} / {d.get('runs')}"]]
    for col, (lo, hi) in d.get("ranges", {}).items():
        rows.append([f"range of {col}", f"{num(lo)} … {num(hi)}"])
    notes = [f"note: {n}" for n in d.get("notes", [])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mismatch is reported in the table, once
        try:
            fd = fit_data(fit, ctx.data, required=False, near=near(label))
        except ScalingLawsError:
            fd = None
    runs_list = ""
    if fd is None:
        rows.append(["verified", "the data could not be read again: the runs are known only by their hash"])
    elif fd.matches:
        how = ("the run store pinned these rows to this fit when it was saved" if fd.pinned else
               f"{fd.runs.source} still holds exactly these rows")
        rows.append(["verified", f"yes: {how} (hash matches)"])
        names = list(dict.fromkeys(fd.runs.run_ids.astype(str).tolist()))
        runs_list = (f"<details><summary>the {len(names)} runs this fit used</summary><div class='runs'>"
                     + "<br>".join(escape(n) for n in names) + "</div></details>")
    else:
        rows.append(["verified", f"NO: {fd.warning}"])
    html = table("Data", ["", ""], rows, style=False, left=2) + runs_list + "".join(
        f"<div class='muted'>{escape(n)}</div>" for n in notes)
    return html, ([fd.warning] if fd is not None and not fd.matches else [])


@section_kind("fit", accepts=FIT, order=10)
def fit_section(fit, ctx: Context, label: str) -> list[Section]:
    from ..laws import LAWS

    notes: list[str] = []
    header, rows = fit_param_rows(fit)
    ref = LAWS[fit.law].reference if fit.law in LAWS else ""
    body = [f"<p><code>{escape(fit.formula)}</code> fitted to <strong>{escape(str(fit.target))}</strong>"
            + (f" <span class='muted'>({escape(ref)})</span>" if ref else "") + "</p>",
            table("Parameters", header, rows, style=False),
            table("Diagnostics", ["", ""], diagnostics_rows(fit), style=False, left=2)]
    prov, prov_warn = provenance(fit, ctx, label)
    body.append(prov)
    opts = {"data": ctx.data, "near": near(label)}
    figs = [try_figure("fit", fit, notes, by=ctx.by, **opts), try_figure("residuals", fit, notes, by=ctx.by, **opts),
            try_figure("extrapolation", fit, notes, at=ctx.at, calibration=ctx.calibration, **opts)]
    if ctx.at:
        try:
            pred = fit.predict(ctx.at, calibration=ctx.calibration)
            body.append(predictions_html(pred, style=False))
        except ScalingLawsError as exc:
            notes.append(f"no predictions: {exc}")
    body.extend(f"<div class='muted'>{escape(n)}</div>" for n in notes)
    warns = tuple(fit.warnings) + tuple(prov_warn)
    return [Section(_title(fit, label), "fit", "".join(body), tuple(f for f in figs if f is not None), warns, label)]


def default_budgets(fit) -> list[float]:
    """The compute at the corner of the data (6·N_max·D_max), and 10× and 100× that: the next rungs up."""
    r = fit.data.get("ranges", {})
    top = 6.0 * r["params"][1] * r["tokens"][1] if "params" in r and "tokens" in r else None
    return [] if top is None else [top, top * 10, top * 100]


def _target_budgets(ctx: Context) -> list[float]:
    if not ctx.at:
        return []
    if "flops" in ctx.at:
        return [float(v) for v in np.atleast_1d(ctx.at["flops"])]
    if "params" in ctx.at and "tokens" in ctx.at:
        n, d = np.broadcast_arrays(np.atleast_1d(ctx.at["params"]), np.atleast_1d(ctx.at["tokens"]))
        return [float(v) for v in 6.0 * n * d]
    return []


@section_kind("plan", accepts=FIT, order=20)
def plan_section(fit, ctx: Context, label: str) -> list[Section]:
    from ..plan import compute_optimal

    if not {"params", "tokens"} <= set(fit.inputs.values()) or fit.get_law().features is not None:
        return []  # only a law of model size and tokens says how to split a budget between them
    title = f"Plan: compute-optimal allocation under {fit.law}" + (f" ({label})" if label else "")
    budgets = list(ctx.budgets) or _target_budgets(ctx) or default_budgets(fit)
    try:
        allocs = [compute_optimal(fit, b, calibration=ctx.calibration) for b in budgets]
    except ScalingLawsError as exc:
        return [Section(title, "plan", f"<p class='muted'>No plan for this fit: {escape(str(exc))}</p>",
                        subject=label)]
    body = [allocation_html(allocs, style=False),
            "<p class='muted'>N* and D* minimise the fitted loss at C = 6·N·D (scalinglaws.plan; in closed form "
            "for Chinchilla's law, Hoffmann et al. 2022, Appendix D.2). The further a budget lies beyond the data, "
            "the less the law has been tested there: see the extrapolation above.</p>"]
    notes: list[str] = []
    fig = try_figure("frontier", fit, notes, data=ctx.data, near=near(label), budget=budgets,
                     calibration=ctx.calibration)
    if fig is not None:
        exps = ", ".join(f"{'N*' if k == 'params' else 'D*'} ∝ C^{v:.3f}" for k, v in fig.meta["exponents"].items())
        body.insert(1, f"<p>Frontier: {escape(exps)}.</p>")
    body.extend(f"<div class='muted'>{escape(n)}</div>" for n in notes)
    return [Section(title, "plan", "".join(body), (fig,) if fig else (), (), label)]


@section_kind("compare_fits", accepts=FIT, order=90, many=True)
def compare_section(fits, ctx: Context, label: str) -> list[Section]:
    # one table per law: a parameter named alike in two laws (E, A) is not the same quantity, so it never shares a
    # column with another law's
    by_law: dict[str, list] = {}
    for lab, f in fits:
        by_law.setdefault(f.law, []).append((lab, f))
    body = []
    for law, group in by_law.items():
        names = list(dict.fromkeys(p for _, f in group for p in f.params))
        header = ["fit", "data", "points", "objective"] + names
        rows = []
        for lab, f in group:
            ci = f.ci or {}
            rows.append([lab, f.data.get("source"), f.n_points, f"{f.objective:.5g}"]
                        + [(num(f.params[p], 4) + (f" {interval(ci[p])}" if p in ci else "")) if p in f.params
                           else "–" for p in names])
        body.append(table(f"{law}: parameters of every fit (value [interval])", header, rows, style=False, left=2))
    return [Section("Fits compared", "compare_fits", "".join(body), subject=label)]
