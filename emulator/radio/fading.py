"""Small-scale fading draws (Rayleigh, correlated Rician) from caller-supplied generators.

Generators come from :func:`emulator.rng.stream` (named streams, DESIGN §5); nothing here
creates its own randomness.
"""

from __future__ import annotations

import numpy as np


def complex_normal(rng: np.random.Generator, shape, variance=1.0):
    """i.i.d. CN(0, variance) samples (circularly symmetric).

    Shapes: ``shape`` complex128 (``variance`` broadcasts against it).
    """
    shape = tuple(np.atleast_1d(shape).tolist()) if not isinstance(shape, tuple) else shape
    x = rng.standard_normal(shape + (2,))  # real and imaginary parts, interleaved
    x *= np.sqrt(np.asarray(variance, dtype=float) / 2.0)[..., None]
    return x.view(np.complex128).reshape(shape)


def rayleigh(rng: np.random.Generator, beta, num_draws: int):
    """Rayleigh channels g ~ CN(0, beta), i.i.d. over draws and entries.

    Shapes: ``beta`` [...]; returns [num_draws, ...] complex128.
    """
    beta = np.asarray(beta, dtype=float)
    return complex_normal(rng, (int(num_draws),) + beta.shape) * np.sqrt(beta)


def psd_sqrt(cov):
    """Hermitian square root of a stack of PSD matrices (eigendecomposition; may be singular).

    Shapes: [..., N, N] -> [..., N, N] complex128 with S S^H = cov.
    """
    w, v = np.linalg.eigh(cov)
    w = np.clip(w, 0.0, None)
    return (v * np.sqrt(w)[..., None, :]) @ np.swapaxes(v.conj(), -1, -2)


def correlated_rician(rng: np.random.Generator, gbar, cov_sqrt, num_draws: int):
    """Correlated Rician vectors g_k = gbar_k + R_k^{1/2} h, h ~ CN(0, I).

    Args:
        gbar: LoS means. Shapes: [K, N] complex128.
        cov_sqrt: square roots of the NLoS covariances (see :func:`psd_sqrt`). [K, N, N].
        num_draws: T.

    Returns:
        Shapes: [T, K, N] complex128.
    """
    k, n = np.shape(gbar)
    h = complex_normal(rng, (int(num_draws), k, n))
    return gbar[None] + np.einsum("kab,tkb->tka", cov_sqrt, h)
