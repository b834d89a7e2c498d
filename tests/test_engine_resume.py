"""Crash and resume: a run killed with SIGKILL mid-run, then resumed, equals an uninterrupted
run (byte-identical Parquet parts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import traces
from emulator.cli import main
from emulator.config import ScenarioError
from emulator.engine import run_scenario
from tests.test_engine_support import TINY, read_part_bytes, tiny
from traces.schema import DETERMINISTIC_TABLES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_then_resume_equals_uninterrupted(tmp_path):
    out = tmp_path / "killed"
    code = (
        "import sys, tests.test_engine_support\n"
        "from emulator.cli import main\n"
        f"sys.exit(main(['run', {str(TINY)!r}, '--policy', 'test-slow-v1', '--out', "
        f"{str(out)!r}, '--quiet']))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    first = out / "parts" / "part-000000"
    deadline = time.monotonic() + 60
    while not first.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the run never wrote its first part"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running"  # killed: never finished
    n_before = len(traces.load(out).parts)
    assert 1 <= n_before < 3

    sc = tiny().with_overrides(policy_id="test-slow-v1")
    # resume the way a user does: the scenario (with its overrides) comes from the manifest
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    ref = run_scenario(sc, out_dir=tmp_path / "ref")
    for table in DETERMINISTIC_TABLES:
        assert read_part_bytes(out, table) == read_part_bytes(ref, table), table
    tr = traces.load(out)
    assert tr.complete and len(tr.epochs) == sc.num_epochs
    assert "resumed_utc" in tr.manifest


def test_resume_onto_another_scenario_is_refused(tmp_path):
    out = run_scenario(tiny(), out_dir=tmp_path / "a")
    with pytest.raises(ScenarioError, match="another scenario"):
        run_scenario(tiny().with_overrides(seed=9), resume_dir=out)
    # resuming a complete run is a no-op that leaves it unchanged
    before = read_part_bytes(out, "epochs")
    assert run_scenario(tiny(), resume_dir=out) == out
    assert read_part_bytes(out, "epochs") == before


def test_a_failing_part_write_fails_the_run_and_keeps_earlier_parts(tmp_path, monkeypatch):
    original = traces.TraceWriter.write_part

    def flaky(self, index, tables, carry):
        if index == 1:
            raise OSError(28, "No space left on device")
        return original(self, index, tables, carry)

    monkeypatch.setattr(traces.TraceWriter, "write_part", flaky)
    out = tmp_path / "run"
    with pytest.raises(OSError, match="No space"):
        run_scenario(tiny(), out_dir=out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "No space" in manifest["error"]
    assert [p.name for p in sorted((out / "parts").iterdir())] == ["part-000000"]
    # after the disk is fixed, the run resumes from the part that was written
    monkeypatch.setattr(traces.TraceWriter, "write_part", original)
    run_scenario(tiny(), resume_dir=out)
    ref = run_scenario(tiny(), out_dir=tmp_path / "ref")
    for table in DETERMINISTIC_TABLES:
        assert read_part_bytes(out, table) == read_part_bytes(ref, table), table
