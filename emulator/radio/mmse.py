"""MMSE channel estimation of seed 002 (Lemma 1), with estimate and error covariances.

Terrestrial (scalar per AP): eqs. (6)-(8). Satellite (vector at the gateway): eqs. (9)-(11)
with the corrected mean of the received pilot (erratum E4 of the spec: (9) prints
ybar_pk = sum p tau_p gbar_k; the correct one is sqrt(p tau_p) sum_{k' in P_k} gbar_k').
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class APEstimates:
    """Terrestrial MMSE statistics (Lemma 1, eqs. (7)-(8) of 002).

    Attributes:
        c: MMSE coefficients c_mk. Shapes: [M, K] float64.
        gamma: estimate variance E|ghat_mk|^2. Shapes: [M, K] float64.
        error_var: error variance beta_mk - gamma_mk. Shapes: [M, K] float64.
    """

    c: np.ndarray
    gamma: np.ndarray
    error_var: np.ndarray


@dataclass(frozen=True)
class SatEstimates:
    """Satellite MMSE statistics (Lemma 1, eqs. (9)-(11) of 002).

    Attributes:
        phi_group: Phi per pilot, (p tau_p sum_{k' using t} R_k' + s2s I)^{-1}. [tau_p, N, N]
        phi: Phi_k gathered per user (shared within a pilot group). [K, N, N] complex128
        x: X_k = Phi_k R_k. [K, N, N] complex128
        psi: Psi_k = p tau_p R_k Phi_k R_k, covariance of ghat_k - gbar_k. [K, N, N]
        error_cov: R_k - Psi_k, covariance of the error e_k. [K, N, N] complex128
    """

    phi_group: np.ndarray
    phi: np.ndarray
    x: np.ndarray
    psi: np.ndarray
    error_cov: np.ndarray


def ap_mmse(beta, pilot_index, pilot_energy, noise_w) -> APEstimates:
    """Terrestrial MMSE estimation, eqs. (7)-(8) of 002.

    c_mk = sqrt(p tau_p) beta_mk / (p tau_p sum_{k' in P_k} beta_mk' + s2a),
    gamma_mk = sqrt(p tau_p) beta_mk c_mk.

    Args:
        beta: AP-user large-scale gains (linear). Shapes: [M, K].
        pilot_index: t_k. Shapes: [K] int.
        pilot_energy: p tau_p [W symbol].
        noise_w: AP noise power s2a [W].
    """
    beta = np.asarray(beta, dtype=float)
    t = np.asarray(pilot_index)
    tau = int(t.max()) + 1 if t.size else 1
    # sum over the pilot group: per-pilot sums gathered back per user
    group = np.zeros((beta.shape[0], tau))
    np.add.at(group.T, t, beta.T)
    den = pilot_energy * group[:, t] + noise_w  # [M, K]
    c = np.sqrt(pilot_energy) * beta / den  # eq. (7)
    gamma = pilot_energy * beta**2 / den  # eq. (8)
    return APEstimates(c=c, gamma=gamma, error_var=beta - gamma)


def sat_mmse(cov, pilot_index, pilot_energy, noise_w, tau_p: int | None = None) -> SatEstimates:
    """Satellite MMSE estimation, eqs. (9)-(11) of 002.

    Phi_k = (p tau_p sum_{k' in P_k} R_k' + s2s I_N)^{-1} is inverted once per pilot and
    gathered per user; Psi_k = p tau_p R_k Phi_k R_k.

    Args:
        cov: NLoS covariances R_k. Shapes: [K, N, N] complex128.
        pilot_index: t_k. Shapes: [K] int.
        pilot_energy: p tau_p.
        noise_w: satellite noise power per antenna s2s (same unit as ``cov``).
        tau_p: number of pilots (default: max(t) + 1).
    """
    cov = np.asarray(cov)
    t = np.asarray(pilot_index)
    k, n, _ = cov.shape
    tau = int(tau_p) if tau_p is not None else (int(t.max()) + 1 if k else 1)
    group = np.zeros((tau, n, n), dtype=complex)
    np.add.at(group, t, cov)
    mat = pilot_energy * group + noise_w * np.eye(n)[None]
    phi_group = np.linalg.inv(mat)  # eq. (9b)
    phi_group = 0.5 * (phi_group + np.swapaxes(phi_group.conj(), -1, -2))
    phi = phi_group[t]
    x = phi @ cov  # X_k = Phi_k R_k
    psi = pilot_energy * (cov @ x)  # eq. (10): p tau_p R_k Phi_k R_k
    psi = 0.5 * (psi + np.swapaxes(psi.conj(), -1, -2))
    return SatEstimates(phi_group=phi_group, phi=phi, x=x, psi=psi, error_cov=cov - psi)
