"""Benchmark of the cellfree_uplink closed-form scorer (issue 4).

Measures, in one run:
1. the vectorised closed-form score at the paper's full size (M=40, K=20, N=5x5, tau_p=10)
   against the slow loop oracle of ``tests/test_cellfree_closed_form.py`` (target >= 50x);
2. time per ``score`` call (statistics build + rates) at K=100 (M=40) and K=1000 (M=400,
   the paper's ~2 APs per user ratio is kept at the large size), N=25, tau_p=K/2;
3. the statistics build alone at K=50 (spec §12 quotes ~0.07 s/drop) and one Monte-Carlo
   score (10^4 draws) at the full size, for reference.

Run: ``OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/cellfree_bench.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emulator.systems import cellfree_uplink as cf  # noqa: E402
from policies.baselines import FullPower  # noqa: E402
from tests.test_cellfree_closed_form import loop_sinr  # noqa: E402


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _fresh(obs):
    """A copy of ``obs`` without its memoised statistics / channel (as a new epoch brings).

    ``statistics(obs)`` is memoised on the observation, so timing ``score`` on one object
    would time a cache hit after the first call.
    """
    return dataclasses.replace(obs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed repetitions (median)")
    args = ap.parse_args(argv)
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")

    obs = cf.snapshot_observation(cf.CellFreeParams(tau_p=10), 20, seed=1, drop_index=0)
    dec = FullPower().decide(obs)
    t_vec = _median_time(lambda: cf.score(dec, _fresh(obs)), max(args.repeats, 20))
    t_loop = _median_time(lambda: loop_sinr(obs, dec.power_w), 1)
    got = cf.score(dec, obs).rate_bps
    want = obs.params.bandwidth_hz * (1 - 10 / 1e4) * np.log2(1 + loop_sinr(obs, dec.power_w))
    err = float(np.max(np.abs(got / want - 1)))
    print(
        "full size M=40 K=20 N=25: closed-form score (statistics build + rates) "
        f"{t_vec * 1e3:.3f} ms, loop oracle {t_loop * 1e3:.1f} ms, "
        f"speed-up {t_loop / t_vec:.0f}x (max rel. diff {err:.1e})"
    )

    for k, m in ((100, 40), (1000, 400)):
        o = cf.snapshot_observation(cf.CellFreeParams(num_aps=m), k, seed=2, drop_index=0)
        d = FullPower().decide(o)
        reps = args.repeats if k <= 100 else max(2, args.repeats // 2)
        t = _median_time(lambda o=o, d=d: cf.score(d, _fresh(o)), reps)
        # a fresh observation each call would also rebuild gbar and R: time that too
        t_obs = _median_time(
            lambda k=k, m=m: cf.statistics(
                cf.snapshot_observation(cf.CellFreeParams(num_aps=m), k, seed=2, drop_index=0)
            ),
            reps,
        )
        st = cf.statistics(o)
        t_rates = _median_time(lambda st=st, d=d: st.rates_bps(d.power_w), 20)
        print(
            f"K={k} M={m} N=25 tau_p={o.tau_p}: score {t * 1e3:.1f} ms/call; "
            f"drop + statistics {t_obs * 1e3:.1f} ms; rates from cached statistics "
            f"{t_rates * 1e3:.3f} ms"
        )

    o50 = cf.snapshot_observation(cf.CellFreeParams(), 50, seed=3, drop_index=0)
    t50 = _median_time(lambda: cf.statistics(_fresh(o50)), args.repeats)
    print(f"K=50 M=40 N=25: statistics build {t50 * 1e3:.1f} ms")
    t_mc = _median_time(lambda: cf.score(dec, obs, method="monte_carlo", num_draws=10_000), 1)
    print(f"full size Monte-Carlo score, 10^4 draws: {t_mc:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
