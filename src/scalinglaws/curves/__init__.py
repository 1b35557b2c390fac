"""Training curves: schedule-aware laws, checkpoint-aware fitting and forecasts (docs/curves.md)."""

from .. import laws as _laws  # noqa: F401  (the law library registers the curve laws; load it first)
