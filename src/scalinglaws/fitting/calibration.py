"""How much a prediction interval must widen for the error no resampling sees: the law's own misspecification.

A bootstrap over the fitted runs and their residuals knows how well the law is pinned down by those runs and how
much runs scatter around it. It cannot know how wrong the law's form is beyond them, and that error grows with the
distance of the forecast: on held-out larger runs the plain intervals of 0.1 held 54-80% of what they claimed.

A Calibration is that missing term, learned from rolling backtests across many ladders (decide/calibrate.py):
in the residual space, the forecast error gains τ·ε, with

    τ = τ0 + τs · s + τ1 · ln f,

f ≥ 1 the extrapolation factor (fitting/data.extrapolation), s the robust scale of the fit's own residuals
(interval.robust_scale), and ε standard normal or Student-t with `df` degrees of freedom (heavier tails when ladders
disagree). τ0 is a floor of misfit every law carries, τs the share of misfit that grows with how badly the law
already fits its own runs (a law that misses its training runs by 4% misses unseen ones by more than one that misses
by 0.4%: the scale of error transfers between ladders where a fixed width does not), and τ1 the growth of model
error with each e-fold of extrapolation. The package ships one learned
from its bundled ladders (`default.json` here, rebuilt by tools/build_calibration.py), applied by default to every
prediction interval; `calibration="none"` (--calibration none) turns it off, a path uses another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ScalingLawsError
from ..records import format_of

FORMAT = format_of("calibration")
DEFAULT_PATH = Path(__file__).with_name("default_calibration.json")


@dataclass(frozen=True)
class Calibration:
    tau0: float  # model-error scale inside the fitted range, in the residual space
    tau1: float  # its growth per e-fold of extrapolation
    df: float | None  # Student-t degrees of freedom of ε (None: normal)
    tau_noise: float = 0.0  # model-error scale per unit of the fit's residual scale
    space: str = "log"  # the residual space it was learned in, and applies to
    source: tuple[str, ...] = ()  # the ladders it was learned from
    scores: Mapping = field(default_factory=dict)  # what the learning measured (coverage, interval score)
    origin: str = "learned"  # where this record came from: a file's name, or "default"

    def scale(self, f, noise=0.0) -> np.ndarray:
        """τ at extrapolation factors f, for fits whose residuals have robust scale `noise` (one, or one per f)."""
        f = np.maximum(np.asarray(f, dtype=float), 1.0)
        return self.tau0 + self.tau_noise * np.asarray(noise, dtype=float) + self.tau1 * np.log(f)

    def applies_to(self, space: str) -> bool:
        return space == self.space

    def describe(self, tau: np.ndarray) -> dict:
        tau = np.asarray(tau, dtype=float)
        return {"source": f"calibration {self.origin}, learned from backtests on held-out larger runs of "
                          f"{len(self.source)} ladders",
                "ladders": list(self.source), "tau0": self.tau0, "tau_noise": self.tau_noise, "tau1": self.tau1,
                "df": self.df, "tau": [float(tau.min()), float(tau.max())] if tau.size else []}

    def to_dict(self) -> dict:
        return {"format": FORMAT, "tau0": self.tau0, "tau_noise": self.tau_noise, "tau1": self.tau1, "df": self.df,
                "space": self.space,
                "source": list(self.source), "scores": json.loads(json.dumps(dict(self.scores)))}

    @classmethod
    def from_dict(cls, d: Mapping, origin: str = "learned") -> Calibration:
        if not isinstance(d, Mapping) or d.get("format") != FORMAT:
            raise ScalingLawsError(f"{origin} is not a scalinglaws calibration (its format is not {FORMAT}). "
                                   "Write one with `scalinglaws calibrate DATA... -o calibration.json`")
        try:
            tau0, tau1, tau_noise = float(d["tau0"]), float(d["tau1"]), float(d.get("tau_noise", 0.0))
            df = None if d.get("df") is None else float(d["df"])
        except (KeyError, TypeError, ValueError):
            raise ScalingLawsError(f"{origin} lacks a numeric tau0, tau1 or df: it was edited or cut short. "
                                   "Learn it again with `scalinglaws calibrate`") from None
        taus = np.array([tau0, tau1, tau_noise])
        if not (np.all(np.isfinite(taus)) and np.all(taus >= 0)) or (df is not None and df <= 0):
            raise ScalingLawsError(f"{origin}: tau0, tau_noise and tau1 must be finite and non-negative, df positive")
        return cls(tau0=tau0, tau1=tau1, df=df, tau_noise=tau_noise, space=str(d.get("space", "log")),
                   source=tuple(str(s) for s in d.get("source", ())), scores=dict(d.get("scores", {})),
                   origin=origin)

    @classmethod
    def load(cls, path) -> Calibration:
        """A saved calibration file (`scalinglaws calibrate -o`), checked as `resolve` checks it."""
        return _read(str(path))

    def save(self, path) -> Path:
        from ..files import write_atomic

        return write_atomic(path, json.dumps(self.to_dict(), indent=1) + "\n")


@lru_cache(maxsize=8)
def _read(path: str) -> Calibration:
    p = Path(path)
    if not p.is_file():
        raise ScalingLawsError(f"calibration file not found: {path}. Write one with `scalinglaws calibrate DATA... "
                               "-o calibration.json`, or pass calibration='none'")
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ScalingLawsError(f"{p.name} is not a calibration file (not valid JSON)") from None
    return Calibration.from_dict(d, origin="default" if p == DEFAULT_PATH else p.name)


def resolve(calibration="default") -> Calibration | None:
    """The calibration to apply: "default" (the shipped one), "none"/None (no model term), a path, or a record."""
    if isinstance(calibration, Calibration):
        return calibration
    if calibration is None or (isinstance(calibration, str) and calibration.lower() == "none"):
        return None
    if isinstance(calibration, str) and calibration == "default":
        if not DEFAULT_PATH.exists():
            return None
        return _read(str(DEFAULT_PATH))
    return _read(str(calibration))
