"""TLE hygiene: flag stale element sets, drop satellites SGP4 cannot propagate through the window.

* **stale**: the TLE epoch is more than ``max_epoch_age_days`` from the scenario start (either
  side). Stale satellites are kept (SGP4 still works, just less accurately) and counted; a
  :class:`StaleTLEWarning` is issued.
* **dropped**: SGP4 returns an error code at any scan time in the window (e.g. 6, decayed), the
  position is not finite, or the altitude above the WGS84 ellipsoid leaves 150-3000 km. The
  altitude check catches the garbage positions SGP4 returns with error 0 for decayed orbits
  (python-sgp4 issue #137).

The scan uses the same vectorised path as :func:`orbits.geometry.geometry` at ``step_s``
(default 300 s, plus the window's last instant).
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from orbits.geometry import propagate_itrs, satrec_array
from orbits.site import WGS84_A_M, WGS84_E2
from orbits.timebase import TimeBase, parse_utc
from orbits.tle import Constellation

MIN_ALTITUDE_M = 150e3
MAX_ALTITUDE_M = 3000e3


class StaleTLEWarning(UserWarning):
    """Some TLE epochs are far from the scenario start."""


@dataclass(frozen=True)
class HygieneReport:
    """What :func:`hygiene` found.

    Attributes:
        loaded: satellites given.
        stale: satellites kept whose epoch is more than ``max_epoch_age_days`` from the start.
        dropped: satellites removed.
        drop_reasons: count per reason (``"sgp4 error 6"``, ``"altitude outside 150-3000 km"``).
        dropped_ids: catalogue number -> reason of each dropped satellite.
        stale_ids: catalogue numbers of the stale satellites.
        max_epoch_age_days: the threshold used.
        oldest_epoch_age_days: largest |epoch - start| among the loaded satellites.
    """

    loaded: int
    stale: int
    dropped: int
    drop_reasons: dict = field(default_factory=dict)
    dropped_ids: dict = field(default_factory=dict)
    stale_ids: tuple = ()
    max_epoch_age_days: float = 14.0
    oldest_epoch_age_days: float = 0.0

    @property
    def kept(self) -> int:
        """Satellites left after dropping."""
        return self.loaded - self.dropped

    def summary(self) -> str:
        """One line for logs: loaded / stale / dropped (with reasons) / kept."""
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(self.drop_reasons.items()))
        dropped = f"dropped {self.dropped}" + (f" ({reasons})" if reasons else "")
        return (
            f"TLE hygiene: loaded {self.loaded}, stale {self.stale} (epoch > "
            f"{self.max_epoch_age_days:g} d from start; oldest {self.oldest_epoch_age_days:.1f} d),"
            f" {dropped}, kept {self.kept}"
        )


def hygiene(
    constellation: Constellation,
    start_utc,
    duration_s: float,
    max_epoch_age_days: float = 14.0,
    *,
    step_s: float = 300.0,
    warn: bool = True,
) -> tuple[Constellation, HygieneReport]:
    """Check a constellation against a scenario window.

    Args:
        constellation: the satellites.
        start_utc: timezone-aware UTC window start.
        duration_s: window length [s].
        max_epoch_age_days: staleness threshold [days].
        step_s: scan step [s] for the error and altitude checks.
        warn: issue a :class:`StaleTLEWarning` when satellites are stale.

    Returns:
        ``(kept_constellation, report)``.
    """
    start = parse_utc(start_utc)
    duration_s = float(duration_s)
    if not duration_s > 0:
        raise ValueError(f"duration_s: expected a positive number of seconds, got {duration_s}")
    if not max_epoch_age_days > 0:
        raise ValueError(f"max_epoch_age_days: expected > 0, got {max_epoch_age_days}")
    n = len(constellation)
    age_days = np.abs(
        (constellation.epochs_utc - pd.Timestamp(start)).total_seconds().to_numpy() / 86_400.0
    )
    stale = age_days > max_epoch_age_days
    grid = np.unique(np.append(np.arange(0.0, duration_s, step_s), duration_s))
    tb = TimeBase(start, 0.0, duration_s)
    reasons: dict[int, str] = {}
    chunk = max(1, (1 << 20) // grid.size)
    for s0 in range(0, n, chunk):
        sl = slice(s0, min(n, s0 + chunk))
        err, r, _ = propagate_itrs(satrec_array(constellation, sl), tb, grid)
        x, y, z = r[..., 0], r[..., 1], r[..., 2]
        rad = np.sqrt(x * x + y * y + z * z)
        # height above the ellipsoid along the geocentric direction (good to ~20 m at LEO)
        sin2 = np.where(rad > 0, (z / np.where(rad > 0, rad, 1.0)) ** 2, 0.0)
        r_ell = WGS84_A_M * np.sqrt((1 - WGS84_E2) / (1 - WGS84_E2 * (1 - sin2)))
        alt = rad - r_ell
        has_err = (err != 0).any(axis=1)
        first_code = err[np.arange(err.shape[0]), np.argmax(err != 0, axis=1)]
        finite = np.isfinite(alt).all(axis=1)
        with np.errstate(invalid="ignore"):
            out_of_range = (
                np.nanmin(np.where(finite[:, None], alt, 0.0), axis=1) < MIN_ALTITUDE_M
            ) | (np.nanmax(np.where(finite[:, None], alt, 0.0), axis=1) > MAX_ALTITUDE_M)
        for i in np.nonzero(has_err | ~finite | out_of_range)[0].tolist():
            row = sl.start + i
            if has_err[i]:
                reasons[row] = f"sgp4 error {int(first_code[i])}"
            elif not finite[i]:
                reasons[row] = "non-finite position"
            else:
                reasons[row] = "altitude outside 150-3000 km"
    keep = [i for i in range(n) if i not in reasons]
    kept = constellation if len(keep) == n else constellation._take(keep)
    report = HygieneReport(
        loaded=n,
        stale=int(stale.sum()),
        dropped=len(reasons),
        drop_reasons=dict(Counter(reasons.values())),
        dropped_ids={int(constellation.sat_ids[i]): r for i, r in reasons.items()},
        stale_ids=tuple(int(x) for x in constellation.sat_ids[stale]),
        max_epoch_age_days=float(max_epoch_age_days),
        oldest_epoch_age_days=float(age_days.max()) if n else 0.0,
    )
    if warn and report.stale:
        warnings.warn(report.summary(), StaleTLEWarning, stacklevel=2)
    return kept, report
