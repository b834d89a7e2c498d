"""Walker-delta geometry: RAAN spacing, in-plane and inter-plane phasing, altitude."""

from __future__ import annotations

import numpy as np
import pytest

from orbits import load_tle, multi_shell, walker_delta

EPOCH = "2023-07-18T12:00:00Z"


def _teme_state(c):
    """Position/velocity [km, km/s] of every satellite at its own epoch (SGP4, tsince = 0)."""
    rv = [s.sgp4_tsince(0.0) for s in c.satrecs]
    assert all(e == 0 for e, _, _ in rv)
    return np.array([r for _, r, _ in rv]), np.array([v for _, _, v in rv])


def _raan_and_arglat_deg(r, v):
    h = np.cross(r, v)
    node = np.cross([0.0, 0.0, 1.0], h)
    raan = np.degrees(np.arctan2(node[:, 1], node[:, 0])) % 360
    n_hat = node / np.linalg.norm(node, axis=1, keepdims=True)
    cos_u = np.einsum("ij,ij->i", n_hat, r) / np.linalg.norm(r, axis=1)
    sin_sign = np.sign(r[:, 2])
    u = np.degrees(np.arccos(np.clip(cos_u, -1, 1)))
    u = np.where(sin_sign >= 0, u, 360 - u)
    incl = np.degrees(np.arccos(h[:, 2] / np.linalg.norm(h, axis=1)))
    return raan, u, incl


def _wrap(x):
    return (np.asarray(x) + 180.0) % 360.0 - 180.0


def test_walker_delta_pattern():
    total, planes, phasing = 60, 6, 2
    c = walker_delta(total, planes, phasing, 550e3, 53.0, EPOCH, raan0_deg=10.0)
    assert len(c) == total and len(set(c.sat_ids.tolist())) == total
    r, v = _teme_state(c)
    raan, u, incl = _raan_and_arglat_deg(r, v)
    # osculating values differ from the mean elements by J2 short-period terms (~0.1 deg)
    assert np.abs(incl - 53.0).max() < 0.2
    per = total // planes
    raan = raan.reshape(planes, per)
    u = u.reshape(planes, per)
    for k in range(planes):
        assert np.abs(_wrap(raan[k] - (10.0 + 360.0 * k / planes))).max() < 0.2
        # in-plane spacing 360/per
        assert np.abs(_wrap(np.diff(u[k]) - 360.0 / per)).max() < 0.2
    # inter-plane phasing: slot 0 of plane k+1 leads slot 0 of plane k by 360 F / T
    assert np.abs(_wrap(np.diff(u[:, 0]) - 360.0 * phasing / total)).max() < 0.2


def test_walker_altitude_orbit_average():
    for alt_m, incl_deg in ((550e3, 53.0), (550e3, 97.6), (1200e3, 70.0)):
        c = walker_delta(4, 2, 1, alt_m, incl_deg, EPOCH)
        s = c.satrecs[0]
        period_min = 2 * np.pi / s.no_kozai
        t = np.linspace(0.0, period_min, 721)
        _, r, _ = s.sgp4_array(np.full(t.size, s.jdsatepoch), s.jdsatepochF + t / 1440.0)
        radius_km = np.linalg.norm(r, axis=1)
        # orbit-averaged radius within 0.1 km of R_WGS72 + altitude; circular to J2 level
        assert abs(radius_km.mean() - (6378.135 + alt_m / 1e3)) < 0.1
        assert radius_km.max() - radius_km.min() < 20.0


def test_walker_satellites_are_tle_satellites():
    c = walker_delta(12, 3, 1, 600e3, 45.0, EPOCH)
    again = load_tle("".join(f"{n}\n{a}\n{b}\n" for n, a, b in zip(c.names, c.line1, c.line2)))
    assert again.tle_hash() == c.tle_hash()
    assert c.epochs_utc[0].isoformat().startswith("2023-07-18T12:00:00")


def test_multi_shell_ids_and_validation():
    shells = [
        dict(total=12, planes=3, phasing=1, altitude_m=550e3, inclination_deg=53, epoch_utc=EPOCH),
        dict(total=8, planes=4, phasing=0, altitude_m=1100e3, inclination_deg=88, epoch_utc=EPOCH),
    ]
    c = multi_shell(shells)
    assert len(c) == 20 and len(set(c.sat_ids.tolist())) == 20
    assert c.names[0].startswith("SHELL0") and c.names[-1].startswith("SHELL1")
    with pytest.raises(ValueError, match="duplicates"):
        multi_shell([walker_delta(4, 2, 0, 550e3, 53, EPOCH)] * 2)
    with pytest.raises(ValueError, match="multiple of planes"):
        walker_delta(10, 3, 0, 550e3, 53, EPOCH)
    with pytest.raises(ValueError, match="phasing"):
        walker_delta(12, 3, 3, 550e3, 53, EPOCH)
    with pytest.raises(ValueError, match="altitude_m"):
        walker_delta(12, 3, 0, 50e3, 53, EPOCH)
