"""Units, noise, path loss, TR 38.811 tables and the Bessel antenna pattern."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import j1

from emulator import units
from emulator.radio import ntn
from emulator.radio.antenna import (
    BESSEL_HALF_POWER_ARG,
    bessel_beamwidth_3db_deg,
    bessel_pattern_gain,
)
from emulator.radio.pathloss import (
    cellfree_satellite_gain_db,
    cellfree_terrestrial_gain_db,
    fspl_db,
    slant_range_m,
)


def test_unit_round_trips():
    x = np.array([-30.0, -3.0, 0.0, 7.5, 46.0])
    np.testing.assert_allclose(units.linear_to_db(units.db_to_linear(x)), x, atol=1e-12)
    np.testing.assert_allclose(units.w_to_dbm(units.dbm_to_w(x)), x, atol=1e-12)
    np.testing.assert_allclose(units.w_to_dbw(units.dbw_to_w(x)), x, atol=1e-12)
    assert units.dbm_to_w(30.0) == pytest.approx(1.0, rel=1e-15)
    assert units.db_to_linear(10.0) == pytest.approx(10.0, rel=1e-15)
    assert units.hz_to_ghz(units.ghz_to_hz(2.5)) == pytest.approx(2.5)
    assert units.m_to_km(units.km_to_m(583.1)) == pytest.approx(583.1)


def test_noise_power_at_290k():
    # kTB at 290 K = 4.0039e-21 W/Hz = -173.975 dBm/Hz (k exact since SI 2019)
    n1 = units.thermal_noise_w(1.0)
    assert n1 == pytest.approx(1.380649e-23 * 290.0, rel=1e-15)
    assert units.thermal_noise_dbm(1.0) == pytest.approx(-173.975, abs=5e-4)
    # the spec's AP noise: -174 dBm/Hz + 73.01 dB + 1.2 dB = -99.79 dBm (spec §2.3)
    n_ap = units.noise_from_density_w(-174.0, 20e6, 1.2)
    assert units.w_to_dbm(n_ap) == pytest.approx(-174.0 + 10 * np.log10(20e6) + 1.2, abs=1e-12)
    assert units.w_to_dbm(n_ap) == pytest.approx(-99.79, abs=5e-3)


def test_fspl_matches_friis():
    # Friis: 20 log10(4 pi d f / c); TR 38.811 rounds the constant to 32.45 dB
    d, f = 583_095.0, 3e9
    friis = 20.0 * np.log10(4.0 * np.pi * d * f / units.SPEED_OF_LIGHT_M_S)
    assert fspl_db(d, f) == pytest.approx(friis, abs=0.005)
    assert fspl_db(d, f) == pytest.approx(157.3, abs=0.05)  # spec §2.3: ~157.3 dB at 583 km
    assert fspl_db(1000.0, 2e9) == pytest.approx(98.47, abs=0.01)


def test_slant_range_law_of_cosines():
    h, r = 600e3, units.EARTH_RADIUS_M
    for el in (10.0, 35.0, 90.0):
        d = slant_range_m(el, h)
        # triangle Earth centre - ground point - satellite: (R+h)^2 = R^2 + d^2 + 2 R d sin(el)
        lhs = (r + h) ** 2
        rhs = r**2 + d**2 + 2 * r * d * np.sin(np.deg2rad(el))
        assert lhs == pytest.approx(rhs, rel=1e-12)
    assert slant_range_m(90.0, h) == pytest.approx(h, rel=1e-12)


def test_paper_pathloss_models():
    # (S2) at 300 m, 3 GHz, 10+10 dBi, no shadowing: -94 dB (spec §2.3)
    b = cellfree_terrestrial_gain_db(300.0, 3e9, 10.0, 10.0)
    assert b == pytest.approx(10 + 10 - 8.5 - 38.63 * np.log10(300) - 20 * np.log10(3), abs=1e-12)
    assert b == pytest.approx(-94.0, abs=0.5)
    # clamp at 10 m and the CAL offset
    assert cellfree_terrestrial_gain_db(1.0, 3e9, 10, 10) == cellfree_terrestrial_gain_db(
        10.0, 3e9, 10, 10
    )
    assert cellfree_terrestrial_gain_db(300.0, 3e9, 10, 10, 0.0, 47.0) == pytest.approx(b - 47)
    # (S3): ~ -117 dB at 583 km with G = 30 dBi (spec §2.3)
    s = cellfree_satellite_gain_db(583_095.0, 3e9, 30.0, 10.0)
    assert s == pytest.approx(-117.3, abs=0.1)


def test_ntn_tables_interpolate_and_clamp():
    assert ntn.los_probability(10.0, "urban") == pytest.approx(0.246)
    assert ntn.los_probability(90.0, "dense_urban") == pytest.approx(0.981)
    assert ntn.los_probability(25.0, "urban") == pytest.approx((0.386 + 0.493) / 2)
    assert ntn.los_probability(5.0, "suburban") == pytest.approx(0.782)  # clamped
    assert ntn.shadow_fading_std_db(30.0, True, "dense_urban", "S") == pytest.approx(2.9)
    assert ntn.shadow_fading_std_db(30.0, False, "dense_urban", "S") == pytest.approx(12.4)
    assert ntn.clutter_loss_db(45.0, False, "suburban", "Ka") == pytest.approx((20.0 + 18.7) / 2)
    assert ntn.clutter_loss_db(45.0, True, "suburban", "Ka") == 0.0
    mu, sd = ntn.rician_k_db(np.array([10.0, 15.0]), "dense_urban", "S")
    np.testing.assert_allclose(mu, [4.4, (4.4 + 9.0) / 2])
    np.testing.assert_allclose(sd, [3.3, (3.3 + 6.6) / 2])
    with pytest.raises(ValueError, match="scenario"):
        ntn.los_probability(30.0, "rural-ish")


def test_ntn_large_scale_los_fraction():
    """LoS frequency of the per-link draw matches the table probability (binomial 5 sigma)."""
    rng = np.random.default_rng(0)
    n = 20_000
    el = np.full(n, 37.0)
    los, loss, kappa = ntn.large_scale(
        el, rng.uniform(size=n), rng.standard_normal(n), rng.standard_normal(n), "urban", "S"
    )
    p = ntn.los_probability(37.0, "urban")
    assert abs(los.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    assert (kappa[~los] == 0).all() and (kappa[los] > 0).all()
    # NLoS links carry the clutter loss on average
    cl = ntn.clutter_loss_db(37.0, False, "urban", "S")
    assert loss[~los].mean() == pytest.approx(cl, abs=0.5)


def test_bessel_3db_beamwidth_tr38821():
    # TR 38.821 Table 6.1.1.1-1: 2 m aperture at 2 GHz -> 4.4127 deg
    bw = bessel_beamwidth_3db_deg(2.0, 2e9)
    assert bw == pytest.approx(4.4127, abs=0.02)
    # independent root of the pattern itself
    half = brentq(lambda th: bessel_pattern_gain(th, 2.0, 2e9) - 0.5, 1e-6, np.deg2rad(5.0))
    assert 2 * np.rad2deg(half) == pytest.approx(bw, rel=1e-6)
    # and the half-power argument of 4 |J1(x)/x|^2
    x = BESSEL_HALF_POWER_ARG
    assert 4 * (j1(x) / x) ** 2 == pytest.approx(0.5, abs=1e-12)
    assert bessel_pattern_gain(0.0, 2.0, 2e9) == 1.0
    assert bessel_pattern_gain(np.deg2rad(1e-9), 2.0, 2e9) == pytest.approx(1.0, abs=1e-9)
    # Ka: 0.5 m at 20 GHz -> 1.7647 deg
    assert bessel_beamwidth_3db_deg(0.5, 20e9) == pytest.approx(1.7647, abs=0.01)
