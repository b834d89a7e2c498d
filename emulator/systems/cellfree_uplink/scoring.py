"""Score a decision on the true state: closed form (default) or Monte Carlo (spec §4.4-§4.5)."""

from __future__ import annotations

import numpy as np

from emulator import units
from emulator.systems.base import KPIs
from emulator.systems.cellfree_uplink.decision import align
from emulator.systems.cellfree_uplink.montecarlo import mc_statistics
from emulator.systems.cellfree_uplink.statistics import statistics

METHODS = ("closed_form", "monte_carlo")


def score(
    decision, truth, method: str = "closed_form", num_draws: int = 2000, seed: int = 0, counter=0
) -> KPIs:
    """What ``decision`` achieves on the true observation ``truth``.

    The decision is aligned to ``truth.user_ids`` first (users that left are dropped, new
    users are silent and unscheduled); unscheduled users transmit 0 W and get rate 0.

    Args:
        decision: a validated :class:`Decision`.
        truth: the true observation of the interval being scored.
        method: "closed_form" ((S8) of the spec) or "monte_carlo" (spec §4.5 with
            ``num_draws`` realisations from ``stream(seed, "cellfree/mc", counter)``).

    Returns:
        :class:`KPIs`; ``extra`` holds ``scheduled_count``, ``min_rate_bps`` (over scheduled
        users; 0 if none), ``mean_sinr_db`` (scheduled users) and ``prelog_bps``.
    """
    if method not in METHODS:
        raise ValueError(f"score method: expected one of {list(METHODS)}, got {method!r}")
    if not np.array_equal(np.asarray(decision.user_ids), truth.user_ids):
        decision = align(decision, truth.user_ids)
    if method == "closed_form":
        stats = statistics(truth)
    else:
        stats = mc_statistics(truth, num_draws=num_draws, seed=seed, counter=counter)
    sched = np.asarray(decision.scheduled, dtype=bool)
    power = np.where(sched, np.asarray(decision.power_w, dtype=float), 0.0)
    sinr = stats.sinr(power, sched)
    rates = stats.prelog_bps * np.log2(1.0 + sinr)
    served = sched & (power > 0)
    mean_sinr_db = float(units.linear_to_db(np.mean(sinr[served]))) if served.any() else 0.0
    extra = {
        "scheduled_count": float(sched.sum()),
        "min_rate_bps": float(rates[sched].min()) if sched.any() else 0.0,
        "mean_sinr_db": mean_sinr_db,
        "prelog_bps": float(stats.prelog_bps),
    }
    return KPIs(
        user_ids=np.asarray(truth.user_ids, dtype=np.int64),
        rate_bps=rates,
        scheduled=sched,
        power_w=power,
        sum_rate_bps=float(rates.sum()),
        extra=extra,
    )
