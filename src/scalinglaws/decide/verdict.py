"""The record of a law selection and its headline: which law was chosen, for what data, on what evidence.

`fit --law auto` stores the record in `fit.extra["selection"]` and prints its headline first, e.g.

    law chosen by backtest for final points of 245 runs in params and tokens (3 cuts along flops): chinchilla with
    published exponents fixed (alpha=0.3478, beta=0.3658; Besiroglu et al. 2024): lowest backtested error, 0.56%
    mean relative error on the held-out larger runs; next best chinchilla@hoffmann2022 at 0.75%; its fixed values
    were estimated from these very runs, so its backtest flatters it; intervals mix 2 laws
    (chinchilla@besiroglu2024 0.58, chinchilla@hoffmann2022 0.42)

A law with parameters fixed at published values says so, and names the paper; where those values were estimated
from the very runs under test the headline says that too (the backtest then flatters them). A chosen law whose
forecasts run away says so in the headline and in `diverged`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

_YEAR = re.compile(r"^(.*?\b(?:19|20)\d\d)\b")


def selection_record(plan, ranking, win, cand, *, diverged: str | None, refused: Sequence[Mapping],
                     mixture: Mapping | None, tolerance: float, mix_tolerance: float, bootstrap: bool = True) -> dict:
    """The selection record (see the module docstring) of a plan (select._Plan), its ranking, the winning
    backtest and candidate, and what became of the law mixture."""
    shape = plan.shape
    by_label = {c.label: c for c in plan.candidates}
    held = "the rest of each curve" if shape.within else "the held-out larger runs"
    if shape.within:
        method, metric = "backtest along the curves", (f"mean over cuts of the mean |relative error| on each "
                                                       f"curve's rows beyond the cut in {shape.by}")
    else:
        method, metric = "rollout backtest", "mean over cuts of the mean |relative error| on the held-out larger runs"
    rejected = [{"label": k, "reason": v} for k, v in ranking.rejected.items()] + [dict(r) for r in refused]
    sel = {
        "method": method, "shape": shape.to_dict(), "by": shape.by, "cuts": [c.cut for c in win.cuts],
        "metric": metric, "winner": win.label, "law": cand.law, "fixed": _fixed(cand.prior, plan.runs.source),
        "reason": _reason(ranking, win, held, tolerance), "tolerance": tolerance, "mix_tolerance": mix_tolerance,
        "candidates": [{"label": b.label, "law": b.law, "n_params": b.n_params, "score": _num(b.score),
                        "bias": b.bias, "complete": b.complete,
                        "rows": "each run's final row" if by_label[b.label].finals else "every row",
                        "per_cut": [c.rel_error for c in b.cuts], "rejected": ranking.rejected.get(b.label)}
                       for b in ranking.backtests],
        "rejected": rejected, "skipped": [dict(s) for s in ranking.skipped], "diverged": diverged,
        "mixture": None if mixture is None else dict(mixture),
        # no timing here: the same data and seed give the same record, byte for byte
    }
    sel = finite(sel)
    sel["headline"] = headline(sel, bootstrap)
    return sel


def headline(sel: Mapping, bootstrap: bool = True) -> str:
    """One line: which law was chosen, for what data, by what evidence, and what the intervals mix."""
    n = len(sel["cuts"])
    cuts = f"{n} cut{'s' if n != 1 else ''} {'within each curve along' if sel['shape']['within'] else 'along'} "
    text = f"law chosen by backtest for {sel['shape']['text']} ({cuts}{sel['by']}): {_named(sel)}: {sel['reason']}"
    fixed = sel.get("fixed")
    if fixed and fixed["fitted_to_this_data"]:
        text += "; its fixed values were estimated from these very runs, so its backtest flatters it"
    mix = sel.get("mixture")
    if mix:
        ws = ", ".join(f"{m['label']} {m['weight']:.2f}" for m in mix["members"])
        text += (f"; intervals mix {len(mix['members'])} laws ({ws})" if bootstrap else
                 f"; with a bootstrap, intervals would mix {len(mix['members'])} laws ({ws})")
    if sel.get("diverged"):
        text += f"; WARNING: fitted to all the data it {sel['diverged']}"
    return text


def _named(sel: Mapping) -> str:
    fixed = sel.get("fixed")
    if not fixed:
        return sel["winner"]
    vals = ", ".join(f"{k}={v:g}" for k, v in fixed["values"].items())
    what = "exponents" if fixed["exponents"] else "parameters"
    return f"{sel['law']} with published {what} fixed ({vals}; {fixed['cite']})"


def _fixed(prior, source: str) -> dict | None:
    if prior is None:
        return None
    from ..laws import get_law

    docs = {p.name: p.doc for p in get_law(prior.law).params}
    m = _YEAR.match(prior.reference or "")
    name = str(source).split(":")[-1].split("?")[0]
    return {"values": dict(prior.values), "source": prior.name, "reference": prior.reference,
            "cite": m.group(1) if m else prior.name,
            "exponents": all("exponent" in (docs.get(k) or "") for k in prior.values),
            "fitted_to_this_data": name in prior.fitted_on}


def _reason(ranking, win, held: str, tolerance: float) -> str:
    text = f"lowest backtested error, {100 * win.score:.2f}% mean relative error on {held}"
    others = [b for b in ranking.backtests if b is not win and b.label not in ranking.rejected
              and math.isfinite(b.score)]
    if others:
        other = others[0]
        if other.score < win.score:
            text += (f"; within {100 * tolerance:.0f}% of {other.label} ({100 * other.score:.2f}%) with fewer "
                     f"parameters ({win.n_params} vs {other.n_params})")
        else:
            text += f"; next best {other.label} at {100 * other.score:.2f}%"
    if ranking.rejected:
        text += f"; rejected as runaway: {', '.join(ranking.rejected)}"
    return text


def _num(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def finite(obj):
    """A record with every number that is not finite written as None (JSON has no NaN)."""
    if isinstance(obj, Mapping):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
