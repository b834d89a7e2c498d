"""Closed form (S8) against Monte-Carlo simulation of the same system (spec §4.5, P1).

The Monte Carlo draws true channels, simulates the received pilots (one noise sample per
(AP, pilot) and (satellite, pilot)), forms the MMSE estimates, combines with MRC and
evaluates (20) with sample means. Rates must agree within 2 % per user and for the sum.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulator.rng import stream
from emulator.systems import cellfree_uplink as cf

RED = cf.REDUCED


def _check(obs, num_draws, seed, rel=0.02):
    rng = stream(seed, "test/mc-power")
    rho = rng.uniform(0.25, 1.0, obs.num_users) * obs.max_power_w
    closed = cf.statistics(obs).rates_bps(rho)
    mc = cf.mc_statistics(obs, num_draws=num_draws, seed=seed, counter=0).rates_bps(rho)
    per_user = np.abs(mc / closed - 1.0)
    assert per_user.max() <= rel, f"per-user rel. error {per_user.max():.4f} > {rel}"
    assert abs(mc.sum() / closed.sum() - 1.0) <= rel
    return closed, mc


@pytest.mark.parametrize("arch", cf.ARCHITECTURES)
def test_reduced_pilot_contamination_high_snr(arch):
    """K=6 users on tau_p=3 pilots (two per pilot), 23 dBm: interference-limited."""
    obs = cf.snapshot_observation(cf.CellFreeParams(**RED), 6, seed=1, drop_index=0)
    obs = obs.with_params(architecture=arch)
    closed, _ = _check(obs, num_draws=50_000, seed=10)
    assert closed.min() > 0


def test_reduced_orthogonal_low_snr():
    """Orthogonal pilots (tau_p = K) at 0 dBm: noise-limited for most users."""
    params = cf.CellFreeParams(**{**RED, "tau_p": 6, "pilot_power_w": 1e-3, "max_power_w": 1e-3})
    obs = cf.snapshot_observation(params, 6, seed=2, drop_index=0)
    st = cf.statistics(obs)
    assert np.median(st.NO / (st.D @ obs.max_power_w)) > 1.0  # noise dominates
    assert st.sinr(obs.max_power_w).max() < 1.0
    _check(obs, num_draws=50_000, seed=11)


def test_reduced_lsfd2():
    """The LSFD-2 ablation (spec §7) from empirical moments vs its closed form."""
    params = cf.CellFreeParams(**{**RED, "cpu_combining": "lsfd2"})
    obs = cf.snapshot_observation(params, 6, seed=3, drop_index=0)
    closed, _ = _check(obs, num_draws=50_000, seed=12)
    equal = cf.statistics(obs.with_params(cpu_combining="equal")).rates_bps(
        stream(12, "test/mc-power").uniform(0.25, 1.0, 6) * obs.max_power_w
    )
    assert (closed >= equal * (1 - 1e-12)).all()  # optimal weights never lose


def test_paper_size():
    """Paper size: M=40 APs, K=20 users on tau_p=10 pilots, N=5x5, tau_c=1e4 (Figs 3-4)."""
    obs = cf.snapshot_observation(cf.CellFreeParams(tau_p=10), 20, seed=4, drop_index=0)
    _check(obs, num_draws=30_000, seed=13)
