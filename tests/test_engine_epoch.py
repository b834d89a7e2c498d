"""Unit tests of the pure epoch function (emulator.epoch.run_epoch) on a toy system.

The toy system's score returns, for every user, rate = power in force (so which decision was
in force at each coherence interval can be read off the KPIs), which makes the expected
results for latency, warm start, fallback and hold easy to write out by hand.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass, field

import numpy as np
import pytest

from emulator.epoch import (
    Carry,
    EpochSettings,
    Truth,
    carry_from_json,
    carry_to_json,
    run_epoch,
)
from emulator.systems.base import InvalidDecision, KPIs


@dataclass(frozen=True)
class Obs:
    user_ids: np.ndarray
    max_power_w: np.ndarray
    prev_power_w: np.ndarray
    epoch_index: int = 0


@dataclass(frozen=True)
class Dec:
    power_w: np.ndarray
    scheduled: np.ndarray
    user_ids: np.ndarray
    diagnostics: dict = field(default_factory=dict)


def _validate(d, obs):
    if np.any(d.power_w > obs.max_power_w + 1e-12):
        raise InvalidDecision("power_w above max_power_w")


def _align(d, ids):
    idx = {int(u): i for i, u in enumerate(d.user_ids)}
    p = np.array([d.power_w[idx[int(u)]] if int(u) in idx else 0.0 for u in ids])
    s = np.array([bool(d.scheduled[idx[int(u)]]) if int(u) in idx else False for u in ids])
    return Dec(p, s, np.asarray(ids, dtype=np.int64))


def _score(d, truth, **kw):
    return KPIs(
        user_ids=truth.user_ids,
        rate_bps=d.power_w.copy(),
        scheduled=d.scheduled.copy(),
        power_w=d.power_w.copy(),
        sum_rate_bps=float(d.power_w.sum()),
        extra={"probe": 1.0},
    )


SYSTEM = types.SimpleNamespace(validate=_validate, align=_align, score=_score, Decision=Dec)


def obs_of(ids, epoch=0):
    ids = np.asarray(ids, dtype=np.int64)
    return Obs(ids, np.ones(len(ids)), np.full(len(ids), np.nan), epoch)


class Fixed:
    """Decides power = value for everyone; records what it saw."""

    def __init__(self, value, pid="fixed"):
        self.value = value
        self.id = pid
        self.seen = []

    def decide(self, obs):
        self.seen.append(obs)
        k = len(obs.user_ids)
        return Dec(np.full(k, self.value), np.ones(k, bool), obs.user_ids.copy())


class Raises:
    id = "raises"

    def decide(self, obs):
        raise RuntimeError("nope")


def settings(**kw):
    base = dict(epoch_s=10.0, seed=0, time_budget_s=0.0, latency="none", samples_per_epoch=2)
    base.update(kw)
    return EpochSettings(**base)


def truths(ids_list, t0=0.0):
    return [Truth(ci=j, t_s=t0 + 2.5 + 5.0 * j, obs=obs_of(ids)) for j, ids in enumerate(ids_list)]


def test_no_latency_new_decision_scores_every_interval():
    pol = Fixed(0.3)
    res = run_epoch(
        SYSTEM,
        pol,
        Fixed(1.0),
        obs_of([1, 2]),
        truths([[1, 2], [1, 2, 3]]),
        Carry(),
        settings(),
        epoch=0,
        t_s=0.0,
    )
    assert res.source == "policy" and res.fallback_reason == ""
    np.testing.assert_array_equal(res.kpis[0].rate_bps, [0.3, 0.3])
    # user 3 arrived after the decision: align gives it nothing
    np.testing.assert_array_equal(res.kpis[1].rate_bps, [0.3, 0.3, 0.0])
    assert res.epoch_row["sum_rate_bps"] == pytest.approx((0.6 + 0.6) / 2)
    assert res.carry.in_force.decision is res.decision and res.carry.pending == ()
    kinds = [e["kind"] for e in res.events]
    assert kinds == ["decision", "decision_applied"]


def test_fixed_latency_keeps_old_decision_until_effective():
    first = run_epoch(
        SYSTEM,
        Fixed(0.2),
        Fixed(1.0),
        obs_of([1]),
        truths([[1], [1]]),
        Carry(),
        settings(),
        epoch=0,
        t_s=0.0,
    )
    # epoch 1 decides 0.7 at t=10 with latency 4 s: CI at 12.5 still uses 0.2, CI at 17.5 uses 0.7
    res = run_epoch(
        SYSTEM,
        Fixed(0.7),
        Fixed(1.0),
        obs_of([1], 1),
        truths([[1], [1]], 10.0),
        first.carry,
        settings(latency="fixed", latency_s=4.0),
        epoch=1,
        t_s=10.0,
    )
    assert [float(k.rate_bps[0]) for k in res.kpis] == [0.2, 0.7]
    assert res.effective_t_s == 14.0
    applied = [e for e in res.events if e["kind"] == "decision_applied"]
    assert [e["t_s"] for e in applied] == [14.0]


def test_latency_longer_than_epoch_carries_pending_decision():
    s = settings(latency="fixed", latency_s=12.0)
    r0 = run_epoch(
        SYSTEM,
        Fixed(0.5),
        Fixed(1.0),
        obs_of([1]),
        truths([[1], [1]]),
        Carry(),
        s,
        epoch=0,
        t_s=0.0,
    )
    assert [float(k.rate_bps[0]) for k in r0.kpis] == [0.0, 0.0]  # nothing in force yet
    assert r0.carry.in_force is None and len(r0.carry.pending) == 1
    r1 = run_epoch(
        SYSTEM,
        Fixed(0.9),
        Fixed(1.0),
        obs_of([1], 1),
        truths([[1], [1]], 10.0),
        r0.carry,
        s,
        epoch=1,
        t_s=10.0,
    )
    # 0.5 (decided at 0, effective 12) applies before CI 12.5; 0.9 becomes effective at 22
    assert [float(k.rate_bps[0]) for k in r1.kpis] == [0.5, 0.5]
    assert r1.carry.in_force.decision.power_w[0] == 0.5
    assert r1.carry.pending[0].effective_t_s == 22.0


def test_warm_start_prev_power_from_decision_in_force():
    r0 = run_epoch(
        SYSTEM,
        Fixed(0.25),
        Fixed(1.0),
        obs_of([1, 2]),
        truths([[1, 2]]),
        Carry(),
        settings(),
        epoch=0,
        t_s=0.0,
    )
    pol = Fixed(0.1)
    run_epoch(
        SYSTEM,
        pol,
        Fixed(1.0),
        obs_of([2, 5], 1),
        truths([[2, 5]], 10.0),
        r0.carry,
        settings(),
        epoch=1,
        t_s=10.0,
    )
    prev = pol.seen[0].prev_power_w
    assert prev[0] == 0.25 and math.isnan(prev[1])  # user 5 is new


@pytest.mark.parametrize(
    "policy, reason",
    [(Raises(), "raised"), (Fixed(5.0, "over"), "invalid")],
)
def test_fallback_replaces_failed_decision(policy, reason):
    res = run_epoch(
        SYSTEM,
        policy,
        Fixed(0.4, "fb"),
        obs_of([1, 2]),
        truths([[1, 2]]),
        Carry(),
        settings(),
        epoch=0,
        t_s=0.0,
    )
    assert res.source == "fallback" and res.fallback_reason == reason
    np.testing.assert_array_equal(res.kpis[0].rate_bps, [0.4, 0.4])
    assert [e["kind"] for e in res.events][0] == "fallback"


def test_timeout_is_preempted_and_falls_back():
    import time

    class Sleeper:
        id = "sleeper"

        def decide(self, obs):
            time.sleep(2.0)
            return Fixed(0.1).decide(obs)

    t0 = time.perf_counter()
    res = run_epoch(
        SYSTEM,
        Sleeper(),
        Fixed(0.4, "fb"),
        obs_of([1]),
        truths([[1]]),
        Carry(),
        settings(time_budget_s=0.1),
        epoch=0,
        t_s=0.0,
    )
    assert time.perf_counter() - t0 < 1.5  # pre-empted, not waited out
    assert res.fallback_reason == "timeout" and res.source == "fallback"
    assert res.kpis[0].rate_bps[0] == 0.4


def test_hold_when_fallback_fails_too():
    r0 = run_epoch(
        SYSTEM,
        Fixed(0.3),
        Fixed(1.0),
        obs_of([1]),
        truths([[1]]),
        Carry(),
        settings(),
        epoch=0,
        t_s=0.0,
    )
    res = run_epoch(
        SYSTEM,
        Raises(),
        Raises(),
        obs_of([1], 1),
        truths([[1]], 10.0),
        r0.carry,
        settings(),
        epoch=1,
        t_s=10.0,
    )
    assert res.source == "hold" and res.decision is None
    assert res.kpis[0].rate_bps[0] == 0.3
    assert [e["kind"] for e in res.events] == ["fallback", "fallback_failed"]


def test_idle_epoch_without_users():
    res = run_epoch(
        SYSTEM,
        Raises(),
        Raises(),
        None,
        [Truth(0, 2.5, None)],
        Carry(),
        settings(),
        epoch=0,
        t_s=0.0,
    )
    assert res.source == "idle" and res.epoch_row["sum_rate_bps"] == 0.0
    assert res.user_rows == []


def test_carry_json_round_trip_is_bit_exact():
    s = settings(latency="fixed", latency_s=12.0)
    r0 = run_epoch(
        SYSTEM,
        Fixed(1 / 3),
        Fixed(1.0),
        obs_of([4, 9]),
        truths([[4, 9]]),
        Carry(),
        s,
        epoch=0,
        t_s=0.0,
    )
    r1 = run_epoch(
        SYSTEM,
        Fixed(0.7),
        Fixed(1.0),
        obs_of([4], 1),
        truths([[4]], 10.0),
        r0.carry,
        s,
        epoch=1,
        t_s=10.0,
    )
    import json

    back = carry_from_json(SYSTEM, json.loads(json.dumps(carry_to_json(r1.carry))))
    a, b = r1.carry, back
    assert a.in_force.effective_t_s == b.in_force.effective_t_s
    assert a.in_force.decision.power_w.tobytes() == b.in_force.decision.power_w.tobytes()
    assert [p.effective_t_s for p in a.pending] == [p.effective_t_s for p in b.pending]
    assert a.pending[0].decision.user_ids.tobytes() == b.pending[0].decision.user_ids.tobytes()


def test_measured_latency_maps_decide_wall_time_into_simulated_time():
    import time

    class Sleeper:
        id = "sleeper"

        def decide(self, obs):
            time.sleep(0.05)
            return Fixed(0.1).decide(obs)

    res = run_epoch(
        SYSTEM,
        Sleeper(),
        Fixed(0.4, "fb"),
        obs_of([1]),
        truths([[1]]),
        Carry(),
        settings(latency="measured", latency_scale=10.0),
        epoch=0,
        t_s=0.0,
    )
    # 0.05 s of wall time x 10 = ~0.5 s of simulated time (sleep may overrun, never underrun)
    assert 0.5 <= res.effective_t_s < 2.5
    assert res.kpis[0].rate_bps[0] == 0.1  # CI at 2.5 s: the new decision is in force


def test_small_array_percentile_matches_numpy():
    from emulator.epoch import _percentile

    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 17, 200):
        x = rng.standard_normal(n)
        for q in (0.0, 5.0, 50.0, 100.0):
            assert _percentile(x, q) == pytest.approx(np.percentile(x, q), abs=1e-15)
    assert math.isnan(_percentile(np.zeros(0), 5.0))
