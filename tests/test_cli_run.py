"""CLI: run / inspect / policies end to end, and --help on every command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import policies
import traces
from emulator.cli import COMMANDS, build_parser, main
from tests.test_engine_support import TINY

ROOT = Path(__file__).resolve().parents[1]


def test_run_inspect_plot(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(TINY), "--out", str(out), "--seed", "5", "--duration-s", "60"]) == 0
    text = capsys.readouterr().out
    assert f"trace: {out}" in text and "sum rate [Mbit/s]" in text
    tr = traces.load(out)
    assert tr.manifest["seed"] == 5 and len(tr.epochs) == 6 and tr.complete
    for key in (
        "scenario",
        "scenario_hash",
        "versions",
        "tle_set_hash",
        "policy",
        "status",
        "schema_version",
        "started_utc",
        "ended_utc",
    ):
        assert tr.manifest[key], key
    assert tr.manifest["policy"]["version"] == "1"
    assert main(["inspect", str(out), "--plot"]) == 0
    text = capsys.readouterr().out
    assert "epochs" in text and "6 of 6" in text and "fallbacks" in text
    assert (out / "plots" / "kpis.png").stat().st_size > 1000
    assert (out / "plots" / "satellites.png").stat().st_size > 1000


def test_default_output_folder_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(TINY), "--duration-s", "20", "--quiet"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == Path("runs")
    assert path.name.startswith("tiny-full-power-v1-3-") and path.name.endswith("Z")


def test_policies_lists_every_registered_policy(capsys):
    assert main(["policies"]) == 0
    text = capsys.readouterr().out
    for e in policies.entries():
        assert e.id in text and e.system in text


@pytest.mark.parametrize("command", [c.replace("_", "-") for c in ("run", "inspect", "policies")])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_every_registered_subcommand_has_help():
    sub = build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001
    assert {"run", "inspect", "policies"} <= set(sub)
    for name, p in sub.items():
        assert p.format_help().startswith("usage:"), name
    assert len(sub) <= len(COMMANDS)


def test_console_script_runs_the_same_cli():
    out = subprocess.run(
        [sys.executable, "run_emulation.py", "policies"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "full-power-v1" in out.stdout
    # the console script named in pyproject points at the same main()
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "emulator.cli:main" in scripts.values()
