"""Policy ``sca-dc-v1``: SCA over a difference of concave functions (spec §5.4). NOT IN SEED 002.

A cross-check of the quality of Algorithm 1's stationary point (``ao-v1``) with a different
method on the same problem (34) of seed 002. With ``D^ = D + diag(a^2)``, the per-user rate is a
difference of concave functions of the powers::

    ln(1 + SINR_k) = ln((D^ rho)_k + NO_k) - ln((D rho)_k + NO_k)          # (S8) of the spec

and each step maximises the first term minus the linearisation of the second at ``rho^(i)``
(a minorise-maximise step, so the sum rate never decreases)::

    max_{0 <= x <= 1}  sum_k log((D~^ x)_k + 1) - c @ x,
    c_j = sum_k D~_kj / ((D~ x^(i))_k + 1)

in the well-conditioned units of spec §4.4 (``x = rho / P_max``, rows divided by ``NO_k``). The
CVXPY problem is DPP: it is built once per number of users with Parameters ``D~^`` and ``c`` and
re-solved (CLARABEL, exponential cone). Every iterate is re-checked in numpy: it is clipped to the
box and kept only if the numpy sum rate did not drop (solver round-off). It stops at a relative
change of the sum rate below ``eps_rel`` (1e-5) or after ``max_iter`` (50) steps; the start is
full power, like ``ao-v1``, and the scheduled set uses the same threshold ``eps_s``.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from policies.ao import normalised_triple, sum_se


class SCADCPolicy:
    """SCA-DC power control + thresholded scheduling (spec §5.4; not in seed 002).

    Args:
        eps_rel: relative sum-rate change that stops the iteration.
        max_iter: iteration cap.
        eps_s: scheduling threshold as a fraction of ``P_max`` (as ``ao-v1``).
        solver: CVXPY solver name for the exponential-cone steps.
    """

    id = "sca-dc-v1"
    system = "cellfree_uplink"

    def __init__(
        self,
        eps_rel: float = 1e-5,
        max_iter: int = 50,
        eps_s: float = 1e-3,
        solver: str = "CLARABEL",
    ) -> None:
        ok = (
            isinstance(eps_rel, (int, float))
            and not isinstance(eps_rel, bool)
            and 0 <= eps_rel < 1
            and isinstance(max_iter, int)
            and not isinstance(max_iter, bool)
            and max_iter >= 1
            and isinstance(eps_s, (int, float))
            and not isinstance(eps_s, bool)
            and 0 <= eps_s < 1
            and solver in ("CLARABEL", "SCS")
        )
        if not ok:
            raise ValueError(
                f"sca-dc-v1 parameters: expected eps_rel in [0, 1), max_iter int >= 1, eps_s in "
                f"[0, 1), solver 'CLARABEL' or 'SCS'; got {eps_rel!r}, {max_iter!r}, {eps_s!r}, "
                f"{solver!r}"
            )
        self.eps_rel = float(eps_rel)
        self.max_iter = int(max_iter)
        self.eps_s = float(eps_s)
        self.solver = solver
        self._problems: dict[int, tuple[Any, Any, Any, Any]] = {}

    def _problem(self, K: int):
        """The DPP problem for K users (built once, then only its Parameters change)."""
        if K not in self._problems:
            import cvxpy as cp

            x = cp.Variable(K)
            dhat = cp.Parameter((K, K), nonneg=True)
            c = cp.Parameter(K, nonneg=True)
            objective = cp.Maximize(cp.sum(cp.log(dhat @ x + 1.0)) - c @ x)
            prob = cp.Problem(objective, [x >= 0, x <= 1])
            # one throw-away solve: CVXPY canonicalises on the first call and takes a cached,
            # numerically different path afterwards; this makes every real solve take the
            # cached path, so equal observations give bitwise-equal decisions
            dhat.value = np.eye(K)
            c.value = np.full(K, 0.5)
            prob.solve(solver=getattr(cp, self.solver))
            self._problems[K] = (prob, x, dhat, c)
        return self._problems[K]

    def solve_normalised(self, A: np.ndarray, Dn: np.ndarray) -> tuple[np.ndarray, int, bool, list]:
        """SCA-DC on ``(A~, D~)``; returns ``(x, iterations, converged, history of sum SE)``.

        Shapes: A [K], Dn [K, K] float64 -> x [K] in [0, 1].
        """
        import cvxpy as cp

        K = A.shape[0]
        prob, xv, dhat, c = self._problem(K)
        dhat.value = Dn + np.diag(A)  # D~^ = D~ + diag(A~): the "signal + interference" term
        x = np.ones(K)
        se = sum_se(x, A, Dn)
        history = [se]
        converged = False
        n = 0
        while n < self.max_iter:
            n += 1
            c.value = Dn.T @ (1.0 / (Dn @ x + 1.0))  # gradient of the subtracted concave term
            try:
                with warnings.catch_warnings():  # "inaccurate": the numpy re-check decides
                    warnings.simplefilter("ignore", UserWarning)
                    prob.solve(solver=getattr(cp, self.solver))
            except cp.error.SolverError as exc:
                raise FloatingPointError(f"sca-dc-v1: solver {self.solver} failed: {exc}") from exc
            if xv.value is None:
                raise FloatingPointError(f"sca-dc-v1: solver status {prob.status}")
            x_new = np.clip(np.asarray(xv.value, dtype=float), 0.0, 1.0)
            se_new = sum_se(x_new, A, Dn)
            if se_new < se:  # numpy re-check: keep the better point (solver round-off)
                converged = True
                break
            change = se_new - se
            x, se = x_new, se_new
            history.append(se)
            if change <= self.eps_rel * se:
                converged = True
                break
        return x, n, converged, history

    def decide(self, obs: Any):
        """Powers and scheduled set for a ``cellfree_uplink`` observation."""
        from emulator.systems import cellfree_uplink as cf

        K = len(obs.user_ids)
        if K == 0:
            return cf.Decision(
                np.zeros(0),
                np.zeros(0, dtype=bool),
                np.zeros(0, dtype=np.int64),
                {"iterations": 0.0, "converged": 1.0, "objective_bps": 0.0},
            )
        t0 = time.perf_counter()
        st = cf.statistics(obs)
        t1 = time.perf_counter()
        p_max = np.asarray(st.max_power_w, dtype=float)
        A, Dn = normalised_triple(st.a, st.D, st.NO, p_max)
        x, iters, converged, _ = self.solve_normalised(A, Dn)
        t2 = time.perf_counter()
        rho = p_max * x
        scheduled = rho > self.eps_s * p_max
        power_w = np.where(scheduled, rho, 0.0)
        return cf.Decision(
            power_w=power_w,
            scheduled=scheduled,
            user_ids=np.asarray(obs.user_ids, dtype=np.int64).copy(),
            diagnostics={
                "iterations": float(iters),
                "converged": float(converged),
                "objective_bps": float(st.sum_rate_bps(power_w, scheduled)),
                "objective_raw_bps": float(st.prelog_bps) * sum_se(x, A, Dn),
                "num_scheduled": float(np.count_nonzero(scheduled)),
                "stats_time_s": t1 - t0,
                "iter_time_s": t2 - t1,
                "solve_time_s": t2 - t0,
            },
        )
