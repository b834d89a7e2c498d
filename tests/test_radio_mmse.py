"""MMSE estimation (Lemma 1 of 002) against simulated pilots and its limits (spec P4, P10)."""

from __future__ import annotations

import numpy as np

from emulator.radio.correlation import KroneckerRicianModel
from emulator.radio.fading import complex_normal, correlated_rician, psd_sqrt, rayleigh
from emulator.radio.mmse import ap_mmse, sat_mmse
from emulator.radio.pilots import assign_pilots, default_tau_p, pilot_sharing
from emulator.rng import stream


def test_pilot_assignment():
    t = assign_pilots(7, 3)
    np.testing.assert_array_equal(t, [0, 1, 2, 0, 1, 2, 0])
    s = pilot_sharing(t)
    assert s.diagonal().all() and s[0, 3] and s[0, 6] and not s[0, 1]
    assert default_tau_p(7) == 4 and default_tau_p(20) == 10 and default_tau_p(1) == 1


def test_ap_mmse_error_variance_matches_simulation():
    """Empirical error / estimate variances of simulated pilots vs beta - gamma and gamma."""
    m, k, tau, t_draws = 3, 4, 2, 60_000
    beta = np.array([[1.0, 0.3, 2.0, 0.1], [0.5, 0.5, 0.05, 1.5], [2.0, 0.01, 0.7, 0.2]])
    t = assign_pilots(k, tau)
    ptp, s2 = 0.2 * tau, 0.4
    est = ap_mmse(beta, t, ptp, s2)
    rng = stream(1, "test/mmse-ap")
    g = rayleigh(rng, beta, t_draws)  # [T, M, K]
    onehot = np.eye(tau)[t]  # [K, tau]
    y = np.sqrt(ptp) * (g @ onehot) + complex_normal(rng, (t_draws, m, tau), s2)
    ghat = est.c[None] * y[:, :, t]
    err = g - ghat
    np.testing.assert_allclose(np.mean(np.abs(err) ** 2, 0), est.error_var, rtol=0.03)
    np.testing.assert_allclose(np.mean(np.abs(ghat) ** 2, 0), est.gamma, rtol=0.03)
    # orthogonality principle: error uncorrelated with the estimate
    corr = np.abs(np.mean(err * ghat.conj(), 0)) / np.sqrt(est.gamma * est.error_var)
    assert corr.max() < 0.03
    assert (est.gamma >= 0).all() and (est.gamma <= beta).all()


def test_sat_mmse_error_covariance_matches_simulation():
    k, tau, n, t_draws = 4, 2, 4, 40_000
    rng0 = np.random.default_rng(4)
    u = rng0.standard_normal((k, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    gbar, cov = KroneckerRicianModel(2, 2, 0.6).mean_and_covariance(
        np.array([1.0, 0.5, 2.0, 0.8]), np.array([1.0, 3.0, 0.2, 0.0]), u
    )
    t = assign_pilots(k, tau)
    ptp, s2 = 0.2 * tau, 0.3
    est = sat_mmse(cov, t, ptp, s2, tau)
    rng = stream(2, "test/mmse-sat")
    g = correlated_rician(rng, gbar, psd_sqrt(cov), t_draws)  # [T, K, N]
    onehot = np.eye(tau)[t]
    y = np.sqrt(ptp) * np.einsum("kp,tkn->tpn", onehot, g) + complex_normal(
        rng, (t_draws, tau, n), s2
    )
    ybar = np.sqrt(ptp) * (onehot.T @ gbar)
    ghat = gbar[None] + np.sqrt(ptp) * np.einsum("kab,tkb->tka", cov @ est.phi, (y - ybar)[:, t])
    e = g - ghat
    emp_err = np.einsum("tka,tkb->kab", e, e.conj()) / t_draws
    d = ghat - gbar[None]
    emp_psi = np.einsum("tka,tkb->kab", d, d.conj()) / t_draws
    for kk in range(k):
        rel = np.linalg.norm(emp_err[kk] - est.error_cov[kk]) / np.linalg.norm(est.error_cov[kk])
        assert rel < 0.04
        rel = np.linalg.norm(emp_psi[kk] - est.psi[kk]) / np.linalg.norm(est.psi[kk])
        assert rel < 0.04
    np.testing.assert_allclose(ghat.mean(0), gbar, atol=0.03)  # unbiased around the LoS mean
    # 0 <= Psi <= R (spec P4)
    for kk in range(k):
        tr = np.trace(cov[kk]).real
        assert np.linalg.eigvalsh(cov[kk] - est.psi[kk]).min() >= -1e-10 * tr
        assert np.linalg.eigvalsh(est.psi[kk]).min() >= -1e-10 * tr
    # Phi shared in a pilot group (P10)
    np.testing.assert_array_equal(est.phi[0], est.phi[2])


def test_perfect_csi_limit():
    """Orthogonal pilots and vanishing noise: Psi -> R and gamma -> beta (spec P4)."""
    k = 3
    rng0 = np.random.default_rng(6)
    u = rng0.standard_normal((k, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    _, cov = KroneckerRicianModel(2, 2, 0.5).mean_and_covariance(np.ones(k), np.ones(k), u)
    t = assign_pilots(k, k)
    est = sat_mmse(cov, t, 1.0, 1e-12, k)
    np.testing.assert_allclose(est.psi, cov, atol=1e-9)
    ap = ap_mmse(np.array([[1.0, 2.0, 3.0]]), t, 1.0, 1e-14)
    np.testing.assert_allclose(ap.gamma, [[1.0, 2.0, 3.0]], rtol=1e-12)
