"""Antenna models: the satellite Bessel aperture pattern and ULA / UPA steering vectors."""

from __future__ import annotations

import numpy as np
from scipy.special import j1

from emulator import units

#: Argument x of 4 |J1(x)/x|^2 = 1/2 (half power), used for the 3-dB beamwidth.
BESSEL_HALF_POWER_ARG = 1.616339948310703


def bessel_pattern_gain(off_axis_rad, aperture_diameter_m, carrier_hz):
    """Normalised circular-aperture gain G(theta)/G_max of TR 38.811 §6.4.1.

    G/G_max = 1 at theta = 0, 4 |J1(k a sin theta) / (k a sin theta)|^2 for 0 < |theta| <= 90
    deg, with k = 2 pi f / c and a = aperture radius = D / 2.

    Shapes: same as ``off_axis_rad``; returns linear gain in [0, 1].
    """
    theta = np.abs(np.asarray(off_axis_rad, dtype=float))
    k = 2.0 * np.pi / units.wavelength_m(carrier_hz)
    x = k * (0.5 * float(aperture_diameter_m)) * np.sin(theta)
    small = np.abs(x) < 1e-12
    xs = np.where(small, 1.0, x)
    g = 4.0 * (j1(xs) / xs) ** 2
    return np.where(small, 1.0, g)


def bessel_beamwidth_3db_deg(aperture_diameter_m, carrier_hz):
    """Full 3-dB beamwidth [deg] of the Bessel aperture pattern (2 * half-power angle)."""
    k = 2.0 * np.pi / units.wavelength_m(carrier_hz)
    s = BESSEL_HALF_POWER_ARG / (k * 0.5 * float(aperture_diameter_m))
    return float(2.0 * units.rad_to_deg(np.arcsin(s)))


def ula_steering(num_elements: int, direction_cosine, spacing_wl: float = 0.5):
    """ULA steering vectors a_n = exp(j 2 pi d n cos(psi)), n = 0..N-1.

    Args:
        num_elements: N.
        direction_cosine: cosine of the angle between the array axis and the direction
            (e.g. u_x of a unit vector). Shapes: [...].
        spacing_wl: element spacing in wavelengths (0.5 = half wavelength).

    Returns:
        Shapes: [..., N] complex128, with ||a||^2 = N.
    """
    c = np.asarray(direction_cosine, dtype=float)[..., None]
    n = np.arange(int(num_elements), dtype=float)
    return np.exp(1j * 2.0 * np.pi * spacing_wl * n * c)


def upa_steering(n_h: int, n_v: int, direction, spacing_wl: float = 0.5):
    """UPA steering vectors in the array frame (array in the x-y plane), spec (S1) of 002.

    Element (i_h, i_v) has phase 2 pi d (i_h u_x + i_v u_y) and flat index i_h * n_v + i_v,
    so the vector is kron(a_H(u_x), a_V(u_y)).

    Args:
        n_h, n_v: elements along x and along y.
        direction: unit direction vectors in the array frame. Shapes: [..., 3] (or [..., 2]).
        spacing_wl: element spacing in wavelengths.

    Returns:
        Shapes: [..., n_h * n_v] complex128, with ||a||^2 = n_h n_v.
    """
    u = np.asarray(direction, dtype=float)
    a_h = ula_steering(n_h, u[..., 0], spacing_wl)  # [..., n_h]
    a_v = ula_steering(n_v, u[..., 1], spacing_wl)  # [..., n_v]
    return (a_h[..., :, None] * a_v[..., None, :]).reshape(*u.shape[:-1], n_h * n_v)
