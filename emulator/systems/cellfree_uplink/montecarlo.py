"""Monte-Carlo UatF statistics over true channel draws (spec §4.5; the "simulation" of 002).

Same estimator (Lemma 1) and combiner (MRC, CPU sum) as the closed form; the expectations of
(20) are replaced by sample means over T channel realisations. Pilot contamination is
simulated as received: one pilot-noise sample per (AP, pilot) and per (satellite, pilot),
shared by every user of the pilot (spec §3.2), so co-pilot users get correlated estimates.

The result is a :class:`~.statistics.Statistics` built from the empirical moments (so both
CPU-combining modes work), drawn from ``stream(seed, "cellfree/mc", counter)`` in chunks.
"""

from __future__ import annotations

import numpy as np

from emulator.radio.fading import complex_normal, psd_sqrt
from emulator.radio.mmse import ap_mmse, sat_mmse
from emulator.rng import stream
from emulator.systems.cellfree_uplink.statistics import Statistics, _assemble, prelog_bps


def mc_statistics(
    obs, num_draws: int = 10_000, seed: int = 0, counter: int = 0, chunk: int = 2000
) -> Statistics:
    """Empirical UatF statistics of ``obs`` from ``num_draws`` channel realisations.

    Args:
        obs: the true observation.
        num_draws: T realisations (>= 1).
        seed, counter: select the stream ``cellfree/mc``.
        chunk: realisations per vectorised chunk (memory ~ chunk * K * (K + M + N) complex).
    """
    if num_draws < 1:
        raise ValueError(f"num_draws: expected an int >= 1, got {num_draws}")
    p = obs.params
    k, m, n, tau = obs.num_users, obs.num_aps, obs.num_antennas, obs.tau_p
    s2a = obs.noise_ap_w
    s2s = obs.noise_sat_w / s2a  # spec §2.4 normalisation
    ptp = p.pilot_power_w * tau
    sp = np.sqrt(ptp)
    t = obs.pilot_index
    onehot = np.zeros((k, tau))
    onehot[np.arange(k), t] = 1.0
    use_sat = p.architecture in ("space_ground", "space")
    use_ap = p.architecture in ("space_ground", "ground")
    rng = stream(seed, "cellfree/mc", counter)

    if use_ap:
        beta = obs.beta_ap / s2a
        c = ap_mmse(beta, t, ptp, 1.0).c  # eq. (7)
        sqb = np.sqrt(beta)
    if use_sat:
        gbar = obs.gbar / np.sqrt(s2a)
        cov = obs.R / s2a
        est = sat_mmse(cov, t, ptp, s2s, tau)
        rsq = psd_sqrt(cov)  # [K, N, N]
        w_est = cov @ est.phi  # R_k Phi_k, eq. (9)
        ybar = sp * (onehot.T @ gbar)  # [tau, N]: corrected ybar_pk of eq. (9) (erratum E4)

    acc = {name: 0.0 for name in ("zs", "zg", "zs2", "zg2", "zsg", "ns", "ng")}
    done = 0
    while done < num_draws:
        nt = min(chunk, num_draws - done)
        zs = zg = None
        if use_sat:
            h = complex_normal(rng, (nt, k, n))
            g_s = gbar[None] + np.einsum("kab,tkb->tka", rsq, h)  # true channels [T, K, N]
            w_p = complex_normal(rng, (nt, tau, n), s2s)  # one noise per (satellite, pilot)
            y_s = sp * np.einsum("kp,tkn->tpn", onehot, g_s) + w_p  # eq. (4)-(5)
            ytil = (y_s - ybar[None])[:, t, :]  # [T, K, N]
            ghat_s = gbar[None] + sp * np.einsum("kab,tkb->tka", w_est, ytil)  # eq. (9)
            zs = ghat_s.conj() @ np.swapaxes(g_s, 1, 2)  # [T, K, K]: ghat_k^H g_j
            acc["zs"] = acc["zs"] + zs.sum(0)
            acc["zs2"] = acc["zs2"] + (np.abs(zs) ** 2).sum(0)
            acc["ns"] = acc["ns"] + s2s * (np.abs(ghat_s) ** 2).sum(axis=(0, 2))
        if use_ap:
            g_ap = sqb[None] * complex_normal(rng, (nt, m, k))  # [T, M, K]
            n_p = complex_normal(rng, (nt, m, tau))  # one noise per (AP, pilot), s2a = 1
            y_ap = sp * (g_ap @ onehot) + n_p  # eq. (2)-(3)
            ghat_ap = c[None] * y_ap[:, :, t]  # eq. (6)
            zg = np.swapaxes(ghat_ap.conj(), 1, 2) @ g_ap  # [T, K, K]
            acc["zg"] = acc["zg"] + zg.sum(0)
            acc["zg2"] = acc["zg2"] + (np.abs(zg) ** 2).sum(0)
            acc["ng"] = acc["ng"] + (np.abs(ghat_ap) ** 2).sum(axis=(0, 1))
        if zs is not None and zg is not None:
            acc["zsg"] = acc["zsg"] + (zs * zg.conj()).sum(0)
        done += nt

    def mean(name, shape, dtype=float):
        v = acc[name]
        return np.zeros(shape, dtype=dtype) if np.isscalar(v) else v / num_draws

    mean_s = mean("zs", (k, k), complex)
    mean_g = mean("zg", (k, k), complex)
    var_s = np.maximum(mean("zs2", (k, k)) - np.abs(mean_s) ** 2, 0.0)
    var_g = np.maximum(mean("zg2", (k, k)) - np.abs(mean_g) ** 2, 0.0)
    cov_sg = mean("zsg", (k, k), complex) - mean_s * mean_g.conj() if use_sat and use_ap else None
    return _assemble(
        mean_s,
        mean_g,
        var_s,
        var_g,
        cov_sg,
        mean("ns", (k,)),
        mean("ng", (k,)),
        prelog_bps(obs),
        obs.max_power_w,
        p.cpu_combining if p.architecture == "space_ground" else "equal",
    )
