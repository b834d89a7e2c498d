"""Long-run memory benchmark: RSS after 6 h of simulated time within 10 % of RSS after 1 h.

The default scenario (real Starlink TLEs over Paris, cell-free uplink) stretched to 6 h with
the constant ``full-power-v1`` policy and 10 s epochs (so the run takes minutes, not hours).
RSS (psutil) is sampled after garbage collection at the end of the epochs that close 1 h,
2 h, ... 6 h of simulated time. Everything the engine keeps grows with the *part* (flushed
every ``flush_every_epochs``), not with the run: a growing RSS would mean a leak.

Usage: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/longrun_memory.py [--hours 6]``
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from emulator.config import load_scenario, scenario_from_dict  # noqa: E402
from emulator.engine import Run  # noqa: E402


class SampledRun(Run):
    """A run that records its RSS at given epochs."""

    def __init__(self, *a, sample_epochs=(), **kw):
        super().__init__(*a, **kw)
        self.sample_epochs = set(sample_epochs)
        self.rss_samples: list[tuple[int, float, float]] = []
        self.proc = psutil.Process()

    def finish_epoch(self, k: int) -> None:
        super().finish_epoch(k)
        if k in self.sample_epochs:
            gc.collect()
            rss = self.proc.memory_info().rss / 2**20
            self.rss_samples.append((k, (k + 1) * self.settings.epoch_s / 3600.0, rss))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--epoch-s", type=float, default=10.0)
    args = ap.parse_args()
    d = load_scenario(ROOT / "scenarios" / "default.toml").to_dict()
    d["duration_s"] = args.hours * 3600.0
    d["timing"]["epoch_s"] = args.epoch_s
    d["policy"]["id"] = "full-power-v1"
    d["policy"]["params"] = {}
    sc = scenario_from_dict(d)
    per_hour = int(round(3600.0 / args.epoch_s))
    marks = [h * per_hour - 1 for h in range(1, int(args.hours) + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run = SampledRun(sc, out_dir=Path(tmp) / "long", sample_epochs=marks)
        run.execute()
        wall = time.perf_counter() - t0
    print(f"simulated {args.hours:g} h in {wall:.1f} s wall ({sc.num_epochs} epochs)")
    for k, h, rss in run.rss_samples:
        print(f"after {h:4.1f} h simulated (epoch {k:5d}): RSS {rss:8.1f} MiB")
    first, last = run.rss_samples[0][2], run.rss_samples[-1][2]
    ratio = last / first
    print(
        f"RSS({run.rss_samples[-1][1]:g} h) / RSS({run.rss_samples[0][1]:g} h) = {ratio:.3f} "
        f"(target <= 1.10): {'PASS' if ratio <= 1.10 else 'FAIL'}"
    )
    return 0 if ratio <= 1.10 else 1


if __name__ == "__main__":
    sys.exit(main())
