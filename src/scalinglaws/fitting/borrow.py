"""Borrowing what curves cannot show: the annealing term of a curve law fitted to runs that never anneal.

A run held at its peak learning rate after the warm-up has S2 = 0 (lr_annealing) and no learning-rate drops
(multipower) at every row, so the law's annealing parameters change none of its predictions there: their
Jacobian column is zero, the engine leaves them where its start put them and still reports convergence. A fit of
such curves predicts a plateau for every schedule that decays, with intervals as narrow as if it knew (a miss of
several percent inside ±1.4% on the bundled curves). So a fit checks first whether any of its runs anneals
(`decay_seen`: the learning rate falls at least MIN_DECAY below its peak) and, when none does:

  borrow="default" takes the annealing parameters from a prior shipped with the package (anneal_prior.json,
      rebuilt by tools/build_anneal_prior.py with decide/priors.py `learn_anneal_prior`): one fit per model size
      of the bundled Multi-Power Law curves (Luo et al. 2025; 25M, 100M and 400M, every schedule), which anneal;
  borrow=FILE takes them from the user's own prior (`learn_anneal_prior` on curves that anneal, then
      `AnnealPrior.save`) or from a fit file of the same law to such curves;
  borrow="none" fits as the data allow and warns that the annealing parameters are not identified.

With a prior, the rest of the law is fitted with the borrowed values fixed at the prior's centre (the geometric
mean over its source fits); each bootstrap draw then takes its own annealing parameters from the prior (one source
fit at random, its amplitude scaled by exp(s·z), z standard normal, s the spread of the sources' log-amplitudes
widened by √(1 + 1/k) for k sources), so the interval carries what the data cannot identify. Since S2 and the
drops vanish on the fitted rows, the draws' other parameters do not depend on the borrowed ones and need no
refit. The prior's values are carried to this data's peak learning rate η under one stated assumption: the loss
a decay gains depends on the fraction of the peak removed, not on its absolute size, so C·η (lr_annealing),
B·η and C·η^(1−γ) (multipower) are what carries over. The fit's record says what was borrowed, from where, how it
was drawn and under which assumption (`extra["borrowed"]`), and every interval made from it says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import ScalingLawsError
from ..records import format_of, parse_format

DEFAULT_PATH = Path(__file__).with_name("anneal_prior.json")
MIN_DECAY = 0.05  # a run whose lr never falls this fraction below its peak shows nothing of annealing
MIN_SPREAD = 0.1  # the least log-spread of a borrowed amplitude (two source fits may agree by chance)
ASSUMPTION = ("the loss gained by a decay depends on the fraction of the peak learning rate removed: C·η "
              "(lr_annealing), B·η and C·η^(1-γ) (multipower) carry over between peak learning rates η")
# law -> the parameter names borrowed, amplitude first (the one jittered by the sources' spread)
BORROWED = {"lr_annealing": ("C",), "schedule": ("C",), "multipower": ("B", "C", "beta", "gamma")}


def to_peak(law: str, values: Mapping[str, float], ratio: float) -> dict[str, float]:
    """Borrowed values fitted at a peak learning rate η_src, carried to η = ratio·η_src (see ASSUMPTION)."""
    v = {k: float(x) for k, x in values.items()}
    if law in ("lr_annealing", "schedule"):
        v["C"] = v["C"] / ratio
    elif law == "multipower":
        v["B"] = v["B"] / ratio
        v["C"] = v["C"] * ratio ** (v["gamma"] - 1.0)
    return v


@dataclass(frozen=True)
class AnnealPrior:
    """A curve law's annealing parameters as fitted to curves that anneal: one set per source fit."""

    law: str
    names: tuple[str, ...]
    sources: tuple[tuple[float, ...], ...]  # per source fit, the values of `names` at `peak_lr`
    labels: tuple[str, ...]  # what each source fit was fitted to
    peak_lr: float
    origin: str = "default"  # "default" (shipped), or the file it was read from
    fitted_on: tuple[str, ...] = ()  # datasets the sources come from

    def __post_init__(self):
        if not self.sources or any(len(s) != len(self.names) for s in self.sources):
            raise ScalingLawsError(f"an annealing prior for law '{self.law}' needs at least one source fit with a "
                                   f"value of each of {', '.join(self.names)}")
        vals = np.asarray(self.sources, dtype=float)
        if not (np.all(np.isfinite(vals)) and np.all(vals > 0) and self.peak_lr > 0):
            raise ScalingLawsError(f"the annealing prior for law '{self.law}' ({self.origin}) holds a value that "
                                   "is not a positive number: learn it again from curves that anneal")

    @property
    def spread(self) -> float:
        """Log-spread of the amplitude (the first name) over the sources, widened for few sources."""
        logs = np.log(np.asarray(self.sources, dtype=float)[:, 0])
        sd = float(np.std(logs, ddof=1)) if len(logs) > 1 else 0.0
        return max(sd, MIN_SPREAD) * float(np.sqrt(1.0 + 1.0 / len(logs)))

    def at(self, peak_lr: float) -> np.ndarray:
        """(k, len(names)) the sources' values carried to this peak learning rate."""
        ratio = peak_lr / self.peak_lr
        return np.array([[to_peak(self.law, dict(zip(self.names, s)), ratio)[n] for n in self.names]
                         for s in self.sources])

    def centre(self, peak_lr: float) -> dict[str, float]:
        """The values a point fit is made with: the geometric mean of the sources' (at this peak lr)."""
        return {n: float(np.exp(np.mean(np.log(col)))) for n, col in zip(self.names, self.at(peak_lr).T)}

    def sample(self, n: int, peak_lr: float, seed: int) -> np.ndarray:
        """(n, len(names)) draws: a source fit at random, its amplitude scaled by exp(spread·z)."""
        rng = np.random.default_rng([int(seed), 0xA22])
        vals = self.at(peak_lr)
        out = vals[rng.integers(0, len(vals), size=n)].copy()
        out[:, 0] *= np.exp(self.spread * rng.standard_normal(n))
        return out

    def describe(self) -> str:
        return (f"{len(self.sources)} fit{'s' if len(self.sources) > 1 else ''} of curves that anneal"
                + (f" ({', '.join(self.fitted_on)})" if self.fitted_on else "")
                + (", shipped" if self.origin == "default" else f", from {self.origin}"))

    def to_dict(self) -> dict:
        return {"format": format_of("anneal_prior"), "law": self.law, "names": list(self.names),
                "sources": [dict(zip(self.names, s)) for s in self.sources], "labels": list(self.labels),
                "peak_lr": self.peak_lr, "spread": self.spread, "fitted_on": list(self.fitted_on),
                "origin": self.origin, "assumption": ASSUMPTION}

    def save(self, path) -> Path:
        from ..files import write_atomic

        return write_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def from_dict(cls, d: Mapping, origin: str) -> AnnealPrior:
        try:
            names = tuple(str(n) for n in d["names"])
            return cls(law=str(d["law"]), names=names,
                       sources=tuple(tuple(float(s[n]) for n in names) for s in d["sources"]),
                       labels=tuple(str(x) for x in d.get("labels", ())), peak_lr=float(d["peak_lr"]),
                       origin=origin, fitted_on=tuple(str(x) for x in d.get("fitted_on", ())))
        except (KeyError, TypeError, ValueError) as exc:
            raise ScalingLawsError(f"{origin} is not a complete annealing prior ({exc!r} is missing or not a "
                                   "number): write one again with AnnealPrior.save or learn_anneal_prior()") from None


def resolve(spec, law) -> AnnealPrior | None:
    """The annealing prior a fit of `law` borrows from: spec "default", "none" (None), an AnnealPrior, or a file
    (a saved prior, or a fit of the same law to curves that anneal)."""
    if spec is None or spec == "none":
        return None
    if isinstance(spec, AnnealPrior):
        prior = spec
    elif spec == "default":
        prior = _read(DEFAULT_PATH, "default").get(_base(law.name))
        if prior is None:
            return None
    else:
        found = _read(Path(str(spec)), Path(str(spec)).name)
        prior = found.get(_base(law.name))
        if prior is None:
            raise ScalingLawsError(f"{Path(str(spec)).name} holds no annealing prior for law '{law.name}' (it has "
                                   f"{', '.join(sorted(found)) or 'none'}): give one for this law, or borrow='none'")
    if _base(prior.law) != _base(law.name):
        raise ScalingLawsError(f"the annealing prior ({prior.origin}) is for law '{prior.law}', not '{law.name}'")
    return prior


def _base(name: str) -> str:
    return "lr_annealing" if name == "schedule" else name


def _read(path: Path, origin: str) -> dict[str, AnnealPrior]:
    """law -> prior, from a shipped or saved prior file (one prior, or {"priors": [...]}) or a fit file."""
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScalingLawsError(f"{path}: no such file to borrow the annealing term from. Give a file written by "
                               "AnnealPrior.save, a fit file of curves that anneal, or borrow='default'") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScalingLawsError(f"{origin} cannot be read as JSON ({type(exc).__name__}): give a file written by "
                               "AnnealPrior.save or a fit file") from None
    kind = (parse_format(d.get("format")) or (None,))[0] if isinstance(d, dict) else None
    if kind == "fit":
        return _from_fit(path, origin)
    if kind != "anneal_prior":
        raise ScalingLawsError(f"{origin} is neither an annealing prior nor a fit file (format "
                               f"{d.get('format') if isinstance(d, dict) else None!r})")
    items = d.get("priors", [d])
    return {_base(str(p.get("law"))): AnnealPrior.from_dict(p, origin) for p in items}


def _from_fit(path: Path, origin: str) -> dict[str, AnnealPrior]:
    from .record import Fit

    f = Fit.load(path)
    names = BORROWED.get(_base(f.law))
    if names is None or f.extra.get("borrowed") or f.extra.get("not_identified"):
        raise ScalingLawsError(f"{origin} is a fit of law '{f.law}'" + (
            " that did not see an anneal itself" if names else f"; annealing terms are borrowed for "
            f"{', '.join(BORROWED)}") + ": give a fit of curves that anneal")
    peak = float(f.data["ranges"][f.inputs["lr"]][1])
    if f.bootstrap is not None:  # the fit's own draws: its uncertainty about the annealing term
        draws = f.bootstrap.array()[:, [list(f.params).index(n) for n in names]]
        sources = tuple(tuple(float(v) for v in row) for row in draws if np.all(row > 0))
    else:
        sources = (tuple(float(f.params[n]) for n in names),)
    return {_base(f.law): AnnealPrior(law=f.law, names=names, sources=sources, labels=(str(f.data["source"]),),
                                      peak_lr=peak, origin=origin, fitted_on=(str(f.data["source"]),))}


# -- in a fit -------------------------------------------------------------------------------------------------------
def decay_seen(runs, binding: Mapping[str, str]) -> float:
    """The largest fraction by which any run's learning rate falls below its peak after reaching it."""
    lr = np.asarray(runs[binding["lr"]], dtype=float)
    ids = np.asarray(runs.run_ids, dtype=str)
    step = np.asarray(runs[binding["step"]], dtype=float)
    best = 0.0
    for rid in np.unique(ids):
        m = np.flatnonzero(ids == rid)
        m = m[np.argsort(step[m], kind="stable")]
        r = lr[m]
        peak = int(np.argmax(r))
        if r[peak] > 0:
            best = max(best, float(1.0 - np.min(r[peak:]) / r[peak]))
    return best


def needed(law, runs, binding: Mapping[str, str]) -> tuple[str, ...]:
    """The annealing parameters of `law` these rows cannot identify: all of them when no run anneals."""
    names = tuple(n for n in getattr(law, "anneal_params", ()) if n in law.param_names)
    if not names or "lr" not in binding or decay_seen(runs, binding) >= MIN_DECAY:
        return ()
    return names


def not_identified_note(names: Sequence[str], decay: float) -> str:
    return (f"no run's learning rate falls more than {decay:.0%} below its peak, so the annealing parameters "
            f"{', '.join(names)} are not identified by these data (they stay at their start values) and a "
            "prediction for a schedule that decays rests on nothing: borrow them (borrow='default', or a fit of "
            "curves that anneal)")


def borrowed_fit(fit_law, data, law, prior: AnnealPrior, runs, binding, *, options, **kwargs):
    """Fit `law` with the prior's annealing parameters fixed at its centre, then give every bootstrap draw its own
    from the prior; an ordinary Fit of the full law, what was borrowed in `extra["borrowed"]`."""
    import warnings

    from ..errors import FitWarning
    from ..laws.fixed import fix_params

    peak = float(np.max(np.asarray(runs[binding["lr"]], dtype=float)))
    centre = prior.centre(peak)
    reduced = fix_params(law, centre)
    f = fit_law(data, reduced, options=options.replace(borrow="none"), **kwargs)
    params = {n: centre[n] if n in centre else f.params[n] for n in law.param_names}
    boot = f.bootstrap
    if boot is not None:
        free = [n for n in law.param_names if n not in centre]
        draws, sampled = boot.array(), prior.sample(boot.n, peak, f.seed)
        full = np.empty((draws.shape[0], law.n_params))
        for j, n in enumerate(law.param_names):
            full[:, j] = sampled[:, prior.names.index(n)] if n in centre else draws[:, free.index(n)]
        boot = replace(boot, draws=tuple(tuple(float(v) for v in row) for row in full))
    note = (f"no run's learning rate decays, so the annealing parameters {', '.join(prior.names)} are borrowed "
            f"from {prior.describe()} (point fit at {', '.join(f'{k}={v:.4g}' for k, v in centre.items())}"
            + ("; each bootstrap draw takes its own from the prior" if boot is not None else
               "; give a bootstrap for intervals that carry the prior's spread") + "): forecasts of schedules "
            "that decay rest on them")
    warnings.warn(note, FitWarning, stacklevel=3)
    extra = dict(f.extra)
    extra["borrowed"] = {"params": list(prior.names), "values": centre, "peak_lr": peak,
                         "draws": "per bootstrap draw: a source fit at random, its amplitude × exp(spread·z)",
                         "prior": prior.to_dict()}
    return replace(f, law=law.name, formula=law.formula, params=params, bootstrap=boot, law_source=law.source,
                   warnings=tuple(f.warnings) + (note,), extra=extra)
