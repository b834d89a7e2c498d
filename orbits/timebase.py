"""Time base of one window: seconds since a UTC start -> SGP4 Julian dates and Earth rotation.

Simulated time is float seconds ``t_s`` since a timezone-aware UTC start. Inside ``orbits`` the
mapping follows the POSIX convention (leap seconds are not counted), which is also what
:meth:`skyfield.timelib.Timescale.from_datetimes` does with Python datetimes; a window that spans
a leap second (none since 2017) would read 1 s off after it.

The TEME -> ITRS rotation is Skyfield's: for a timescale without polar motion (the built-in one,
which never touches the network) ``itrs.rotation_at(t) @ TEME.rotation_at(t).T`` reduces exactly to
``rot_z(-theta_GMST1982(UT1))`` (the GAST and precession-nutation factors cancel), which is what
:func:`skyfield.sgp4lib.TEME_to_ITRF` applies. UT1 - UTC comes from Skyfield's built-in tables,
sampled hourly across the window and interpolated linearly (error far below a microsecond).
"""

from __future__ import annotations

import datetime as _dt
import math
from functools import lru_cache

import numpy as np
import pandas as pd
from skyfield.sgp4lib import theta_GMST1982

DAY_S = 86_400.0
_POSIX_EPOCH_JD = 2_440_587.5


@lru_cache(maxsize=1)
def timescale():
    """Skyfield's built-in timescale (no download, no polar motion)."""
    from skyfield.api import load

    return load.timescale(builtin=True)


def parse_utc(value) -> _dt.datetime:
    """A timezone-aware UTC datetime from a datetime, pandas Timestamp or ISO-8601 string.

    Raises:
        ValueError: naive datetimes and unparsable strings (the message says what to pass).
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"expected an ISO-8601 UTC time like 2023-07-18T12:00:00Z, got {value!r}"
            ) from exc
        if ts is pd.NaT:
            raise ValueError(f"expected an ISO-8601 UTC time, got {value!r}")
        value = ts
    if isinstance(value, pd.Timestamp):
        value = value.round("us").to_pydatetime()
    if not isinstance(value, _dt.datetime):
        raise ValueError(
            f"expected a timezone-aware UTC datetime or ISO-8601 string, got {type(value).__name__}"
        )
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"expected a timezone-aware UTC datetime, got naive {value.isoformat()}; "
            "fix: add tzinfo=datetime.timezone.utc or a trailing 'Z'"
        )
    return value.astimezone(_dt.UTC)


def utc_iso(value: _dt.datetime) -> str:
    """Canonical ISO text of a UTC datetime (microseconds, trailing 'Z'); used in cache keys."""
    return parse_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TimeBase:
    """Maps seconds since ``start_utc`` to SGP4 Julian dates and the TEME -> ITRS angle.

    Args:
        start_utc: window start (timezone-aware).
        t_min_s: earliest time that will be asked for (may be negative).
        t_max_s: latest time that will be asked for.
    """

    def __init__(self, start_utc, t_min_s: float = 0.0, t_max_s: float = DAY_S):
        self.start_utc = parse_utc(start_utc)
        posix = self.start_utc.timestamp()
        days = math.floor(posix / DAY_S)
        jd_midnight = _POSIX_EPOCH_JD + days
        frac = (posix - days * DAY_S) / DAY_S
        # Skyfield's split: integer whole day, fraction in [-0.5, 0.5)
        self.jd_whole = jd_midnight + 0.5
        self.frac0 = frac - 0.5
        lo = math.floor(min(t_min_s, 0.0) / 3600.0) - 1
        hi = math.ceil(max(t_max_s, 0.0) / 3600.0) + 1
        self._grid_s = np.arange(lo, hi + 1, dtype=float) * 3600.0
        ts = timescale()
        times = ts.from_datetimes(
            [self.start_utc + _dt.timedelta(seconds=float(s)) for s in self._grid_s]
        )
        self._dut1_days = np.asarray(times.dut1, dtype=float) / DAY_S
        self._grid_list = self._grid_s.tolist()
        self._dut1_list = self._dut1_days.tolist()
        self._g0 = self._grid_list[0]
        #: Earth rotation rate of the TEME -> ITRS transform [rad/s] (GMST 1982 rate)
        self.theta_dot_rad_s = float(theta_GMST1982(self.jd_whole, self.frac0)[1]) / DAY_S

    # ----- vectorised -------------------------------------------------------------------------
    def utc_fraction(self, t_s) -> np.ndarray:
        """UTC day fraction relative to ``jd_whole`` (what SGP4 takes as ``fr``).

        Shapes: t_s [T] -> [T] float64.
        """
        return self.frac0 + np.asarray(t_s, dtype=float) / DAY_S

    def gmst_rad(self, t_s) -> tuple[np.ndarray, float]:
        """GMST 1982 angle [rad] (Skyfield's ``theta_GMST1982`` on UT1) and its rate [rad/s].

        Shapes: t_s [T] -> ([T] float64, scalar).
        """
        t_s = np.asarray(t_s, dtype=float)
        ut1 = self.utc_fraction(t_s) + np.interp(t_s, self._grid_s, self._dut1_days)
        theta, _ = theta_GMST1982(self.jd_whole, ut1)
        return theta, self.theta_dot_rad_s

    def rotation_teme_to_itrs(self, t_s) -> np.ndarray:
        """Rotation matrices r_itrs = R @ r_teme (Skyfield's TEME -> ITRS, no polar motion).

        Shapes: t_s [T] -> [T, 3, 3] float64.
        """
        theta, _ = self.gmst_rad(t_s)
        c, s = np.cos(theta), np.sin(theta)
        rot = np.zeros((theta.size, 3, 3))
        rot[:, 0, 0] = c
        rot[:, 0, 1] = s
        rot[:, 1, 0] = -s
        rot[:, 1, 1] = c
        rot[:, 2, 2] = 1.0
        return rot

    def skyfield_time(self, t_s):
        """Skyfield ``Time`` for ``t_s`` (tests and slow reference paths only)."""
        t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
        return timescale().from_datetimes(
            [self.start_utc + _dt.timedelta(seconds=float(s)) for s in t_s]
        )

    def to_utc(self, t_s) -> pd.DatetimeIndex:
        """UTC timestamps (pandas, tz-aware, ns precision) for seconds since start; NaN -> NaT."""
        t_s = np.asarray(t_s, dtype=float)
        start = pd.Timestamp(self.start_utc)
        delta = pd.to_timedelta(np.round(t_s * 1e6), unit="us")
        return pd.DatetimeIndex(start + delta)
