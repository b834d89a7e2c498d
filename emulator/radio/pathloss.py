"""Large-scale path-loss models: FSPL, slant range, and the models of seed 002.

All functions take SI inputs (m, Hz) and return dB losses or linear gains as named. The
formulas of 3GPP TR 38.811 and seed 002 are written with f in GHz and d in m; the conversion
happens here through :mod:`emulator.units`.
"""

from __future__ import annotations

import numpy as np

from emulator import units

#: Minimum 3-D distance for the terrestrial single-slope model (S2) of seed 002 [m].
MIN_TERRESTRIAL_DISTANCE_M = 10.0


def fspl_db(distance_m, carrier_hz):
    """Free-space path loss, TR 38.811 eq. (6.6-2): 32.45 + 20 log10 f[GHz] + 20 log10 d[m].

    Args:
        distance_m: link distance [m], any shape, > 0.
        carrier_hz: carrier frequency [Hz].

    Returns:
        Path loss [dB], same shape as ``distance_m``.
    """
    d = np.asarray(distance_m, dtype=float)
    f_ghz = units.hz_to_ghz(carrier_hz)
    return 32.45 + 20.0 * np.log10(f_ghz) + 20.0 * np.log10(d)


def slant_range_m(elevation_deg, altitude_m, earth_radius_m=units.EARTH_RADIUS_M):
    """Ground-to-satellite distance for an elevation angle, TR 38.811 eq. (6.6-3).

    d = sqrt(R_E^2 sin^2(a) + h^2 + 2 h R_E) - R_E sin(a).

    Args:
        elevation_deg: elevation [deg], any shape.
        altitude_m: satellite altitude above the (spherical) Earth [m].
        earth_radius_m: Earth radius [m].

    Returns:
        Slant range [m], same shape as ``elevation_deg``.
    """
    s = np.sin(units.deg_to_rad(np.asarray(elevation_deg, dtype=float)))
    r = float(earth_radius_m)
    h = np.asarray(altitude_m, dtype=float)
    return np.sqrt(r * r * s * s + h * h + 2.0 * h * r) - r * s


def cellfree_terrestrial_gain_db(
    distance_m,
    carrier_hz,
    ap_gain_dbi,
    ue_gain_dbi,
    shadowing_db=0.0,
    offset_db=0.0,
):
    """AP-user large-scale gain of seed 002, (S2) of the spec.

    beta_mk[dB] = G_m + G_k - 8.5 - 38.63 log10(d_mk / 1 m) - 20 log10(f_c[GHz]) + z_mk - L_cal.
    The distance is clamped to :data:`MIN_TERRESTRIAL_DISTANCE_M` (single slope, spec §2.3);
    ``offset_db`` is the CAL profile's extra loss ``ap_pathloss_offset_db`` (spec §9).
    The paper's z_mk ~ CN(0, delta^2) is a real Gaussian in dB (erratum E6).

    Shapes: ``distance_m`` and ``shadowing_db`` broadcast, e.g. [M, K] float64.
    """
    d = np.maximum(np.asarray(distance_m, dtype=float), MIN_TERRESTRIAL_DISTANCE_M)
    f_ghz = units.hz_to_ghz(carrier_hz)
    return (
        ap_gain_dbi
        + ue_gain_dbi
        - 8.5
        - 38.63 * np.log10(d)
        - 20.0 * np.log10(f_ghz)
        + np.asarray(shadowing_db, dtype=float)
        - offset_db
    )


def cellfree_satellite_gain_db(distance_m, carrier_hz, sat_gain_dbi, ue_gain_dbi, shadowing_db=0.0):
    """Satellite-user large-scale gain per antenna element of seed 002, (S3) of the spec.

    beta_k[dB] = G_k + G - 32.45 - 20 log10(d_k / 1 m) - 20 log10(f_c[GHz]) + z_k, i.e. the
    TR 38.811 free-space path loss with the user and per-element satellite antenna gains.

    Shapes: ``distance_m`` and ``shadowing_db`` broadcast, e.g. [K] float64.
    """
    return (
        sat_gain_dbi
        + ue_gain_dbi
        - fspl_db(distance_m, carrier_hz)
        + np.asarray(shadowing_db, dtype=float)
    )
