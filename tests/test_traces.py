"""Trace writer / reader: atomic parts, exact array encoding, schema and corruption checks."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

import traces
from traces.errors import TraceError
from traces.schema import FORMAT_NAME, SCHEMA_VERSION, TABLES


def manifest(**kw):
    m = {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "status": "running"}
    m.update(kw)
    return m


def part_rows(epoch0: int, n: int):
    epochs = [
        {c: 0 for c in TABLES["epochs"]}
        | {
            "epoch": e,
            "t_s": 2.0 * e,
            "sum_rate_bps": e * 1.5,
            "decision_source": "policy",
            "fallback_reason": "",
        }
        for e in range(epoch0, epoch0 + n)
    ]
    users = [
        {
            "epoch": e,
            "user_id": u,
            "power_w": 0.1 * u,
            "scheduled": True,
            "rate_bps": 1.0,
            "intervals_present": 2,
        }
        for e in range(epoch0, epoch0 + n)
        for u in range(3)
    ]
    events = [
        {
            "t_s": 2.0 * e,
            "epoch": e,
            "seq": e,
            "kind": "decision",
            "sat_id": -1,
            "user_id": -1,
            "detail": "",
        }
        for e in range(epoch0, epoch0 + n)
    ]
    obs = []
    for e in range(epoch0, epoch0 + n):
        r = {
            "epoch": e,
            "role": "decision",
            "ci": -1,
            "t_s": 2.0 * e,
            "num_users": 3,
            "rng_streams": "{}",
        }
        r.update(traces.encode_arrays({"x": np.arange(3.0) + e}))
        obs.append(r)
    wall = [
        {"epoch": e, "wall_decide_s": 0.001, "wall_epoch_s": 0.01}
        for e in range(epoch0, epoch0 + n)
    ]
    return {"epochs": epochs, "users": users, "events": events, "observations": obs, "wall": wall}


def test_write_read_round_trip(tmp_path):
    w = traces.TraceWriter(tmp_path / "run")
    w.create(manifest())
    w.write_part(0, part_rows(0, 3), {"next_epoch": 3})
    w.write_part(1, part_rows(3, 2), {"next_epoch": 5})
    tr = traces.load(tmp_path / "run")
    assert list(tr.epochs["epoch"]) == [0, 1, 2, 3, 4]
    assert len(tr.users) == 15 and list(tr.users.columns[:2]) == ["epoch", "user_id"]
    assert tr.carry() == {"next_epoch": 5}
    np.testing.assert_array_equal(tr.observation_arrays(4)["x"], [4.0, 5.0, 6.0])
    assert not tr.complete


def test_encode_decode_is_bitwise_exact():
    rng = np.random.default_rng(1)
    nan_payload = np.frombuffer(np.uint64(0x7FF8_0000_0000_0001).tobytes(), dtype=np.float64)
    arrays = {
        "f": np.concatenate([rng.standard_normal(5), nan_payload, [np.inf, -0.0]]),
        "c": (rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))),
        "i": np.arange(4, dtype=np.int64).reshape(2, 2),
        "b": np.array([True, False]),
        "s": np.array(3.5),
        "big": np.arange(3, dtype=">f8"),  # big-endian input comes back as native little-endian
    }
    cells = traces.encode_arrays(arrays)
    back = traces.decode_arrays(pd.Series(cells))
    for k, a in arrays.items():
        want = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        assert back[k].shape == a.shape and back[k].tobytes() == want.tobytes(), k


def test_incomplete_tmp_part_is_ignored_and_removed_on_resume(tmp_path):
    w = traces.TraceWriter(tmp_path)
    w.create(manifest())
    w.write_part(0, part_rows(0, 2), {"next_epoch": 2})
    tmp = tmp_path / "parts" / "part-000001.tmp"
    tmp.mkdir()
    (tmp / "epochs.parquet").write_bytes(b"half a file")
    assert len(traces.load(tmp_path).epochs) == 2
    assert w.open_for_resume() == [0]
    assert not tmp.exists()


def test_create_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "x").write_text("hello")
    with pytest.raises(TraceError, match="empty"):
        traces.TraceWriter(tmp_path).create(manifest())


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda root: (root / "manifest.json").write_text("{not json"), "valid JSON"),
        (lambda root: (root / "manifest.json").unlink(), "manifest.json"),
        (lambda root: _set_manifest(root, schema_version=SCHEMA_VERSION + 1), "schema version"),
        (lambda root: _set_manifest(root, format="other"), "manifest"),
        (
            lambda root: os.rename(root / "parts" / "part-000000", root / "parts" / "part-000007"),
            "consecutive",
        ),
        (lambda root: (root / "parts" / "part-000000" / "users.parquet").unlink(), "users"),
    ],
)
def test_corrupt_traces_raise_one_line_trace_error(tmp_path, damage, match):
    w = traces.TraceWriter(tmp_path)
    w.create(manifest())
    w.write_part(0, part_rows(0, 2), {"next_epoch": 2})
    damage(tmp_path)
    with pytest.raises(TraceError, match=match) as info:
        tr = traces.load(tmp_path)
        tr.epochs  # noqa: B018
    assert "\n" not in str(info.value)


def test_unreadable_parquet_and_missing_column(tmp_path):
    w = traces.TraceWriter(tmp_path)
    w.create(manifest())
    w.write_part(0, part_rows(0, 2), {})
    import pyarrow as pa
    import pyarrow.parquet as pq

    # a users table from another schema: required columns missing
    pq.write_table(
        pa.table({"epoch": [0], "user_id": [1]}),
        tmp_path / "parts" / "part-000000" / "users.parquet",
    )
    with pytest.raises(TraceError, match="columns"):
        traces.load(tmp_path).users  # noqa: B018
    (tmp_path / "parts" / "part-000000" / "epochs.parquet").write_bytes(b"garbage")
    with pytest.raises(TraceError, match="Parquet"):
        traces.load(tmp_path).epochs  # noqa: B018


def _set_manifest(root, **kw):
    m = json.loads((root / "manifest.json").read_text())
    m.update(kw)
    (root / "manifest.json").write_text(json.dumps(m))


def test_resume_drops_a_torn_last_part(tmp_path):
    # after an OS crash without fsync a renamed part may hold a truncated file
    w = traces.TraceWriter(tmp_path, fsync=False)
    w.create(manifest())
    w.write_part(0, part_rows(0, 2), {"next_epoch": 2})
    w.write_part(1, part_rows(2, 2), {"next_epoch": 4})
    f = tmp_path / "parts" / "part-000001" / "events.parquet"
    f.write_bytes(f.read_bytes()[:20])
    assert w.open_for_resume() == [0]
    assert traces.load(tmp_path).carry() == {"next_epoch": 2}
