"""Algorithm 1 of seed 002: WMMSE alternating optimisation for power control and scheduling.

The sum-rate problem (29)/(34) of seed 002 over the box ``0 <= rho_k <= P_max,k`` depends on
the channel statistics only through the real triple ``(a, D, NO)`` of spec §4.3 (S7)-(S8)::

    SINR_k(rho) = rho_k a_k^2 / ((D rho)_k + NO_k)

Algorithm 1 rewrites it as the weighted sum-MSE problem (33)/(34) and updates three blocks in
closed form, all users at once (every iteration is two ``K x K`` mat-vecs, O(K^2)):

* ``v``     receive scalars, eq. (36) with ``delta`` of eq. (37);
* ``alpha`` MSE weights, eq. (38) with the MSE ``e`` of eq. (39);
* ``rho~``  square-root powers, eqs. (40)-(42): ``rho~_k = min(b_k / t_k, sqrt(P_max,k))`` with
  ``b_k = alpha_k v_k a_k`` and ``t_k = alpha_k v_k^2 a_k^2 + sum_j alpha_j v_j^2 D_jk`` (the
  TRANSPOSE of ``D``: user k's power enters every other user's ``delta_j`` with ``D_jk``; the
  printed (42) has ``gamma_mk'' beta_mk''`` where ``gamma_mk'' beta_mk`` is meant, spec E4).

The Lagrangian (35) carries SINR-constraint multipliers from another problem; they are dropped
(spec E9). The iteration stops by rule (43), written relatively: ``|SR_n - SR_{n-1}| <=
eps_rel * SR_n``, or after ``max_iter`` iterations.

Choices the paper leaves open (spec §5.3, §8, E8, E13), all policy parameters:

* **Start.** Cold start ``rho = P_max`` (full power, the paper's equal-power baseline, so the
  AO result is never below it). With ``warm_start=True`` the power in force last epoch
  (``obs.prev_power_w``) is the start: NaN (a new user) -> ``P_max``, and every entry is raised
  to at least ``warm_floor * P_max`` because a zero is absorbing (``rho~_k = 0 => v_k = 0 =>
  rho~_k = 0`` for ever), so a user descheduled last epoch can come back.
* **Tolerance.** ``eps_rel = 1e-4``, ``max_iter = 200``.
* **"rho_k > 0".** The multiplicative update never reaches exactly zero, so Corollary 1's
  scheduled set (44) is thresholded: ``Q* = {k : rho*_k > eps_s * P_max,k}`` with
  ``eps_s = 1e-3`` (30 dB below the budget). Unscheduled users get exactly 0 W.
* **Several starts** (``num_starts > 1``, not in the paper): the best of the full-power start
  and ``num_starts - 1`` random starts drawn from ``stream(obs.seed, "ao/starts",
  obs.epoch_index)``; spec §5.4 item 3.

Numerics: the solver runs in the well-conditioned form of spec §4.4 (``x = rho / P_max``,
``A~ = P_max a^2 / NO``, ``D~_kj = D_kj P_max,j / NO_k``), in which the WMMSE iterates are
exactly those of the raw form (the per-user scalings cancel in (36)-(42)).

The AO always optimises the paper's equal-weight CPU sum (S8). With ``cpu_combining="lsfd2"``
(a spec ablation, not in seed 002) the decision is still the (S8) optimum; the reported
``objective_bps`` is then the system's own (LSFD-2) sum rate of that decision.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from emulator.rng import stream

SYSTEM = "cellfree_uplink"


@dataclass(frozen=True)
class AOResult:
    """Outcome of :func:`ao_solve`.

    Attributes:
        power_w: the final powers ``rho*`` (before the scheduling threshold). Shapes: [K] float64.
        iterations: number of block-update sweeps done (0 when K = 0).
        converged: True when rule (43) stopped the loop before ``max_iter``.
        sum_se: final ``sum_k log2(1 + SINR_k)`` of (S8) [bit/s/Hz]; multiply by the pre-log
            ``B (1 - tau_p / tau_c)`` for bit/s.
        history_se: ``sum_k log2(1 + SINR_k)`` at the start and after every iteration, or None
            when not recorded. Shapes: [iterations + 1] float64.
    """

    power_w: np.ndarray
    iterations: int
    converged: bool
    sum_se: float
    history_se: np.ndarray | None = None


def sum_se(x: np.ndarray, A: np.ndarray, Dn: np.ndarray) -> float:
    """Sum spectral efficiency ``sum_k log2(1 + SINR_k)`` of (S8) in the normalised form of §4.4.

    Args:
        x: normalised powers ``rho / P_max``. Shapes: [K] float64.
        A: ``A~_k = P_max,k a_k^2 / NO_k``. Shapes: [K] float64.
        Dn: ``D~_kj = D_kj P_max,j / NO_k``. Shapes: [K, K] float64.

    Returns:
        The sum spectral efficiency [bit/s/Hz].
    """
    sinr = x * A / (Dn @ x + 1.0)  # eq. (21)/(S8) of 002, normalised by NO_k
    return float(np.sum(np.log2(1.0 + sinr)))


def wmmse_blocks(
    r: np.ndarray, a: np.ndarray, D: np.ndarray, NO: np.ndarray, r_max: np.ndarray
) -> dict[str, np.ndarray]:
    """One sweep of Algorithm 1's closed-form block updates, eqs. (36)-(42) of 002.

    Works for the raw triple (``r = sqrt(rho)``, ``r_max = sqrt(P_max)``) and for the normalised
    one (``a = sqrt(A~)``, ``D = D~``, ``NO = 1``, ``r_max = 1``) alike.

    Args:
        r: current square-root powers ``rho~^(n-1)``. Shapes: [K] float64, >= 0.
        a: useful-signal amplitudes ``a_k`` (S7). Shapes: [K] float64, > 0.
        D: interference + self-variance matrix (S8). Shapes: [K, K] float64, >= 0.
        NO: noise terms (S7). Shapes: [K] float64, > 0.
        r_max: box bound on ``r``. Shapes: [K] float64.

    Returns:
        Dict with ``v``, ``alpha``, ``e``, ``t``, ``b`` (the separable box QP of the ``rho~``
        block is ``min sum_k t_k r_k^2 - 2 b_k r_k`` on ``[0, r_max]``) and ``r_next``, its
        closed-form minimiser. Every entry: Shapes: [K] float64.
    """
    x = r * r
    delta = D @ x + NO  # eq. (37): interference + self variance + noise, at rho~^(n-1)
    v = r * a / (x * a * a + delta)  # eq. (36): MMSE receive scalar
    e = (r * v * a - 1.0) ** 2 + v * v * delta  # eq. (39)
    alpha = 1.0 / e  # eq. (38)
    w = alpha * v * v
    t = w * a * a + D.T @ w  # eq. (42), corrected: transpose of D (spec §5.3, E4)
    b = alpha * v * a  # numerator of eq. (41)
    r_bar = np.divide(b, t, out=np.zeros_like(b), where=t > 0)  # eq. (41); t = 0 only if v = 0
    r_next = np.minimum(r_bar, r_max)  # eq. (40) (complementary slackness, eq. (82))
    return {"v": v, "alpha": alpha, "e": e, "t": t, "b": b, "r_next": r_next}


def normalised_triple(
    a: np.ndarray, D: np.ndarray, NO: np.ndarray, max_power_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The well-conditioned ``(A~, D~)`` of spec §4.4 from the raw triple.

    Shapes: a, NO, max_power_w [K]; D [K, K]; returns A~ [K], D~ [K, K] (float64).
    """
    A = max_power_w * a * a / NO
    Dn = D * max_power_w[None, :] / NO[:, None]
    return A, Dn


def ao_solve(
    a: np.ndarray,
    D: np.ndarray,
    NO: np.ndarray,
    max_power_w: np.ndarray,
    rho0: np.ndarray | None = None,
    eps_rel: float = 1e-4,
    max_iter: int = 200,
    record_history: bool = False,
) -> AOResult:
    """Algorithm 1 of 002 on one statistics triple (pure function, no randomness).

    Args:
        a: useful-signal amplitudes of (S7). Shapes: [K] float64, > 0.
        D: interference matrix of (S8). Shapes: [K, K] float64, >= 0.
        NO: noise terms of (S7). Shapes: [K] float64, > 0.
        max_power_w: budgets ``P_max,k`` [W]. Shapes: [K] float64, > 0.
        rho0: start powers [W] in ``(0, P_max]``; None -> ``P_max`` (full power). A zero entry
            stays zero (it is absorbing). Shapes: [K] float64.
        eps_rel: relative tolerance of the stopping rule (43).
        max_iter: iteration cap.
        record_history: keep the sum spectral efficiency after every iteration (Fig. 7).

    Returns:
        :class:`AOResult` with the final powers in W.

    Raises:
        ValueError: on mismatched shapes, non-finite or out-of-range inputs.
    """
    a = np.asarray(a, dtype=np.float64)
    D = np.asarray(D, dtype=np.float64)
    NO = np.asarray(NO, dtype=np.float64)
    p_max = np.asarray(max_power_w, dtype=np.float64)
    K = a.shape[0]
    if a.ndim != 1 or D.shape != (K, K) or NO.shape != (K,) or p_max.shape != (K,):
        raise ValueError(
            f"expected a [K], D [K, K], NO [K], max_power_w [K]; got {a.shape}, {D.shape}, "
            f"{NO.shape}, {p_max.shape}"
        )
    if int(max_iter) < 1 or not eps_rel >= 0:
        raise ValueError(f"expected max_iter >= 1 and eps_rel >= 0, got {max_iter}, {eps_rel}")
    if K == 0:
        hist = np.zeros(1) if record_history else None
        return AOResult(np.zeros(0), 0, True, 0.0, hist)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(D)) and np.all(np.isfinite(NO))):
        raise ValueError("expected finite a, D, NO; got NaN/inf in the statistics")
    if np.any(NO <= 0) or np.any(p_max <= 0) or np.any(D < 0):
        raise ValueError("expected NO > 0, max_power_w > 0 and D >= 0")
    if rho0 is None:
        x = np.ones(K)
    else:
        rho0 = np.asarray(rho0, dtype=np.float64)
        if rho0.shape != (K,) or not np.all(np.isfinite(rho0)) or np.any(rho0 < 0):
            raise ValueError(f"expected rho0 [K={K}] finite and >= 0, got {rho0!r}")
        x = np.minimum(rho0 / p_max, 1.0)

    A, Dn = normalised_triple(a, D, NO, p_max)
    sa = np.sqrt(A)
    ones = np.ones(K)
    r = np.sqrt(x)
    se_prev = sum_se(x, A, Dn)
    history = [se_prev] if record_history else None
    converged = False
    n = 0
    while n < int(max_iter):
        n += 1
        r = wmmse_blocks(r, sa, Dn, ones, ones)["r_next"]
        se = sum_se(r * r, A, Dn)
        if history is not None:
            history.append(se)
        if abs(se - se_prev) <= eps_rel * abs(se):  # stopping rule (43), relative form
            converged = True
            break
        se_prev = se
    power_w = p_max * r * r
    hist_arr = np.asarray(history) if history is not None else None
    return AOResult(power_w, n, converged, sum_se(r * r, A, Dn), hist_arr)


def warm_start_power(
    prev_power_w: np.ndarray, max_power_w: np.ndarray, warm_floor: float
) -> np.ndarray:
    """Start point from last epoch's powers (spec E13): NaN -> P_max, clipped to the box, >= floor.

    Shapes: prev_power_w, max_power_w [K] float64 -> [K] float64 in ``[warm_floor P_max, P_max]``.
    """
    prev = np.asarray(prev_power_w, dtype=np.float64)
    p_max = np.asarray(max_power_w, dtype=np.float64)
    start = np.where(np.isfinite(prev), prev, p_max)
    return np.clip(start, warm_floor * p_max, p_max)


class AOPolicy:
    """Policy ``ao-v1``: Algorithm 1 of seed 002 on the ``cellfree_uplink`` system.

    Args:
        eps_rel: relative tolerance of stopping rule (43).
        max_iter: iteration cap.
        eps_s: scheduling threshold as a fraction of ``P_max`` (44); E8 of the spec.
        warm_start: start from ``obs.prev_power_w`` (NaN -> P_max) instead of full power.
        warm_floor: warm starts are raised to at least ``warm_floor * P_max`` (zero is absorbing).
        num_starts: 1 = the paper's single start; n > 1 adds n - 1 random starts (best kept).
    """

    id = "ao-v1"
    system = SYSTEM

    def __init__(
        self,
        eps_rel: float = 1e-4,
        max_iter: int = 200,
        eps_s: float = 1e-3,
        warm_start: bool = True,
        warm_floor: float = 0.05,
        num_starts: int = 1,
    ) -> None:
        checks = [
            ("eps_rel", eps_rel, isinstance(eps_rel, (int, float)) and 0 <= eps_rel < 1),
            ("max_iter", max_iter, isinstance(max_iter, int) and max_iter >= 1),
            ("eps_s", eps_s, isinstance(eps_s, (int, float)) and 0 <= eps_s < 1),
            ("warm_start", warm_start, isinstance(warm_start, bool)),
            (
                "warm_floor",
                warm_floor,
                isinstance(warm_floor, (int, float)) and 0 < warm_floor <= 1,
            ),
            ("num_starts", num_starts, isinstance(num_starts, int) and num_starts >= 1),
        ]
        for name, value, ok in checks:
            if not ok or isinstance(value, bool) != (name == "warm_start"):
                raise ValueError(
                    f"ao-v1 parameter {name}: got {value!r}; expected eps_rel in [0, 1), "
                    "max_iter int >= 1, eps_s in [0, 1), warm_start bool, warm_floor in (0, 1], "
                    "num_starts int >= 1"
                )
        self.eps_rel = float(eps_rel)
        self.max_iter = int(max_iter)
        self.eps_s = float(eps_s)
        self.warm_start = bool(warm_start)
        self.warm_floor = float(warm_floor)
        self.num_starts = int(num_starts)

    def _starts(self, obs: Any, p_max: np.ndarray) -> tuple[list[np.ndarray], bool]:
        prev = getattr(obs, "prev_power_w", None)
        warm = bool(
            self.warm_start
            and prev is not None
            and np.shape(prev) == p_max.shape
            and np.any(np.isfinite(prev))
        )
        first = warm_start_power(prev, p_max, self.warm_floor) if warm else p_max.copy()
        starts = [first]
        if self.num_starts > 1:
            rng = stream(int(obs.seed), "ao/starts", int(obs.epoch_index))
            for _ in range(self.num_starts - 1):
                starts.append(p_max * rng.uniform(self.warm_floor, 1.0, size=p_max.shape))
        return starts, warm

    def solve_statistics(self, stats: Any, starts: list[np.ndarray]) -> AOResult:
        """Run Algorithm 1 from every start on a ``Statistics`` triple and keep the best."""
        best: AOResult | None = None
        total_iter = 0
        for rho0 in starts:
            res = ao_solve(
                stats.a, stats.D, stats.NO, stats.max_power_w, rho0, self.eps_rel, self.max_iter
            )
            total_iter += res.iterations
            if best is None or res.sum_se > best.sum_se:
                best = res
        assert best is not None
        return AOResult(best.power_w, total_iter, best.converged, best.sum_se)

    def decide(self, obs: Any):
        """Decide powers and the scheduled set for ``obs`` (a ``cellfree_uplink`` Observation).

        Returns:
            The system's ``Decision``; diagnostics hold ``iterations``, ``converged``,
            ``objective_bps`` (system sum rate of the applied decision), ``objective_raw_bps``
            ((S8) sum rate of ``rho*`` before thresholding), ``num_scheduled``, ``warm_start``,
            ``stats_time_s``, ``iter_time_s`` and ``solve_time_s``.
        """
        from emulator.systems import cellfree_uplink as cf

        if len(obs.user_ids) == 0:  # nobody to serve this epoch
            empty = np.zeros(0)
            return cf.Decision(
                power_w=empty,
                scheduled=np.zeros(0, dtype=bool),
                user_ids=np.zeros(0, dtype=np.int64),
                diagnostics={"iterations": 0.0, "converged": 1.0, "objective_bps": 0.0},
            )
        t0 = time.perf_counter()
        stats = cf.statistics(obs)
        return self.decide_from_statistics(obs, stats, stats_time_s=time.perf_counter() - t0)

    def decide_from_statistics(self, obs: Any, stats: Any, stats_time_s: float = 0.0):
        """:meth:`decide` on an already built ``statistics(obs)`` (experiments share it)."""
        from emulator.systems import cellfree_uplink as cf

        t1 = time.perf_counter()
        p_max = np.asarray(stats.max_power_w, dtype=np.float64)
        starts, warm = self._starts(obs, p_max)
        res = self.solve_statistics(stats, starts)
        scheduled = res.power_w > self.eps_s * p_max  # eq. (44), thresholded (spec E8)
        power_w = np.where(scheduled, np.minimum(res.power_w, p_max), 0.0)
        t2 = time.perf_counter()
        objective_bps = float(stats.sum_rate_bps(power_w, scheduled)) if power_w.size else 0.0
        if not math.isfinite(objective_bps):
            raise FloatingPointError("ao-v1 produced a non-finite objective")
        diagnostics = {
            "iterations": float(res.iterations),
            "converged": float(res.converged),
            "objective_bps": objective_bps,
            "objective_raw_bps": float(stats.prelog_bps) * res.sum_se,
            "num_scheduled": float(np.count_nonzero(scheduled)),
            "warm_start": float(warm),
            "stats_time_s": float(stats_time_s),
            "iter_time_s": t2 - t1,
            "solve_time_s": float(stats_time_s) + (t2 - t1),
        }
        return cf.Decision(
            power_w=power_w,
            scheduled=scheduled,
            user_ids=np.asarray(obs.user_ids, dtype=np.int64).copy(),
            diagnostics=diagnostics,
        )
