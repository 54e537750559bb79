"""
The learning-rate schedule, as src/train/schedule.ts (the paper's Appendix): `warmupLr` for the first `warmupIters`
iterations, then `lr`, divided by 10 at each milestone. A rate set by hand from iteration i on (an lrChange) scales
the rest of the schedule so that it gives that rate at i; later milestones still divide it.
"""

from __future__ import annotations

from typing import Mapping, Sequence, Tuple


def scheduled_lr(config: Mapping, it: int) -> float:
    """The scheduled learning rate of iteration `it` (0-based)."""
    if it < config["warmupIters"]:
        return config["warmupLr"]
    drops = sum(1 for m in config["milestones"] if it >= m)
    return config["lr"] / 10**drops


def lr_at(config: Mapping, it: int, changes: Sequence[Tuple[int, float]] = ()) -> float:
    """The rate actually used at `it`, given hand changes (iter, lr) so far; the latest one at or before `it` wins."""
    latest = None
    for change in changes:
        if change[0] <= it:
            latest = change
    base = scheduled_lr(config, it)
    if latest is None:
        return base
    at, lr = latest
    return lr * base / scheduled_lr(config, at)
