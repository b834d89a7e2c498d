"""Other scenario kinds end to end: a synthetic Walker shell, and a recorded arrival list."""

from __future__ import annotations

import numpy as np
import pytest

import traces
from emulator.config import ScenarioError, scenario_from_dict
from emulator.engine import run_scenario
from tests.test_engine_support import DATA, tiny


def test_walker_constellation_run(tmp_path):
    d = tiny().to_dict()
    d["constellation"] = {
        "source": "walker",
        "handover_rule": "sticky",
        "shells": [
            {"total": 200, "planes": 10, "phasing": 1, "altitude_m": 550e3, "inclination_deg": 53.0}
        ],
    }
    d["site"]["min_elevation_deg"] = 10.0
    d["duration_s"] = 600.0
    d["timing"]["epoch_s"] = 30.0
    sc = scenario_from_dict(d)
    tr = traces.load(run_scenario(sc, out_dir=tmp_path / "w"))
    served = tr.epochs["serving_sat_id"]
    # Walker catalogue numbers start at 90001 (orbits.walker_delta's default)
    assert ((served == -1) | ((served >= 90_001) & (served < 90_201))).all()
    ho = tr.events[tr.events["kind"] == "handover"]
    assert len(ho) >= 1 and tr.manifest["tle_set_hash"]
    # sticky rule: after the start, the serving satellite changes only when it sets, and the
    # handover sits exactly on that satellite's LOS event of the pass plan
    los = {
        (int(r.sat_id), float(r.t_s)) for r in tr.events[tr.events["kind"] == "los"].itertuples()
    }
    for r in ho.iloc[1:].itertuples():
        fields = dict(kv.split("=") for kv in r.detail.split(";"))
        assert fields["reason"] in ("los", "outage", "aos"), r.detail
        if fields["reason"] == "los":
            assert (int(fields["from_sat_id"]), float(r.t_s)) in los


def test_recorded_arrival_list_is_replayed_exactly(tmp_path):
    d = tiny().to_dict()
    d["arrivals"] = {"process": "trace", "file": str(DATA / "arrivals.csv"), "max_users": 8}
    sc = scenario_from_dict(d)
    tr = traces.load(run_scenario(sc, out_dir=tmp_path / "a"))
    ev = tr.events
    arr = ev[ev["kind"] == "arrival"]
    dep = ev[ev["kind"] == "departure"]
    # ids follow arrival order: 0.0, 1.25, 3.5, 12.0 (the 30 s user has zero holding time)
    assert list(arr["user_id"]) == [0, 1, 2, 3]
    np.testing.assert_array_equal(arr["t_s"], [0.0, 1.25, 3.5, 12.0])
    assert dict(zip(dep["user_id"], dep["t_s"], strict=True)) == {3: 13.0, 0: 45.0, 2: 80.25}
    assert "east_m=900.0;north_m=900.0" in arr.iloc[1]["detail"]
    users = tr.users
    assert set(users.loc[users["epoch"] == 0, "user_id"]) == {0, 1, 2}


def test_bad_arrival_file_is_a_scenario_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("arrival_s,departure_s,east_m,north_m\n5,2,0,0\n")
    d = tiny().to_dict()
    d["arrivals"] = {"process": "trace", "file": str(bad)}
    with pytest.raises(ScenarioError, match="line 2"):
        scenario_from_dict(d)
    bad.write_text("arrival,departure\n1,2\n")
    with pytest.raises(ScenarioError, match="expected columns"):
        scenario_from_dict(d)


def test_arrival_area_override_confines_users(tmp_path):
    import json

    sc = tiny(**{"arrivals.area_side_m": 200.0, "duration_s": 60.0})
    tr = traces.load(run_scenario(sc, out_dir=tmp_path / "a"))
    arr = tr.events[tr.events["kind"] == "arrival"]
    assert len(arr) >= 2
    for detail in arr["detail"]:
        fields = dict(kv.split("=") for kv in detail.split(";"))
        assert abs(float(fields["east_m"])) <= 100.0 and abs(float(fields["north_m"])) <= 100.0
    assert json.loads(json.dumps(sc.to_dict()))["arrivals"]["area_side_m"] == 200.0
