"""The ordered event log of a tiny scenario, written out by hand from its pass plan, its
serving plan and its arrival draws, must match the trace's ``events`` table exactly."""

from __future__ import annotations

import math

import numpy as np

import orbits
import traces
from emulator.engine import run_scenario
from emulator.rng import stream
from tests.test_engine_support import tiny

# rank of kinds that can share an instant (t = 0, epoch starts)
RANK = {
    "los": 0,
    "handover": 1,
    "aos": 2,
    "tca": 3,
    "departure": 4,
    "arrival": 4,
    "arrival_blocked": 4,
    "decision": 5,
    "decision_applied": 6,
}


def expected_log(sc):
    start, dur = sc.start_utc, sc.duration_s
    const, _ = orbits.hygiene(
        orbits.default_constellation(),
        start,
        dur,
        max_epoch_age_days=sc.constellation.max_tle_age_days,
        warn=False,
    )
    site = orbits.Site(sc.site.name, sc.site.lat_deg, sc.site.lon_deg, sc.site.alt_m)
    passes = orbits.pass_plan(const, site, start, dur, sc.site.min_elevation_deg)
    serving = orbits.serving_plan(
        passes, start, dur, sc.constellation.handover_rule, constellation=const, site=site
    )
    ev = []  # (t, rank, tiebreak, kind, sat_id, user_id)
    for r in passes.itertuples():
        if not r.aos_in_progress and 0 <= r.aos_s <= dur:
            ev.append((r.aos_s, RANK["aos"], r.sat_id, "aos", r.sat_id, -1))
        if 0 <= r.tca_s <= dur:
            ev.append((r.tca_s, RANK["tca"], r.sat_id, "tca", r.sat_id, -1))
        if not r.los_after_end and 0 <= r.los_s <= dur:
            ev.append((r.los_s, RANK["los"], r.sat_id, "los", r.sat_id, -1))
    for r in serving.itertuples():
        ev.append((r.t_s, RANK["handover"], 0, "handover", int(r.to_sat_id), -1))

    # arrivals: the M/M/inf law of emulator/arrivals.py, drawn here by hand
    a, seed = sc.arrivals, sc.seed
    side = float(sc.system.params["area_side_m"])
    end = sc.num_epochs * sc.timing.epoch_s
    users = []
    n0 = int(stream(seed, "arrivals/initial").poisson(a.rate_per_s * a.mean_holding_s))
    for j in range(n0):
        g = stream(seed, "arrivals/initial", j)
        users.append((0.0, float(g.exponential(a.mean_holding_s))))
    t, i = 0.0, 0
    while True:
        g = stream(seed, "arrivals", i)
        t += float(g.exponential(1.0 / a.rate_per_s))
        if t >= end:
            break
        users.append((t, t + float(g.exponential(a.mean_holding_s))))
        assert abs(g.uniform(-side / 2, side / 2, size=2)).max() <= side / 2
        i += 1
    active = {}  # uid -> departure
    for uid, (t_a, t_d) in enumerate(users):
        for u in [u for u, d in active.items() if d <= t_a]:
            del active[u]
        if len(active) >= a.max_users:
            ev.append((t_a, 4, uid, "arrival_blocked", -1, uid))
            continue
        active[uid] = t_d
        ev.append((t_a, 4, uid, "arrival", -1, uid))
        if t_d < end:
            ev.append((t_d, 4, uid, "departure", -1, uid))
    admitted = {e[5]: users[e[5]] for e in ev if e[3] == "arrival"}

    def count(t):
        return sum(1 for (ta, td) in admitted.values() if ta <= t < td)

    e_s, s = sc.timing.epoch_s, sc.timing.coherence_samples_per_epoch
    tau_c = 10_000  # CellFreeParams default; tau_p = ceil(K/2) (spec 002)
    for k in range(sc.num_epochs):
        t_k = k * e_s
        if count(t_k):
            ev.append((t_k, RANK["decision"], 0, "decision", -1, -1))
            ev.append((t_k, RANK["decision_applied"], 0, "decision_applied", -1, -1))
        for j in range(s):
            c = k * e_s + (j + 0.5) * e_s / s
            n = count(c)
            ev.append((c, 7, 0, "pilot_phase", -1, -1))
            pilot = sc.timing.coherence_interval_s * float(math.ceil(n / 2)) / float(tau_c)
            ev.append((c + pilot if n else c, 8, 0, "data_phase", -1, -1))
    ev.sort(key=lambda e: (e[0], e[1], e[2]))
    return [(float(e[0]), e[3], int(e[4]), int(e[5])) for e in ev]


def test_event_log_matches_hand_written_log(tmp_path):
    sc = tiny()
    tr = traces.load(run_scenario(sc, out_dir=tmp_path / "run"))
    got = [(float(r.t_s), r.kind, int(r.sat_id), int(r.user_id)) for r in tr.events.itertuples()]
    want = expected_log(sc)
    assert [g[1:] for g in got] == [w[1:] for w in want]
    np.testing.assert_array_equal([g[0] for g in got], [w[0] for w in want])
    # the log is ordered and numbered, and every event sits in its epoch
    ev = tr.events
    assert list(ev["seq"]) == list(range(len(ev)))
    assert np.all(np.diff(ev["t_s"]) >= 0)
    assert np.all(ev["epoch"] == np.floor(ev["t_s"] / sc.timing.epoch_s).astype(int))
    assert {"aos", "los", "tca", "handover", "arrival", "departure"} <= set(ev["kind"])
