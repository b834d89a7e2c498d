"""Steering vectors, correlation, the (S1) satellite model and small-scale fading draws."""

from __future__ import annotations

import numpy as np
import pytest

from emulator.radio.antenna import ula_steering, upa_steering
from emulator.radio.correlation import (
    KroneckerRicianModel,
    exponential_correlation,
    kronecker_correlation,
)
from emulator.radio.fading import complex_normal, correlated_rician, psd_sqrt, rayleigh
from emulator.rng import stream


def _unit(rng, k):
    v = rng.standard_normal((k, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_ula_upa_steering():
    rng = np.random.default_rng(1)
    u = _unit(rng, 7)
    a = upa_steering(3, 4, u)
    assert a.shape == (7, 12)
    np.testing.assert_allclose(np.sum(np.abs(a) ** 2, axis=1), 12.0)
    # element (i_h, i_v) at flat index i_h * n_v + i_v has phase pi (i_h u_x + i_v u_y)
    for k in range(7):
        for ih in range(3):
            for iv in range(4):
                want = np.exp(1j * np.pi * (ih * u[k, 0] + iv * u[k, 1]))
                assert a[k, ih * 4 + iv] == pytest.approx(want, abs=1e-12)
    # kron structure and broadside
    np.testing.assert_allclose(a[0], np.kron(ula_steering(3, u[0, 0]), ula_steering(4, u[0, 1])))
    np.testing.assert_allclose(upa_steering(2, 2, np.array([0.0, 0.0, 1.0])), np.ones(4))


def test_correlation_matrices():
    c = exponential_correlation(4, 0.5)
    assert c[0, 3] == pytest.approx(0.125) and np.allclose(c, c.T)
    ck = kronecker_correlation(2, 3, 0.5)
    # flat index i_h * n_v + i_v: entries r^(|dh| + |dv|)
    assert ck[0 * 3 + 0, 1 * 3 + 2] == pytest.approx(0.5 ** (1 + 2))
    assert np.linalg.eigvalsh(ck).min() > 0


def test_s1_model_moments():
    rng = np.random.default_rng(2)
    beta = np.array([1e-3, 2e-3, 5e-4])
    kappa = np.array([10.0, 1.0, 0.0])
    gbar, r = KroneckerRicianModel(3, 3, 0.5).mean_and_covariance(beta, kappa, _unit(rng, 3))
    # E||g||^2 = N beta; tr R = N beta / (kappa + 1); R Hermitian PSD
    total = np.sum(np.abs(gbar) ** 2, axis=1) + np.trace(r, axis1=1, axis2=2).real
    np.testing.assert_allclose(total, 9 * beta, rtol=1e-12)
    np.testing.assert_allclose(np.trace(r, axis1=1, axis2=2).real, 9 * beta / (kappa + 1))
    np.testing.assert_allclose(r, np.swapaxes(r.conj(), 1, 2), atol=1e-18)
    assert all(np.linalg.eigvalsh(x).min() > -1e-15 for x in r)


def test_fading_draws_match_covariance():
    rng = stream(5, "test/fading")
    beta = np.array([[1.0, 0.25], [4.0, 0.5]])
    g = rayleigh(rng, beta, 40_000)
    assert g.shape == (40_000, 2, 2)
    np.testing.assert_allclose(np.mean(np.abs(g) ** 2, axis=0), beta, rtol=0.03)
    assert abs(np.mean(g**2)) < 0.02  # circular: E g^2 = 0
    gbar, r = KroneckerRicianModel(2, 2, 0.7).mean_and_covariance(
        np.array([1.0, 2.0]), np.array([3.0, 0.5]), _unit(np.random.default_rng(3), 2)
    )
    x = correlated_rician(stream(5, "test/rician"), gbar, psd_sqrt(r), 40_000)
    np.testing.assert_allclose(x.mean(0), gbar, atol=0.03)
    d = x - gbar[None]
    emp = np.einsum("tka,tkb->kab", d, d.conj()) / x.shape[0]
    assert np.linalg.norm(emp - r) / np.linalg.norm(r) < 0.03
    # variance argument of complex_normal
    z = complex_normal(stream(5, "test/cn"), (50_000,), 2.5)
    assert np.var(z) == pytest.approx(2.5, rel=0.03)


def test_psd_sqrt_singular():
    v = np.array([[1.0, 1j], [0.0, 0.0]]).T
    cov = v @ v.conj().T  # rank 1
    s = psd_sqrt(cov)
    np.testing.assert_allclose(s @ s.conj().T, cov, atol=1e-12)
