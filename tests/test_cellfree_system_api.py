"""Decision / validate / align / score / pack / params and the emulation-mode observation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from emulator.radio.antenna import bessel_pattern_gain
from emulator.systems import cellfree_uplink as cf
from emulator.systems import get_system
from emulator.systems.base import InvalidDecision, WorldState
from policies import registry
from policies.baselines import FullPower, RandomPower


@pytest.fixture(scope="module")
def obs():
    return cf.canned_observation()


def _dec(obs, **kw):
    base = dict(
        power_w=np.array(obs.max_power_w, copy=True),
        scheduled=np.ones(obs.num_users, bool),
        user_ids=obs.user_ids.copy(),
    )
    base.update(kw)
    return cf.Decision(**base)


def test_system_lookup():
    assert get_system("cellfree_uplink") is cf or get_system("cellfree_uplink").NAME == cf.NAME


@pytest.mark.parametrize(
    "change, field, bound",
    [
        (dict(power_w=np.full(6, 0.3)), "power_w", "max_power_w"),
        (dict(power_w=np.array([0.1, -0.01, 0.1, 0.1, 0.1, 0.1])), "power_w", "0 W"),
        (dict(power_w=np.array([0.1, np.nan, 0.1, 0.1, 0.1, 0.1])), "power_w", "finite"),
        (dict(power_w=np.array([0.1, np.inf, 0.1, 0.1, 0.1, 0.1])), "power_w", "finite"),
        (dict(power_w=np.full(5, 0.1)), "power_w", "shape (6,)"),
        (dict(scheduled=np.ones(6, int)), "scheduled", "bool"),
        (dict(scheduled=np.ones(7, bool)), "scheduled", "shape (6,)"),
        (dict(user_ids=np.arange(1, 7)), "user_ids", "align"),
        (dict(user_ids=np.arange(6.0)), "user_ids", "integer"),
        (dict(power_w=np.full(6, 1 + 2j)), "power_w", "real"),
    ],
)
def test_validate_rejects_with_field_and_bound(obs, change, field, bound):
    with pytest.raises(InvalidDecision) as info:
        cf.validate(_dec(obs, **change), obs)
    msg = str(info.value)
    assert f"decision.{field}" in msg and bound in msg


def test_validate_accepts_valid_and_budget_edge(obs):
    cf.validate(_dec(obs), obs)
    cf.validate(_dec(obs, power_w=np.zeros(6), scheduled=np.zeros(6, bool)), obs)
    with pytest.raises(InvalidDecision, match="diagnostics"):
        cf.validate(replace(_dec(obs), diagnostics=[1.0]), obs)


def test_align_and_score_with_changed_users(obs):
    rho = np.linspace(0.05, 0.2, 6)
    dec = _dec(obs, power_w=rho, scheduled=np.array([1, 1, 0, 1, 1, 1], bool))
    new_ids = np.array([5, 3, 99, 0])
    al = cf.align(dec, new_ids)
    np.testing.assert_array_equal(al.user_ids, new_ids)
    np.testing.assert_allclose(al.power_w, [rho[5], rho[3], 0.0, rho[0]])
    np.testing.assert_array_equal(al.scheduled, [True, True, False, True])
    empty = cf.align(cf.Decision(np.zeros(0), np.zeros(0, bool), np.zeros(0, np.int64)), new_ids)
    assert not empty.scheduled.any() and (empty.power_w == 0).all()
    # score aligns by id: a permuted decision scores the same
    perm = np.array([3, 1, 0, 5, 4, 2])
    k1 = cf.score(dec, obs)
    k2 = cf.score(cf.Decision(rho[perm], dec.scheduled[perm], obs.user_ids[perm]), obs)
    np.testing.assert_allclose(k1.rate_bps, k2.rate_bps, rtol=1e-15)
    assert k1.rate_bps[2] == 0.0 and k1.power_w[2] == 0.0
    stats = cf.statistics(obs)
    np.testing.assert_allclose(k1.rate_bps, stats.rates_bps(rho, dec.scheduled), rtol=1e-15)
    assert k1.sum_rate_bps == pytest.approx(k1.rate_bps.sum())
    assert k1.extra["scheduled_count"] == 5


def test_score_monte_carlo_is_seeded(obs):
    dec = _dec(obs)
    a = cf.score(dec, obs, method="monte_carlo", num_draws=4000, seed=3, counter=1)
    b = cf.score(dec, obs, method="monte_carlo", num_draws=4000, seed=3, counter=1)
    c = cf.score(dec, obs, method="monte_carlo", num_draws=4000, seed=3, counter=2)
    np.testing.assert_array_equal(a.rate_bps, b.rate_bps)
    assert not np.array_equal(a.rate_bps, c.rate_bps)
    closed = cf.score(dec, obs)
    assert a.sum_rate_bps == pytest.approx(closed.sum_rate_bps, rel=0.05)
    with pytest.raises(ValueError, match="method"):
        cf.score(dec, obs, method="exact")


def test_pack_unpack_exact(obs):
    arrays = cf.pack(obs)
    assert all(isinstance(v, np.ndarray) for v in arrays.values())
    back = cf.unpack(arrays, obs.params)
    for f in (
        "beta_ap",
        "beta_sat",
        "kappa",
        "sat_dir",
        "pilot_index",
        "max_power_w",
        "user_ids",
        "prev_power_w",
    ):
        a, b = getattr(obs, f), getattr(back, f)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    for f in ("seed", "epoch_index", "t_s", "serving_sat_id"):
        assert getattr(obs, f) == getattr(back, f)
    np.testing.assert_array_equal(cf.statistics(back).D, cf.statistics(obs).D)
    with pytest.raises(ValueError, match="missing"):
        cf.unpack({k: v for k, v in arrays.items() if k != "kappa"}, obs.params)


def test_params_from_dict():
    p = cf.params_from_dict({"tau_c": 200, "sat_position_m": [1, 2, 3e5]}, profile="CAL")
    assert p.ap_pathloss_offset_db == 47.0 and p.sat_gain_dbi == 20.0 and p.tau_c == 200
    assert p.sat_position_m == (1.0, 2.0, 3e5)
    with pytest.raises(ValueError, match="'n_antennas'.*expected one of"):
        cf.params_from_dict({"n_antennas": 4})
    with pytest.raises(ValueError, match="'tau_c'.*expected an int"):
        cf.params_from_dict({"tau_c": 2.5})
    with pytest.raises(ValueError, match="'architecture'"):
        cf.params_from_dict({"architecture": "sky"})
    with pytest.raises(ValueError, match="'tau_p'"):
        cf.params_from_dict({"tau_p": 300, "tau_c": 200})
    with pytest.raises(ValueError, match="profile"):
        cf.params_from_dict({}, profile="XYZ")
    assert set(cf.PROFILES) == {"PHYS", "CAL"}


def test_snapshot_geometry_and_nesting():
    p = cf.CellFreeParams()
    o20 = cf.snapshot_observation(p, 20, seed=1, drop_index=4)
    o10 = cf.snapshot_observation(p, 10, seed=1, drop_index=4)
    np.testing.assert_array_equal(o20.beta_ap[:, :10], o10.beta_ap)
    np.testing.assert_array_equal(o20.tau_p, 10)
    assert o20.gbar.shape == (20, 25) and o20.R.shape == (20, 25, 25)
    # satellite ~583 km away: beta ~ -117 dB +- shadowing (4 dB)
    b_db = 10 * np.log10(o20.beta_sat)
    assert abs(np.median(b_db) + 117.3) < 4.0
    assert o20.noise_ap_w == pytest.approx(10 ** ((-99.79 - 30) / 10), rel=2e-3)
    assert not np.array_equal(cf.snapshot_observation(p, 10, 1, 5).beta_ap, o10.beta_ap)


def _world(user_ids, users, sat=(2e5, -3e5, 5e5), vel=(0.0, 7.5e3, 0.0), sat_id=44):
    sat = np.asarray(sat, float)
    earth_centre = np.array([0.0, 0.0, -6.371e6])
    nadir = (earth_centre - sat) / np.linalg.norm(earth_centre - sat)
    aps = np.array([[x, y, 0.0] for x in (-1500.0, 0.0, 1500.0) for y in (-1500.0, 1500.0)])
    return WorldState(
        t_s=12.0,
        serving_sat_id=sat_id,
        sat_enu_m=sat,
        sat_velocity_enu_m_s=np.asarray(vel),
        sat_nadir_enu=nadir,
        elevation_deg=50.0,
        slant_range_m=float(np.linalg.norm(sat)),
        ap_enu_m=aps,
        user_enu_m=np.asarray(users, float),
        user_ids=np.asarray(user_ids),
    )


def test_emulation_frame_and_stable_shadowing():
    p = cf.CellFreeParams(n_h=2, n_v=2, tau_c=200)
    users = [[100.0, 200.0, 0.0], [-800.0, 50.0, 0.0], [900.0, -900.0, 0.0]]
    w1 = _world([7, 8, 9], users)
    o1 = cf.observe(w1, p, seed=5, epoch_index=0)
    frame = cf.upa_frame(w1.sat_nadir_enu, w1.sat_velocity_enu_m_s)
    np.testing.assert_allclose(frame @ frame.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(np.cross(frame[0], frame[1]), frame[2], atol=1e-12)
    assert frame[0] @ w1.sat_velocity_enu_m_s > 0 and abs(frame[0] @ w1.sat_nadir_enu) < 1e-12
    np.testing.assert_allclose(np.linalg.norm(o1.sat_dir, axis=1), 1.0)
    # direction in the UPA frame equals the ENU direction rotated into it
    v = np.asarray(users[0]) + [0, 0, p.ue_height_m] - w1.sat_enu_m
    np.testing.assert_allclose(o1.sat_dir[0], frame @ (v / np.linalg.norm(v)), atol=1e-12)
    assert o1.beta_ap.shape == (6, 3) and o1.serving_sat_id == 44 and o1.t_s == 12.0
    # user 8 leaves, user 11 arrives: users 7 and 9 keep their large-scale gains
    w2 = _world([7, 9, 11], [users[0], users[2], [0.0, 0.0, 0.0]])
    o2 = cf.observe(w2, p, seed=5, epoch_index=1, prev_power_w=np.array([0.1, 0.2, np.nan]))
    np.testing.assert_array_equal(o2.beta_ap[:, :2], o1.beta_ap[:, [0, 2]])
    np.testing.assert_array_equal(o2.beta_sat[:2], o1.beta_sat[[0, 2]])
    assert o2.prev_power_w[1] == 0.2
    # another seed: other shadowing
    assert not np.array_equal(cf.observe(w1, p, 6, 0).beta_ap, o1.beta_ap)
    st = cf.statistics(o2)
    assert np.isfinite(st.sinr(o2.max_power_w)).all()


def test_emulation_tr38811_aperture_and_no_satellite():
    users = [[100.0, 200.0, 0.0], [-800.0, 50.0, 0.0]]
    p = cf.CellFreeParams(n_h=2, n_v=2, tau_c=200)
    w = _world([1, 2], users)
    paper = cf.observe(w, p, 5, 0)
    pat = cf.observe(w, replace(p, sat_aperture_m=2.0), 5, 0)
    v = np.asarray(users) + [0, 0, 1.5] - w.sat_enu_m
    cosang = (v / np.linalg.norm(v, axis=1, keepdims=True)) @ (
        -w.sat_enu_m / np.linalg.norm(w.sat_enu_m)
    )
    g = bessel_pattern_gain(np.arccos(np.clip(cosang, -1, 1)), 2.0, p.carrier_hz)
    np.testing.assert_allclose(pat.beta_sat, paper.beta_sat * g, rtol=1e-10)
    ntn_obs = cf.observe(w, replace(p, sat_model="tr38811"), 5, 0)
    assert np.isfinite(ntn_obs.beta_sat).all() and (ntn_obs.kappa >= 0).all()
    none = cf.observe(_world([1, 2], users, sat=(np.nan,) * 3, sat_id=-1), p, 5, 0)
    assert (none.beta_sat == 0).all()
    st = cf.statistics(none)
    ground = cf.statistics(none.with_params(architecture="ground"))
    np.testing.assert_allclose(st.sinr(none.max_power_w), ground.sinr(none.max_power_w), rtol=1e-12)
    with pytest.raises(ValueError, match="prev_power_w"):
        cf.observe(w, p, 5, 0, prev_power_w=np.zeros(3))


def test_baselines(obs):
    for pid, cls in (("full-power-v1", FullPower), ("random-power-v1", RandomPower)):
        pol = registry.make(pid)
        assert isinstance(pol, cls) and pol.id == pid and pol.system == cf.NAME
        before = cf.pack(obs)
        d1, d2 = pol.decide(obs), pol.decide(obs)
        cf.validate(d1, obs)
        np.testing.assert_array_equal(d1.power_w, d2.power_w)
        assert d1.scheduled.all()
        after = cf.pack(obs)
        assert all(np.array_equal(before[k], after[k], equal_nan=True) for k in before)
    full = FullPower().decide(obs)
    np.testing.assert_array_equal(full.power_w, obs.max_power_w)
    r0 = RandomPower().decide(obs).power_w
    r1 = RandomPower().decide(replace(obs, epoch_index=1)).power_w
    assert not np.array_equal(r0, r1) and (r0 <= obs.max_power_w).all() and (r0 >= 0).all()
    # random power over many users is U[0, Pmax]: mean Pmax/2 (5 sigma)
    big = cf.snapshot_observation(cf.CellFreeParams(**cf.REDUCED), 3000, 1, 0)
    x = RandomPower().decide(big).power_w / big.max_power_w
    assert abs(x.mean() - 0.5) < 5 * np.sqrt(1 / 12 / 3000)
