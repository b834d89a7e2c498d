"""The decision a cell-free uplink policy returns: user schedule and per-user power (seed 002).

Paper constraints (problem (29)/(34) of 002): 0 <= rho_k <= P_max,k for every user; the
scheduled set Q is the set of users that transmit data; an unscheduled user's power is
forced to 0 when the decision is applied (all users still send pilots, spec §3.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from emulator.systems.base import InvalidDecision

#: Relative slack on the power budget (round-off of solvers working in normalised units).
POWER_RTOL = 1e-9


@dataclass(frozen=True, eq=False)
class Decision:
    """Scheduling and power control for one epoch.

    Attributes:
        power_w: data power rho_k [W], in [0, max_power_w]. Shapes: [K] float64.
        scheduled: Q as a mask; unscheduled users get power 0 when applied. Shapes: [K] bool.
        user_ids: the users, in the observation's order. Shapes: [K] int64.
        diagnostics: scalar diagnostics (iterations, objective, converged, solve_time_s, ...).
    """

    power_w: np.ndarray
    scheduled: np.ndarray
    user_ids: np.ndarray
    diagnostics: Mapping[str, float] = field(default_factory=dict)

    def applied_power_w(self) -> np.ndarray:
        """Power actually transmitted: ``power_w`` where scheduled, else 0. Shapes: [K]."""
        return np.where(np.asarray(self.scheduled, dtype=bool), self.power_w, 0.0)


def _fail(msg: str) -> None:
    raise InvalidDecision(msg)


def validate(decision, obs) -> None:
    """Check a decision against an observation; never returns a modified decision.

    Raises:
        InvalidDecision: naming the field, the bound and the offending value, when a field is
            missing or has the wrong type / shape / dtype, a value is not finite, a power is
            outside [0, max_power_w], or the user ids differ from the observation's.
    """
    k = obs.num_users
    for name in ("power_w", "scheduled", "user_ids"):
        if not hasattr(decision, name):
            _fail(f"decision.{name}: missing; expected a [K={k}] array")
    power = np.asarray(decision.power_w)
    sched = np.asarray(decision.scheduled)
    ids = np.asarray(decision.user_ids)
    for name, arr in (("power_w", power), ("scheduled", sched), ("user_ids", ids)):
        if arr.shape != (k,):
            _fail(f"decision.{name}: expected shape ({k},) (one entry per user), got {arr.shape}")
    if sched.dtype != np.bool_:
        _fail(f"decision.scheduled: expected dtype bool, got {sched.dtype}")
    if not np.issubdtype(ids.dtype, np.integer):
        _fail(f"decision.user_ids: expected an integer dtype, got {ids.dtype}")
    if not np.array_equal(ids, obs.user_ids):
        bad = int(np.flatnonzero(ids != obs.user_ids)[0])
        _fail(
            f"decision.user_ids[{bad}] = {ids[bad]}: expected the observation's user ids in "
            f"order (obs.user_ids[{bad}] = {obs.user_ids[bad]}); use align()"
        )
    if not (np.issubdtype(power.dtype, np.floating) or np.issubdtype(power.dtype, np.integer)):
        _fail(f"decision.power_w: expected a real float dtype [W], got {power.dtype}")
    power = power.astype(float)
    finite = np.isfinite(power)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        _fail(f"decision.power_w[{bad}] = {power[bad]}: expected a finite power in W")
    if (power < 0).any():
        bad = int(np.flatnonzero(power < 0)[0])
        _fail(f"decision.power_w[{bad}] = {power[bad]:.6g} W: below the bound 0 W")
    limit = obs.max_power_w * (1.0 + POWER_RTOL)
    if (power > limit).any():
        bad = int(np.flatnonzero(power > limit)[0])
        _fail(
            f"decision.power_w[{bad}] = {power[bad]:.6g} W: exceeds the bound "
            f"max_power_w[{bad}] = {obs.max_power_w[bad]:.6g} W"
        )
    diag = getattr(decision, "diagnostics", {})
    if not isinstance(diag, Mapping):
        _fail(f"decision.diagnostics: expected a mapping of name -> float, got {type(diag)}")


def align(decision: Decision, user_ids) -> Decision:
    """Re-index a decision to another user set (users that arrived or left since).

    Users of ``user_ids`` unknown to the decision get 0 W and are unscheduled.

    Shapes: ``user_ids`` [K'] int64 -> a decision over [K'].
    """
    ids = np.asarray(user_ids, dtype=np.int64)
    src = np.asarray(decision.user_ids, dtype=np.int64)
    if src.shape == ids.shape and np.array_equal(src, ids):  # same users: nothing to re-index
        return Decision(
            power_w=np.asarray(decision.power_w, dtype=float),
            scheduled=np.asarray(decision.scheduled, dtype=bool),
            user_ids=ids,
            diagnostics=dict(decision.diagnostics),
        )
    order = np.argsort(src, kind="stable")
    pos = np.searchsorted(src[order], ids)
    pos = np.clip(pos, 0, max(len(src) - 1, 0))
    if len(src):
        hit = src[order][pos] == ids
        idx = order[pos]
    else:
        hit = np.zeros(len(ids), dtype=bool)
        idx = np.zeros(len(ids), dtype=np.int64)
    power = np.where(hit, np.asarray(decision.power_w, dtype=float)[idx] if len(src) else 0.0, 0.0)
    sched = hit & (np.asarray(decision.scheduled, dtype=bool)[idx] if len(src) else hit)
    return Decision(
        power_w=power, scheduled=sched, user_ids=ids, diagnostics=dict(decision.diagnostics)
    )
