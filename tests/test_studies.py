"""Policy-comparison studies: backends agree, a killed study resumes to the same result,
failures are isolated, bad input is one line with exit status 2.

The reference for "same result" is always an independent, uninterrupted execution of the same
matrix: every deterministic trace table (``traces.DETERMINISTIC_TABLES``) and the study's KPI
table must be equal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import traces
from emulator import studies
from emulator.cli import main
from emulator.config import load_scenario

REPO = Path(__file__).resolve().parents[1]
POLICIES = ["full-power-v1", "random-power-v1"]
SEEDS = [0, 1]

SCENARIO_TOML = textwrap.dedent(
    """
    name = "study-test"
    start_utc = 2023-07-18T12:00:00Z
    duration_s = 60.0
    seed = 0

    [constellation]
    source = "tle"
    handover_rule = "highest_elevation"

    [site]
    name = "Paris"
    lat_deg = 48.8566
    lon_deg = 2.3522
    alt_m = 35.0
    min_elevation_deg = 25.0

    [system]
    name = "cellfree_uplink"
    profile = "PHYS"
    [system.params]
    num_aps = 4
    area_side_m = 2000.0
    n_h = 2
    n_v = 2

    [arrivals]
    process = "poisson"
    rate_per_s = 0.1
    mean_holding_s = 60.0
    initial = "stationary"
    max_users = 8

    [timing]
    epoch_s = 10.0
    coherence_interval_s = 0.001
    coherence_samples_per_epoch = 1

    [policy]
    id = "full-power-v1"
    fallback = "full-power-v1"
    time_budget_s = 5.0
    latency = "none"

    [output]
    flush_every_epochs = 2
    """
)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scn") / "study-test.toml"
    path.write_text(SCENARIO_TOML)
    return path


@pytest.fixture(scope="module")
def local_study(scenario_file, tmp_path_factory) -> Path:
    """The uninterrupted reference: 2 policies x 2 seeds on the local process pool."""
    root = tmp_path_factory.mktemp("local") / "study"
    study = studies.plan_study(
        load_scenario(scenario_file), POLICIES, SEEDS, root, scenario_path=scenario_file
    )
    results = studies.run_study(study, backend="local", workers=2)
    assert [r.status for r in results] == ["complete"] * 4, [r.error for r in results]
    return root


def assert_same_study(a: Path, b: Path) -> None:
    """Equal KPI tables and equal deterministic trace tables, run by run."""
    ka, kb = studies.study_kpi_table(a), studies.study_kpi_table(b)
    assert len(ka) == len(POLICIES) * len(SEEDS)
    pd.testing.assert_frame_equal(ka, kb, check_exact=True)
    for p in POLICIES:
        for s in SEEDS:
            ta = traces.load(a / studies.run_rel_dir(p, s))
            tb = traces.load(b / studies.run_rel_dir(p, s))
            assert ta.complete and tb.complete
            for name in traces.DETERMINISTIC_TABLES:
                pd.testing.assert_frame_equal(
                    getattr(ta, name), getattr(tb, name), check_exact=True, obj=f"{p}/{s}/{name}"
                )


def test_parse_seeds_and_policies():
    assert studies.parse_seeds("0-3,7, 5-6") == [0, 1, 2, 3, 5, 6, 7]
    assert studies.parse_seeds("4") == [4]
    for bad in ["", "a-b", "3-1", "1,,2", "-1"]:
        with pytest.raises(studies.StudyError, match="expected"):
            studies.parse_seeds(bad)
    assert studies.parse_policies("random-power-v1, full-power-v1,random-power-v1") == [
        "random-power-v1",
        "full-power-v1",
    ]


def test_common_random_numbers_across_policies(local_study):
    """Same seed -> same world for every policy: the recorded truths are identical."""
    for s in SEEDS:
        obs = [traces.load(local_study / studies.run_rel_dir(p, s)).observations for p in POLICIES]
        truths = [o[o["role"] == "truth"].reset_index(drop=True) for o in obs]
        assert len(truths[0]) > 0
        pd.testing.assert_frame_equal(truths[0], truths[1], check_exact=True)
    manifest = json.loads((local_study / "study.json").read_text())
    assert manifest["schema"] == studies.STUDY_SCHEMA and manifest["state"] == "complete"
    assert [(r["policy_id"], r["seed"]) for r in manifest["runs"]] == [
        (p, s) for p in POLICIES for s in SEEDS
    ]


def test_ray_backend_gives_identical_tables(local_study, scenario_file, tmp_path):
    pytest.importorskip("ray")
    root = tmp_path / "ray-study"
    study = studies.plan_study(load_scenario(scenario_file), POLICIES, SEEDS, root)
    results = studies.run_study(study, backend="ray", workers=2)
    assert [r.status for r in results] == ["complete"] * 4, [r.error for r in results]
    assert_same_study(local_study, root)
    studies.write_study_kpis(root)
    studies.write_study_kpis(local_study)
    assert (root / "kpis.parquet").read_bytes() == (local_study / "kpis.parquet").read_bytes()


# --- runners substituted into the workers (importable by name: tests.test_studies:...) ------
def failing_runner(scenario, out_dir=None, resume_dir=None, quiet=True):
    """Raises for random-power-v1 on seed 1, kills its worker process outright for
    full-power-v1 on seed 1 (a hard crash), otherwise runs the scenario."""
    if scenario.policy.id == "random-power-v1" and scenario.seed == 1:
        raise RuntimeError("injected failure for the isolation test")
    if scenario.policy.id == "full-power-v1" and scenario.seed == 1:
        os._exit(3)
    from emulator.engine import run_scenario

    return run_scenario(scenario, out_dir=out_dir, resume_dir=resume_dir, quiet=quiet)


def killing_runner(scenario, out_dir=None, resume_dir=None, quiet=True):
    """Runs the scenario; on full-power-v1 seed 1 it SIGKILLs the whole study (driver, pool
    and forkserver: the process group) right after the run's first trace part is on disk."""
    from emulator.engine import run_scenario
    from traces.writer import TraceWriter

    if scenario.policy.id == "full-power-v1" and scenario.seed == 1:
        original = TraceWriter.write_part

        def write_part_then_die(self, index, tables, carry):
            path = original(self, index, tables, carry)
            os.killpg(os.getpgid(0), signal.SIGKILL)
            return path

        TraceWriter.write_part = write_part_then_die
    return run_scenario(scenario, out_dir=out_dir, resume_dir=resume_dir, quiet=quiet)


def test_failed_run_is_recorded_and_others_complete(scenario_file, tmp_path):
    root = tmp_path / "study"
    study = studies.plan_study(load_scenario(scenario_file), POLICIES, SEEDS, root)
    results = studies.run_study(
        study, workers=2, runner="tests.test_studies:failing_runner", backend="local"
    )
    got = {(r.policy_id, r.seed): r for r in results}
    assert got[("full-power-v1", 0)].status == "complete"
    assert got[("random-power-v1", 0)].status == "complete"
    raised = got[("random-power-v1", 1)]
    assert raised.status == "failed" and "injected failure" in raised.error
    crashed = got[("full-power-v1", 1)]
    assert crashed.status == "failed" and "worker process died" in crashed.error
    manifest = json.loads((root / "study.json").read_text())
    assert manifest["state"] == "failed-runs"
    assert [r["status"] for r in manifest["runs"]] == ["complete", "failed", "complete", "failed"]
    assert "injected failure" in (root / "errors" / "random-power-v1-seed-0001.txt").read_text()
    # the complete runs are real, complete traces
    assert traces.load(root / studies.run_rel_dir("random-power-v1", 0)).complete


def test_killed_study_resumes_to_the_uninterrupted_result(local_study, scenario_file, tmp_path):
    root = tmp_path / "killed"
    script = (
        "from emulator import studies\n"
        "from emulator.config import load_scenario\n"
        f"st = studies.plan_study(load_scenario({str(scenario_file)!r}), {POLICIES!r}, "
        f"{SEEDS!r}, {str(root)!r}, scenario_path={str(scenario_file)!r})\n"
        "studies.run_study(st, workers=1, runner='tests.test_studies:killing_runner')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        start_new_session=True,  # its own process group: the kill stays inside it
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    first = root / studies.run_rel_dir("full-power-v1", 0)
    cut = root / studies.run_rel_dir("full-power-v1", 1)
    assert studies.trace_status(first) == "complete"
    assert studies.trace_status(cut) == "partial"
    assert len(traces.load(cut).parts) == 1  # killed right after its first part
    assert not (root / studies.run_rel_dir("random-power-v1", 0)).exists()
    stamp = {p: p.stat().st_mtime_ns for p in first.rglob("*") if p.is_file()}

    # resume with the ordinary CLI: same scenario, same --out
    code = main(
        [
            "compare",
            str(scenario_file),
            "--policies",
            ",".join(POLICIES),
            "--seeds",
            "0-1",
            "--workers",
            "2",
            "--out",
            str(root),
            "--no-report",
            "--quiet",
        ]
    )
    assert code == 0
    records = {
        (r["policy_id"], r["seed"]): r
        for r in json.loads((root / "study.json").read_text())["runs"]
    }
    assert records[("full-power-v1", 0)]["skipped"] is True
    assert records[("full-power-v1", 1)]["resumed"] is True
    assert {p: p.stat().st_mtime_ns for p in first.rglob("*") if p.is_file()} == stamp
    assert_same_study(local_study, root)


def test_cli_bad_input_is_one_line_exit_2(scenario_file, local_study, tmp_path, capsys):
    other = tmp_path / "other.toml"
    other.write_text(SCENARIO_TOML.replace("seed = 0", "seed = 5"))
    cases = [
        ["compare", str(scenario_file), "--policies", "full-pwer-v1", "--seeds", "0"],
        ["compare", str(scenario_file), "--policies", "full-power-v1", "--seeds", "3-1"],
        ["compare", str(scenario_file), "--policies", "full-power-v1", "--workers", "0"],
        ["compare", str(tmp_path / "missing.toml"), "--policies", "full-power-v1"],
        ["compare", str(other), "--policies", "full-power-v1", "--out", str(local_study)],
        ["compare", str(scenario_file), "--policies", "full-power-v1", "--ray-address", "x:1"],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert "expected" in err or "unknown" in err, err


def test_report_of_a_real_study(local_study, capsys):
    assert main(["report", str(local_study), "--baseline", "full-power-v1"]) == 0
    text = (local_study / "report.md").read_text()
    for p in POLICIES:
        assert f"| {p} |" in text
    for label in [
        "mean sum throughput",
        "5th-pct user throughput",
        "Jain fairness",
        "outage share",
        "scheduled share",
        "decision time p50",
        "decision time p99",
        "fallbacks",
        "Paired differences vs `full-power-v1`",
    ]:
        assert label in text, label
    kpis = pd.read_csv(local_study / "kpis.csv")
    # independent: the mean sum throughput of one run straight from its trace
    tr = traces.load(local_study / studies.run_rel_dir("random-power-v1", 1))
    row = kpis[(kpis.policy_id == "random-power-v1") & (kpis.seed == 1)].iloc[0]
    assert row.sum_throughput_bps == pytest.approx(tr.epochs.sum_rate_bps.mean(), rel=1e-12)
