"""Closed-form UatF statistics of seed 002 (Theorem 1, corrected: spec §4.3-§4.4, (S5)-(S8)).

Everything a policy or the scorer needs is the real triple (a, D, NO) per large-scale epoch:

    SINR_k(rho) = rho_k a_k^2 / (sum_{j in Q} D_kj rho_j + NO_k)                 (S8)

with, per ordered pair (k, j), the mean mu_kj = E z_kj (S5) and variance nu_kj = Var z_kj (S6)
of the effective channel z_kj = ghat_k^H g_j + sum_m ghat_mk^* g_mj (17):
a_k = mu_kk, D_kj = (1 - [j == k]) |mu_kj|^2 + nu_kj, NO_k as (S7).

Errata of the printed Theorem 1 fixed here (spec §10, E3/E5), each next to its term below:
(23) prints tr(R_j Phi_k R_j) (correct: tr(R_j Phi_k R_k)), gbar_k^H R_j Phi_k gbar_j (correct:
gbar_k^H R_j gbar_k) and tr(R_j R_k Phi_k R_j) (correct: tr(R_j Psi_k) = p tau_p
tr(R_j R_k Phi_k R_k)); (25) drops rho_k from its numerator; (27) repeats the (23) typos.

All quantities are normalised by the AP noise power (spec §2.4): beta/s2a, R/s2a, gbar/sqrt(s2a),
s2s/s2a, s2a = 1; every SINR is invariant under this scaling (property P2). Powers stay in W.

Branches: the satellite ("s") and AP ("g") parts of z are independent, so the statistics are
stored per branch; the architectures of spec §4.3's table are branch masks, and the CPU
combining is either the paper's unit-weight sum ("equal", (16)) or the optimal two-branch
weighting ("lsfd2", spec §7; not in seed 002).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from emulator.radio.mmse import ap_mmse, sat_mmse


@dataclass(frozen=True, eq=False)
class Statistics:
    """UatF statistics of one epoch, normalised by the AP noise power.

    The general form also holds Monte-Carlo estimates: per branch b in {s, g}, the means
    ``mean_b[k, j]`` = E z^b_kj, variances ``var_b[k, j]`` = Var z^b_kj, the cross-covariance
    ``cov_sg[k, j]`` = Cov(z^s_kj, z^g_kj) (None = independent branches, as in closed form) and
    the combined-noise terms ``noise_b[k]`` = E|u_k^H w|^2 (resp. sum_m E|u_mk^* w_m|^2).

    Attributes:
        a: |E z_kk|, the coherent gain of (S7) (equal combining). Shapes: [K] float64.
        D: interference + self-variance matrix of (S8). Shapes: [K, K] float64.
        NO: noise term (S7). Shapes: [K] float64.
        prelog_bps: B (1 - tau_p / tau_c) [bit/s per bit/s/Hz].
        max_power_w: budgets P_max,k [W]. Shapes: [K] float64.
        cpu_combining: "equal" or "lsfd2".
        mean_s, mean_g: branch means. Shapes: [K, K] complex128.
        var_s, var_g: branch variances. Shapes: [K, K] float64.
        cov_sg: branch cross-covariance or None. Shapes: [K, K] complex128.
        noise_s, noise_g: branch noise terms. Shapes: [K] float64.
    """

    a: np.ndarray
    D: np.ndarray
    NO: np.ndarray
    prelog_bps: float
    max_power_w: np.ndarray
    cpu_combining: str
    mean_s: np.ndarray
    mean_g: np.ndarray
    var_s: np.ndarray
    var_g: np.ndarray
    cov_sg: np.ndarray | None
    noise_s: np.ndarray
    noise_g: np.ndarray

    @property
    def num_users(self) -> int:
        """K."""
        return int(self.a.shape[0])

    def _effective_power(self, power_w, scheduled) -> np.ndarray:
        rho = np.asarray(power_w, dtype=float)
        if rho.shape != self.a.shape:
            raise ValueError(f"power_w: expected shape {self.a.shape}, got {rho.shape}")
        if scheduled is None:
            return rho
        q = np.asarray(scheduled, dtype=bool)
        if q.shape != self.a.shape:
            raise ValueError(f"scheduled: expected shape {self.a.shape}, got {q.shape}")
        return np.where(q, rho, 0.0)

    def sinr(self, power_w, scheduled=None) -> np.ndarray:
        """Per-user UatF SINR; unscheduled users (and zero power) get 0.

        Args:
            power_w: rho [W]. Shapes: [K] float64.
            scheduled: Q as a mask (None = all). Shapes: [K] bool.

        Returns:
            Shapes: [K] float64.
        """
        rho = self._effective_power(power_w, scheduled)
        if self.cpu_combining == "lsfd2":
            return self._sinr_lsfd2(rho)
        return rho * self.a**2 / (self.D @ rho + self.NO)  # (S8)

    def _sinr_lsfd2(self, rho: np.ndarray) -> np.ndarray:
        # spec §7 LSFD-2 ablation: SINR_k = rho_k b_k^H C_k^{-1} b_k, b_k = [mu^s_kk, mu^g_kk],
        # C_k = sum_j rho_j (m_kj m_kj^H + V_kj) + diag(NO^s_k, NO^g_k) - rho_k b_k b_k^H.
        # The j = k mean term is removed analytically (no cancellation).
        off = ~np.eye(self.num_users, dtype=bool)
        ms, mg = self.mean_s * off, self.mean_g * off
        c11 = (np.abs(ms) ** 2 + self.var_s) @ rho + self.noise_s
        c22 = (np.abs(mg) ** 2 + self.var_g) @ rho + self.noise_g
        cross = ms * mg.conj()
        if self.cov_sg is not None:
            cross = cross + self.cov_sg
        c12 = cross @ rho
        b1 = np.diagonal(self.mean_s).copy()
        b2 = np.diagonal(self.mean_g).copy()
        # Jacobi scaling; a dead branch (C_ii = 0, hence b_i = 0) is dropped
        s1, s2 = np.sqrt(np.maximum(c11, 0.0)), np.sqrt(np.maximum(c22, 0.0))
        live1, live2 = s1 > 0, s2 > 0
        s1s, s2s = np.where(live1, s1, 1.0), np.where(live2, s2, 1.0)
        b1n = np.where(live1, b1 / s1s, 0.0)
        b2n = np.where(live2, b2 / s2s, 0.0)
        c12n = np.where(live1 & live2, c12 / (s1s * s2s), 0.0)
        det = 1.0 - np.abs(c12n) ** 2
        quad = np.abs(b1n) ** 2 + np.abs(b2n) ** 2 - 2.0 * np.real(b1n.conj() * c12n * b2n)
        return rho * quad / det

    def rates_bps(self, power_w, scheduled=None) -> np.ndarray:
        """Per-user UatF rate B (1 - tau_p/tau_c) log2(1 + SINR_k) [bit/s], eq. (19).

        Shapes: [K] float64 (0 for unscheduled users).
        """
        return self.prelog_bps * np.log2(1.0 + self.sinr(power_w, scheduled))

    def sum_rate_bps(self, power_w, scheduled=None) -> float:
        """Sum of :meth:`rates_bps` [bit/s]."""
        return float(np.sum(self.rates_bps(power_w, scheduled)))

    def normalised(self) -> tuple[np.ndarray, np.ndarray]:
        """The well-conditioned pair (A~, D~) of spec §4.4 (equal combining).

        With x_k = rho_k / P_max,k: SINR_k = x_k A~_k / ((D~ x)_k + 1), where
        A~_k = P_max,k a_k^2 / NO_k and D~_kj = D_kj P_max,j / NO_k.

        Returns:
            (A~ [K] float64, D~ [K, K] float64).
        """
        a_t = self.max_power_w * self.a**2 / self.NO
        d_t = self.D * self.max_power_w[None, :] / self.NO[:, None]
        return a_t, d_t


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))


def _real_gram(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Re(x @ y.T) with real BLAS: [K, P] x [J, P] -> [K, J] float64."""
    return x.real @ y.real.T - x.imag @ y.imag.T


def _assemble(
    mean_s, mean_g, var_s, var_g, cov_sg, noise_s, noise_g, prelog, pmax, combining, a=None
):
    mean = mean_s + mean_g
    nu = var_s + var_g
    if cov_sg is not None:
        nu = nu + 2.0 * cov_sg.real
    d = np.abs(mean) ** 2
    np.fill_diagonal(d, 0.0)
    d += nu  # (S8): D_kj = (1 - [j = k]) |mu_kj|^2 + nu_kj
    if a is None:
        a = np.abs(np.diagonal(mean))
    return Statistics(
        a=np.asarray(a, dtype=float),
        D=d,
        NO=noise_s + noise_g,
        prelog_bps=float(prelog),
        max_power_w=np.asarray(pmax, dtype=float),
        cpu_combining=combining,
        mean_s=mean_s,
        mean_g=mean_g,
        var_s=var_s,
        var_g=var_g,
        cov_sg=cov_sg,
        noise_s=noise_s,
        noise_g=noise_g,
    )


def prelog_bps(obs) -> float:
    """B (1 - tau_p / tau_c) [Hz], the pre-log of eq. (19)."""
    return obs.params.bandwidth_hz * (1.0 - obs.tau_p / obs.params.tau_c)


_CACHE_KEY = "_closed_form_statistics"
_EQUAL_FIELDS = ("a", "D", "NO")
_BRANCH_FIELDS = ("mean_s", "mean_g", "var_s", "var_g", "noise_s", "noise_g")
#: prefix of the statistics arrays inside a packed observation
STATS_PREFIX = "stats_"


def statistics(obs) -> Statistics:
    """Vectorised closed form (S5)-(S8) of one observation (all three architectures).

    Cost O(K^2 N^2 + K N^3 + M K^2); the K^2 N^2 part runs as BLAS matrix products of
    [K, N^2] matrices (traces written as inner products of flattened matrices).

    The result is a pure function of the (frozen) observation, so it is memoised on it: the
    engine scores a truth once and records these statistics with it, and replay re-scores
    another policy's decisions from the recorded statistics without rebuilding channels.
    """
    cached = obs.__dict__.get(_CACHE_KEY)
    if cached is not None:
        return cached
    st = _statistics(obs)
    obs.__dict__[_CACHE_KEY] = st
    return st


def statistics_arrays(obs) -> dict[str, np.ndarray]:
    """The closed-form statistics of ``obs`` as named arrays (what a truth row records).

    Only what :meth:`Statistics.sinr` needs under the observation's combining mode is kept:
    (a, D, NO) for equal combining, the per-branch moments for ``lsfd2``.
    """
    st = statistics(obs)
    names = _EQUAL_FIELDS if st.cpu_combining == "equal" else _EQUAL_FIELDS + _BRANCH_FIELDS
    return {STATS_PREFIX + n: np.array(getattr(st, n), copy=True) for n in names}


@functools.lru_cache(maxsize=64)
def _empty_branches(k: int) -> dict[str, np.ndarray]:
    """Zero per-branch moments for K users (shared, read-only: equal combining never reads them)."""
    out = {}
    for n in _BRANCH_FIELDS:
        shape = (k, k) if n.startswith(("mean", "var")) else (k,)
        z = np.zeros(shape, dtype=complex if n.startswith("mean") else float)
        z.flags.writeable = False
        out[n] = z
    return out


def attach_statistics(obs, arrays) -> None:
    """Memoise recorded statistics (``statistics_arrays`` output) on a rebuilt observation."""
    k = obs.num_users
    p = obs.params
    combining = p.cpu_combining if p.architecture == "space_ground" else "equal"
    get = {n: np.asarray(arrays[STATS_PREFIX + n]) for n in _EQUAL_FIELDS}
    if combining == "lsfd2":
        get.update({n: np.asarray(arrays[STATS_PREFIX + n]) for n in _BRANCH_FIELDS})
    else:  # equal combining reads only (a, D, NO); the branch moments stay empty (read-only)
        get.update(_empty_branches(k))
    obs.__dict__[_CACHE_KEY] = Statistics(
        a=get["a"].astype(float, copy=False).reshape(k),
        D=get["D"].astype(float, copy=False).reshape(k, k),
        NO=get["NO"].astype(float, copy=False).reshape(k),
        prelog_bps=prelog_bps(obs),
        max_power_w=np.asarray(obs.max_power_w, dtype=float),
        cpu_combining=combining,
        mean_s=get["mean_s"].astype(complex, copy=False).reshape(k, k),
        mean_g=get["mean_g"].astype(complex, copy=False).reshape(k, k),
        var_s=get["var_s"].astype(float, copy=False).reshape(k, k),
        var_g=get["var_g"].astype(float, copy=False).reshape(k, k),
        cov_sg=None,
        noise_s=get["noise_s"].astype(float, copy=False).reshape(k),
        noise_g=get["noise_g"].astype(float, copy=False).reshape(k),
    )


def _statistics(obs) -> Statistics:
    p = obs.params
    k = obs.num_users
    s2a = obs.noise_ap_w
    s2s = obs.noise_sat_w / s2a  # §2.4 normalisation
    ptp = p.pilot_power_w * obs.tau_p  # pilot energy p tau_p
    t = obs.pilot_index
    share = obs.pilot_sharing
    use_sat = p.architecture in ("space_ground", "space")
    use_ap = p.architecture in ("space_ground", "ground")

    zeros_c = np.zeros((k, k), dtype=complex)
    zeros_r = np.zeros((k, k))
    zeros_k = np.zeros(k)

    if use_ap:
        beta = obs.beta_ap / s2a
        est = ap_mmse(beta, t, ptp, 1.0)  # eqs. (7)-(8)
        gam = est.gamma  # [M, K]
        sq = np.sqrt(gam)
        # (S5) AP part: S_kj sum_m sqrt(gam_mk gam_mj)  ((S4) replaces c_mk'/c_mk gam_mk)
        mean_g = (share * (sq.T @ sq)).astype(complex)
        var_g = gam.T @ beta  # (S6): sum_m gam_mk beta_mj
        noise_g = gam.sum(axis=0)  # (S7): s2a sum_m gam_mk with s2a = 1
    else:
        mean_g, var_g, noise_g = zeros_c, zeros_r, zeros_k

    if use_sat:
        gbar = obs.gbar / np.sqrt(s2a)
        cov = obs.R / s2a
        est_s = sat_mmse(cov, t, ptp, s2s, obs.tau_p)  # eqs. (9)-(11)
        x, psi = est_s.x, est_s.psi  # X_k = Phi_k R_k, Psi_k = p tau_p R_k Phi_k R_k
        rf = _flat(cov)  # R_j as rows
        # (S5) satellite part: gbar_k^H gbar_j + S_kj p tau_p tr(R_j Phi_k R_k)
        # [erratum E3: (23) prints tr(R_j Phi_k R_j)]. tr(R_j X_k) = vec(X_k^T) . vec(R_j),
        # needed only for co-pilot pairs: one product per pilot group.
        mean_s = gbar.conj() @ gbar.T
        xt = _flat(np.swapaxes(x, -1, -2))
        for g in np.unique(t):
            idx = np.flatnonzero(t == g)
            mean_s[np.ix_(idx, idx)] += ptp * (xt[idx] @ rf[idx].T)
        # (S6) satellite part: tr(R_j Psi_k) + gbar_j^H Psi_k gbar_j + gbar_k^H R_j gbar_k
        # [erratum E3: (23) prints tr(R_j R_k Phi_k R_j) and gbar_k^H R_j Phi_k gbar_j]
        outer = _flat(gbar.conj()[:, :, None] * gbar[:, None, :])  # O_k = conj(g_k) g_k^T
        psit = _flat(np.swapaxes(psi, -1, -2))
        var_s = _real_gram(psit + outer, rf) + _real_gram(_flat(psi), outer)
        a_s = np.sum(np.abs(gbar) ** 2, axis=1) + np.trace(psi, axis1=1, axis2=2).real
        noise_s = s2s * a_s  # (S7): s2s (||gbar_k||^2 + tr Psi_k)
        # the diagonal of the mean is exactly real: ||gbar_k||^2 + tr Psi_k
        mean_s[np.diag_indices(k)] = a_s
    else:
        mean_s, var_s, noise_s = zeros_c, zeros_r, zeros_k

    a = np.diagonal(mean_s).real + np.diagonal(mean_g).real  # (S7)
    return _assemble(
        mean_s,
        mean_g,
        var_s,
        var_g,
        None,
        noise_s,
        noise_g,
        prelog_bps(obs),
        obs.max_power_w,
        p.cpu_combining if p.architecture == "space_ground" else "equal",
        a=a,
    )
