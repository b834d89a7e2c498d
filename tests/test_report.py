"""Study report: per-run KPIs vs slow reference loops, and report.md lists every policy/metric.

The traces here are synthetic (written with :class:`traces.TraceWriter`, no engine), so the
expected KPIs can be computed independently with plain Python loops.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emulator.cli import main
from emulator.studies import STUDY_SCHEMA, run_rel_dir
from traces import TraceWriter
from traces.report import (
    DEFAULT_OUTAGE_BPS,
    PAIRED_METRICS,
    TIMING_METRICS,
    summarize_run,
)
from traces.schema import FORMAT_NAME, SCHEMA_VERSION

POLICIES = ["good-v1", "full-power-v1"]
SEEDS = [0, 1, 2, 3]
NUM_EPOCHS = 12


def _synthetic_rows(policy: str, seed: int):
    """Epoch / user / wall rows of a fake run: a common world per seed, a policy factor."""
    rng = np.random.default_rng(100 + seed)  # the "world" of the seed (same for all policies)
    factor = 1.3 if policy == "good-v1" else 1.0
    epochs, users, wall = [], [], []
    for e in range(NUM_EPOCHS):
        ids = [u for u in range(8) if rng.random() < 0.8]  # users present this epoch
        rates = []
        for u in ids:
            base = rng.gamma(2.0, 2e5)
            sched = bool(base > 8e4) or policy == "full-power-v1"
            rate = base * factor if sched else 0.0
            rates.append(rate)
            users.append(
                {
                    "epoch": e,
                    "user_id": u,
                    "power_w": 0.2 if sched else 0.0,
                    "scheduled": sched,
                    "rate_bps": rate,
                    "intervals_present": 2,
                }
            )
        fb = "timeout" if (policy == "good-v1" and e % 5 == 4) else ""
        epochs.append(
            {
                "epoch": e,
                "t_s": 2.0 * e,
                "num_users": len(ids),
                "num_scheduled": sum(r > 0 for r in rates),
                "serving_sat_id": 44713,
                "elevation_deg": 30.0 + 3.0 * e,
                "visible_sat_count": 5,
                "decision_source": "fallback" if fb else "policy",
                "fallback_reason": fb,
                "effective_t_s": 2.0 * e,
                "sum_rate_bps": float(sum(rates)),
                "num_intervals": 2,
            }
        )
        wall.append({"epoch": e, "wall_decide_s": 1e-3 * (1 + e), "wall_epoch_s": 0.01})
    return epochs, users, wall


def _write_fake_trace(root: Path, policy: str, seed: int) -> None:
    epochs, users, wall = _synthetic_rows(policy, seed)
    w = TraceWriter(root)
    manifest = {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "status": "running"}
    w.create(manifest)
    w.write_part(0, {"epochs": epochs, "users": users, "wall": wall}, carry={})
    w.write_manifest({**manifest, "status": "complete", "policy_id": policy, "seed": seed})


@pytest.fixture(scope="module")
def fake_study(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("study")
    runs = []
    for p in POLICIES:
        for s in SEEDS:
            rel = run_rel_dir(p, s)
            if p == "good-v1" and s == 3:  # one failed run: reported, not paired
                runs.append(
                    {
                        "policy_id": p,
                        "seed": s,
                        "rel_dir": rel,
                        "status": "failed",
                        "error": "RuntimeError: boom",
                    }
                )
                continue
            _write_fake_trace(root / rel, p, s)
            runs.append(
                {"policy_id": p, "seed": s, "rel_dir": rel, "status": "complete", "error": None}
            )
    (root / "study.json").write_text(
        json.dumps(
            {
                "schema": STUDY_SCHEMA,
                "scenario_path": "scenarios/fake.toml",
                "scenario_hash": "0" * 64,
                "duration_s": None,
                "policies": POLICIES,
                "seeds": SEEDS,
                "backend": "local",
                "runs": runs,
            }
        )
    )
    return root


def test_summarize_run_matches_reference_loops():
    epochs, users, wall = _synthetic_rows("good-v1", 1)
    s = summarize_run(pd.DataFrame(epochs), pd.DataFrame(users), 1e5, pd.DataFrame(wall))
    m = s.metrics
    # mean sum throughput over epochs
    assert m["sum_throughput_bps"] == pytest.approx(
        sum(e["sum_rate_bps"] for e in epochs) / len(epochs), rel=1e-12
    )
    # per-user session throughput, then its 5th percentile (linear interpolation)
    per_user: dict[int, list[float]] = {}
    for u in users:
        per_user.setdefault(u["user_id"], []).append(u["rate_bps"])
    means = sorted(sum(v) / len(v) for v in per_user.values())
    pos = 0.05 * (len(means) - 1)
    lo = math.floor(pos)
    p5 = means[lo] + (pos - lo) * (means[min(lo + 1, len(means) - 1)] - means[lo])
    assert m["user_throughput_p5_bps"] == pytest.approx(p5, rel=1e-12)
    # Jain per epoch, averaged over epochs with a served user
    jains = []
    for e in range(NUM_EPOCHS):
        r = [u["rate_bps"] for u in users if u["epoch"] == e]
        if r and sum(x * x for x in r) > 0:
            jains.append(sum(r) ** 2 / (len(r) * sum(x * x for x in r)))
    assert m["jain_fairness"] == pytest.approx(sum(jains) / len(jains), rel=1e-12)
    assert m["outage_share"] == pytest.approx(
        sum(u["rate_bps"] < 1e5 for u in users) / len(users), rel=1e-12
    )
    assert m["scheduled_share"] == pytest.approx(
        sum(u["scheduled"] for u in users) / len(users), rel=1e-12
    )
    d = sorted(w["wall_decide_s"] for w in wall)
    assert m["decision_time_p50_s"] == pytest.approx((d[5] + d[6]) / 2, rel=1e-12)
    assert s.fallbacks == {"timeout": sum(1 for e in epochs if e["fallback_reason"])}


def test_report_lists_every_policy_and_metric(fake_study, capsys):
    assert main(["report", str(fake_study), "--baseline", "full-power-v1"]) == 0
    text = (fake_study / "report.md").read_text()
    for p in POLICIES:
        assert f"| {p} |" in text
    labels = [
        v[0]
        for k, v in {**PAIRED_METRICS, **TIMING_METRICS}.items()
        if k != "energy_efficiency_bit_per_j"
    ]  # the fake system defines no EE
    for label in labels + ["fallbacks", "fallback causes", "timeout: 6"]:
        assert label in text, label
    assert "Paired differences vs `full-power-v1`" in text
    assert "good-v1` seed 3: RuntimeError: boom" in text  # failed run listed
    for png in ("cdf_user_throughput.png", "kpi_over_time.png", "paired_sum_throughput.png"):
        assert (fake_study / png).stat().st_size > 1000
    paired = pd.read_csv(fake_study / "paired.csv")
    row = paired[(paired.policy == "good-v1") & (paired.metric == "sum_throughput_bps")].iloc[0]
    assert row.pairs == 3  # seed 3 failed for good-v1: not paired
    # independent: the paired mean difference over seeds 0..2 from the raw rows
    diffs = []
    for s in range(3):
        g = _synthetic_rows("good-v1", s)[0]
        b = _synthetic_rows("full-power-v1", s)[0]
        diffs.append(
            np.mean([e["sum_rate_bps"] for e in g]) - np.mean([e["sum_rate_bps"] for e in b])
        )
    assert row.mean_diff == pytest.approx(np.mean(diffs), rel=1e-12)
    assert row.ci_low < row.mean_diff < row.ci_high


def test_report_bootstrap_and_bad_input(fake_study, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", str(fake_study), "--ci", "bootstrap", "--out", str(out)]) == 0
    assert "percentile bootstrap" in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["report", str(fake_study), "--baseline", "nope-v1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected --baseline" in err
    assert main(["report", str(tmp_path)]) == 2  # no study.json
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "study.json" in err and "Traceback" not in err


def test_default_outage_threshold_documented():
    assert DEFAULT_OUTAGE_BPS == 1e5


def test_energy_efficiency_reported_where_the_system_defines_it():
    epochs, users, wall = _synthetic_rows("good-v1", 2)
    ee = [1e6 * (1 + e["epoch"]) for e in epochs]
    ep = pd.DataFrame(epochs).assign(kpi_energy_efficiency_bit_per_j=ee)
    m = summarize_run(ep, pd.DataFrame(users), 1e5, pd.DataFrame(wall)).metrics
    assert m["energy_efficiency_bit_per_j"] == pytest.approx(sum(ee) / len(ee), rel=1e-12)
    assert (
        "energy_efficiency_bit_per_j"
        not in summarize_run(pd.DataFrame(epochs), pd.DataFrame(users)).metrics
    )
