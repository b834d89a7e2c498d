"""Policy ``shgnn-v1`` in the loop (issue 7): shipped weights, validity, scheduling rule,
threads, no gradient, weights loaded once, and the N-mismatch rule."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import policies  # noqa: E402
from emulator.systems import cellfree_uplink as cf  # noqa: E402
from emulator.systems.cellfree_uplink.decision import validate  # noqa: E402
from policies.conformance import check_policy  # noqa: E402
from policies.shgnn import policy as sp  # noqa: E402
from policies.shgnn.train import build_model  # noqa: E402

SHIPPED = sorted(p.stem for p in sp.WEIGHTS_DIR.glob("*.pt"))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_weights_small_and_self_describing(name):
    pt = sp.WEIGHTS_DIR / f"{name}.pt"
    assert pt.stat().st_size <= 5e6
    meta = json.loads(pt.with_suffix(".json").read_text())
    for key in ("config", "data_seed", "normalisation", "hyper", "training_log"):
        assert key in meta, key
    state = torch.load(pt, map_location="cpu", weights_only=True)
    net = build_model(meta["hyper"])
    net.load_state_dict(state)  # strict: every tensor present with the right shape
    best = meta["training_log"][-1]
    assert best["best_val_mbps"] >= meta["training_log"][0]["val_mbps"]


def test_decision_valid_and_scheduling_rule():
    obs = cf.snapshot_observation(cf.params_from_dict({}, "PHYS"), 30, 99, 3)
    pol = policies.make("shgnn-v1", eps_s=1e-3)
    d = pol.decide(obs)
    validate(d, obs)
    x, _ = pol.power_fraction(obs)
    expect = x * obs.max_power_w > 1e-3 * obs.max_power_w
    np.testing.assert_array_equal(d.scheduled, expect)
    np.testing.assert_allclose(d.power_w[expect], (x * obs.max_power_w)[expect], rtol=1e-12)
    assert np.all(d.power_w[~expect] == 0.0)
    assert np.all(d.power_w <= obs.max_power_w)
    # a larger threshold schedules a subset
    d2 = policies.make("shgnn-v1", eps_s=0.5).decide(obs)
    assert np.all(d.scheduled[d2.scheduled]) and d2.scheduled.sum() <= d.scheduled.sum()


def test_loaded_once_no_grad_threads_restored():
    a = sp.SHGNNPolicy(num_threads=2)
    b = sp.SHGNNPolicy(num_threads=2)
    assert sp.load_weights("stable")[0] is sp.load_weights("stable")[0]
    model = sp.load_weights("stable")[0]
    assert not any(p.requires_grad for p in model.parameters())
    before = torch.get_num_threads()
    obs = cf.snapshot_observation(cf.params_from_dict({}, "PHYS"), 20, 5, 0)
    np.testing.assert_array_equal(a.decide(obs).power_w, b.decide(obs).power_w)
    assert torch.get_num_threads() == before
    assert torch.is_grad_enabled()


def test_conformance_and_n_mismatch_substitution():
    pol = policies.make("shgnn-v1")
    check_policy(pol)  # canned observation: N = 4, the stable model is N = 25
    d = pol.decide(cf.canned_observation())
    assert d.diagnostics["weights_substituted"] == 1.0
    ref = policies.make("shgnn-v1", weights="reduced").decide(cf.canned_observation())
    np.testing.assert_array_equal(d.power_w, ref.power_w)


def test_robust_picks_nearest_k():
    table = sp.robust_table()
    assert 30 in table
    for k in (6, 21, 34, 47, 90):
        nearest = min(table, key=lambda t: (abs(t - k), t))
        assert sp.resolve_name("robust", k) == table[nearest]


@pytest.mark.parametrize(
    "params", [{"num_threads": 0}, {"eps_s": 1.5}, {"weights": "nope"}, {"bogus": 1}]
)
def test_bad_parameters_are_policy_errors(params):
    with pytest.raises(policies.PolicyError):
        policies.make("shgnn-v1", **params)


def test_profile_resolution():
    cal = cf.params_from_dict({}, "CAL")
    assert sp.profile_of(cal) == "CAL"
    assert sp.profile_of(cf.params_from_dict({}, "PHYS")) == "PHYS"
    assert sp.resolve_name("robust-k30", 30) == sp.robust_table()[30]
    expect = "cal-stable" if (sp.WEIGHTS_DIR / "cal-stable.pt").is_file() else "stable"
    assert sp.resolve_name("stable", 30, "CAL") == expect
    obs = cf.snapshot_observation(cal, 20, 4, 0)
    d = policies.make("shgnn-v1").decide(obs)
    ref = policies.make("shgnn-v1", weights=expect).decide(obs)
    np.testing.assert_array_equal(d.power_w, ref.power_w)
