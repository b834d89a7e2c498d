"""Unit conversions and physical constants: the only place where conversions live.

Everything inside the emulator is SI (W, m, Hz, s, rad, linear power ratios). dB, dBm,
degrees and GHz appear only at the edges (scenario files, reports) and are converted here.
"""

from __future__ import annotations

import numpy as np

#: Speed of light in vacuum [m/s] (exact, SI).
SPEED_OF_LIGHT_M_S = 299_792_458.0
#: Boltzmann constant [J/K] (exact, SI 2019).
BOLTZMANN_J_K = 1.380649e-23
#: Reference noise temperature [K] (IEEE standard 290 K).
REFERENCE_TEMPERATURE_K = 290.0
#: Mean Earth radius [m] (IUGG).
EARTH_RADIUS_M = 6_371_008.8


def db_to_linear(value_db):
    """Power ratio in dB -> linear ratio. Works elementwise on arrays."""
    return np.power(10.0, np.asarray(value_db, dtype=float) / 10.0)


def linear_to_db(value_linear):
    """Linear power ratio -> dB. Zero maps to -inf (no warning)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(value_linear, dtype=float))


def dbm_to_w(power_dbm):
    """Power in dBm -> W."""
    return np.power(10.0, (np.asarray(power_dbm, dtype=float) - 30.0) / 10.0)


def w_to_dbm(power_w):
    """Power in W -> dBm. Zero maps to -inf (no warning)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(power_w, dtype=float)) + 30.0


def dbw_to_w(power_dbw):
    """Power in dBW -> W."""
    return np.power(10.0, np.asarray(power_dbw, dtype=float) / 10.0)


def w_to_dbw(power_w):
    """Power in W -> dBW."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(power_w, dtype=float))


def ghz_to_hz(freq_ghz):
    """Frequency in GHz -> Hz."""
    return np.asarray(freq_ghz, dtype=float) * 1e9


def hz_to_ghz(freq_hz):
    """Frequency in Hz -> GHz (used by path-loss formulas written in GHz)."""
    return np.asarray(freq_hz, dtype=float) / 1e9


def mhz_to_hz(freq_mhz):
    """Frequency in MHz -> Hz."""
    return np.asarray(freq_mhz, dtype=float) * 1e6


def bps_to_mbps(rate_bps):
    """Rate in bit/s -> Mbit/s."""
    return np.asarray(rate_bps, dtype=float) / 1e6


def km_to_m(distance_km):
    """Distance in km -> m."""
    return np.asarray(distance_km, dtype=float) * 1e3


def m_to_km(distance_m):
    """Distance in m -> km."""
    return np.asarray(distance_m, dtype=float) / 1e3


def deg_to_rad(angle_deg):
    """Angle in degrees -> radians."""
    return np.deg2rad(angle_deg)


def rad_to_deg(angle_rad):
    """Angle in radians -> degrees."""
    return np.rad2deg(angle_rad)


def wavelength_m(carrier_hz):
    """Free-space wavelength [m] of a carrier frequency [Hz]."""
    return SPEED_OF_LIGHT_M_S / np.asarray(carrier_hz, dtype=float)


def thermal_noise_w(bandwidth_hz, noise_figure_db=0.0, temperature_k=REFERENCE_TEMPERATURE_K):
    """Thermal noise power kTB scaled by the noise figure [W].

    At 290 K the density is -173.98 dBm/Hz; 20 MHz with NF 1.2 dB gives -99.79 dBm.
    """
    return (
        BOLTZMANN_J_K
        * float(temperature_k)
        * np.asarray(bandwidth_hz, dtype=float)
        * db_to_linear(noise_figure_db)
    )


def thermal_noise_dbm(bandwidth_hz, noise_figure_db=0.0, temperature_k=REFERENCE_TEMPERATURE_K):
    """Thermal noise power kTB + NF in dBm."""
    return w_to_dbm(thermal_noise_w(bandwidth_hz, noise_figure_db, temperature_k))


def noise_from_density_w(density_dbm_hz, bandwidth_hz, noise_figure_db=0.0):
    """Noise power [W] from a density in dBm/Hz (e.g. the papers' -174 dBm/Hz), bandwidth and NF."""
    return dbm_to_w(
        np.asarray(density_dbm_hz, dtype=float)
        + 10.0 * np.log10(np.asarray(bandwidth_hz, dtype=float))
        + np.asarray(noise_figure_db, dtype=float)
    )
