"""Property tests P2-P7 and P10 of spec §11 for the closed-form statistics."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from emulator import units
from emulator.rng import stream
from emulator.systems import cellfree_uplink as cf
from tests.test_cellfree_closed_form import loop_sinr


@pytest.fixture(scope="module")
def obs():
    return cf.snapshot_observation(cf.CellFreeParams(**cf.REDUCED), 6, seed=21, drop_index=2)


def _rho(obs, name="rho"):
    return stream(3, f"test/{name}").uniform(0.2, 1.0, obs.num_users) * obs.max_power_w


def _scaled(obs, s):
    """Scale beta, R (via beta_sat), sigma_a^2 and sigma_s^2 by s (gbar scales by sqrt(s))."""
    p = replace(
        obs.params,
        noise_density_dbm_hz=obs.params.noise_density_dbm_hz + float(units.linear_to_db(s)),
    )
    return replace(obs, params=p, beta_ap=obs.beta_ap * s, beta_sat=obs.beta_sat * s)


@pytest.mark.parametrize("arch", cf.ARCHITECTURES)
@pytest.mark.parametrize("s", [1e-6, 1e3])
def test_p2_scale_invariance(obs, arch, s):
    o = obs.with_params(architecture=arch)
    o2 = _scaled(o, s)
    assert o2.noise_ap_w == pytest.approx(o.noise_ap_w * s, rel=1e-12)
    rho = _rho(o)
    np.testing.assert_allclose(cf.statistics(o2).sinr(rho), cf.statistics(o).sinr(rho), rtol=1e-9)
    # the raw-unit oracle is homogeneous too (no normalisation involved)
    np.testing.assert_allclose(loop_sinr(o2, rho), loop_sinr(o, rho), rtol=1e-9)


@pytest.mark.parametrize("arch", cf.ARCHITECTURES)
def test_p3_signs_and_monotonicity(obs, arch):
    o = obs.with_params(architecture=arch)
    st = cf.statistics(o)
    assert (st.a > 0).all() and (st.D >= 0).all() and (st.NO >= 0).all()
    assert (st.var_s >= -1e-12 * np.abs(st.var_s).max()).all() and (st.var_g >= 0).all()
    rho = _rho(o)
    base = st.sinr(rho)
    for k in range(o.num_users):
        up = rho.copy()
        up[k] *= 1.5
        new = st.sinr(up)
        assert new[k] > base[k]
        others = np.arange(o.num_users) != k
        assert (new[others] <= base[others] * (1 + 1e-12)).all()
    assert (st.sinr(2.0 * rho) > base).all()
    limit = rho * st.a**2 / (st.D @ rho)
    np.testing.assert_allclose(st.sinr(1e12 * rho), limit, rtol=1e-9)


def test_p4_orthogonal_pilots_mean_is_los_product(obs):
    o = replace(
        obs,
        params=replace(obs.params, tau_p=obs.num_users),
        pilot_index=np.arange(obs.num_users, dtype=np.int64),
    )
    assert not (o.pilot_sharing & ~np.eye(o.num_users, dtype=bool)).any()
    st = cf.statistics(o)
    off = ~np.eye(o.num_users, dtype=bool)
    gbar = o.gbar / np.sqrt(o.noise_ap_w)
    np.testing.assert_allclose(st.mean_s[off], (gbar.conj() @ gbar.T)[off], rtol=1e-12)
    assert (st.mean_g[off] == 0).all()


@pytest.mark.parametrize("comb", ["equal", "lsfd2"])
@pytest.mark.parametrize("arch", cf.ARCHITECTURES)
def test_pilot_contamination_hurts_only_the_co_pilot_users(obs, arch, comb):
    """Same tau_p = K (same pilot energy and pre-log), orthogonal pilots vs users 1 and 4
    sharing one: the two co-pilot users lose SINR (their estimates are contaminated and their
    interference becomes coherent); every other user's SINR is unchanged, because its
    estimate and the statistics of the channels it sees are unchanged (spec §2.3, Lemma 1)."""
    k = obs.num_users
    base = replace(
        obs,
        params=replace(obs.params, architecture=arch, cpu_combining=comb, tau_p=k),
        pilot_index=np.arange(k, dtype=np.int64),
    )
    shared_index = np.arange(k, dtype=np.int64)
    shared_index[4] = 1
    shared = replace(base, pilot_index=shared_index)
    assert shared.pilot_sharing[1, 4] and not base.pilot_sharing[1, 4]
    rho = base.max_power_w
    s0 = cf.statistics(base).sinr(rho)
    s1 = cf.statistics(shared).sinr(rho)
    co = np.isin(np.arange(k), [1, 4])
    assert (s1[co] < s0[co] * (1 - 1e-6)).all(), (s0[co], s1[co])
    np.testing.assert_allclose(s1[~co], s0[~co], rtol=1e-10)
    # the slow oracle agrees on the contaminated case
    if comb == "equal":
        np.testing.assert_allclose(s1, loop_sinr(shared, rho), rtol=1e-9)


def test_p5_reductions(obs):
    rho = _rho(obs)
    no_sat = replace(obs, beta_sat=np.zeros(obs.num_users))
    np.testing.assert_allclose(
        cf.statistics(no_sat).sinr(rho),
        cf.statistics(obs.with_params(architecture="ground")).sinr(rho),
        rtol=1e-12,
    )
    no_ap = replace(obs, beta_ap=np.zeros_like(obs.beta_ap))
    np.testing.assert_allclose(
        cf.statistics(no_ap).sinr(rho),
        cf.statistics(obs.with_params(architecture="space")).sinr(rho),
        rtol=1e-12,
    )
    # lsfd2 with one branch removed equals that branch alone too
    np.testing.assert_allclose(
        cf.statistics(no_ap.with_params(cpu_combining="lsfd2")).sinr(rho),
        cf.statistics(obs.with_params(architecture="space")).sinr(rho),
        rtol=1e-12,
    )


@pytest.mark.parametrize("comb", cf.CPU_COMBINING)
def test_p6_unscheduled_neutrality(obs, comb):
    st = cf.statistics(obs.with_params(cpu_combining=comb))
    rho = _rho(obs)
    for j in range(obs.num_users):
        zero = rho.copy()
        zero[j] = 0.0
        q = np.ones(obs.num_users, bool)
        q[j] = False
        a, b = st.rates_bps(zero), st.rates_bps(rho, q)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
        assert a[j] == 0.0


def _permute_users(o, perm):
    return replace(
        o,
        beta_ap=o.beta_ap[:, perm],
        beta_sat=o.beta_sat[perm],
        kappa=o.kappa[perm],
        sat_dir=o.sat_dir[perm],
        pilot_index=o.pilot_index[perm],
        max_power_w=o.max_power_w[perm],
        user_ids=o.user_ids[perm],
        prev_power_w=o.prev_power_w[perm],
    )


@pytest.mark.parametrize("comb", cf.CPU_COMBINING)
def test_p7_permutations(obs, comb):
    o = obs.with_params(cpu_combining=comb)
    perm = stream(4, "test/perm").permutation(o.num_users)
    st, sp = cf.statistics(o), cf.statistics(_permute_users(o, perm))
    rho = _rho(o)
    np.testing.assert_allclose(sp.a, st.a[perm], rtol=1e-12)
    np.testing.assert_allclose(sp.NO, st.NO[perm], rtol=1e-12)
    np.testing.assert_allclose(sp.D, st.D[np.ix_(perm, perm)], rtol=1e-12)
    np.testing.assert_allclose(sp.sinr(rho[perm]), st.sinr(rho)[perm], rtol=1e-12)
    ap_perm = stream(4, "test/ap-perm").permutation(o.num_aps)
    sa = cf.statistics(replace(o, beta_ap=o.beta_ap[ap_perm]))
    np.testing.assert_allclose(sa.D, st.D, rtol=1e-12)
    np.testing.assert_allclose(sa.sinr(rho), st.sinr(rho), rtol=1e-12)


def test_p10_pilot_group_invariants():
    o = cf.snapshot_observation(cf.CellFreeParams(**{**cf.REDUCED, "tau_p": 2}), 6, 8, 0)
    st = cf.statistics(o)
    s = o.pilot_sharing
    assert s.sum() > o.num_users  # there are co-pilot pairs
    np.testing.assert_allclose(st.mean_g, st.mean_g.T, rtol=1e-14)  # sum_m sqrt(gam gam)
    np.testing.assert_allclose(st.mean_s, st.mean_s.conj().T, rtol=1e-10, atol=0)
    assert (st.mean_g[~s] == 0).all()
