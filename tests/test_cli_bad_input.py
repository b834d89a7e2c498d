"""Bad input: each case gives exit status 2, one line on stderr, and no traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.cli import main
from tests.test_engine_support import TINY

ROOT = Path(__file__).resolve().parents[1]


def scenario_with(tmp_path: Path, old: str, new: str) -> str:
    text = TINY.read_text()
    assert old in text, old
    p = tmp_path / "bad.toml"
    p.write_text(text.replace(old, new, 1))
    return str(p)


def fake_trace(tmp_path: Path, **manifest) -> str:
    root = tmp_path / "trace"
    (root / "parts" / "part-000000").mkdir(parents=True)
    m = {"format": "leo-emulator-trace", "schema_version": 1, "status": "running"}
    m.update(manifest)
    (root / "manifest.json").write_text(json.dumps(m))
    for t in ("epochs", "users", "events", "observations", "wall"):
        (root / "parts" / "part-000000" / f"{t}.parquet").write_bytes(b"not parquet")
    return str(root)


CASES = {
    "missing scenario file": lambda t: ["run", str(t / "nope.toml")],
    "toml syntax": lambda t: ["run", scenario_with(t, "seed = 3", "seed = = 3")],
    "unknown key": lambda t: ["run", scenario_with(t, "seed = 3", "seed = 3\nsede = 4")],
    "unknown nested key": lambda t: ["run", scenario_with(t, "epoch_s = 10.0", "epoc_s = 10.0")],
    "wrong type": lambda t: ["run", scenario_with(t, "duration_s = 120.0", 'duration_s = "2m"')],
    "negative duration": lambda t: [
        "run",
        scenario_with(t, "duration_s = 120.0", "duration_s = -120.0"),
    ],
    "naive start time": lambda t: [
        "run",
        scenario_with(t, "2023-07-18T12:00:00Z", "2023-07-18T12:00:00"),
    ],
    "unknown system": lambda t: [
        "run",
        scenario_with(t, 'name = "cellfree_uplink"', 'name = "cellfree"'),
    ],
    "bad system param": lambda t: ["run", scenario_with(t, "num_aps = 4", "num_aps = -4")],
    "unknown policy in scenario": lambda t: [
        "run",
        scenario_with(t, 'id = "full-power-v1"', 'id = "ful-power-v1"'),
    ],
    "unknown policy on cli": lambda t: ["run", str(TINY), "--policy", "a0-v1"],
    "negative seed": lambda t: ["run", str(TINY), "--seed", "-1"],
    "negative duration on cli": lambda t: ["run", str(TINY), "--duration-s", "-5"],
    "bad latency mode": lambda t: [
        "run",
        scenario_with(t, 'latency = "none"', 'latency = "later"'),
    ],
    "missing tle file": lambda t: [
        "run",
        scenario_with(t, 'source = "tle"', 'source = "tle"\ntle_file = "x.tle"'),
    ],
    "unknown command option": lambda t: ["run", str(TINY), "--polcy", "x"],
    "inspect not a folder": lambda t: ["inspect", str(t / "missing")],
    "inspect not a trace": lambda t: ["inspect", str(t)],
    "inspect corrupt manifest": lambda t: ["inspect", _corrupt_manifest(t)],
    "inspect other schema version": lambda t: ["inspect", fake_trace(t, schema_version=99)],
    "inspect corrupt parquet": lambda t: ["inspect", fake_trace(t, policy={"id": "x"})],
    "resume onto another scenario": lambda t: [
        "run",
        str(TINY),
        "--resume",
        fake_trace(t, scenario_hash="0" * 64),
    ],
    "resume a non-trace": lambda t: ["run", "--resume", str(t)],
    "out and resume together": lambda t: [
        "run",
        str(TINY),
        "--out",
        str(t / "o"),
        "--resume",
        str(t),
    ],
    "policies of unknown system": lambda t: ["policies", "--system", "rsma"],
}


def _corrupt_manifest(t: Path) -> str:
    root = Path(fake_trace(t))
    (root / "manifest.json").write_text("{oops")
    return str(root)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_one_line_exit_2(name, tmp_path, capsys):
    argv = CASES[name](tmp_path)
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, (name, err)
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, (name, err)
    assert "Traceback" not in err
    assert (
        "expected" in lines[0]
        or "must" in lines[0]
        or "unrecognized" in lines[0]
        or "invalid" in lines[0]
    ), lines[0]


def test_at_least_fifteen_cases():
    assert len(CASES) >= 15


@pytest.mark.parametrize(
    "argv",
    [["run", "no/such/scenario.toml"], ["run", str(TINY), "--policy", "nope-v1"]],
)
def test_real_process_exit_status_and_no_traceback(argv, tmp_path):
    out = subprocess.run(
        [sys.executable, "run_emulation.py", *argv], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_copy_of_tiny_still_valid(tmp_path):
    shutil.copy(TINY, tmp_path / "ok.toml")
    assert (
        main(
            [
                "run",
                str(tmp_path / "ok.toml"),
                "--duration-s",
                "20",
                "--out",
                str(tmp_path / "o"),
                "--quiet",
            ]
        )
        == 0
    )
