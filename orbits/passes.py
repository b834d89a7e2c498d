"""Exact pass plans: AOS, culmination (TCA) and LOS of every satellite above a minimum elevation.

Algorithm (never fine polling):

1. A coarse vectorised scan (``SatrecArray``, chunked over satellites) of elevation and its
   analytic rate on a grid of ``scan_step_s`` (default: 120 s, or 1/40 of the shortest orbital
   period if less), padded by half the longest orbital period on both sides of the window so that
   passes in progress at either end are complete.
2. Every culmination is bracketed by a + -> - sign change of the elevation rate. For LEO such sign
   changes are about half an orbit apart, so none can hide between grid points; this is how a pass
   that peaks barely above the minimum is still found. Brackets whose estimated peak (from a cubic
   Hermite model of the squared range, see :func:`_peak_estimate_deg`) is within ``margin_deg``
   (5 deg) of the minimum, or higher, are refined exactly with ``scipy.optimize.brentq`` on the
   elevation rate; those with a refined peak at or above the minimum are passes.
3. AOS and LOS are root-found (``brentq`` on elevation(t) - minimum) between the last/first coarse
   sample below the minimum and the culmination, where the elevation is monotonic.

Root tolerance is 1 ms. The culmination is the elevation maximum (root of the analytic elevation
rate), as in Skyfield's ``find_events``; the range-rate root (closest approach) differs from it by
up to 1 s (measured) because the up vector is geodetic and the orbit not exactly circular.
Validated against ``find_events`` on 1 200 random satellite-site-days (8 sites, minimum elevations
0-80 deg, 7 650 events): no missed or extra event, largest difference 0.31 s (Skyfield's own
tolerance is 0.5 s).

Times: ``*_s`` columns are seconds since ``start_utc``; ``*_utc`` the same instants as tz-aware
timestamps. Event times are the true ones even when they lie outside the window; the flags
``aos_in_progress`` (AOS before the window start) and ``los_after_end`` (LOS after its end) mark
passes cut by the window (for a SimPy timeline, clip with ``aos_s.clip(lower=0)``). A pass is
listed when it overlaps the window: ``los_s > 0`` and ``aos_s < duration_s``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from orbits.geometry import propagate_itrs, satrec_array, topocentric
from orbits.site import Site, as_sites
from orbits.timebase import TimeBase, parse_utc
from orbits.tle import Constellation

PASS_COLUMNS = [
    "site",
    "sat_id",
    "name",
    "aos_utc",
    "tca_utc",
    "los_utc",
    "max_elevation_deg",
    "aos_s",
    "tca_s",
    "los_s",
    "duration_s",
    "aos_in_progress",
    "los_after_end",
]

_ROOT_XTOL_S = 1e-3
_TAU = 2.0 * math.pi


class SatSiteEvaluator:
    """Scalar elevation and elevation rate of one satellite from one site (plain-Python fast path).

    Used by the root finders; agrees with the vectorised path to rounding error.
    """

    def __init__(self, satrec, site: Site, tb: TimeBase):
        self.satrec = satrec
        self.tb = tb
        self.jd = tb.jd_whole
        self.sx, self.sy, self.sz = (float(x) for x in site.itrs_m())
        self.ux, self.uy, self.uz = (float(x) for x in site.enu_basis()[2])
        self.w = tb.theta_dot_rad_s

    def _itrs(self, t_s: float):
        tb = self.tb
        fr = tb.frac0 + t_s / 86_400.0
        # UT1 - UTC by linear interpolation on the hourly grid (as TimeBase.gmst_rad)
        g = tb._grid_list
        k = int((t_s - tb._g0) // 3600.0)
        if k < 0:
            k = 0
        elif k > len(g) - 2:
            k = len(g) - 2
        du = tb._dut1_list
        ut1 = fr + du[k] + (t_s - g[k]) / 3600.0 * (du[k + 1] - du[k])
        jd = self.jd
        tc = (jd - 2_451_545.0 + ut1) / 36525.0
        gg = 67310.54841 + (8640184.812866 + (0.093104 + (-6.2e-6) * tc) * tc) * tc
        th = (jd % 1.0 + ut1 + gg / 86_400.0 % 1.0) % 1.0 * _TAU  # theta_GMST1982
        e, r, v = self.satrec.sgp4(jd, fr)
        return e, math.cos(th), math.sin(th), r, v

    def elevation_deg(self, t_s: float) -> float:
        """Elevation [deg] at ``t_s``; NaN on an SGP4 error."""
        e, c, s, r, _ = self._itrs(t_s)
        if e:
            return math.nan
        dx = (c * r[0] + s * r[1]) * 1000.0 - self.sx
        dy = (-s * r[0] + c * r[1]) * 1000.0 - self.sy
        dz = r[2] * 1000.0 - self.sz
        rho = math.sqrt(dx * dx + dy * dy + dz * dz)
        return math.degrees(math.asin((self.ux * dx + self.uy * dy + self.uz * dz) / rho))

    def state(self, t_s: float) -> tuple[float, float]:
        """(elevation [deg], elevation rate [deg/s]) at ``t_s``; NaNs on an SGP4 error."""
        e, c, s, r, v = self._itrs(t_s)
        if e:
            return math.nan, math.nan
        x = (c * r[0] + s * r[1]) * 1000.0
        y = (-s * r[0] + c * r[1]) * 1000.0
        z = r[2] * 1000.0
        vx = (c * v[0] + s * v[1]) * 1000.0 + self.w * y
        vy = (-s * v[0] + c * v[1]) * 1000.0 - self.w * x
        vz = v[2] * 1000.0
        dx, dy, dz = x - self.sx, y - self.sy, z - self.sz
        rho = math.sqrt(dx * dx + dy * dy + dz * dz)
        sin_el = (self.ux * dx + self.uy * dy + self.uz * dz) / rho
        rr = (dx * vx + dy * vy + dz * vz) / rho
        up_v = self.ux * vx + self.uy * vy + self.uz * vz
        cos_el = math.sqrt(max(1.0 - sin_el * sin_el, 1e-300))
        return math.degrees(math.asin(sin_el)), math.degrees((up_v - sin_el * rr) / (rho * cos_el))

    def elevation_rate_deg_s(self, t_s: float) -> float:
        """Elevation rate [deg/s] at ``t_s`` (root of it = culmination); NaN on an SGP4 error."""
        return self.state(t_s)[1]


def _hermite_max(y0, y1, m0, m1, h):
    """Max of the cubic Hermite interpolant on [0, h] (sampled), per bracket. Shapes: [N]."""
    u = np.linspace(0.0, 1.0, 17)[:, None]
    h00 = 2 * u**3 - 3 * u**2 + 1
    h10 = u**3 - 2 * u**2 + u
    h01 = -2 * u**3 + 3 * u**2
    h11 = u**3 - u**2
    vals = h00 * y0 + h10 * h * m0 + h01 * y1 + h11 * h * m1
    return vals.max(axis=0)


def _peak_estimate_deg(si, ki, el, rho, rho_dot, radius, site, step):
    """Estimated peak elevation in each culmination bracket [grid[k], grid[k+1]].

    The squared range is smooth through a culmination (exactly quadratic for straight-line
    motion), unlike the elevation, which is peaked for high passes. Its minimum is taken from the
    cubic Hermite interpolant of (rho^2, 2 rho rho_dot) at both ends and turned into an elevation
    with the spherical law of cosines. Measured on the Starlink set (600 satellites x 3 sites x
    24 h) this underestimates the refined peak by at most 0.3 deg below 60 deg and 3 deg near
    the zenith, so with ``margin_deg`` = 5 no pass is dropped before refinement.

    Shapes: si, ki [N] -> [N] float64 (deg).
    """
    y0, y1 = rho[si, ki] ** 2, rho[si, ki + 1] ** 2
    m0 = 2.0 * rho[si, ki] * rho_dot[si, ki]
    m1 = 2.0 * rho[si, ki + 1] * rho_dot[si, ki + 1]
    rho_min = np.sqrt(np.maximum(-_hermite_max(-y0, -y1, -m0, -m1, step), 1.0))
    r_sat = 0.5 * (radius[si, ki] + radius[si, ki + 1])
    r_site = float(np.linalg.norm(site.itrs_m()))
    sin_el = (r_sat**2 - r_site**2 - rho_min**2) / (2.0 * r_site * rho_min)
    return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))


def _auto_step_and_pad(constellation: Constellation, scan_step_s: float | None):
    n = constellation.mean_motion_rad_s()
    n = n[np.isfinite(n) & (n > 0)]
    period_min = float(2 * np.pi / n.max()) if n.size else 5400.0
    period_max = float(2 * np.pi / n.min()) if n.size else 5400.0
    step = scan_step_s if scan_step_s is not None else min(120.0, period_min / 40.0)
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"scan_step_s: expected a positive number of seconds, got {scan_step_s}")
    pad = 0.5 * period_max + 2 * step
    return step, pad


def compute_passes(
    constellation: Constellation,
    sites: list[Site],
    start_utc,
    duration_s: float,
    min_elevation_deg: float,
    *,
    scan_step_s: float | None = None,
    margin_deg: float = 5.0,
    chunk_elements: int = 1 << 18,
) -> pd.DataFrame:
    """Pass plan without the cache (see :func:`pass_plan`)."""
    step, pad = _auto_step_and_pad(constellation, scan_step_s)
    grid = np.arange(-pad, duration_s + pad + step, step)
    tb = TimeBase(start_utc, grid[0] - step, grid[-1] + step)
    rows: list[tuple] = []
    failures = 0
    # satellites per chunk so that one [chunk, T, 3] array stays ~6 MB whatever the window
    chunk_sats = max(1, chunk_elements // grid.size)
    for s0 in range(0, len(constellation), chunk_sats):
        rows_idx = np.arange(s0, min(s0 + chunk_sats, len(constellation)))
        err, r, v = propagate_itrs(
            satrec_array(constellation, slice(s0, rows_idx[-1] + 1)), tb, grid
        )
        bad = err != 0
        if bad.any():
            r[bad] = np.nan
            v[bad] = np.nan
        radius = np.sqrt(np.einsum("stj,stj->st", r, r))
        for site in sites:
            topo = topocentric(r, v, site, with_rate=True)
            el = topo["elevation_deg"]
            rate = topo["elevation_rate_deg_s"]
            rho = topo["slant_range_m"]
            rho_dot = topo["range_rate_m_s"]
            del topo
            ok = np.isfinite(el) & np.isfinite(rate)
            peak = ok[:, :-1] & ok[:, 1:] & (rate[:, :-1] > 0) & (rate[:, 1:] <= 0)
            si, ki = np.nonzero(peak)
            if si.size == 0:
                continue
            est = _peak_estimate_deg(si, ki, el, rho, rho_dot, radius, site, step)
            keep = np.maximum(est, np.maximum(el[si, ki], el[si, ki + 1])) >= (
                min_elevation_deg - margin_deg
            )
            si, ki = si[keep], ki[keep]
            above = el >= min_elevation_deg  # NaN -> False (treated as not visible)
            n_t = grid.size
            idx = np.broadcast_to(np.arange(n_t), el.shape)
            prev_below = np.maximum.accumulate(np.where(~above, idx, -1), axis=1)
            next_below = np.minimum.accumulate(np.where(~above, idx, n_t)[:, ::-1], axis=1)[:, ::-1]
            for s, k in zip(si.tolist(), ki.tolist()):
                row = int(rows_idx[s])
                ev = SatSiteEvaluator(constellation.satrecs[row], site, tb)
                try:
                    res = _refine_pass(
                        ev,
                        grid,
                        k,
                        min_elevation_deg,
                        int(prev_below[s, k]),
                        int(next_below[s, k + 1]),
                        above[s, k],
                        above[s, k + 1],
                    )
                except (ValueError, RuntimeError):
                    failures += 1
                    continue
                if res is None:
                    continue
                aos, tca, los, max_el = res
                lo = -math.inf if math.isnan(aos) else aos
                hi = math.inf if math.isnan(los) else los
                if hi <= 0.0 or lo >= duration_s:
                    continue
                rows.append(
                    (
                        site.name,
                        int(constellation.sat_ids[row]),
                        constellation.names[row],
                        aos,
                        tca,
                        los,
                        max_el,
                    )
                )
    if failures:
        warnings.warn(
            f"pass plan: {failures} culmination(s) skipped because SGP4 failed during refinement "
            "(run orbits.hygiene first to drop decaying satellites)",
            stacklevel=2,
        )
    return _to_frame(rows, tb, duration_s)


def _refine_pass(ev, grid, k, min_el, j_prev, j_next, above_k, above_k1):
    """(aos_s, tca_s, los_s, max_el_deg) of the culmination bracketed by grid[k], grid[k+1]."""
    t0, t1 = float(grid[k]), float(grid[k + 1])
    tca = brentq(ev.elevation_rate_deg_s, t0, t1, xtol=_ROOT_XTOL_S)
    max_el = ev.elevation_deg(tca)
    if not max_el >= min_el:
        return None
    f = lambda t: ev.elevation_deg(t) - min_el  # noqa: E731
    # AOS: elevation increases monotonically from the last sample below the minimum to the TCA
    if not above_k:
        aos = brentq(f, t0, tca, xtol=_ROOT_XTOL_S) if tca > t0 else tca
    elif j_prev >= 0:
        aos = brentq(f, float(grid[j_prev]), float(grid[j_prev + 1]), xtol=_ROOT_XTOL_S)
    else:
        aos = math.nan  # above the minimum since before the padded scan: AOS unknown
    if not above_k1:
        los = brentq(f, tca, t1, xtol=_ROOT_XTOL_S) if t1 > tca else tca
    elif j_next < grid.size:
        los = brentq(f, float(grid[j_next - 1]), float(grid[j_next]), xtol=_ROOT_XTOL_S)
    else:
        los = math.nan
    return aos, tca, los, max_el


def _to_frame(rows, tb: TimeBase, duration_s: float) -> pd.DataFrame:
    df = pd.DataFrame(
        rows, columns=["site", "sat_id", "name", "aos_s", "tca_s", "los_s", "max_elevation_deg"]
    )
    df["sat_id"] = df["sat_id"].astype(np.int64)
    for col in ("aos", "tca", "los"):
        df[f"{col}_utc"] = tb.to_utc(df[f"{col}_s"].to_numpy(dtype=float))
    df["duration_s"] = df["los_s"] - df["aos_s"]
    df["aos_in_progress"] = ~(df["aos_s"] >= 0.0)
    df["los_after_end"] = ~(df["los_s"] <= duration_s)
    df = df.sort_values(["site", "aos_s", "sat_id"], kind="stable", na_position="first")
    return _normalise(df[PASS_COLUMNS].reset_index(drop=True))


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Same dtypes whether computed or read back from the cache."""
    df = df.copy()
    for col in ("site", "name"):
        df[col] = df[col].astype(str)
    df["sat_id"] = df["sat_id"].astype(np.int64)
    for col in ("aos_in_progress", "los_after_end"):
        df[col] = df[col].astype(bool)
    for col in ("aos_utc", "tca_utc", "los_utc"):
        df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[ns, UTC]")
    return df


def pass_plan(
    constellation: Constellation,
    site,
    start_utc,
    duration_s: float,
    min_elevation_deg: float,
    cache: bool = True,
    *,
    cache_dir=None,
    scan_step_s: float | None = None,
) -> pd.DataFrame:
    """Every pass of every satellite above ``min_elevation_deg`` at one or more sites.

    Args:
        constellation: the satellites (run :func:`orbits.hygiene.hygiene` first to drop bad ones).
        site: one :class:`~orbits.site.Site` or a list of them (the ``site`` column names it).
        start_utc: timezone-aware UTC window start.
        duration_s: window length [s] (> 0).
        min_elevation_deg: minimum elevation [deg] in [-10, 90).
        cache: load/store the plan in the on-disk cache (:mod:`orbits.cache`).
        cache_dir: cache directory override (tests use a temporary one).
        scan_step_s: coarse-scan step override [s] (default automatic, see module docstring).

    Returns:
        DataFrame, one row per pass, sorted by (site, aos_s, sat_id), columns
        ``site, sat_id, name, aos_utc, tca_utc, los_utc, max_elevation_deg, aos_s, tca_s, los_s,
        duration_s, aos_in_progress, los_after_end``. ``attrs`` holds ``tle_hash``, ``sites``
        (tuples name/lat/lon/height), ``start_utc`` (ISO), ``duration_s`` and
        ``min_elevation_deg``, which :func:`orbits.serving.serving_plan` reads.
    """
    sites = as_sites(site)
    start = parse_utc(start_utc)
    duration_s = float(duration_s)
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise ValueError(f"duration_s: expected a positive number of seconds, got {duration_s}")
    min_elevation_deg = float(min_elevation_deg)
    if not (-10.0 <= min_elevation_deg < 90.0):
        raise ValueError(
            f"min_elevation_deg: expected a value in [-10, 90) deg, got {min_elevation_deg}"
        )
    if len(constellation) == 0:
        raise ValueError("constellation: expected at least one satellite, got none")
    key = None
    df = None
    if cache:
        from orbits import cache as _cache

        key = _cache.make_key(
            "passes",
            constellation=constellation,
            sites=sites,
            start_utc=start,
            duration_s=duration_s,
            min_elevation_deg=min_elevation_deg,
            extra={"scan_step_s": scan_step_s},
        )
        df = _cache.load_table(key, cache_dir)
        if df is not None:
            df = _normalise(df)
    if df is None:
        df = compute_passes(
            constellation, sites, start, duration_s, min_elevation_deg, scan_step_s=scan_step_s
        )
        if key is not None:
            _cache.store_table(key, df, cache_dir)
    df.attrs = {
        "tle_hash": constellation.tle_hash(),
        "sites": [s.key() for s in sites],
        "start_utc": start.isoformat(),
        "duration_s": duration_s,
        "min_elevation_deg": min_elevation_deg,
    }
    return df
