"""How to fit: the one record of fit options, with its defaults and its checks.

`fit`, `backtest`, `compare_laws`, `fit_auto` and `compare` all fit laws, and all fit them the same way: a
FitOptions record says how (the objective, the weights, the early transient, the bootstrap, the seed, the
multi-start budget) and travels unchanged from the caller to every fit they make, so a backtest scores the fits it
stands for and law selection ranks laws fitted the way the chosen one will be. The defaults are written here and
nowhere else; a record is checked once, when it is made, and every error names the Python argument
(`bootstrap must be a non-negative integer, got -1`); the command line says its flags instead (cli/options.py).

What the data are (the runs, the filters, which column feeds which input, the target) is not a fit option: those
are arguments of each function, since a backtest cuts the rows and law selection binds the inputs law by law.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from ..errors import ArgumentError
from .interval import check_level
from .objectives import Objective


def _integer(name: str, value, *, minimum: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ArgumentError(name, f"{name} must be {what}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class FitOptions:
    """How to fit a law (see the module docstring). Immutable; `replace(**changes)` gives a checked copy."""

    loss: str = "huber"  # "huber" (threshold `delta`), "l2", or "asymmetric", on residuals in `space`
    delta: float = 1e-3  # Huber threshold, in the units of the space (Hoffmann 2022; Besiroglu 2024: 1e-3 in log)
    asymmetry: float = 4.0  # with loss="asymmetric": how many times more an over-prediction weighs
    weights: str | tuple[float, ...] | None = None  # a column name, one weight per row, or None (the `weight`
    # column when the table has one, else equal weights)
    transient: str | float | None = None  # early checkpoints left out (laws/transient.py); None: the law's rule
    bootstrap: int = 0  # resamples of runs for intervals (0: none)
    level: float = 0.95  # coverage of the bootstrap's intervals
    seed: int = 0  # seeds the start design and the bootstrap
    starts: int | None = None  # multi-start candidates (None: 256 per nonlinear parameter, 256 to 4,096)
    space: str = "log"  # where residuals are measured (space.py): "log", "linear" or "logit"
    borrow: object = "default"  # a curve law's annealing term when no run anneals (borrow.py): "default" (the
    # shipped prior), "none", a prior or fit file, or a borrow.AnnealPrior

    def __post_init__(self) -> None:
        # the objective's own record checks the loss, its threshold and its asymmetry
        obj = (self.loss if isinstance(self.loss, Objective) else
               Objective(self.loss, self.delta, self.asymmetry, space=self.space))
        object.__setattr__(self, "space", obj.space)
        object.__setattr__(self, "loss", obj.kind)
        object.__setattr__(self, "delta", obj.delta)
        object.__setattr__(self, "asymmetry", obj.asymmetry)
        object.__setattr__(self, "weights", _weights(self.weights))
        if self.transient is not None:
            object.__setattr__(self, "transient", _transient(self.transient))
        object.__setattr__(self, "bootstrap", _integer("bootstrap", self.bootstrap, minimum=0,
                                                       what="a non-negative integer"))
        object.__setattr__(self, "level", check_level(self.level))
        object.__setattr__(self, "seed", _integer("seed", self.seed, minimum=0, what="a non-negative integer"))
        object.__setattr__(self, "borrow", _borrow(self.borrow))
        if self.starts is not None:
            object.__setattr__(self, "starts", _integer("starts", self.starts, minimum=1,
                                                        what="a positive integer or None"))

    @property
    def objective(self) -> Objective:
        return Objective(kind=self.loss, delta=self.delta, asymmetry=self.asymmetry, space=self.space)

    def replace(self, **changes) -> FitOptions:
        unknown = [k for k in changes if k not in NAMES]
        if unknown:
            raise TypeError(f"unexpected keyword argument {unknown[0]!r}: the fit options are {', '.join(NAMES)}")
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        if isinstance(self.weights, tuple):
            d["weights"] = list(self.weights)
        return d

    @classmethod
    def of(cls, options: FitOptions | Mapping | None = None, **changes) -> FitOptions:
        """A record from a record, a mapping of options or nothing, with keyword options on top: the one way
        `fit(..., bootstrap=200)` and `fit(..., options=FitOptions(bootstrap=200))` become the same record."""
        if options is None:
            base = DEFAULT
        elif isinstance(options, FitOptions):
            base = options
        elif isinstance(options, Mapping):
            base, changes = DEFAULT, {**options, **changes}
        else:
            raise ArgumentError("options", f"options must be a FitOptions record, got {type(options).__name__}")
        return base.replace(**changes) if changes else base


NAMES = tuple(f.name for f in fields(FitOptions))


def _borrow(b):
    from .borrow import AnnealPrior

    if isinstance(b, AnnealPrior):
        return b
    if hasattr(b, "__fspath__"):
        b = str(b)
    if not isinstance(b, str) or not b.strip():
        raise ArgumentError("borrow", f"borrow must be 'default', 'none', a prior or fit file, or an AnnealPrior; "
                            f"got {b!r}")
    return b


def _weights(w):
    if w is None:
        return None
    if isinstance(w, str):
        if not w.strip():
            raise ArgumentError("weights", "weights must name a column, or give one number per row; got ''")
        return w
    try:
        arr = np.asarray(w, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError("weights", f"weights must be a column name or numbers, got {type(w).__name__}") from None
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ArgumentError("weights", "weights must be one finite, non-negative number per row")
    return tuple(float(v) for v in arr)


def _transient(rule):
    # the rules are applied where the rows are read (fitting/engine.prepare); a bad one is refused here, before any
    # fit, by the same parser
    from ..laws.transient import parse_rule

    parse_rule(rule)
    return rule if isinstance(rule, str) else float(rule)


def row_weights(runs, weights) -> np.ndarray:
    """One weight per row of `runs` (n,): a column's values, the given numbers, the table's `weight` column, or
    ones. The one check that weights fit the rows they weigh."""
    if isinstance(weights, str):
        if weights not in runs:
            raise ArgumentError("weights", f"weights={weights!r}: "
                                + runs.missing_message(weights, "Name a column of weights, or leave weights out"))
        w = np.asarray(runs[weights], dtype=float)
    elif weights is not None:
        w = np.asarray(weights, dtype=float)
    elif "weight" in runs:
        w = np.asarray(runs["weight"], dtype=float)
    else:
        w = np.ones(len(runs))
    if w.shape != (len(runs),) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ArgumentError("weights", f"weights must be one finite, non-negative number per row ({w.size} given "
                            f"for {len(runs)} rows of {runs.source})")
    if len(w) and not np.any(w > 0):
        raise ArgumentError("weights", f"weights are zero on every one of the {len(runs)} rows of {runs.source}: "
                            "nothing would be fitted. Give some rows a positive weight")
    return w


def weights_in_rows(runs, options: FitOptions):
    """(runs, options) with per-row weights moved into the table's `weight` column, so that they follow their rows
    into every subset a backtest or a comparison fits (the options then name the column)."""
    if options.weights is None:
        return runs, options
    w = row_weights(runs, options.weights)
    if isinstance(options.weights, str):
        return runs, options
    return runs.with_columns(weight=w), options.replace(weights="weight")


DEFAULT = FitOptions()  # made last: its checks use the helpers above
