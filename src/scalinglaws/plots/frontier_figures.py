"""The compute-optimal frontier of a fit: the best model size N*(C) and token count D*(C) at each compute budget.

The allocation itself comes from scalinglaws.plan (Hoffmann et al. 2022, Appendix D.2, in closed form for the
Chinchilla law); this module only evaluates it along a range of budgets, for the point estimate and for every
bootstrap draw, and draws the result beside the runs the fit saw.
"""

from __future__ import annotations

import numpy as np

from ..errors import ScalingLawsError
from .fitdata import fit_data, label
from .registry import figure_kind
from .spec import Figure, Panel, Series, band, si

POINTS = 100


def frontier_curves(fit, flops: np.ndarray) -> dict:
    """N*, D* (and their bootstrap bands) at each budget in `flops`."""
    from ..plan.optimal import chinchilla_optimum

    if fit.law != "chinchilla":
        raise ScalingLawsError(f"the compute-optimal frontier is drawn for the chinchilla law, not '{fit.law}'. "
                               "Fit it with --law chinchilla")
    n, d = chinchilla_optimum(dict(fit.params), flops)
    out = {"flops": flops, "params": n, "tokens": d}
    if fit.bootstrap is not None:
        draws = fit.bootstrap.array()  # (B, P) in the law's parameter order
        p = {name: draws[:, j, None] for j, name in enumerate(fit.params)}  # (B, 1) each
        with np.errstate(all="ignore"):
            nb, db = chinchilla_optimum(p, flops[None, :])  # (B, m)
        lo, hi = (1 - fit.bootstrap.level) / 2, (1 + fit.bootstrap.level) / 2
        out["params_band"] = np.nanquantile(nb, [lo, hi], axis=0)
        out["tokens_band"] = np.nanquantile(db, [lo, hi], axis=0)
    return out


@figure_kind("frontier", accepts="scalinglaws.fitting.record:Fit",
             title="compute-optimal model size and tokens against compute (chinchilla fits)", default=True)
def frontier_figure(fit, *, data=None, budget=None, near=None, **_) -> Figure:
    from ..plan import compute_optimal

    if fit.law != "chinchilla":
        raise ScalingLawsError(f"the compute-optimal frontier is drawn for the chinchilla law, not '{fit.law}'")
    fd = fit_data(fit, data, required=False, near=near)
    budgets = [float(b) for b in np.atleast_1d(budget if budget is not None else [])]
    if fd is not None and "flops" in fd.runs:
        lo, hi = float(fd.runs["flops"].min()), float(fd.runs["flops"].max())
    else:
        r = fit.data["ranges"]
        lo, hi = 6 * r["params"][0] * r["tokens"][0], 6 * r["params"][1] * r["tokens"][1]
    top = max([hi * 1e3] + [b * 2 for b in budgets])
    flops = np.geomspace(lo, top, POINTS)
    cur = frontier_curves(fit, flops)
    panels = []
    for col, sym in (("params", "N*"), ("tokens", "D*")):
        series = [Series("span", [lo, hi], label="range of the fit's data")]
        if f"{col}_band" in cur:
            b = cur[f"{col}_band"]
            series.append(band(flops, b[0], b[1], label=f"{int(round(fit.bootstrap.level * 100))}% bootstrap band",
                               group="frontier"))
        series.append(Series("line", flops, cur[col], label=f"{sym}(C), {fit.law}", group="frontier"))
        if fd is not None and "flops" in fd.runs:
            series.append(Series("points", fd.runs["flops"], fd.runs[col], label="runs",
                                 text=fd.runs.run_ids.astype(str)))
        if budgets:
            allocs = [compute_optimal(fit, b) for b in budgets]
            series.append(Series("star", budgets, [getattr(a, col) for a in allocs], label="planned budget",
                                 group="target", text=[f"C={si(a.flops)}: N*={si(a.params)}, D*={si(a.tokens)}"
                                                       for a in allocs]))
        panels.append(Panel(f"compute-optimal {label(col)}", label("flops"), f"{sym} ({label(col)})",
                            tuple(series)))
    ratio = cur["tokens"] / cur["params"]
    notes = (f"D*/N* from {ratio[0]:.3g} to {ratio[-1]:.3g} tokens per parameter",)
    panels[1] = Panel(panels[1].title, panels[1].xlabel, panels[1].ylabel, panels[1].series, notes=notes)
    meta = {"allocations": [compute_optimal(fit, b).to_dict() for b in budgets]}
    caption = ("The loss-minimising split of each compute budget C = 6·N·D between parameters and tokens under the "
               "fitted law" + (", with the spread of the bootstrap refits." if fit.bootstrap else "."))
    warns = (fd.warning,) if fd is not None and fd.warning else ()
    return Figure("frontier", f"Compute-optimal frontier of {fit.law} fit to {fit.data.get('source')}",
                  tuple(panels), caption, warns, meta)
