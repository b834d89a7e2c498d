"""Pilot assignment and contamination (seed 002 §III-A, spec §3.1)."""

from __future__ import annotations

import math

import numpy as np


def default_tau_p(num_users: int) -> int:
    """Pilot length tau_p = ceil(K / 2) (spec §3.4: "K/2", rounded up for odd K)."""
    return max(1, math.ceil(int(num_users) / 2))


def assign_pilots(num_users: int, tau_p: int):
    """Pilot index t_k = k mod tau_p (0-based), spec §3.1 [ASSUMED rule].

    Shapes: returns [K] int64.
    """
    if tau_p < 1:
        raise ValueError(f"tau_p must be >= 1, got {tau_p}")
    return np.arange(int(num_users), dtype=np.int64) % int(tau_p)


def pilot_sharing(pilot_index):
    """Pilot-sharing matrix S[k, j] = (t_k == t_j), eq. (1) of 002 (true diagonal).

    Shapes: [K] int -> [K, K] bool.
    """
    t = np.asarray(pilot_index)
    return t[:, None] == t[None, :]
