"""The ``passes`` sub-command: plan + summary on stdout, CSV, one-line errors with status 2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emulator.cli import passes as passes_cli
from emulator.cli.common import OneLineParser, run_handler
from orbits import Site, default_constellation, pass_plan

START = "2023-07-18T12:00:00Z"


def _run(argv):
    parser = OneLineParser(prog="run_emulation.py")
    passes_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["passes", *argv])
    return run_handler(args.func, args)


@pytest.fixture()
def small_tle(tmp_path, monkeypatch):
    monkeypatch.setenv("LEO_EMULATOR_CACHE", str(tmp_path / "cache"))
    c = default_constellation()
    rows = np.random.default_rng(5).choice(len(c), size=30, replace=False)
    path = tmp_path / "small.tle"
    path.write_text("".join(f"{c.names[i]}\n{c.line1[i]}\n{c.line2[i]}\n" for i in rows))
    return path


def test_passes_prints_plan_summary_and_csv(small_tle, tmp_path, capsys):
    out_csv = tmp_path / "plan.csv"
    argv = ["--lat", "48.85", "--lon", "2.35", "--start", START, "--hours", "6"]
    argv += ["--min-elevation-deg", "25", "--tle", str(small_tle), "--csv", str(out_csv)]
    assert _run(argv + ["--rule", "sticky"]) == 0
    out = capsys.readouterr().out
    assert "TLE hygiene: loaded 30" in out and "serving plan (sticky)" in out
    got = pd.read_csv(out_csv)
    from orbits import load_tle

    ref = pass_plan(
        load_tle(small_tle), Site("site", 48.85, 2.35), START, 6 * 3600, 25, cache=False
    )
    assert len(got) == len(ref) > 0
    np.testing.assert_allclose(got["tca_s"].to_numpy(), ref["tca_s"].to_numpy(), atol=1e-6)
    assert f"passes: {len(ref)} from" in out


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--lat", "95", "--lon", "2"], "--lat"),
        (["--lat", "45", "--lon", "2", "--hours", "0"], "--hours"),
        (["--lat", "45", "--lon", "2", "--start", "noon"], "--start"),
        (["--lat", "45", "--lon", "2", "--min-elevation-deg", "90"], "--min-elevation-deg"),
        (["--lat", "45", "--lon", "2", "--tle", "/no/such.tle"], "--tle"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(argv, needle, capsys):
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "expected" in err


def test_malformed_tle_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.tle"
    bad.write_text("NAME\n1 44713U 19074A   23198.31707558  .00000584  00000+0  58057-4 0  9994\n")
    assert _run(["--lat", "45", "--lon", "2", "--tle", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.tle:2" in err


def test_argparse_errors_exit_2():
    with pytest.raises(SystemExit) as info:
        _run(["--lat", "abc", "--lon", "2"])
    assert info.value.code == 2
