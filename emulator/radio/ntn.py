"""3GPP TR 38.811 elevation-dependent large-scale parameters (tables from channel-models.md).

The tables are given at elevations 10, 20, ..., 90 deg; values in between are linearly
interpolated (nicer than OpenNTN's round-to-nearest-10 deg for a moving satellite), and
elevations outside [10, 90] deg are clamped to the nearest table entry.

Scenarios: ``"dense_urban"``, ``"urban"``, ``"suburban"`` (suburban and rural share a table).
Bands: ``"S"`` (S band, 2-4 GHz) and ``"Ka"``.
"""

from __future__ import annotations

import numpy as np

from emulator import units

#: Table elevations [deg].
ELEVATIONS_DEG = np.arange(10.0, 91.0, 10.0)

# TR 38.811 Table 6.6.1-1, LoS probability [%].
_LOS_PROBABILITY_PCT = {
    "dense_urban": [28.2, 33.1, 39.8, 46.8, 53.7, 61.2, 73.8, 82.0, 98.1],
    "urban": [24.6, 38.6, 49.3, 61.3, 72.6, 80.5, 91.9, 96.8, 99.2],
    "suburban": [78.2, 86.9, 91.9, 92.9, 93.5, 94.0, 94.9, 95.2, 99.8],
}

# TR 38.811 Tables 6.6.2-1..3: (sigma_LOS dB, sigma_NLOS dB, clutter loss dB).
_DU_S = (
    [3.5, 3.4, 2.9, 3.0, 3.1, 2.7, 2.5, 2.3, 1.2],
    [15.5, 13.9, 12.4, 11.7, 10.6, 10.5, 10.1, 9.2, 9.2],
    [34.3, 30.9, 29.0, 27.7, 26.8, 26.2, 25.8, 25.5, 25.5],
)
_DU_KA = (
    [2.9, 2.4, 2.7, 2.4, 2.4, 2.7, 2.6, 2.8, 0.6],
    [17.1, 17.1, 15.6, 14.6, 14.2, 12.6, 12.1, 12.3, 12.3],
    [44.3, 39.9, 37.5, 35.8, 34.6, 33.8, 33.3, 33.0, 32.9],
)
_SHADOW_CLUTTER = {
    ("dense_urban", "S"): _DU_S,
    ("dense_urban", "Ka"): _DU_KA,
    # urban: sigma_LOS 4, sigma_NLOS 6 (TR 38.901 UMa); CL as dense urban of the same band
    ("urban", "S"): ([4.0] * 9, [6.0] * 9, _DU_S[2]),
    ("urban", "Ka"): ([4.0] * 9, [6.0] * 9, _DU_KA[2]),
    ("suburban", "S"): (
        [1.79, 1.14, 1.14, 0.92, 1.42, 1.56, 0.85, 0.72, 0.72],
        [8.93, 9.08, 8.78, 10.25, 10.56, 10.74, 10.17, 11.52, 11.52],
        [19.52, 18.17, 18.42, 18.28, 18.63, 17.68, 16.50, 16.30, 16.30],
    ),
    ("suburban", "Ka"): (
        [1.9, 1.6, 1.9, 2.3, 2.7, 3.1, 3.0, 3.6, 0.4],
        [10.7, 10.0, 11.2, 11.6, 11.8, 10.8, 10.8, 10.8, 10.8],
        [29.5, 24.6, 21.9, 20.0, 18.7, 17.8, 17.2, 16.9, 16.8],
    ),
}

# TR 38.811 Tables 6.7.2-*: LoS Rician K factor, (mean dB, std dB). The std is given only for
# dense urban S band in our source; elsewhere it is 0 (deterministic K per elevation).
_RICIAN_K = {
    ("dense_urban", "S"): (
        [4.4, 9.0, 9.3, 7.9, 7.4, 7.0, 6.9, 6.5, 6.8],
        [3.3, 6.6, 6.1, 4.0, 3.0, 2.6, 2.2, 2.1, 1.9],
    ),
    ("dense_urban", "Ka"): ([6.1, 13.7, 12.9, 10.3, 9.2, 8.4, 8.0, 7.4, 7.6], [0.0] * 9),
    ("urban", "S"): ([31.83, 18.78, 10.49, 7.46, 6.52, 5.47, 4.54, 4.03, 3.68], [0.0] * 9),
    ("urban", "Ka"): ([40.18, 23.62, 12.48, 8.56, 7.42, 5.97, 4.88, 4.22, 3.81], [0.0] * 9),
    ("suburban", "S"): ([11.4, 19.45, 20.8, 21.2, 21.6, 19.75, 12.0, 12.85, 12.85], [0.0] * 9),
    ("suburban", "Ka"): ([8.9, 14.0, 11.3, 9.0, 7.5, 6.6, 5.9, 5.5, 5.4], [0.0] * 9),
}

SCENARIOS = tuple(_LOS_PROBABILITY_PCT)
BANDS = ("S", "Ka")


def _check(scenario: str, band: str | None = None) -> None:
    if scenario not in _LOS_PROBABILITY_PCT:
        raise ValueError(
            f"unknown TR 38.811 scenario {scenario!r}: expected one of {list(SCENARIOS)}"
        )
    if band is not None and band not in BANDS:
        raise ValueError(f"unknown TR 38.811 band {band!r}: expected one of {list(BANDS)}")


def _interp(elevation_deg, table):
    e = np.clip(np.asarray(elevation_deg, dtype=float), ELEVATIONS_DEG[0], ELEVATIONS_DEG[-1])
    return np.interp(e, ELEVATIONS_DEG, np.asarray(table, dtype=float))


def los_probability(elevation_deg, scenario: str = "urban"):
    """LoS probability in [0, 1] at an elevation (TR 38.811 Table 6.6.1-1, interpolated).

    Shapes: same as ``elevation_deg``.
    """
    _check(scenario)
    return _interp(elevation_deg, _LOS_PROBABILITY_PCT[scenario]) / 100.0


def shadow_fading_std_db(elevation_deg, los, scenario: str = "urban", band: str = "S"):
    """Shadow-fading standard deviation [dB] (TR 38.811 Tables 6.6.2-1..3, interpolated).

    Args:
        elevation_deg: elevation [deg].
        los: bool (array), True for a LoS link.
        scenario, band: table selector.

    Shapes: broadcast of ``elevation_deg`` and ``los``.
    """
    _check(scenario, band)
    s_los, s_nlos, _ = _SHADOW_CLUTTER[(scenario, band)]
    return np.where(los, _interp(elevation_deg, s_los), _interp(elevation_deg, s_nlos))


def clutter_loss_db(elevation_deg, los, scenario: str = "urban", band: str = "S"):
    """Clutter loss [dB]: 0 for LoS, the TR 38.811 table value for NLoS (interpolated)."""
    _check(scenario, band)
    cl = _SHADOW_CLUTTER[(scenario, band)][2]
    return np.where(los, 0.0, _interp(elevation_deg, cl))


def rician_k_db(elevation_deg, scenario: str = "urban", band: str = "S"):
    """LoS Rician K factor (mean dB, std dB) at an elevation (TR 38.811 6.7.2, interpolated).

    Returns:
        (mean_db, std_db), each with the shape of ``elevation_deg``.
    """
    _check(scenario, band)
    mu, sd = _RICIAN_K[(scenario, band)]
    return _interp(elevation_deg, mu), _interp(elevation_deg, sd)


def large_scale(elevation_deg, los_uniform, shadow_normal, k_normal, scenario="urban", band="S"):
    """Per-link TR 38.811 large-scale state from pre-drawn standard variates.

    Taking the variates as inputs keeps this function deterministic: the caller draws them
    from a named stream (e.g. keyed by user id, so a user's state is stable across epochs).

    Args:
        elevation_deg: elevation [deg]. Shapes: [K] (or scalar, broadcast).
        los_uniform: U(0, 1) variates; the link is LoS when below the LoS probability. [K]
        shadow_normal: N(0, 1) variates for the shadow fading. [K]
        k_normal: N(0, 1) variates for the Rician K factor. [K]

    Returns:
        (los [K] bool, extra_loss_db [K] = clutter loss - shadow fading, kappa_linear [K]):
        NLoS links get kappa = 0 (Rayleigh).
    """
    los = np.asarray(los_uniform, dtype=float) < los_probability(elevation_deg, scenario)
    sf_db = shadow_fading_std_db(elevation_deg, los, scenario, band) * np.asarray(shadow_normal)
    loss_db = clutter_loss_db(elevation_deg, los, scenario, band) - sf_db
    mu, sd = rician_k_db(elevation_deg, scenario, band)
    kappa = np.where(los, units.db_to_linear(mu + sd * np.asarray(k_normal)), 0.0)
    return los, loss_db, kappa
