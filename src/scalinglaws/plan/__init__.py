"""Planning with a fitted law: compute-optimal allocation and what follows from it."""

from .optimal import Allocation, compute_optimal

__all__ = ["Allocation", "compute_optimal"]
