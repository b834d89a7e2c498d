"""The ``ao-v1`` policy on the ``cellfree_uplink`` system: contract, warm start, scenario."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from emulator.systems import cellfree_uplink as cf
from policies import PolicyError, check_policy, make
from policies.ao import ao_solve

ROOT = Path(__file__).resolve().parents[1]


def paper_obs(K: int = 20, drop: int = 0, profile: str = "PHYS"):
    params = cf.params_from_dict({"tau_c": 10_000}, profile=profile)
    return cf.snapshot_observation(params, K, 7, drop)


@pytest.mark.parametrize(
    "params", [{}, {"warm_start": False}, {"num_starts": 3}, {"eps_rel": 1e-6, "max_iter": 50}]
)
def test_conformance(params):
    assert all(check_policy(make("ao-v1", **params)).values())


@pytest.mark.parametrize("profile", ["PHYS", "CAL"])
def test_decision_is_the_thresholded_ao_fixed_point(profile):
    obs = paper_obs(30, 1, profile)
    dec = make("ao-v1").decide(obs)
    cf.validate(dec, obs)
    st = cf.statistics(obs)
    res = ao_solve(st.a, st.D, st.NO, st.max_power_w)
    expect_sched = res.power_w > 1e-3 * st.max_power_w
    np.testing.assert_array_equal(dec.scheduled, expect_sched)
    np.testing.assert_allclose(dec.power_w, np.where(expect_sched, res.power_w, 0.0), rtol=1e-12)
    diag = dec.diagnostics
    for key in (
        "iterations",
        "converged",
        "objective_bps",
        "objective_raw_bps",
        "num_scheduled",
        "stats_time_s",
        "iter_time_s",
        "solve_time_s",
        "warm_start",
    ):
        assert key in diag, key
    assert diag["iterations"] == res.iterations and diag["converged"] == 1.0
    assert diag["num_scheduled"] == expect_sched.sum()
    assert diag["objective_bps"] == pytest.approx(cf.score(dec, obs).sum_rate_bps, rel=1e-12)
    assert diag["objective_raw_bps"] == pytest.approx(st.sum_rate_bps(res.power_w), rel=1e-12)
    # never below the full-power start (monotone from rho = P_max)
    assert diag["objective_bps"] >= st.sum_rate_bps(st.max_power_w)


def test_warm_start_from_previous_epoch():
    obs = paper_obs(20, 2)
    pol = make("ao-v1")
    cold = pol.decide(obs)
    assert cold.diagnostics["warm_start"] == 0.0  # snapshot: prev_power_w all NaN -> cold
    prev = np.where(cold.scheduled, cold.power_w, 0.0)
    prev[3] = np.nan  # a user new this epoch starts at P_max
    warm = pol.decide(dataclasses.replace(obs, prev_power_w=prev))
    cf.validate(warm, obs)
    assert warm.diagnostics["warm_start"] == 1.0
    assert warm.diagnostics["iterations"] < cold.diagnostics["iterations"]
    assert warm.diagnostics["objective_bps"] >= 0.98 * cold.diagnostics["objective_bps"]
    # the cold start stays available and equals the paper's start
    off = make("ao-v1", warm_start=False).decide(dataclasses.replace(obs, prev_power_w=prev))
    np.testing.assert_array_equal(off.power_w, cold.power_w)


def test_more_starts_never_worse():
    for drop in range(3):
        obs = paper_obs(20, drop)
        one = make("ao-v1").decide(obs).diagnostics["objective_raw_bps"]
        five = make("ao-v1", num_starts=5).decide(obs).diagnostics["objective_raw_bps"]
        assert five >= one


@pytest.mark.parametrize(
    "bad",
    [
        {"eps_rel": -1.0},
        {"max_iter": 0},
        {"max_iter": 2.5},
        {"warm_start": "yes"},
        {"warm_floor": 0.0},
        {"num_starts": 0},
        {"tolerance": 1e-3},
    ],
)
def test_bad_parameters_are_policy_errors(bad):
    with pytest.raises(PolicyError):
        make("ao-v1", **bad)


def test_cellfree_pass_scenario_runs(tmp_path):
    """The shipped scenario loads and a short slice of it runs with AO decisions, no fallback."""
    config = pytest.importorskip("emulator.config")
    engine = pytest.importorskip("emulator.engine")
    traces = pytest.importorskip("traces")
    sc = config.load_scenario(ROOT / "scenarios" / "cellfree_pass.toml")
    assert sc.policy.id == "ao-v1" and sc.policy.fallback == "full-power-v1"
    sc = sc.with_overrides(duration_s=4.0)
    out = engine.run_scenario(sc, out_dir=tmp_path / "run", quiet=True)
    ep = traces.load(out).epochs
    assert len(ep) == 4
    assert (ep["decision_source"] == "policy").all()
    assert (ep["diag_converged"] == 1.0).all() and (ep["diag_iterations"] >= 1).all()
    assert (ep["num_scheduled"] <= ep["num_users"]).all()
