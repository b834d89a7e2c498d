"""``reproduce 002``: the hard checks of issue 6 / spec §9 on a reduced configuration.

The experiment code runs the emulator's own system and policies; the checks compare them with
the paper's numbers (Space-only throughput bands), with Monte Carlo (Figs. 3-4) and with the
equal / random power baselines (Fig. 8). The CI configuration is the quick one restricted to
the PHYS profile (where the hard checks apply), to stay within the CI time budget.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from emulator.cli import main
from experiments import seed_002
from experiments.common import Reproduction
from experiments.seed_002.config import QUICK

CI = dataclasses.replace(
    QUICK,
    name="ci",
    profiles=("PHYS",),
    mc_profiles=("PHYS",),
    drops_cdf=20,
    drops_mc=3,
    drops_tau=8,
    tau_p_values=(1, 4, 8, 9, 10, 11, 12, 16, 30),
    timing_drops=2,
)


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("repro002")
    repro = Reproduction("002", out, CI.name)
    seed_002.run(repro, list(seed_002.ITEMS), config=CI)
    repro.write()
    return repro, out


def test_every_hard_check_passes(ci_run):
    repro, _ = ci_run
    hard = [r for r in repro.rows if r.hard]
    names = {r.item for r in hard}
    assert {"fig3", "fig4", "fig5", "fig7", "fig8", "fig9"} <= names
    failed = [f"{r.item} {r.quantity} ({r.note})" for r in hard if r.ours is not True]
    assert not failed, failed


def test_outputs_follow_design_section_9(ci_run):
    _, out = ci_run
    for item in seed_002.ITEMS:
        assert (out / f"{item}.csv").stat().st_size > 0, item
        if item != "table1":
            assert (out / f"{item}.png").stat().st_size > 1000, item
    rows = json.loads((out / "summary.json").read_text())
    keys = {"item", "quantity", "paper", "ours", "unit", "config"}
    assert rows and all(keys <= set(r) for r in rows)
    ao20 = [r for r in rows if r["quantity"] == "sum_throughput[K=20,ao,PHYS]"]
    assert len(ao20) == 1 and ao20[0]["paper"] == 167.1 and ao20[0]["ours"] > 0
    claims = [r for r in rows if r["unit"] == "bool"]
    assert claims and all(r["paper"] is True for r in claims)
    md = (out / "summary.md").read_text()
    assert "| table1 | sum_throughput[K=20,ao,PHYS] | 167.1 |" in md
    assert "Hard checks" in md


def test_cli_unknown_paper_and_item(capsys):
    assert main(["reproduce", "007"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown paper" in err[0] and "002" in err[0]
    assert main(["reproduce", "002", "--only", "fig99"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown item" in err[0] and "fig7" in err[0]


def test_cli_only_one_item(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(
        "experiments.seed_002.config.QUICK",
        dataclasses.replace(CI, tau_p_values=(8, 10, 12, 30), drops_tau=3),
    )
    out = tmp_path / "fig5"
    assert (
        main(["reproduce", "002", "--quick", "--only", "fig5", "--out", str(out), "--quiet"]) == 0
    )
    assert (out / "fig5.png").exists() and (out / "fig5.csv").exists()
    assert not (out / "fig7.png").exists()
    rows = json.loads((out / "summary.json").read_text())
    assert {r["item"] for r in rows} == {"fig5"}
    assert "summary.md" in capsys.readouterr().out
