"""Fallback: a policy that raises, one that runs past its time budget and one that returns an
over-budget power each trigger the fallback; the run completes and the trace counts causes."""

from __future__ import annotations

import numpy as np

import traces
from emulator.engine import run_scenario
from tests.test_engine_support import tiny


def test_each_failure_cause_triggers_the_fallback_and_is_counted(tmp_path):
    sc = tiny(**{"policy.id": "test-cycle-v1", "policy.time_budget_s": 0.1})
    tr = traces.load(run_scenario(sc, out_dir=tmp_path / "run"))
    assert tr.complete and len(tr.epochs) == sc.num_epochs
    ep = tr.epochs.set_index("epoch")
    busy = ep[ep["num_users"] > 0]
    want = {0: "raised", 1: "timeout", 2: "invalid"}
    for k, row in busy.iterrows():
        assert row["decision_source"] == "fallback", k
        assert row["fallback_reason"] == want[k % 3], k
    counts = busy["fallback_reason"].value_counts().to_dict()
    assert counts == {r: sum(1 for k in busy.index if k % 3 == m) for m, r in want.items()}
    # the timeout was pre-empted well before the policy's 0.4 s sleep ended
    wall = tr.wall.set_index("epoch")
    assert wall.loc[[k for k in busy.index if k % 3 == 1], "wall_decide_s"].max() < 0.35
    # the event log names each fallback and its cause
    fb = tr.events[tr.events["kind"] == "fallback"]
    assert len(fb) == len(busy)
    assert fb["detail"].str.contains("reason=invalid").sum() == counts["invalid"]
    assert fb[fb["detail"].str.contains("reason=invalid")]["detail"].str.contains("power").all()
    # what was applied is the fallback's decision (full power = P_max = 0.2 W)
    us = tr.users[tr.users["in_decision"].astype(bool)]
    np.testing.assert_allclose(us["power_w"], 0.2)


def test_failing_fallback_holds_the_decision_in_force(tmp_path):
    sc = tiny(**{"policy.id": "test-raise-v1", "policy.fallback": "test-raise-v1"})
    tr = traces.load(run_scenario(sc, out_dir=tmp_path / "run"))
    assert tr.complete
    assert set(tr.epochs["decision_source"]) <= {"hold", "idle"}
    assert (tr.epochs["sum_rate_bps"] == 0).all()  # nothing ever in force: nobody sends
    assert (tr.events["kind"] == "fallback_failed").sum() == (tr.epochs["num_users"] > 0).sum()
