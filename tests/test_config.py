"""Scenario schema: defaults, validation messages, overrides, content hash."""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from pathlib import Path

import pytest

from emulator.config import ScenarioError, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "default.toml"
TINY = ROOT / "tests" / "data" / "tiny.toml"


def raw(path=TINY):
    with open(path, "rb") as f:
        return tomllib.load(f)


def test_default_scenario_is_a_real_starlink_window():
    sc = load_scenario(DEFAULT)
    assert sc.constellation.source == "tle" and sc.system.name == "cellfree_uplink"
    assert sc.start_utc.isoformat() == "2023-07-18T12:00:00+00:00"
    assert sc.policy.id == "ao-v1" and sc.policy.fallback == "full-power-v1"
    assert sc.num_epochs == int(sc.duration_s / sc.timing.epoch_s)
    assert 600 <= sc.duration_s <= 900


def test_round_trip_and_hash_stability(tmp_path):
    sc = load_scenario(TINY)
    again = scenario_from_dict(json.loads(json.dumps(sc.to_dict())))
    assert again == sc and again.content_hash() == sc.content_hash()
    # the hash is SHA-256 of the canonical content (computed here independently)
    d = sc.to_dict()
    d.pop("source_path")
    d["output"].pop("dir")
    d["output"].pop("fsync")
    want = hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert sc.content_hash() == want
    # moving the file elsewhere does not change the scenario's identity
    shutil.copy(TINY, tmp_path / "moved.toml")
    assert load_scenario(tmp_path / "moved.toml").content_hash() == sc.content_hash()


def test_referenced_files_enter_the_hash_by_content(tmp_path):
    tle = tmp_path / "a.tle"
    shutil.copy(ROOT / "orbits" / "data" / "starlink-2023-07-18.tle", tle)
    d = raw()
    d["constellation"]["tle_file"] = "a.tle"
    (tmp_path / "s.toml").write_text(_toml(d))
    h1 = load_scenario(tmp_path / "s.toml").content_hash()
    tle.write_text(tle.read_text().replace("STARLINK-1007", "STARLINK-XXXX"))
    assert load_scenario(tmp_path / "s.toml").content_hash() != h1


def test_overrides_change_hash_and_revalidate():
    sc = load_scenario(TINY)
    o = sc.with_overrides(policy_id="random-power-v1", seed=7, duration_s=60.0)
    assert (o.policy.id, o.seed, o.duration_s) == ("random-power-v1", 7, 60.0)
    assert o.content_hash() != sc.content_hash()
    assert sc.with_overrides().content_hash() == sc.content_hash()
    with pytest.raises(ScenarioError, match="duration_s"):
        sc.with_overrides(duration_s=-1.0)
    with pytest.raises(ScenarioError, match="did you mean"):
        sc.with_overrides(policy_id="full-power-v2")


def test_scenario_is_frozen():
    sc = load_scenario(TINY)
    with pytest.raises(AttributeError):
        sc.seed = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        sc.system.params["num_aps"] = 3  # type: ignore[index]


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda d: d.update(bogus=1), "unknown key 'bogus'"),
        (lambda d: d["timing"].update(epoc_s=1.0), "did you mean 'epoch_s'"),
        (lambda d: d.update(duration_s="ten"), "duration_s must be a number"),
        (lambda d: d.update(duration_s=-5.0), "duration_s must be >"),
        (lambda d: d.update(seed=1.5), "seed must be an integer"),
        (lambda d: d.update(start_utc="yesterday"), "ISO-8601"),
        (lambda d: d.pop("start_utc"), "start_utc is missing"),
        (lambda d: d["site"].update(lat_deg=123.0), "site.lat_deg must be <= 90"),
        (lambda d: d["system"].update(name="cellfree_uplnk"), "did you mean 'cellfree_uplink'"),
        (lambda d: d["system"]["params"].update(num_apps=3), r"\[system.params\] rejected"),
        (lambda d: d["policy"].update(id="nope-v1"), "unknown policy id"),
        (lambda d: d["policy"].update(latency="sometimes"), "latency must be one of"),
        (lambda d: d["constellation"].update(handover_rule="best"), "handover_rule"),
        (lambda d: d["constellation"].update(tle_file="missing.tle"), "existing file"),
        (lambda d: d["timing"].update(coherence_interval_s=3.0), "coherence_interval_s"),
        (lambda d: d["output"].update(record_truth="yes"), "true or false"),
        (lambda d: d["arrivals"].update(process="trace"), "arrivals.file"),
        (
            lambda d: d["constellation"].update(
                source="walker", shells=[{"total": 10, "planes": 3, "phasing": 1}]
            ),
            "multiple of planes",
        ),
    ],
)
def test_bad_values_raise_one_line_scenario_errors(edit, match):
    d = raw()
    edit(d)
    with pytest.raises(ScenarioError, match=match) as info:
        scenario_from_dict(d, base_dir=TINY.parent)
    msg = str(info.value)
    assert "\n" not in msg and (
        "fix" in msg
        or "use" in msg
        or "pick" in msg
        or "choose" in msg
        or "did you mean" in msg
        or "write" in msg
        or "add" in msg
        or "run" in msg
        or "quote" in msg
        or "sample" in msg
        or "set" in msg
    )


def test_load_errors(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_text("name = \n")
    with pytest.raises(ScenarioError, match="valid TOML"):
        load_scenario(tmp_path / "bad.toml")


def test_walker_scenario_validates():
    d = raw()
    d["constellation"] = {
        "source": "walker",
        "shells": [
            {"total": 24, "planes": 6, "phasing": 1, "altitude_m": 550e3, "inclination_deg": 53.0}
        ],
    }
    sc = scenario_from_dict(d)
    assert sc.constellation.shells[0].total == 24


def _toml(d) -> str:
    """Minimal TOML writer for the flat/nested dicts used here."""
    lines, tables = [], []

    def val(v):
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, bool):
            return "true" if v else "false"
        if hasattr(v, "isoformat"):
            return v.isoformat().replace("+00:00", "Z")
        return repr(v)

    for k, v in d.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {val(v)}")
    for name, t in tables:
        sub = [(k, v) for k, v in t.items() if isinstance(v, dict)]
        lines.append(f"[{name}]")
        lines += [f"{k} = {val(v)}" for k, v in t.items() if not isinstance(v, dict)]
        for k, v in sub:
            lines.append(f"[{name}.{k}]")
            lines += [f"{kk} = {val(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"
