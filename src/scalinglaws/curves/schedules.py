"""Learning-rate schedules by name and parameters: the learning rate at every optimizer step.

A `Schedule` is a family name plus numbers, e.g. `Schedule.parse("wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2")`,
and `schedule.lr(steps)` gives the learning rate in effect at each step. Every family starts with a linear warm-up
from 0 to `peak` over `warmup` steps (none when warmup=0), then:

  constant  stays at peak.
  cosine    half a cosine from peak down to `end` at step `total` (Loshchilov & Hutter 2017).
  linear    a straight line from peak down to `end` at `total`.
  wsd       warmup-stable-decay: peak until the last `decay` fraction of `total` steps (or from step
            `decay_start`), then down to `end` in the given `shape`: linear, exp (geometric), cosine or sqrt
            (1 - sqrt, Hägele et al. 2024). The Multi-Power Law runs' "wsd" is shape=exp (Luo et al. 2025).
  step      peak, multiplied by `factor` at each step listed in `at` (e.g. at=8000/16000): two-stage and
            multi-step schedules.

`end` defaults to a tenth of the peak, the common choice for cosine schedules (Hoffmann et al. 2022); give end=0
for decay to zero. Past `total` every family holds its last value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import ScalingLawsError

FAMILIES = ("constant", "cosine", "linear", "wsd", "step")
SHAPES = ("linear", "exp", "cosine", "sqrt")
# parameters each family accepts (beyond peak, warmup, total)
_EXTRA = {"constant": (), "cosine": ("end",), "linear": ("end",), "wsd": ("end", "decay", "decay_start", "shape"),
          "step": ("at", "factor")}
_EXAMPLE = "cosine:peak=3e-4,total=24000,warmup=2160,end=3e-5"


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule: `family` and its numbers. All step counts are optimizer steps."""

    family: str
    peak: float
    total: int
    warmup: int = 0
    end: float | None = None  # final lr of decaying families (default peak / 10)
    decay: float | None = None  # wsd: fraction of `total` spent decaying (default 0.2)
    decay_start: int | None = None  # wsd: the step the decay starts (instead of `decay`)
    shape: str = "linear"  # wsd: shape of the decay
    at: tuple[int, ...] = ()  # step: where the lr is multiplied by `factor`
    factor: float = 0.1

    def __post_init__(self) -> None:
        where = f"schedule '{self.family}'"
        if self.family not in FAMILIES:
            raise ScalingLawsError(f"unknown schedule family '{self.family}'. Choose one of: {', '.join(FAMILIES)} "
                                   f"(e.g. {_EXAMPLE})")
        if not (np.isfinite(self.peak) and self.peak > 0):
            raise ScalingLawsError(f"{where}: peak must be a positive learning rate (got {self.peak:g}), e.g. "
                                   "peak=3e-4")
        if self.total < 1:
            raise ScalingLawsError(f"{where}: total must be a positive number of steps (got {self.total})")
        if not 0 <= self.warmup < self.total:
            raise ScalingLawsError(f"{where}: warmup must be between 0 and total-1 steps (got {self.warmup} of "
                                   f"{self.total})")
        if self.end is not None and not 0 <= self.end <= self.peak:
            raise ScalingLawsError(f"{where}: end must lie between 0 and peak (got end={self.end:g}, "
                                   f"peak={self.peak:g})")
        if self.shape not in SHAPES:
            raise ScalingLawsError(f"{where}: shape must be one of {', '.join(SHAPES)} (got '{self.shape}')")
        if self.decay is not None and not 0 < self.decay <= 1:
            raise ScalingLawsError(f"{where}: decay is the fraction of steps spent decaying, in (0, 1] (got "
                                   f"{self.decay:g}), e.g. decay=0.2")
        if self.decay_start is not None and not self.warmup <= self.decay_start < self.total:
            raise ScalingLawsError(f"{where}: decay_start must lie between warmup ({self.warmup}) and total "
                                   f"({self.total}) (got {self.decay_start})")
        if self.family == "step" and not 0 < self.factor:
            raise ScalingLawsError(f"{where}: factor must be positive (got {self.factor:g}), e.g. factor=0.1")
        if any(not self.warmup < a <= self.total for a in self.at):
            raise ScalingLawsError(f"{where}: every 'at' step must lie after warm-up and within total (got "
                                   f"{'/'.join(map(str, self.at))})")

    # -- the learning rate -----------------------------------------------------------------------------------------
    @property
    def end_lr(self) -> float:
        return self.peak / 10 if self.end is None else float(self.end)

    @property
    def decay_from(self) -> int:
        """wsd: the first step of the decay."""
        if self.decay_start is not None:
            return int(self.decay_start)
        frac = 0.2 if self.decay is None else self.decay
        return int(round(self.total - frac * self.total)) if self.total - frac * self.total > self.warmup \
            else self.warmup

    def lr(self, steps=None) -> np.ndarray:
        """The learning rate at each of `steps` (default: every step 0..total)."""
        t = np.arange(self.total + 1, dtype=float) if steps is None else np.asarray(steps, dtype=float)
        out = np.full(t.shape, self.peak, dtype=float)
        end = self.end_lr
        if self.family in ("cosine", "linear"):
            u = np.clip((t - self.warmup) / max(self.total - self.warmup, 1), 0.0, 1.0)
            out = _decay(u, self.peak, end, "cosine" if self.family == "cosine" else "linear")
        elif self.family == "wsd":
            start = self.decay_from
            u = np.clip((t - start) / max(self.total - start, 1), 0.0, 1.0)
            out = _decay(u, self.peak, end, self.shape)
        elif self.family == "step":
            n_drops = np.zeros(t.shape)
            for a in self.at:
                n_drops += t >= a
            out = self.peak * self.factor ** n_drops
        if self.warmup > 0:
            out = np.where(t < self.warmup, self.peak * np.clip(t, 0, None) / self.warmup, out)
        return out

    def knots(self, n: int = 2000, start: int = 0) -> np.ndarray:
        """Steps from `start` to `total` at which the schedule, linearly interpolated, matches `lr` closely: n evenly
        spaced steps plus every breakpoint and the step before it (the warm-up's end, the decay's start, each
        drop), so that a step drop stays a drop."""
        base = np.rint(np.linspace(start, self.total, n + 1))
        br = [self.warmup] + ([self.decay_from] if self.family == "wsd" else []) + list(self.at)
        br = [b + d for b in br for d in (-1, 0)]
        out = np.unique(np.concatenate([base, np.asarray(br, dtype=float)]))
        return out[(out >= start) & (out <= self.total)]

    def rows(self, *, every: int = 1, run: str | None = None, start: int = 0) -> dict[str, np.ndarray]:
        """A curve's rows for this schedule, one per `every` steps from `start` through `total`: run, step, lr."""
        if every < 1:
            raise ScalingLawsError(f"--every must be a positive number of steps (got {every})")
        steps = np.arange(start, self.total + 1, every, dtype=float)
        if steps[-1] != self.total:
            steps = np.append(steps, float(self.total))
        return {"run": np.array([run or self.label()] * len(steps), dtype=object), "step": steps,
                "lr": self.lr(steps)}

    # -- text form -------------------------------------------------------------------------------------------------
    def label(self) -> str:
        return self.to_text()

    def to_dict(self) -> dict:
        d = {"family": self.family, "peak": self.peak, "total": self.total, "warmup": self.warmup}
        if self.family in ("cosine", "linear", "wsd"):
            d["end"] = self.end_lr
        if self.family == "wsd":
            d["decay_start"] = self.decay_from
            d["decay"] = round((self.total - self.decay_from) / self.total, 6)
            d["shape"] = self.shape
        if self.family == "step":
            d["at"] = list(self.at)
            d["factor"] = self.factor
        return d

    def to_text(self) -> str:
        d = self.to_dict()
        parts = []
        for k, v in d.items():
            if k in ("family", "decay"):
                continue
            if k == "at":
                v = "/".join(str(a) for a in v)
            elif isinstance(v, float):
                v = f"{v:g}"
            parts.append(f"{k}={v}")
        return f"{self.family}:" + ",".join(parts)

    @classmethod
    def parse(cls, text: str, **defaults) -> Schedule:
        """'wsd:peak=3e-4,total=24000,warmup=2160,decay=0.2,shape=exp' -> Schedule. `defaults` fill gaps."""
        if isinstance(text, Schedule):
            return text
        family, _, rest = str(text).strip().partition(":")
        family = family.strip().lower()
        if family not in FAMILIES:
            raise ScalingLawsError(f"schedule '{text}': unknown family '{family}'. Write FAMILY:KEY=VALUE,... with "
                                   f"FAMILY one of {', '.join(FAMILIES)}, e.g. {_EXAMPLE}")
        values: dict = dict(defaults)
        for item in filter(None, (s.strip() for s in rest.split(","))):
            key, sep, value = item.partition("=")
            key = key.strip()
            if not sep or not value.strip():
                raise ScalingLawsError(f"schedule '{text}': '{item}' is not KEY=VALUE, e.g. {_EXAMPLE}")
            allowed = ("peak", "total", "warmup") + _EXTRA[family]
            if key not in allowed:
                raise ScalingLawsError(f"schedule '{text}': family '{family}' has no parameter '{key}' (it takes "
                                       f"{', '.join(allowed)})")
            values[key] = value.strip()
        missing = [k for k in ("peak", "total") if k not in values]
        if missing:
            raise ScalingLawsError(f"schedule '{text}' needs {' and '.join(missing)}, e.g. {_EXAMPLE}")
        try:
            kw = {"peak": float(values["peak"]), "total": _int(values["total"]),
                  "warmup": _int(values.get("warmup", 0))}
            if "end" in values:
                kw["end"] = float(values["end"])
            if "decay" in values:
                kw["decay"] = float(values["decay"])
            if "decay_start" in values:
                kw["decay_start"] = _int(values["decay_start"])
            if "shape" in values:
                kw["shape"] = str(values["shape"]).lower()
            if "at" in values:
                at = values["at"]
                kw["at"] = tuple(sorted(_int(a) for a in (at.split("/") if isinstance(at, str) else at)))
            if "factor" in values:
                kw["factor"] = float(values["factor"])
        except ValueError as exc:
            raise ScalingLawsError(f"schedule '{text}': {exc}. Numbers look like 3e-4 or 24000") from None
        if family == "step" and not kw.get("at"):
            raise ScalingLawsError(f"schedule '{text}': a step schedule needs at=STEP (or at=STEP/STEP...), e.g. "
                                   "step:peak=3e-4,total=16000,at=8000,factor=0.1")
        return cls(family=family, **kw)


def _int(v) -> int:
    f = float(v)
    if not f.is_integer():
        raise ValueError(f"{v} is not a whole number of steps")
    return int(f)


def _decay(u: np.ndarray, peak: float, end: float, shape: str) -> np.ndarray:
    """From peak (u=0) to end (u=1) in the given shape; u in [0, 1]."""
    if shape == "linear":
        return peak + (end - peak) * u
    if shape == "cosine":
        return end + (peak - end) * 0.5 * (1 + np.cos(np.pi * u))
    if shape == "sqrt":
        return end + (peak - end) * (1 - np.sqrt(u))
    # exp: geometric interpolation; towards end=0 it would never arrive, so decay to 1e-3·peak then step to 0
    floor = max(end, 1e-3 * peak)
    out = peak * (floor / peak) ** u
    return np.where(u >= 1, end, out) if end < floor else out


def as_schedule(spec, **defaults) -> Schedule:
    """A Schedule from a Schedule, a text spec, or a mapping of its fields."""
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, Mapping):
        d = dict(spec)
        family = d.pop("family", None) or d.pop("name", None)
        if family is None:
            raise ScalingLawsError("a schedule mapping needs 'family' (e.g. {'family': 'cosine', 'peak': 3e-4, "
                                   "'total': 24000})")
        text = f"{family}:" + ",".join(f"{k}={'/'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                                       for k, v in d.items())
        return Schedule.parse(text, **defaults)
    return Schedule.parse(str(spec), **defaults)
