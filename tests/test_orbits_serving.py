"""Serving plans and visible counts against slow per-second reference loops."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from orbits import Site, default_constellation, geometry, pass_plan, serving_plan, visible_count

START = dt.datetime(2023, 7, 18, 6, tzinfo=dt.UTC)
DURATION_S = 2 * 3600.0
MIN_EL = 25.0
SITE = Site("paris", 48.85, 2.35, 35.0)


@pytest.fixture(scope="module")
def world():
    c = default_constellation()
    ids = np.random.default_rng(21).choice(c.sat_ids, size=150, replace=False)
    sub = c.subset(ids)
    plan = pass_plan(sub, SITE, START, DURATION_S, MIN_EL, cache=False)
    # 20 extra minutes so passes running past the window end have a known LOS
    t_ext = np.arange(0.0, DURATION_S + 1200.0, 1.0)
    el_ext = geometry(sub, SITE, START, t_ext).elevation_deg[:, :, 0]  # [S, T]
    t = t_ext[t_ext < DURATION_S]
    return sub, plan, t, el_ext


def _serving_series(events, t):
    idx = np.searchsorted(events["t_s"].to_numpy(), t, side="right") - 1
    return events["to_sat_id"].to_numpy()[idx]


def _near_events(events, t, tol_s=1.0):
    ev = events["t_s"].to_numpy()
    pos = np.searchsorted(ev, t)
    d_next = np.abs(ev[np.minimum(pos, ev.size - 1)] - t)
    d_prev = np.abs(ev[np.maximum(pos - 1, 0)] - t)
    return np.minimum(d_next, d_prev) <= tol_s


def _check_against(events, ref, t):
    ours = _serving_series(events, t)
    bad = (ours != ref) & ~_near_events(events, t)
    assert bad.sum() == 0, f"{bad.sum()} s disagree with the reference away from events"
    # every change of the reference has an event within 1 s
    changes = t[1:][ref[1:] != ref[:-1]]
    assert _near_events(events, changes).all()
    assert np.all(np.diff(events["t_s"].to_numpy()) >= 0)


def test_visible_count_matches_brute_force(world):
    sub, plan, t, el = world
    ref = (el[:, : t.size] >= MIN_EL).sum(axis=0)
    ours = visible_count(plan, t)
    edges = np.concatenate([plan["aos_s"].to_numpy(), plan["los_s"].to_numpy()])
    near = np.min(np.abs(t[:, None] - edges[None, :]), axis=1) <= 1.0
    assert np.array_equal(ours[~near], ref[~near])
    assert ours.dtype == np.int64 and visible_count(plan, 10.0).shape == ()


def test_highest_elevation_rule(world):
    sub, plan, t, el = world
    ev = serving_plan(plan, START, DURATION_S, "highest_elevation", constellation=sub, site=SITE)
    el = el[:, : t.size]
    masked = np.where(el >= MIN_EL, el, -np.inf)
    ref = np.where(np.isfinite(masked.max(axis=0)), sub.sat_ids[np.argmax(masked, axis=0)], -1)
    _check_against(ev, ref, t)
    # the sparse sample exercises every kind of event
    assert {"start", "higher_elevation", "outage", "aos"} <= set(ev["reason"])
    assert list(ev.columns) == ["t_s", "utc", "from_sat_id", "to_sat_id", "reason"]
    assert ev["t_s"].iloc[0] == 0.0


def _reference_at_los(el, ids, rule, n_t):
    vis = el >= MIN_EL
    n_s = vis.shape[0]
    # remaining visibility of each satellite at each second (slow reference)
    remaining = np.zeros(vis.shape)
    for k in range(vis.shape[1] - 1, -1, -1):
        nxt = remaining[:, k + 1] if k + 1 < vis.shape[1] else np.zeros(n_s)
        remaining[:, k] = np.where(vis[:, k], nxt + 1.0, 0.0)
    cur, out = -1, np.empty(n_t, dtype=np.int64)
    for k in range(n_t):
        if cur < 0 or not vis[cur, k]:
            cands = np.nonzero(vis[:, k])[0]
            if cands.size == 0:
                cur = -1
            elif rule == "sticky":
                cur = int(cands[np.argmax(el[cands, k])])
            else:
                cur = int(cands[np.argmax(remaining[cands, k])])
        out[k] = ids[cur] if cur >= 0 else -1
    return out


@pytest.mark.parametrize("rule", ["sticky", "longest_remaining"])
def test_rules_that_hand_over_at_los(world, rule):
    sub, plan, t, el = world
    ev = serving_plan(plan, START, DURATION_S, rule, constellation=sub, site=SITE)
    ref = _reference_at_los(el, sub.sat_ids, rule, t.size)
    _check_against(ev, ref, t)
    # handovers happen only at the serving satellite's LOS
    los = plan.set_index("sat_id")["los_s"]
    for _, e in ev[ev["from_sat_id"] >= 0].iterrows():
        assert np.isclose(los.loc[[e["from_sat_id"]]], e["t_s"], atol=1e-6).any()


def test_rules_need_constellation_and_validate(world):
    sub, plan, t, el = world
    with pytest.raises(ValueError, match="needs the constellation"):
        serving_plan(plan, START, DURATION_S, "sticky")
    with pytest.raises(ValueError, match="rule"):
        serving_plan(plan, START, DURATION_S, "nearest", constellation=sub, site=SITE)
    # longest_remaining needs no elevations; site comes from the plan's attrs
    assert len(serving_plan(plan, START, DURATION_S, "longest_remaining")) > 0


def test_serving_cache(world, tmp_path):
    sub, plan, t, el = world
    a = serving_plan(plan, START, DURATION_S, "sticky", sub, SITE, cache=True, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("serving-*.parquet"))) == 1
    b = serving_plan(plan, START, DURATION_S, "sticky", sub, SITE, cache=True, cache_dir=tmp_path)
    np.testing.assert_array_equal(a["to_sat_id"].to_numpy(), b["to_sat_id"].to_numpy())
    np.testing.assert_allclose(a["t_s"].to_numpy(), b["t_s"].to_numpy())
