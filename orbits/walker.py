"""Synthetic Walker-delta constellations, emitted as real TLE text so they are TLE satellites.

``walker_delta(T, P, F, ...)`` is the Walker i:T/P/F pattern: P equally spaced planes
(RAAN_k = raan0 + 360 k / P), T/P satellites per plane equally spaced in argument of latitude,
and a phase offset of 360 F / T between adjacent planes (u_kj = 360 j P / T + 360 F k / T).
Orbits are circular (eccentricity 0, argument of perigee 0, so mean anomaly = argument of
latitude) with no drag. The altitude is the orbit-averaged geocentric radius of the SGP4 orbit
minus the WGS72 equatorial radius that SGP4 uses (6378.135 km); the Kozai mean motion written to
the TLE is solved for it by fixed-point iteration on SGP4 itself.

Every satellite is written as a checksummed 3-line TLE and parsed back with
:func:`orbits.tle.load_tle`, so Walker and real constellations are the same objects (same
rounding to TLE precision, same hash, same validation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from orbits.timebase import parse_utc
from orbits.tle import Constellation, load_tle, tle_checksum

WGS72_RADIUS_M = 6_378_135.0
WGS72_MU_M3_S2 = 398_600.8e9
_ALPHA5 = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _catnum_text(sat_id: int) -> str:
    if 0 < sat_id <= 99_999:
        return f"{sat_id:05d}"
    if 100_000 <= sat_id <= 339_999:
        head, tail = divmod(sat_id, 10_000)
        return f"{_ALPHA5[head - 10]}{tail:04d}"
    raise ValueError(f"sat_id: expected 1..339999 (5 digits or Alpha-5), got {sat_id}")


def _with_checksum(line68: str) -> str:
    if len(line68) != 68:  # internal invariant of format_tle
        raise RuntimeError(f"TLE formatting produced {len(line68)} columns: {line68!r}")
    return line68 + str(tle_checksum(line68))


def format_tle(
    sat_id: int,
    epoch_utc,
    inclination_deg: float,
    raan_deg: float,
    eccentricity: float,
    arg_perigee_deg: float,
    mean_anomaly_deg: float,
    mean_motion_rev_day: float,
    *,
    intl_designator: str = "",
) -> tuple[str, str]:
    """Checksummed TLE lines 1 and 2 for the given mean elements (no drag terms).

    Raises:
        ValueError: an element outside the TLE field range.
    """
    epoch = parse_utc(epoch_utc)
    year_start = epoch.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    doy = 1.0 + (epoch - year_start).total_seconds() / 86_400.0
    epoch_text = f"{epoch.year % 100:02d}{doy:012.8f}"
    if not 0 <= eccentricity < 1:
        raise ValueError(f"eccentricity: expected [0, 1), got {eccentricity}")
    if not 0 < mean_motion_rev_day < 100:
        raise ValueError(f"mean motion: expected (0, 100) rev/day, got {mean_motion_rev_day}")
    cat = _catnum_text(int(sat_id))
    l1 = f"1 {cat}U {intl_designator:<8.8s} {epoch_text}  .00000000  00000-0  00000-0 0  999"
    ecc_text = f"{eccentricity:.7f}"[2:]
    l2 = (
        f"2 {cat} {inclination_deg:8.4f} "
        f"{raan_deg % 360.0:8.4f} {ecc_text} {arg_perigee_deg % 360.0:8.4f} "
        f"{mean_anomaly_deg % 360.0:8.4f} {mean_motion_rev_day:11.8f}    0"
    )
    # guard against '360.0000' produced by rounding
    l2 = l2.replace("360.0000", "  0.0000")
    return _with_checksum(l1), _with_checksum(l2)


def _kozai_mean_motion(altitude_m: float, inclination_deg: float) -> float:
    """Kozai mean motion [rev/day] whose SGP4 orbit-averaged radius is R_WGS72 + altitude.

    Fixed-point iteration on SGP4 itself (n scales as radius^-3/2), so the J2 short-period
    terms (a few km, depending on inclination) are included.
    """
    import numpy as np
    from sgp4.api import WGS72, Satrec

    target_km = (WGS72_RADIUS_M + altitude_m) / 1e3
    n_rev_day = math.sqrt(WGS72_MU_M3_S2 / (target_km * 1e3) ** 3) * 86_400 / (2 * math.pi)
    for _ in range(5):
        l1, l2 = format_tle(1, "2000-01-01T00:00:00Z", inclination_deg, 0, 0, 0, 0, n_rev_day)
        sat = Satrec.twoline2rv(l1, l2, WGS72)
        t_min = np.linspace(0.0, 1440.0 / n_rev_day, 360, endpoint=False)
        _, r, _ = sat.sgp4_array(
            np.full(t_min.size, sat.jdsatepoch), sat.jdsatepochF + t_min / 1440
        )
        mean_radius_km = float(np.linalg.norm(r, axis=1).mean())
        n_rev_day *= (mean_radius_km / target_km) ** 1.5
    return n_rev_day


def walker_delta(
    total: int,
    planes: int,
    phasing: int,
    altitude_m: float,
    inclination_deg: float,
    epoch_utc,
    *,
    raan0_deg: float = 0.0,
    first_sat_id: int = 90_001,
    name_prefix: str = "WALKER",
) -> Constellation:
    """A Walker-delta constellation ``inclination: total/planes/phasing``.

    Args:
        total: number of satellites T (a multiple of ``planes``).
        planes: number of orbital planes P.
        phasing: Walker phasing factor F in [0, P).
        altitude_m: orbit-averaged radius minus the WGS72 equatorial radius [m] (150-3000 km).
        inclination_deg: inclination [deg] in [0, 180].
        epoch_utc: element epoch (timezone-aware UTC).
        raan0_deg: RAAN of plane 0 [deg].
        first_sat_id: catalogue number of the first satellite; the rest follow consecutively.
        name_prefix: names are ``{prefix}-P{plane}-S{slot}``.

    Returns:
        The :class:`~orbits.tle.Constellation` (plane-major order).
    """
    for nm, val in (("total", total), ("planes", planes), ("phasing", phasing)):
        if not isinstance(val, int) or isinstance(val, bool):
            raise ValueError(f"{nm}: expected an integer, got {val!r}")
    if planes < 1 or total < planes or total % planes:
        raise ValueError(
            f"total/planes: expected total a positive multiple of planes, got {total}/{planes}"
        )
    if not 0 <= phasing < planes:
        raise ValueError(f"phasing: expected an integer in [0, {planes}), got {phasing}")
    if not 150e3 <= altitude_m <= 3000e3:
        raise ValueError(f"altitude_m: expected 150 km .. 3000 km, got {altitude_m} m")
    if not 0.0 <= inclination_deg <= 180.0:
        raise ValueError(f"inclination_deg: expected [0, 180], got {inclination_deg}")
    n = _kozai_mean_motion(altitude_m, inclination_deg)
    per_plane = total // planes
    parts = []
    sat_id = first_sat_id
    for k in range(planes):
        raan = raan0_deg + 360.0 * k / planes
        for j in range(per_plane):
            u = 360.0 * j / per_plane + 360.0 * phasing * k / total
            l1, l2 = format_tle(sat_id, epoch_utc, inclination_deg, raan, 0.0, 0.0, u, n)
            parts.append(f"{name_prefix}-P{k:02d}-S{j:02d}\n{l1}\n{l2}\n")
            sat_id += 1
    source = f"walker {inclination_deg:g}:{total}/{planes}/{phasing} @ {altitude_m / 1e3:g} km"
    return load_tle("".join(parts), source=source)


def multi_shell(shells: Sequence, *, first_sat_id: int = 90_001) -> Constellation:
    """Several shells as one constellation.

    Args:
        shells: each item is a :class:`~orbits.tle.Constellation` (kept as is) or a mapping of
            :func:`walker_delta` keyword arguments (``total, planes, phasing, altitude_m,
            inclination_deg, epoch_utc`` and optional ``raan0_deg``); Walker shells get
            consecutive catalogue numbers from ``first_sat_id`` and names ``SHELL{i}-...``
            unless they give their own.

    Raises:
        ValueError: no shells, an unknown item, or a catalogue number used twice.
    """
    if not shells:
        raise ValueError("shells: expected at least one shell, got none")
    texts = []
    next_id = first_sat_id
    for i, shell in enumerate(shells):
        if isinstance(shell, Constellation):
            c = shell
        elif isinstance(shell, Mapping):
            kwargs = dict(shell)
            kwargs.setdefault("first_sat_id", next_id)
            kwargs.setdefault("name_prefix", f"SHELL{i}")
            c = walker_delta(**kwargs)
            next_id = int(c.sat_ids.max()) + 1
        else:
            raise ValueError(
                f"shells[{i}]: expected a Constellation or a dict of walker_delta arguments, "
                f"got {type(shell).__name__}"
            )
        texts.extend(f"{c.names[j]}\n{c.line1[j]}\n{c.line2[j]}\n" for j in range(len(c)))
    return load_tle("".join(texts), source=f"multi-shell ({len(shells)} shells)")
