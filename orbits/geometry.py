"""Vectorised satellite-ground geometry over S satellites x T times x G ground sites.

Propagation is SGP4 through ``sgp4.api.SatrecArray`` (C loop over satellites and times); the TEME
-> ITRS rotation is Skyfield's (see :mod:`orbits.timebase`) applied to whole chunks with
``numpy.einsum``; topocentric quantities use the geodetic up vector of each site, as Skyfield's
``altaz()`` does. Work is chunked over satellites and times so the intermediates stay bounded
(``chunk_elements`` satellite-times at once); only the requested outputs are held in full.

SGP4 error codes are honoured: a satellite-time with a non-zero code (e.g. 6, decayed) gets NaN in
every output and its code in ``sgp4_error``. Garbage positions that SGP4 returns with code 0
(python-sgp4 issue #137) are the business of :func:`orbits.hygiene.hygiene`, which drops
satellites whose altitude leaves 150-3000 km in the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sgp4.api import SatrecArray
from skyfield.constants import C as SPEED_OF_LIGHT_M_S

from orbits.site import Site, as_sites
from orbits.timebase import DAY_S, TimeBase
from orbits.tle import Constellation

#: satellite-times propagated per chunk (intermediates < 1 MB per array: they stay in cache)
DEFAULT_CHUNK_ELEMENTS = 1 << 15


def propagate_itrs(satarray: SatrecArray, tb: TimeBase, t_s: np.ndarray, out_r=None, out_v=None):
    """SGP4 positions and velocities in ITRS for every satellite x time.

    Args:
        satarray: the satellites (``SatrecArray``).
        tb: time base of the window.
        t_s: seconds since ``tb.start_utc``.
        out_r, out_v: optional [S, T, 3] arrays (views allowed) to write the results into.

    Returns:
        ``(error, r_itrs_m, v_itrs_m_s)``; error is SGP4's code (0 = fine).

    Shapes: t_s [T] -> error [S, T] uint8, r_itrs_m [S, T, 3] float64, v_itrs_m_s [S, T, 3].
    """
    t_s = np.asarray(t_s, dtype=float)
    jd = np.full(t_s.shape, tb.jd_whole)
    err, r_km, v_km_s = satarray.sgp4(jd, tb.utc_fraction(t_s))
    theta, theta_dot = tb.gmst_rad(t_s)
    # Skyfield's TEME -> ITRS rotation rot_z(-theta_GMST1982), with the km -> m factor folded in
    rot = np.zeros((t_s.size, 3, 3))
    c, s = np.cos(theta) * 1000.0, np.sin(theta) * 1000.0
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, s, -s, c, 1000.0
    r = np.einsum("tij,stj->sti", rot, r_km, out=out_r, optimize=True)
    v = np.einsum("tij,stj->sti", rot, v_km_s, out=out_v, optimize=True)
    # Earth rotation term of TEME_to_ITRF: v += (0, 0, -theta_dot) x r
    v[..., 0] += theta_dot * r[..., 1]
    v[..., 1] -= theta_dot * r[..., 0]
    return err, r, v


def topocentric(r_itrs_m, v_itrs_m_s, site: Site, with_rate: bool = False):
    """Elevation, azimuth, slant range, range rate (and elevation rate) of points seen from a site.

    Args:
        r_itrs_m: satellite positions in ITRS [m].
        v_itrs_m_s: satellite velocities in ITRS [m/s] (the site is fixed in ITRS).
        site: the ground site.
        with_rate: also return the elevation rate [deg/s] (used by the pass scan).

    Returns:
        dict with ``elevation_deg, azimuth_deg, slant_range_m, range_rate_m_s`` (and
        ``elevation_rate_deg_s``), plus ``d_itrs_m`` (site -> satellite vector).

    Shapes: r_itrs_m, v_itrs_m_s [..., 3] -> each output [...].
    """
    d = r_itrs_m - site.itrs_m()
    basis = site.enu_basis()
    enu = d @ basis.T
    east, north, up = enu[..., 0], enu[..., 1], enu[..., 2]
    rng = np.sqrt(np.einsum("...j,...j->...", enu, enu))
    rr = np.einsum("...j,...j->...", d, v_itrs_m_s)
    rr /= rng
    sin_el = up / rng
    np.clip(sin_el, -1.0, 1.0, out=sin_el)
    out = {
        "elevation_deg": np.degrees(np.arcsin(sin_el)),
        "azimuth_deg": np.degrees(np.arctan2(east, north)) % 360.0,
        "slant_range_m": rng,
        "range_rate_m_s": rr,
        "d_itrs_m": d,
        "enu_m": enu,
    }
    if with_rate:
        up_v = v_itrs_m_s @ basis[2]
        cos_el = np.sqrt(np.maximum(1.0 - sin_el * sin_el, 1e-300))
        out["elevation_rate_deg_s"] = np.degrees((up_v - sin_el * rr) / (rng * cos_el))
    return out


@dataclass(frozen=True)
class Geometry:
    """Satellite-ground geometry of a constellation over a time grid and a set of sites.

    Times are seconds since ``start_utc``. NaN marks satellite-times that SGP4 flagged
    (``sgp4_error`` != 0).

    Attributes:
        sat_ids: catalogue numbers. Shapes: [S] int64.
        sites: the ground sites (G of them).
        start_utc: window start.
        t_s: time grid [s]. Shapes: [T] float64.
        position_itrs_m: satellite ITRS positions. Shapes: [S, T, 3] float64.
        velocity_itrs_m_s: satellite ITRS velocities. Shapes: [S, T, 3] float64.
        elevation_deg: elevation above the geodetic horizon. Shapes: [S, T, G] float64.
        azimuth_deg: azimuth from north through east in [0, 360). Shapes: [S, T, G].
        slant_range_m: site-satellite distance. Shapes: [S, T, G].
        range_rate_m_s: d(slant range)/dt (positive = receding). Shapes: [S, T, G].
        off_boresight_deg: angle at the satellite between its (geocentric) nadir and the site.
            Shapes: [S, T, G].
        sgp4_error: SGP4 error code per satellite-time. Shapes: [S, T] uint8.
    """

    sat_ids: np.ndarray
    sites: tuple
    start_utc: object
    t_s: np.ndarray
    position_itrs_m: np.ndarray
    velocity_itrs_m_s: np.ndarray
    elevation_deg: np.ndarray
    azimuth_deg: np.ndarray
    slant_range_m: np.ndarray
    range_rate_m_s: np.ndarray
    off_boresight_deg: np.ndarray
    sgp4_error: np.ndarray

    @property
    def delay_s(self) -> np.ndarray:
        """One-way propagation delay (slant range / c) [s]. Shapes: [S, T, G] float64."""
        return self.slant_range_m / SPEED_OF_LIGHT_M_S

    def doppler_hz(self, carrier_hz: float) -> np.ndarray:
        """Doppler shift of a carrier on the satellite-site path, ``-f_c * range_rate / c``.

        First-order (non-relativistic) shift; positive while the satellite approaches.
        Shapes: [S, T, G] float64.
        """
        if not (math.isfinite(carrier_hz) and carrier_hz > 0):
            raise ValueError(f"carrier_hz: expected a positive frequency in Hz, got {carrier_hz}")
        return -carrier_hz * self.range_rate_m_s / SPEED_OF_LIGHT_M_S

    @property
    def visible_mask(self) -> np.ndarray:
        """Elevation >= 0 (NaN -> False). Shapes: [S, T, G] bool."""
        return np.nan_to_num(self.elevation_deg, nan=-90.0) >= 0.0


def _chunks(n_sat: int, n_t: int, chunk_elements: int):
    s_step = max(1, min(n_sat, chunk_elements // max(n_t, 1)))
    t_step = n_t if s_step > 1 or n_t <= chunk_elements else chunk_elements
    for s0 in range(0, n_sat, s_step):
        for t0 in range(0, n_t, t_step):
            yield slice(s0, min(s0 + s_step, n_sat)), slice(t0, min(t0 + t_step, n_t))


def satrec_array(constellation: Constellation, rows: slice | np.ndarray | None = None):
    """``SatrecArray`` of (some rows of) a constellation."""
    sats = constellation.satrecs
    if rows is None:
        return SatrecArray(sats)
    if isinstance(rows, slice):
        return SatrecArray(sats[rows])
    return SatrecArray([sats[i] for i in rows])


def geometry(
    constellation: Constellation,
    site_or_sites,
    start_utc,
    t_s,
    *,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    cache: bool = False,
    cache_dir=None,
) -> Geometry:
    """Geometry of every satellite x time x site, vectorised and chunked.

    Args:
        constellation: the satellites.
        site_or_sites: one :class:`~orbits.site.Site` or a list of them.
        start_utc: timezone-aware UTC start (datetime, pandas Timestamp or ISO string).
        t_s: seconds since ``start_utc``. Shapes: [T] float64.
        chunk_elements: satellite-times processed at once (memory bound of intermediates).
        cache: load/store the result in the on-disk cache (:mod:`orbits.cache`).
        cache_dir: cache directory (default ``$LEO_EMULATOR_CACHE`` or
            ``~/.cache/leo-emulator/orbits``).

    Returns:
        :class:`Geometry` with arrays [S, T, 3] / [S, T, G].
    """
    sites = as_sites(site_or_sites)
    t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
    if t_s.ndim != 1 or not np.all(np.isfinite(t_s)):
        raise ValueError("t_s: expected a 1-D array of finite seconds since start_utc")
    tb = TimeBase(start_utc, float(t_s.min(initial=0.0)), float(t_s.max(initial=0.0)))
    key = None
    if cache:
        from orbits import cache as _cache

        key = _cache.make_key(
            "geometry",
            constellation=constellation,
            sites=sites,
            start_utc=tb.start_utc,
            extra={"t_s_sha": _cache.array_digest(t_s)},
        )
        hit = _cache.load_arrays(key, cache_dir)
        if hit is not None:
            return _geometry_from_arrays(hit, constellation, sites, tb.start_utc, t_s)
    n_s, n_t, n_g = len(constellation), t_s.size, len(sites)
    pos = np.empty((n_s, n_t, 3))
    vel = np.empty((n_s, n_t, 3))
    # per-site planes are contiguous ([G, S, T]); exposed as [S, T, G] views
    el, az, rng, rr, ob = (np.empty((n_g, n_s, n_t)) for _ in range(5))
    errs = np.empty((n_s, n_t), dtype=np.uint8)
    site_pos = [s.itrs_m() for s in sites]
    site_enu = [s.enu_basis() for s in sites]
    arrays: dict[int, SatrecArray] = {}
    for ss, tt in _chunks(n_s, n_t, chunk_elements):
        arr = arrays.get(ss.start)
        if arr is None:
            arr = arrays.setdefault(ss.start, satrec_array(constellation, ss))
        err, r, v = propagate_itrs(arr, tb, t_s[tt], out_r=pos[ss, tt], out_v=vel[ss, tt])
        errs[ss, tt] = err
        bad = err != 0
        if bad.any():
            r[bad] = np.nan
            v[bad] = np.nan
        r_norm = np.sqrt(np.einsum("stj,stj->st", r, r))
        for g in range(n_g):
            d = r - site_pos[g]
            enu = np.einsum("stj,kj->stk", d, site_enu[g], optimize=True)
            rho = rng[g, ss, tt]
            np.sqrt(np.einsum("stj,stj->st", enu, enu), out=rho)
            # elevation (geodetic up) and azimuth from north through east
            sin_el = np.divide(enu[..., 2], rho)
            np.clip(sin_el, -1.0, 1.0, out=sin_el)
            np.degrees(np.arcsin(sin_el, out=sin_el), out=el[g, ss, tt])
            a = np.degrees(np.arctan2(enu[..., 0], enu[..., 1]))
            a[a < 0.0] += 360.0
            az[g, ss, tt] = a
            np.divide(np.einsum("stj,stj->st", d, v), rho, out=rr[g, ss, tt])
            # off-boresight: angle between nadir (-r) and the satellite->site direction (-d)
            cos_ob = np.einsum("stj,stj->st", r, d)
            cos_ob /= r_norm
            cos_ob /= rho
            np.clip(cos_ob, -1.0, 1.0, out=cos_ob)
            np.degrees(np.arccos(cos_ob, out=cos_ob), out=ob[g, ss, tt])
    el, az, rng, rr, ob = (np.moveaxis(x, 0, -1) for x in (el, az, rng, rr, ob))
    geo = Geometry(
        sat_ids=constellation.sat_ids.copy(),
        sites=tuple(sites),
        start_utc=tb.start_utc,
        t_s=t_s,
        position_itrs_m=pos,
        velocity_itrs_m_s=vel,
        elevation_deg=el,
        azimuth_deg=az,
        slant_range_m=rng,
        range_rate_m_s=rr,
        off_boresight_deg=ob,
        sgp4_error=errs,
    )
    if key is not None:
        from orbits import cache as _cache

        _cache.store_arrays(key, _geometry_arrays(geo), cache_dir)
    return geo


_GEOMETRY_FIELDS = (
    "position_itrs_m",
    "velocity_itrs_m_s",
    "elevation_deg",
    "azimuth_deg",
    "slant_range_m",
    "range_rate_m_s",
    "off_boresight_deg",
    "sgp4_error",
)


def _geometry_arrays(geo: Geometry) -> dict[str, np.ndarray]:
    return {name: getattr(geo, name) for name in _GEOMETRY_FIELDS}


def _geometry_from_arrays(arrays, constellation, sites, start_utc, t_s) -> Geometry:
    return Geometry(
        sat_ids=constellation.sat_ids.copy(),
        sites=tuple(sites),
        start_utc=start_utc,
        t_s=t_s,
        **{name: arrays[name] for name in _GEOMETRY_FIELDS},
    )


def site_track(constellation: Constellation, sat_id: int, site: Site, start_utc, t_s) -> dict:
    """One satellite as seen from one site, in the site's local East-North-Up frame.

    The engine builds its ``WorldState`` from this.

    Args:
        constellation: the satellites.
        sat_id: catalogue number of the satellite.
        site: the ground site (origin of the ENU frame; geodetic up).
        start_utc: timezone-aware UTC start.
        t_s: seconds since ``start_utc``. Shapes: [T] float64.

    Returns:
        dict of arrays over ``t_s``:
        ``enu_m`` [T, 3] satellite position relative to the site (East, North, Up) [m];
        ``velocity_enu_m_s`` [T, 3] satellite velocity in the same frame [m/s];
        ``nadir_enu`` [T, 3] unit vector from the satellite towards the Earth's centre;
        ``elevation_deg``, ``azimuth_deg``, ``slant_range_m``, ``range_rate_m_s`` [T];
        ``sgp4_error`` [T] uint8 (non-zero rows are NaN).

    Raises:
        KeyError: ``sat_id`` is not in the constellation.
    """
    if not isinstance(site, Site):
        raise TypeError(f"site: expected orbits.Site, got {type(site).__name__}")
    row = constellation.index_of(sat_id)
    t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
    tb = TimeBase(start_utc, float(t_s.min(initial=0.0)), float(t_s.max(initial=0.0)))
    err, r, v = propagate_itrs(satrec_array(constellation, [row]), tb, t_s)
    err, r, v = err[0], r[0], v[0]
    bad = err != 0
    r[bad] = np.nan
    v[bad] = np.nan
    basis = site.enu_basis()
    topo = topocentric(r, v, site)
    nadir = -r / np.linalg.norm(r, axis=-1, keepdims=True)
    return {
        "enu_m": topo["d_itrs_m"] @ basis.T,
        "velocity_enu_m_s": v @ basis.T,
        "nadir_enu": nadir @ basis.T,
        "elevation_deg": topo["elevation_deg"],
        "azimuth_deg": topo["azimuth_deg"],
        "slant_range_m": topo["slant_range_m"],
        "range_rate_m_s": topo["range_rate_m_s"],
        "sgp4_error": err,
    }


__all__ = [
    "DAY_S",
    "Geometry",
    "SPEED_OF_LIGHT_M_S",
    "geometry",
    "propagate_itrs",
    "satrec_array",
    "site_track",
    "topocentric",
]
