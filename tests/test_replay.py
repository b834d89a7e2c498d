"""Trace replay: the recorded policy reproduces the trace exactly (whole trace and every epoch
alone), another policy sees the same inputs, and bad traces are one line with exit status 2.

References are independent of the replay code: the live run's own trace, and for the
full-power replay the system's ``score`` called directly on the recorded truths.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import traces
from emulator.cli import main
from emulator.config import scenario_from_dict
from emulator.engine import run_scenario
from emulator.replay import replay_epoch, replay_trace
from emulator.systems import get_system

# latency "fixed" 15 s with 10 s epochs: decisions stay pending across epoch boundaries, so
# the carry (in force + pending) matters for both replay modes.
SCENARIO_TOML = textwrap.dedent(
    """
    name = "replay-test"
    start_utc = 2023-07-18T12:00:00Z
    duration_s = 80.0
    seed = 4

    [constellation]
    source = "tle"

    [site]
    name = "Paris"
    lat_deg = 48.8566
    lon_deg = 2.3522
    alt_m = 35.0
    min_elevation_deg = 25.0

    [system]
    name = "cellfree_uplink"
    [system.params]
    num_aps = 4
    area_side_m = 2000.0
    n_h = 2
    n_v = 2

    [arrivals]
    rate_per_s = 0.1
    mean_holding_s = 40.0
    max_users = 8

    [timing]
    epoch_s = 10.0
    coherence_interval_s = 0.001
    coherence_samples_per_epoch = 2

    [policy]
    id = "random-power-v1"
    fallback = "full-power-v1"
    time_budget_s = 5.0
    latency = "fixed"
    latency_s = 15.0

    [output]
    flush_every_epochs = 3
    """
)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    import tomllib

    root = tmp_path_factory.mktemp("replay")
    sc = scenario_from_dict(tomllib.loads(SCENARIO_TOML))
    return run_scenario(sc, out_dir=root / "source")


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    tr = traces.load(path)
    return {name: getattr(tr, name) for name in traces.DETERMINISTIC_TABLES}


def test_replay_with_recorded_policy_reproduces_trace_exactly(source, tmp_path):
    out = replay_trace(source, out_dir=tmp_path / "rep")
    a, b = _tables(source), _tables(out)
    assert len(a["epochs"]) == 8 and (a["epochs"]["num_users"] > 0).any()
    for name in traces.DETERMINISTIC_TABLES:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)
    # and byte for byte, part by part
    src_parts = sorted((source / "parts").iterdir())
    rep_parts = sorted((out / "parts").iterdir())
    assert [p.name for p in src_parts] == [p.name for p in rep_parts]
    for p, q in zip(src_parts, rep_parts):
        for name in traces.DETERMINISTIC_TABLES:
            assert (p / f"{name}.parquet").read_bytes() == (q / f"{name}.parquet").read_bytes()
    m = traces.read_manifest(out)
    assert m["mode"] == "replay" and m["status"] == "complete"
    assert m["replay_of"]["path"] == str(source.resolve())
    assert m["replay_of"]["scenario_hash"] == traces.read_manifest(source)["scenario_hash"]


def test_single_epoch_reexecution_matches_every_recorded_epoch(source, capsys):
    tr = traces.load(source)
    users = tr.users
    for k in tr.epochs["epoch"]:
        er = replay_epoch(source, int(k))
        assert er.identical, (k, er.differences())
        rec = users[users["epoch"] == k].reset_index(drop=True)
        new = pd.DataFrame(er.result.user_rows, columns=rec.columns)
        pd.testing.assert_frame_equal(rec, new, check_exact=True, check_dtype=False)
    assert main(["replay", str(source), "--epoch", "5"]) == 0
    text = capsys.readouterr().out
    assert "identical to the recording: yes" in text and "sum_rate_bps" in text
    # the recorded policy named explicitly: the same; another policy: its own decision
    assert main(["replay", str(source), "--epoch", "5", "--policy", "random-power-v1"]) == 0
    assert "identical to the recording: yes" in capsys.readouterr().out
    assert main(["replay", str(source), "--epoch", "5", "--policy", "full-power-v1"]) == 0
    text = capsys.readouterr().out
    assert "re-executed full-power-v1" in text and "identical to the recording: no" in text


def test_replay_other_policy_same_inputs_and_independent_kpis(source, tmp_path):
    out = replay_trace(source, "full-power-v1", out_dir=tmp_path / "fp")
    a, b = traces.load(source), traces.load(out)
    assert traces.read_manifest(out)["policy"]["id"] == "full-power-v1"
    oa, ob = a.observations, b.observations
    # the same channels: every truth row is the recorded one
    pd.testing.assert_frame_equal(
        oa[oa.role == "truth"].reset_index(drop=True),
        ob[ob.role == "truth"].reset_index(drop=True),
        check_exact=True,
    )
    # world events (passes, arrivals, pilots) unchanged
    kinds = {"decision", "decision_applied", "fallback", "fallback_failed"}
    wa = a.events[~a.events.kind.isin(kinds)][["t_s", "kind", "sat_id", "user_id", "detail"]]
    wb = b.events[~b.events.kind.isin(kinds)][["t_s", "kind", "sat_id", "user_id", "detail"]]
    pd.testing.assert_frame_equal(wa.reset_index(drop=True), wb.reset_index(drop=True))
    # independent KPI check: with 15 s latency, interval j of epoch k is scored with the
    # full-power decision made at the latest epoch whose decision time + 15 s <= t
    system = get_system("cellfree_uplink")
    dec = {}
    for r in ob[ob.role == "decision"].itertuples():
        if r.num_users:
            o = system.unpack(traces.decode_arrays(r._asdict()), _params(a))
            dec[float(r.t_s) + 15.0] = system.Decision(
                power_w=o.max_power_w.copy(),
                scheduled=np.ones(o.num_users, bool),
                user_ids=o.user_ids.copy(),
            )
    for e in b.epochs.itertuples():
        sums = []
        for r in oa[(oa.role == "truth") & (oa.epoch == e.epoch)].itertuples():
            due = [t for t in dec if t <= r.t_s]
            if not r.num_users or not due:
                sums.append(0.0)
                continue
            truth = system.unpack(traces.decode_arrays(r._asdict()), _params(a))
            d = system.align(dec[max(due)], truth.user_ids)
            sums.append(system.score(d, truth).sum_rate_bps)
        assert e.sum_rate_bps == pytest.approx(np.mean(sums), rel=1e-12, abs=1e-6)


def _params(trace):
    from emulator.config import system_params

    return system_params(scenario_from_dict(trace.manifest["scenario"]))


def _copy(source: Path, dst: Path) -> Path:
    shutil.copytree(source, dst)
    return dst


def test_bad_traces_are_one_line_exit_2(source, tmp_path, capsys):
    other = _copy(source, tmp_path / "other-version")
    m = json.loads((other / "manifest.json").read_text())
    m["schema_version"] = 999
    (other / "manifest.json").write_text(json.dumps(m))

    holed = _copy(source, tmp_path / "missing-part")
    shutil.rmtree(holed / "parts" / "part-000001")

    cut = _copy(source, tmp_path / "cut")
    shutil.rmtree(cut / "parts" / "part-000002")

    running = _copy(source, tmp_path / "running")
    m = json.loads((running / "manifest.json").read_text())
    m["status"] = "running"
    (running / "manifest.json").write_text(json.dumps(m))

    no_table = _copy(source, tmp_path / "no-table")
    (no_table / "parts" / "part-000000" / "observations.parquet").unlink()

    cases = [
        (["replay", str(other), "--policy", "full-power-v1"], "schema version"),
        (["replay", str(holed), "--epoch", "1"], "parts"),
        (["replay", str(cut), "--policy", "full-power-v1"], "parts"),
        (["replay", str(running)], "complete"),
        (["replay", str(no_table)], "observations.parquet"),
        (["replay", str(tmp_path / "nowhere")], "trace folder"),
        (["replay", str(source), "--epoch", "99"], "epoch"),
        (["replay", str(source), "--policy", "ao-v9"], "unknown policy"),
        (["replay", str(source), "--epoch", "1", "--out", str(tmp_path / "x")], "--out"),
    ]
    for argv, needle in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert needle in err, (needle, err)
