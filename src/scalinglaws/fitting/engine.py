"""`fit(runs, law) -> Fit`: the global search.

1. Candidates: a Latin hypercube over the nonlinear parameters with the linear ones solved exactly (starts.py).
2. Search (optimize.search): the best 32 candidates get 30 Levenberg-Marquardt iterations, the best 8 of those 200
   more, the best 2 up to 1,000, all as rows of one batched optimizer; then a BFGS polish of the survivors, since
   Levenberg-Marquardt's IRLS model converges only linearly on a robust loss.
3. Diagnostics: convergence, parameters at their bounds, how many starts reached the best objective; each problem
   is recorded in the Fit and issued as a FitWarning with what to try.
4. Optionally a bootstrap over runs (bootstrap.py), each draw refitted by optimize.refine.

Residuals are measured in the objective's space (space.py): log by default, linear or logit when asked for.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import ArgumentError, FitWarning, ScalingLawsError
from ..laws import LAWS, Law, get_law
from ..laws.published import prior_of
from ..render.text import plural
from ..runs import Runs, fit_columns, read_runs
from ..runs.schema import COLUMNS, SYMBOLS
from . import borrow as borrowing
from . import space as spaces
from .bootstrap import check_size, run_bootstrap
from .data import bind_inputs, law_inputs
from .identify import weak_parameters
from .optimize import CONVERGED, ROUNDS, STATUS, search
from .options import FitOptions, row_weights
from .problem import Problem
from .record import Fit
from .starts import candidates, n_candidates


def prepare(data, law: Law, *, inputs=None, target: str | None = None, where: Sequence[str] = (), rename=None,
            weights=None, transient=None, space: str = spaces.DEFAULT, constants=None
            ) -> tuple[Runs, dict, np.ndarray, np.ndarray, dict[str, str], str]:
    """Read and check the data for a law: (runs, x, y, weights, input binding, target).

    space: the residual space the target will be fitted in; every value of the target must lie in its domain.

    transient: which early checkpoints of each run to leave out of the objective (scalinglaws.laws.transient);
    None applies the law's own rule (curve laws) or keeps every row. Left-out rows still inform the features.
    """
    binding = bind_inputs(law, inputs)
    target = target or law.target
    needed = list(dict.fromkeys(list(binding.values()) + [target]))
    runs = read_runs(data, rename=rename, where=where, require=needed, purpose=f"law '{law.name}' needs it",
                     constants=constants)
    y = runs[target]
    bad = np.flatnonzero(~spaces.in_domain(y, space))
    if bad.size:
        rule = spaces.domain_message(space) or f"must be finite to be fitted in {space} space"
        fix = {"log": f"Drop such rows (e.g. where=['{target}>0']), or fit in linear space (space='linear')",
               "logit": f"Drop such rows (e.g. where=['{target}>0', '{target}<1']), or fit in linear space "
                        "(space='linear')"}.get(space, "Drop such rows")
        head = f"column '{target}' {rule}, but is {y[bad[0]]:g} at {runs.locate(bad[0])}."
        where_cli = {"log": f"--where '{target}>0'", "logit": f"--where '{target}>0' --where '{target}<1'"}
        cli = (f"{head} Drop such rows (e.g. {where_cli[space]}), or fit in linear space (--space linear)"
               if space in where_cli else None)
        raise ArgumentError("space", f"{head} {fix}", cli=cli)
    w = row_weights(runs, weights)
    x = law_inputs(law, runs, binding)
    if transient is not None or law.transient != "none":
        keep, note = law.transient_rows(runs, transient, binding)
        if not keep.all():
            x, y, w = {k: v[keep] for k, v in x.items()}, y[keep], w[keep]
            kept = runs.take(keep)
            runs = Runs(kept.columns, source=kept.source, lines=kept.lines, line_word=kept.line_word,
                        notes=kept.notes + (note,), filters=kept.filters)
    if len(runs) < law.n_params:
        smaller = _smaller_laws(law, len(runs))
        hint = f" (e.g. {smaller})" if smaller else ""
        raise ScalingLawsError(
            f"{runs.source} has {plural(len(runs), 'usable row')} but law '{law.name}' has {law.n_params} "
            f"parameters: a fit needs at least as many points as parameters. Add runs or choose a smaller law{hint}")
    return runs, x, y, w, binding, target


def _smaller_laws(law: Law, rows: int) -> str:
    """Built-in laws of the same inputs as `law` with at most `rows` parameters, smallest first ('' if none)."""
    same = [other for other in LAWS.values()
            if other.name != law.name and other.n_params <= rows and set(other.inputs) == set(law.inputs)]
    return ", ".join(o.name for o in sorted(same, key=lambda o: (o.n_params, o.name))[:2])


def fit(data, law="chinchilla", *, options: FitOptions | None = None, inputs: Mapping[str, str] | None = None,
        target: str | None = None, where: Sequence[str] = (), rename=None, constants=None,
        progress: Callable[[int, int], None] | None = None, **option_values) -> Fit:
    """Fit a law to a runs table.

    data: a runs table or anything `read_runs` reads (path, dataset:NAME, DataFrame, ...).
    law: a registered name, a formula string ("E + A*N**-alpha") or a Law.
    options: how to fit (fitting/options.py): loss, delta, asymmetry, weights, transient, bootstrap, level, seed,
        starts, space (where residuals g(prediction) - g(observed) are measured: "log" for losses, "linear" for a
        target that can be zero or negative, "logit" for a rate in (0, 1); the Fit records it and its intervals
        use it). Each may also be given as a keyword (`fit(runs, bootstrap=200)`), on top of `options`.
    inputs: law symbol -> column, to override the law's defaults (e.g. {"x": "params"} for `power`).
    target: the column to fit (default: the law's, usually `loss`).
    where, rename, constants: filters, column renames (old -> new, as pandas) and columns of one value
        ({"params": 1.6e8}) applied as the data are read (`read_runs`); the fit records them, so that its rows can
        be read again from its source.
    progress: called as progress(done, total) during the bootstrap.

    The same data, options and seed give the same Fit.
    """
    opts = FitOptions.of(options, **option_values)
    law = get_law(law)
    prior = prior_of(law)
    if prior is not None:  # a law with published values held ('chinchilla@besiroglu2024'): a fit of the full law
        from .held import widen

        held = replace(law, source={k: v for k, v in law.source.items() if k != "prior"})
        f = fit(data, held, options=opts, inputs=inputs, target=target, where=where, rename=rename,
                constants=constants, progress=progress)
        return widen(f, get_law(prior.law), prior)
    if opts.space == spaces.DEFAULT and law.space != spaces.DEFAULT:
        opts = opts.replace(space=law.space)  # the law's target has no log (laws/spec.py `space`)
    objective = opts.objective
    bootstrap, level, seed = opts.bootstrap, opts.level, opts.seed
    runs, x, y, w, binding, target = prepare(data, law, inputs=inputs, target=target, where=where, rename=rename,
                                             weights=opts.weights, transient=opts.transient, space=objective.space,
                                             constants=constants)
    law, named = read_named_columns(law, runs)
    if named:  # the formula names columns of the table: they are read as inputs, not fitted
        inputs = {**dict(inputs or {}), **{c: c for c in named}}
        runs, x, y, w, binding, target = prepare(runs, law, inputs=inputs, target=target, weights=opts.weights,
                                                 transient=opts.transient, space=objective.space)
    notes: list[str] = list(free_names(law, runs))  # (the columns read are in the fit's inputs)
    unidentified = borrowing.needed(law, runs, binding)
    if unidentified:  # no run anneals: borrow the annealing term, or say that nothing pins it down
        prior = borrowing.resolve(opts.borrow, law)
        if prior is not None:
            missing = [n for n in unidentified if n not in prior.names]
            if missing:
                raise ScalingLawsError(f"the annealing prior ({prior.origin}) lacks {', '.join(missing)}, which "
                                       "these runs cannot identify: give a prior with every annealing parameter")
            return borrowing.borrowed_fit(fit, data, law, prior, runs, binding, options=opts, inputs=inputs,
                                          target=target, where=where, rename=rename, constants=constants,
                                          progress=progress)
        notes.append(borrowing.not_identified_note(unidentified, borrowing.decay_seen(runs, binding)))
    problem = Problem(law, x, y, objective, w)
    if bootstrap:
        check_size(bootstrap, problem.n, runs.n_runs, law.n_params)  # before any work, with the memory it needs
    rng = np.random.default_rng(seed)

    k = opts.starts or n_candidates(law.n_params - len(law.linear))
    scout = subsample(problem, seed)  # big tables: the global search on a subsample, the polish on every row
    with np.errstate(all="ignore"):  # overflow in a poor candidate is an infinite objective, handled below
        theta0, f0 = candidates(scout, k, rng)
    finite = np.isfinite(f0)
    if not finite.any():
        raise ScalingLawsError(
            f"law '{law.name}' gives no {_VALID[objective.space]} prediction of {runs.source} at any of {k} starts. "
            "Check the inputs' units and the target, or set start ranges (--param NAME=LO:HI)")
    order = np.argsort(np.where(finite, f0, np.inf))[: min(ROUNDS[0][0], int(finite.sum()))]
    with np.errstate(all="ignore"):
        found = search(scout, scout.transform.to_u(theta0[order]))
        if scout is not problem:
            ranked = np.flatnonzero(np.isfinite(found.f))
            top = ranked[np.argsort(found.f[ranked], kind="stable")][:POLISH] if ranked.size else np.array([0])
            found = search(problem, found.u[top], rounds=((len(top), 200), (len(top), 1000)))
            order = order[top]
    final_f, final_status, H, b = found.f, found.status, found.H, found.best
    best = found.u[b]
    theta = problem.theta(best[None])[0]
    f_best = float(final_f[b])
    converged = bool(final_status[b] == CONVERGED)

    reached = int(np.sum(np.abs(final_f - f_best) <= 1e-6 * max(abs(f_best), 1e-12)))
    if not converged:
        notes.append(f"the best start did not converge ({STATUS.get(int(final_status[b]), 'unknown')}): try more "
                     "starts (--starts), another loss, or fewer free parameters")
    at_bounds = _at_bounds(law, theta)
    for name in at_bounds:
        notes.append(f"parameter {name} ended at its bound ({theta[law.param_names.index(name)]:.4g}): the data "
                     "do not pin it down; fix it, fit a simpler law, or add runs that span more scale")
    dead, traded = weak_parameters(problem, theta) if not unidentified else ((), ())
    if dead:
        converged = False  # a term that vanished (an exponent run off to 1e300) is a collapse, not an optimum
        verb = "no longer affects" if len(dead) == 1 else "no longer affect"
        notes.append(f"parameter{'s' if len(dead) > 1 else ''} {', '.join(dead)} {verb} any prediction "
                     "(the law collapsed, e.g. an exponent ran off to a huge value): the fit is not an optimum of "
                     "this law. Bound the parameters (--param NAME=bounds:LO:HI), or fit a simpler law")
    if traded:
        notes.append(f"parameters {', '.join(traded)} are not identified by the data: they trade off exactly "
                     f"against each other ({_spread(runs, binding)}). Add runs that vary what they depend on, or "
                     "fix some of them")
    bad_rows = np.flatnonzero(~np.isfinite(problem.predict(theta[None])[0]))
    if bad_rows.size:
        notes.append(f"the law has no finite prediction at {bad_rows.size} row{'s' if bad_rows.size > 1 else ''} "
                     f"(e.g. {runs.locate(bad_rows[0])}): a value beyond floating-point range? Check that row's "
                     "units")
    if objective.space == "log":
        with np.errstate(all="ignore"):
            miss = np.abs(problem.residuals(theta[None])[0])
        far = np.flatnonzero(miss > FAR)
        if far.size:
            i = far[np.argmax(miss[far])]
            notes.append(f"the fit misses {far.size} row{'s' if far.size > 1 else ''} by more than a factor of "
                         f"{np.exp(FAR):,.0f} (worst: {runs.locate(i)}, {target}={y[i]:g}): a value in the wrong "
                         "units? Check or drop it")
    if len(runs) == law.n_params:
        notes.append(f"{len(runs)} points for {law.n_params} parameters: the fit interpolates and says nothing about "
                     "its own error")

    boot = None
    if bootstrap:
        with np.errstate(all="ignore"):
            boot, failed = run_bootstrap(problem, runs.run_ids, best, H[b], n=bootstrap, level=level, seed=seed,
                                         progress=progress, strata=runs[law.strata] if law.strata else None)
        if failed > 0.05 * bootstrap:
            notes.append(f"{failed} of {bootstrap} bootstrap refits did not converge: intervals may be too wide")
    for note in notes:
        warnings.warn(note, FitWarning, stacklevel=2)

    residuals = problem.residuals(theta[None])[0]
    used = fit_columns(binding.values(), target)
    return Fit(
        law=law.name, formula=law.formula, inputs=binding, target=target,
        params={name: float(v) for name, v in zip(law.param_names, theta)},
        objective=f_best, loss=objective.to_dict(), n_points=len(runs), n_runs=runs.n_runs, converged=converged,
        at_bounds=tuple(at_bounds), warnings=tuple(notes),
        starts={"candidates": int(k), "refined": int(len(order)), "reached_best": reached,
                **({"searched_rows": scout.n} if scout is not problem else {}),
                "objectives": [float(v) for v in final_f],
                "status": [STATUS.get(int(s), "pruned") for s in final_status]},
        seed=int(seed),
        data={"source": _source_as_given(data, runs), "hash": runs.hash(used), "rows": len(runs),
              "runs": runs.n_runs,
              "ranges": runs.ranges(list(binding.values()) + [target]), "notes": list(runs.notes),
              "where": list(runs.filters), **_how_read(rename, constants)},
        residuals=tuple(float(r) for r in residuals), bootstrap=boot, law_source=law.source,
        extra={"not_identified": list(unidentified)} if unidentified else {},
        in_memory=_in_memory(data),
    )


SEARCH_ROWS = 2_000  # rows the global search sees; a larger table's best starts are then polished on every row
POLISH = 2  # starts polished on every row after a search on a subsample
FAR = float(np.log(1e6))  # a log residual beyond this is no measurement error but a wrong value


def _in_memory(data):
    """What a fit keeps of a table given in memory, to read its rows again for figures: the object itself, or for a
    mapping of columns an Arrow table of them (a record would freeze a mapping's arrays into tuples)."""
    if isinstance(data, (str, Path)):
        return None
    if isinstance(data, Mapping):
        import pyarrow as pa

        try:
            return pa.table({k: np.asarray(v) for k, v in data.items()})
        except Exception:  # columns Arrow cannot hold: the figures will ask for the data instead
            return None
    return data


_VALID = {"log": "positive, finite", "linear": "finite", "logit": "finite, strictly between 0 and 1,"}


def _how_read(rename, constants) -> dict:
    """The renames (as --map NEW=OLD strings) and constants a fit's rows were read with, for reading them again."""
    from ..runs.io import parse_map

    out = {}
    if rename:
        out["map"] = [f"{new}={old}" for new, old in parse_map(rename).items()]
    if constants:
        out["set"] = {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
                      for k, v in constants.items()}
    return out


def _source_as_given(data, runs: Runs) -> str:
    """The data source as the user named it (a path keeps its folder), without its ?filters: those are recorded
    with the other filters, so reading the source again and applying them gives the same rows."""
    if isinstance(data, (str, Path)):
        text = str(data)
        if "?" in text and not Path(text).exists():
            text = text.partition("?")[0]
        return text
    return runs.source


def subsample(problem: Problem, seed: int) -> Problem:
    """The problem on SEARCH_ROWS of its rows (those with weight), drawn with a stream of their own, or the problem
    itself when it is no larger. Multi-start search costs starts × rows: on a ladder of whole training curves
    (millions of rows) the search on a subsample finds the same basin, and the polish on every row the optimum."""
    rows = np.flatnonzero(problem.weights > 0)
    if problem.batched or len(rows) <= SEARCH_ROWS:
        return problem
    pick = np.sort(np.random.default_rng([seed, 2]).choice(rows, SEARCH_ROWS, replace=False))
    return Problem(problem.law, {k: v[pick] for k, v in problem.x.items()}, problem.y[pick], problem.objective,
                   problem.weights[pick])


def read_named_columns(law: Law, runs: Runs) -> tuple[Law, list[str]]:
    """A formula law whose free names include numeric columns of the table, rebuilt with those names as inputs
    bound to their columns (any column is an input by its name); (law, the names) or (law, []) unchanged."""
    if not law.source or law.source.get("kind") != "formula":
        return law, []
    named = [n for n in law.param_names if n in runs and runs[n].dtype.kind in "fiu"]
    if not named:
        return law, []
    from ..laws import formula_law

    src = law.source
    params = {k: v for k, v in (src.get("params") or {}).items() if k not in named}
    params = {k: {kk: tuple(vv) if isinstance(vv, list) else vv for kk, vv in v.items()} for k, v in params.items()}
    rebuilt = formula_law(src["expr"], name=law.name, inputs={**dict(src.get("inputs") or {}),
                                                               **{n: n for n in named}},
                          params=params, target=src.get("target", law.target))
    return rebuilt, named


def free_names(law: Law, runs: Runs) -> list[str]:
    """A formula's names that are fitted as free parameters although they look like data: a column of the table
    (refused: it would be fitted, not read) or close to one or to an input symbol (a note: a typo?)."""
    if not law.source or law.source.get("kind") != "formula":
        return []
    columns = [c for c in runs.names if c not in law.inputs.values()]
    for name in law.param_names:
        if name in runs:
            raise ArgumentError("inputs", f"inputs must bind '{name}': formula '{law.source.get('expr')}' names "
                                f"'{name}', a column of {runs.source}, which would otherwise be fitted as a free "
                                f"parameter. Bind it ({name}={name}), or rename the parameter")
    known = set(columns) | set(SYMBOLS) | {c for c, col in COLUMNS.items() if col.kind == "number"}
    notes = []
    for name in law.param_names:
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75) if len(name) > 2 else []
        if close:
            notes.append(f"'{name}' in the formula is fitted as a free parameter (it is neither an input nor a "
                         f"column of {runs.source}); did you mean '{close[0]}'? Correct the formula, or bind a "
                         "column to it as an input")
    return notes


def _spread(runs: Runs, binding: Mapping[str, str]) -> str:
    """What the inputs span, for a message: 'params takes one value, 1e+08' or 'params spans 1e+07 to 1e+09'."""
    parts = []
    for col in dict.fromkeys(binding.values()):
        v = runs[col]
        if v.dtype.kind not in "fiub":  # a text column (a curve's run): how many values it takes
            parts.append(f"{col} takes {len(set(v.tolist()))} value{'s' if len(set(v.tolist())) > 1 else ''}")
            continue
        lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
        parts.append(f"{col} takes one value, {lo:g}" if lo == hi else f"{col} spans {lo:g} to {hi:g}")
    return "; ".join(parts)


def _at_bounds(law: Law, theta: np.ndarray) -> list[str]:
    out = []
    for p, v in zip(law.params, theta):
        scale = (p.start[1] - p.start[0]) if not (p.log_start or p.start_from) else max(abs(v), 1e-300)
        tol = 1e-6 * max(scale, 1e-12)
        if any(np.isfinite(bd) and abs(v - bd) <= tol for bd in p.bounds):
            out.append(p.name)
    return out
