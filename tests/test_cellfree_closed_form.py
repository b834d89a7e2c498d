"""Vectorised closed form (S5)-(S8) against a slow loop oracle written from the spec/paper.

The oracle works in raw SI units (no §2.4 normalisation), inverts Phi_k per user (not per
pilot group), loops over users, APs and antennas, and evaluates the UatF SINR (20) from the
per-pair mean / variance terms. The vectorised code must match it to 1e-9 relative.
It also carries the *printed* Theorem 1 terms (erratum E3) to document that they differ.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulator.rng import stream
from emulator.systems import cellfree_uplink as cf


def _inner(x, y):
    """x^H y with an explicit loop over antennas."""
    s = 0j
    for n in range(len(x)):
        s += np.conj(x[n]) * y[n]
    return s


def _quad(x, a, y):
    """x^H A y with explicit loops over antennas."""
    s = 0j
    for i in range(len(x)):
        for j in range(len(y)):
            s += np.conj(x[i]) * a[i, j] * y[j]
    return s


def loop_statistics(obs, printed: bool = False) -> dict:
    """Per-branch (S5)-(S7) terms by explicit loops, raw SI units.

    Args:
        printed: use the paper's printed (23) terms instead of the corrected ones (E3).
    """
    p = obs.params
    k, m, n = obs.num_users, obs.num_aps, obs.num_antennas
    s2a, s2s = obs.noise_ap_w, obs.noise_sat_w
    ptp = p.pilot_power_w * obs.tau_p
    t = obs.pilot_index
    beta, gbar, cov = obs.beta_ap, obs.gbar, obs.R
    use_sat = p.architecture in ("space_ground", "space")
    use_ap = p.architecture in ("space_ground", "ground")
    share = [[t[i] == t[j] for j in range(k)] for i in range(k)]

    # Lemma 1, terrestrial: eqs. (7)-(8)
    gam = np.zeros((m, k))
    for mm in range(m):
        for kk in range(k):
            den = s2a
            for j in range(k):
                if share[kk][j]:
                    den += ptp * beta[mm, j]
            gam[mm, kk] = ptp * beta[mm, kk] ** 2 / den
    # Lemma 1, satellite: eq. (9b), Psi (10)
    phi = []
    psi = []
    for kk in range(k):
        acc = s2s * np.eye(n, dtype=complex)
        for j in range(k):
            if share[kk][j]:
                acc = acc + ptp * cov[j]
        ph = np.linalg.inv(acc)
        phi.append(ph)
        psi.append(ptp * cov[kk] @ ph @ cov[kk])

    mu_s = np.zeros((k, k), dtype=complex)
    mu_g = np.zeros((k, k))
    nu_s = np.zeros((k, k))
    nu_g = np.zeros((k, k))
    no_s = np.zeros(k)
    no_g = np.zeros(k)
    for kk in range(k):
        if use_sat:
            no_s[kk] = s2s * (_inner(gbar[kk], gbar[kk]).real + np.trace(psi[kk]).real)
        if use_ap:
            no_g[kk] = s2a * sum(gam[mm, kk] for mm in range(m))
        for j in range(k):
            if use_sat:
                mean = _inner(gbar[kk], gbar[j])
                if share[kk][j]:
                    if printed:  # (23) as printed: tr(R_j Phi_k R_j)
                        mean += ptp * np.trace(cov[j] @ phi[kk] @ cov[j])
                    else:
                        mean += ptp * np.trace(cov[j] @ phi[kk] @ cov[kk])
                mu_s[kk, j] = mean
                if printed:  # (23) as printed
                    var = (
                        ptp * np.trace(cov[j] @ cov[kk] @ phi[kk] @ cov[j]).real
                        + _quad(gbar[j], psi[kk], gbar[j]).real
                        + _quad(gbar[kk], cov[j] @ phi[kk], gbar[j]).real
                    )
                else:
                    var = (
                        np.trace(cov[j] @ psi[kk]).real
                        + _quad(gbar[j], psi[kk], gbar[j]).real
                        + _quad(gbar[kk], cov[j], gbar[kk]).real
                    )
                nu_s[kk, j] = var
            if use_ap:
                sm, sv = 0.0, 0.0
                for mm in range(m):
                    if share[kk][j]:
                        sm += np.sqrt(gam[mm, kk] * gam[mm, j])
                    sv += gam[mm, kk] * beta[mm, j]
                mu_g[kk, j] = sm
                nu_g[kk, j] = sv
    return dict(mu_s=mu_s, mu_g=mu_g, nu_s=nu_s, nu_g=nu_g, no_s=no_s, no_g=no_g, gam=gam)


def loop_sinr(obs, power_w, scheduled=None, printed: bool = False) -> np.ndarray:
    """UatF SINR (20) by loops: equal CPU sum (S8) or LSFD-2 (spec §7)."""
    st = loop_statistics(obs, printed)
    k = obs.num_users
    q = np.ones(k, bool) if scheduled is None else np.asarray(scheduled, bool)
    rho = [power_w[j] if q[j] else 0.0 for j in range(k)]
    lsfd = obs.params.cpu_combining == "lsfd2" and obs.params.architecture == "space_ground"
    out = np.zeros(k)
    for kk in range(k):
        if not lsfd:
            mu_kk = st["mu_s"][kk, kk] + st["mu_g"][kk, kk]
            den = st["no_s"][kk] + st["no_g"][kk]
            for j in range(k):
                mu = st["mu_s"][kk, j] + st["mu_g"][kk, j]
                # E|z_kj|^2 = |mu|^2 + nu, minus rho_k |E z_kk|^2 in (20)
                den += rho[j] * (abs(mu) ** 2 + st["nu_s"][kk, j] + st["nu_g"][kk, j])
            den -= rho[kk] * abs(mu_kk) ** 2
            out[kk] = rho[kk] * abs(mu_kk) ** 2 / den
        else:
            b = np.array([st["mu_s"][kk, kk], st["mu_g"][kk, kk]])
            c = np.diag([st["no_s"][kk], st["no_g"][kk]]).astype(complex)
            for j in range(k):
                mv = np.array([st["mu_s"][kk, j], st["mu_g"][kk, j]])
                c += rho[j] * (
                    np.outer(mv, mv.conj()) + np.diag([st["nu_s"][kk, j], st["nu_g"][kk, j]])
                )
            c -= rho[kk] * np.outer(b, b.conj())
            out[kk] = rho[kk] * np.real(b.conj() @ np.linalg.solve(c, b))
    return out


def _configs():
    red = cf.CellFreeParams(**cf.REDUCED)
    yield "reduced", red, 6
    yield "reduced-orthogonal", cf.CellFreeParams(**{**cf.REDUCED, "tau_p": 6}), 6
    yield "reduced-tau1", cf.CellFreeParams(**{**cf.REDUCED, "tau_p": 1}), 5
    yield "mid-N9", cf.CellFreeParams(num_aps=12, n_h=3, n_v=3, tau_p=4, kappa_db=-10.0), 9


CASES = [
    (name, params, k, arch, comb)
    for name, params, k in _configs()
    for arch in cf.ARCHITECTURES
    for comb in cf.CPU_COMBINING
    if not (arch != "space_ground" and comb == "lsfd2")
]


@pytest.mark.parametrize(
    "name,params,k,arch,comb", CASES, ids=[f"{c[0]}-{c[3]}-{c[4]}" for c in CASES]
)
def test_vectorised_matches_loop_oracle(name, params, k, arch, comb):
    obs = cf.snapshot_observation(params, k, seed=11, drop_index=3).with_params(
        architecture=arch, cpu_combining=comb
    )
    rng = stream(0, "test/power", k)
    for trial in range(3):
        rho = rng.uniform(0.05, 1.0, k) * obs.max_power_w
        q = rng.uniform(size=k) < 0.8 if trial else np.ones(k, bool)
        want = loop_sinr(obs, rho, q)
        got = cf.statistics(obs).sinr(rho, q)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)
        assert (want[q] > 0).all() and (got[~q] == 0).all()


def test_triple_matches_loop_oracle_raw_units():
    """(a, D, NO) against the oracle's terms, undoing the §2.4 normalisation by sigma_a^2."""
    obs = cf.snapshot_observation(cf.CellFreeParams(**cf.REDUCED), 6, seed=5, drop_index=1)
    st = loop_statistics(obs)
    s2a = obs.noise_ap_w
    mu = st["mu_s"] + st["mu_g"]
    d = np.abs(mu) ** 2
    np.fill_diagonal(d, 0.0)
    d += st["nu_s"] + st["nu_g"]
    vec = cf.statistics(obs)
    np.testing.assert_allclose(vec.a * s2a, np.diagonal(mu).real, rtol=1e-9)
    np.testing.assert_allclose(vec.D * s2a**2, d, rtol=1e-9)
    np.testing.assert_allclose(vec.NO * s2a**2, st["no_s"] + st["no_g"], rtol=1e-9)


def test_printed_theorem_differs_from_corrected():
    """Erratum E3 (spec §10/§11 P1 regression): the printed (23) is off by > 5% for a user."""
    params = cf.CellFreeParams(**{**cf.REDUCED, "kappa_db": -10.0})
    obs = cf.snapshot_observation(params, 6, seed=3, drop_index=0).with_params(architecture="space")
    rho = obs.max_power_w
    corrected = cf.statistics(obs).sinr(rho)
    printed = loop_sinr(obs, rho, printed=True)
    assert np.max(np.abs(printed / corrected - 1.0)) > 0.05


def test_normalised_pair_reproduces_sinr():
    obs = cf.canned_observation()
    st = cf.statistics(obs)
    rho = np.linspace(0.3, 1.0, obs.num_users) * obs.max_power_w
    a_t, d_t = st.normalised()
    x = rho / obs.max_power_w
    np.testing.assert_allclose(x * a_t / (d_t @ x + 1.0), st.sinr(rho), rtol=1e-12)
