"""Vectorised geometry against Skyfield's full-precision EarthSatellite path and closed forms."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import itrs
from skyfield.sgp4lib import TEME

from orbits import SPEED_OF_LIGHT_M_S, Site, default_constellation, geometry, load_tle, site_track
from orbits.timebase import TimeBase

START = dt.datetime(2023, 7, 18, 12, tzinfo=dt.UTC)
SITES = [Site("paris", 48.85, 2.35, 35.0), Site("quito", -0.18, -78.47, 2850.0)]


@pytest.fixture(scope="module")
def sample():
    c = default_constellation()
    rng = np.random.default_rng(3)
    ids = rng.choice(c.sat_ids, size=4, replace=False)
    return c.subset(ids)


@pytest.fixture(scope="module")
def times():
    return np.sort(np.random.default_rng(4).uniform(0.0, 86_400.0, 40))


def _skyfield(c, i, tb, t_s):
    sat = EarthSatellite(c.line1[i], c.line2[i], c.names[i], tb.skyfield_time(t_s).ts)
    return sat, tb.skyfield_time(t_s)


def test_rotation_is_skyfields_teme_to_itrs():
    tb = TimeBase(START, 0.0, 86_400.0)
    t_s = np.array([0.0, 1234.5, 50_000.0])
    t = tb.skyfield_time(t_s)
    ref = np.einsum("ijt,kjt->tik", itrs.rotation_at(t), TEME.rotation_at(t))  # R_itrs R_teme^T
    assert np.abs(tb.rotation_teme_to_itrs(t_s) - ref).max() < 1e-12


def test_positions_and_angles_match_skyfield(sample, times):
    geo = geometry(sample, SITES, START, times)
    tb = TimeBase(START, 0.0, 86_400.0)
    for i in range(len(sample)):
        sat, t = _skyfield(sample, i, tb, times)
        r, v = sat.at(t).frame_xyz_and_velocity(itrs)
        assert np.abs(r.m.T - geo.position_itrs_m[i]).max() < 1.0  # [m]
        assert np.abs(v.m_per_s.T - geo.velocity_itrs_m_s[i]).max() < 1e-3  # [m/s]
        for g, site in enumerate(SITES):
            topo = wgs84.latlon(site.lat_deg, site.lon_deg, site.height_m)
            alt, az, dist = (sat - topo).at(t).altaz()
            assert np.abs(alt.degrees - geo.elevation_deg[i, :, g]).max() < 1e-3
            daz = (az.degrees - geo.azimuth_deg[i, :, g] + 180.0) % 360.0 - 180.0
            big = alt.degrees > -89.0  # azimuth is ill-defined at the nadir
            assert np.abs(daz[big]).max() < 1e-3
            assert np.abs(dist.m - geo.slant_range_m[i, :, g]).max() < 1.0


def test_site_position_matches_skyfield_wgs84():
    for site in SITES:
        ref = wgs84.latlon(site.lat_deg, site.lon_deg, site.height_m).itrs_xyz.m
        assert np.abs(ref - site.itrs_m()).max() < 1e-6


def test_doppler_and_delay_against_finite_differences(sample):
    t0 = np.linspace(100.0, 80_000.0, 25)
    h = 0.1
    geo = geometry(sample, SITES[0], START, np.concatenate([t0 - h, t0, t0 + h]))
    rng = geo.slant_range_m[..., 0].reshape(len(sample), 3, -1)
    fd_rate = (rng[:, 2] - rng[:, 0]) / (2 * h)
    rr = geo.range_rate_m_s[..., 0].reshape(len(sample), 3, -1)[:, 1]
    # SGP4's analytic velocity is consistent with its positions to ~1 cm/s
    assert np.abs(fd_rate - rr).max() < 0.02  # [m/s]
    carrier_hz = 2e9
    dop = geo.doppler_hz(carrier_hz)[..., 0].reshape(len(sample), 3, -1)[:, 1]
    assert (
        np.abs(dop - (-carrier_hz * fd_rate / SPEED_OF_LIGHT_M_S)).max() < 0.15
    )  # [Hz], of +-50 kHz
    assert np.allclose(geo.delay_s, geo.slant_range_m / 299_792_458.0, rtol=1e-15)
    with pytest.raises(ValueError, match="carrier_hz"):
        geo.doppler_hz(-1.0)


def test_off_boresight_by_law_of_cosines(sample, times):
    geo = geometry(sample, SITES, START, times)
    r_sat = np.linalg.norm(geo.position_itrs_m, axis=-1)[..., None]
    for g, site in enumerate(SITES):
        r_site = np.linalg.norm(site.itrs_m())
        rho = geo.slant_range_m[..., g]
        cos_ref = (r_sat[..., 0] ** 2 + rho**2 - r_site**2) / (2 * r_sat[..., 0] * rho)
        ref = np.degrees(np.arccos(np.clip(cos_ref, -1, 1)))
        assert np.abs(ref - geo.off_boresight_deg[..., g]).max() < 1e-6


def test_chunking_does_not_change_results(sample, times):
    a = geometry(sample, SITES, START, times)
    b = geometry(sample, SITES, START, times, chunk_elements=7)
    for name in ("position_itrs_m", "elevation_deg", "range_rate_m_s", "off_boresight_deg"):
        # equal up to BLAS summation order (1 ulp-level)
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-12, atol=1e-9)


def test_site_track_enu_against_skyfield_altaz(sample):
    t_s = np.linspace(0.0, 6000.0, 30)
    site = SITES[0]
    sid = int(sample.sat_ids[1])
    tr = site_track(sample, sid, site, START, t_s)
    enu = tr["enu_m"]
    el = np.degrees(np.arctan2(enu[:, 2], np.hypot(enu[:, 0], enu[:, 1])))
    az = np.degrees(np.arctan2(enu[:, 0], enu[:, 1])) % 360
    tb = TimeBase(START, 0.0, 6000.0)
    sat, t = _skyfield(sample, 1, tb, t_s)
    alt, azr, dist = (sat - wgs84.latlon(site.lat_deg, site.lon_deg, site.height_m)).at(t).altaz()
    assert np.abs(el - alt.degrees).max() < 1e-3
    assert np.abs((az - azr.degrees + 180) % 360 - 180).max() < 1e-3
    assert np.abs(np.linalg.norm(enu, axis=1) - dist.m).max() < 1.0
    # velocity: finite difference of the ENU position
    h = 0.1
    tp = site_track(sample, sid, site, START, t_s + h)["enu_m"]
    tm = site_track(sample, sid, site, START, t_s - h)["enu_m"]
    # SGP4's analytic velocity matches its own positions to a few cm/s (of 7.6 km/s)
    assert np.abs((tp - tm) / (2 * h) - tr["velocity_enu_m_s"]).max() < 0.03
    # nadir: unit vector pointing from the satellite to the Earth's centre
    centre_enu = site.enu_basis() @ (-site.itrs_m())
    ref = centre_enu - enu
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    assert np.abs(ref - tr["nadir_enu"]).max() < 1e-12
    np.testing.assert_allclose(tr["elevation_deg"], el, atol=1e-9)
    with pytest.raises(KeyError):
        site_track(sample, 1, site, START, t_s)


def test_sgp4_error_codes_are_nan():
    # very high drag: decays within days of its epoch (SGP4 error 6 / 1 later on)
    l1 = "1 44713U 19074A   23198.31707558  .00000584  00000+0  99999-0 0  999"
    l2 = "2 44713  53.0547 204.8335 0000977  90.1304 269.9797 16.20000000203267"
    from orbits.tle import tle_checksum

    l1 += str(tle_checksum(l1))
    l2 = l2[:68] + str(tle_checksum(l2))
    c = load_tle(f"DECAY\n{l1}\n{l2}\n")
    t_s = np.array([0.0, 30 * 86_400.0])
    start = c.epochs_utc[0].to_pydatetime()
    geo = geometry(c, SITES[0], start, t_s)
    assert geo.sgp4_error[0, 0] == 0 and geo.sgp4_error[0, 1] != 0
    assert np.isfinite(geo.elevation_deg[0, 0, 0]) and np.isnan(geo.elevation_deg[0, 1, 0])
    assert np.isnan(geo.position_itrs_m[0, 1]).all()


def test_geometry_cache_roundtrip(sample, times, tmp_path):
    a = geometry(sample, SITES, START, times, cache=True, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("geometry-*.npz"))) == 1
    b = geometry(sample, SITES, START, times, cache=True, cache_dir=tmp_path)
    np.testing.assert_array_equal(a.elevation_deg, b.elevation_deg)
    np.testing.assert_array_equal(a.sgp4_error, b.sgp4_error)


def test_naive_start_is_rejected(sample):
    with pytest.raises(ValueError, match="timezone-aware"):
        geometry(sample, SITES[0], dt.datetime(2023, 7, 18), [0.0])
