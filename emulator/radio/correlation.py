"""Spatial correlation models and the satellite LoS-mean / NLoS-covariance construction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emulator.radio.antenna import upa_steering


def exponential_correlation(n: int, r: float):
    """Exponential correlation matrix [C]_ij = r^|i-j|.

    Shapes: returns [n, n] float64.
    """
    idx = np.arange(int(n))
    return float(r) ** np.abs(idx[:, None] - idx[None, :])


def kronecker_correlation(n_h: int, n_v: int, r: float):
    """UPA Kronecker correlation C_H (x) C_V with exponential factors (flat index i_h n_v + i_v).

    Shapes: returns [n_h n_v, n_h n_v] float64.
    """
    return np.kron(exponential_correlation(n_h, r), exponential_correlation(n_v, r))


@dataclass(frozen=True)
class KroneckerRicianModel:
    """Correlated Rician satellite channel of seed 002, construction (S1) of the spec.

    gbar_k = sqrt(kappa_k beta_k / (kappa_k + 1)) a(u_k),
    R_k = beta_k / (kappa_k + 1) D_k (C_H (x) C_V) D_k^H, D_k = diag(a(u_k)),
    so E||g_k||^2 = N beta_k. Any Hermitian PSD R_k works downstream; this class is the
    pluggable ``SatChannelModel``.

    Attributes:
        n_h, n_v: UPA size (N = n_h n_v).
        corr_r: exponential correlation coefficient r.
        spacing_wl: element spacing in wavelengths.
    """

    n_h: int
    n_v: int
    corr_r: float
    spacing_wl: float = 0.5

    def mean_and_covariance(self, beta, kappa, direction):
        """LoS means and NLoS covariances.

        Args:
            beta: per-element large-scale gain (linear). Shapes: [K] float64.
            kappa: Rician factor (linear, 0 = Rayleigh). Shapes: [K] float64.
            direction: unit satellite->user directions in the UPA frame. Shapes: [K, 3].

        Returns:
            (gbar [K, N] complex128, R [K, N, N] complex128).
        """
        beta = np.asarray(beta, dtype=float)
        kappa = np.asarray(kappa, dtype=float)
        a = upa_steering(self.n_h, self.n_v, direction, self.spacing_wl)  # [K, N]
        gbar = np.sqrt(kappa * beta / (kappa + 1.0))[:, None] * a
        c = kronecker_correlation(self.n_h, self.n_v, self.corr_r)  # [N, N]
        scale = (beta / (kappa + 1.0))[:, None, None]
        r = scale * (a[:, :, None] * c[None, :, :] * a.conj()[:, None, :])
        return gbar, r
