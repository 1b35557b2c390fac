"""Fit objectives on residuals r = g(prediction) - g(observed) in a residual space (space.py): log by default
(g = log, relative errors), linear (absolute errors, for targets that can be zero or negative) or logit (rates in
(0, 1)). δ is in the units of the space: a relative error in log space, the target's own units in linear space.

huber      Σ w·ρ_δ(r), ρ_δ quadratic within δ and linear beyond (Hoffmann 2022; Besiroglu 2024 use δ = 1e-3):
           robust to the odd bad run, and the standard for loss fits.
l2         Σ w·r²: ordinary least squares in the residual space.
asymmetric Huber, with over-predictions (r > 0) weighted `asymmetry` times: small runs that were under-tuned sit
           above the true frontier, so a fit should lean below them rather than through them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ArgumentError
from . import space as spaces

KINDS = ("huber", "l2", "asymmetric")


@dataclass(frozen=True)
class Objective:
    kind: str = "huber"
    delta: float = 1e-3
    asymmetry: float = 4.0
    space: str = spaces.DEFAULT  # where residuals are measured: "log", "linear" or "logit"

    def __post_init__(self) -> None:
        spaces.check(self.space)
        if self.kind not in KINDS:
            raise ArgumentError("loss", f"unknown loss {self.kind!r}. Choose one of: {', '.join(KINDS)}")
        if not (_number(self.delta) and self.delta > 0):
            raise ArgumentError("delta", f"delta must be a positive number (got {self.delta!r})")
        if not (_number(self.asymmetry) and self.asymmetry >= 1):
            raise ArgumentError("asymmetry", f"asymmetry must be a number of at least 1 (got {self.asymmetry!r})")
        object.__setattr__(self, "delta", float(self.delta))
        object.__setattr__(self, "asymmetry", float(self.asymmetry))

    def rho(self, r: np.ndarray) -> np.ndarray:
        if self.kind == "l2":
            return r * r
        a = np.abs(r)
        c = np.minimum(a, self.delta)  # c·(a - c/2) is r²/2 within δ and δ·(|r| - δ/2) beyond it
        out = c * (a - 0.5 * c)
        if self.kind == "asymmetric":
            out = np.where(r > 0, self.asymmetry * out, out)
        return out

    def rho_psi(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ρ(r) and ρ'(r) together, sharing the work: for Huber ψ = clip(r, ±δ) and ρ = ψ·(r - ψ/2)."""
        if self.kind == "l2":
            return r * r, 2.0 * r
        psi = np.clip(r, -self.delta, self.delta)
        rho = psi * (r - 0.5 * psi)
        if self.kind == "asymmetric":
            over = r > 0
            rho = np.where(over, self.asymmetry * rho, rho)
            psi = np.where(over, self.asymmetry * psi, psi)
        return rho, psi

    def psi(self, r: np.ndarray) -> np.ndarray:
        """dρ/dr."""
        if self.kind == "l2":
            return 2.0 * r
        out = np.clip(r, -self.delta, self.delta)
        if self.kind == "asymmetric":
            out = np.where(r > 0, self.asymmetry * out, out)
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.kind == "l2":
            d.pop("delta")
        if self.kind != "asymmetric":
            d.pop("asymmetry")
        if self.space == spaces.DEFAULT:  # log fits say nothing, so their files and checksums stay as they were
            d.pop("space")
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Objective:
        return cls(**d)


def _number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and bool(np.isfinite(v))
