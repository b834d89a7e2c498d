"""TLE hygiene: stale epochs, SGP4 errors and the 150-3000 km altitude window."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from orbits import StaleTLEWarning, hygiene, load_tle, walker_delta
from orbits.tle import tle_checksum


def _fix(line):
    return line[:68] + str(tle_checksum(line))


L1 = "1 44713U 19074A   23198.31707558  .00000584  00000+0  58057-4 0  9994"
L2 = "2 44713  53.0547 204.8335 0000977  90.1304 269.9797 15.06399147203267"
# a re-entering satellite: 16.2 rev/day with a huge drag term; decays within days
DECAY_L1 = _fix(L1[:2] + "44999" + L1[7:53] + " 99999-0" + L1[61:])
DECAY_L2 = _fix(L2[:2] + "44999" + L2[7:52] + "16.20000000" + L2[63:])
# a GPS-like orbit (2 rev/day, ~20 000 km): outside the 150-3000 km LEO window
HIGH_L1 = _fix(L1[:2] + "45001" + L1[7:])
HIGH_L2 = _fix(L2[:2] + "45001" + L2[7:52] + " 2.00563000" + L2[63:])


def test_drops_decayed_and_high_orbits_and_counts_them():
    c = load_tle(f"OK\n{L1}\n{L2}\nDECAY\n{DECAY_L1}\n{DECAY_L2}\nHIGH\n{HIGH_L1}\n{HIGH_L2}\n")
    start = dt.datetime(2023, 7, 18, 12, tzinfo=dt.UTC)
    # independent check that the decaying one really fails within 20 days
    s = c.satrecs[1]
    err, _, _ = s.sgp4_array(np.full(2, s.jdsatepoch), s.jdsatepochF + np.array([0.0, 20.0]))
    assert err[0] == 0 and err[1] != 0
    kept, rep = hygiene(c, start, 20 * 86_400.0, warn=False)
    assert list(kept.sat_ids) == [44713]
    assert (rep.loaded, rep.dropped, rep.kept) == (3, 2, 1)
    assert rep.dropped_ids[45001] == "altitude outside 150-3000 km"
    assert rep.dropped_ids[44999].startswith("sgp4 error") or "altitude" in rep.dropped_ids[44999]
    assert sum(rep.drop_reasons.values()) == 2
    line = rep.summary()
    assert "\n" not in line and "loaded 3" in line and "dropped 2" in line and "kept 1" in line


def test_stale_epochs_warn_and_are_kept():
    c = walker_delta(4, 2, 0, 550e3, 53.0, "2023-07-01T00:00:00Z")
    start = dt.datetime(2023, 7, 18, tzinfo=dt.UTC)  # 17 days after the epoch
    with pytest.warns(StaleTLEWarning, match="stale 4"):
        kept, rep = hygiene(c, start, 3600.0)
    assert rep.stale == 4 and len(kept) == 4 and abs(rep.oldest_epoch_age_days - 17.0) < 1e-6
    kept, rep = hygiene(c, start, 3600.0, max_epoch_age_days=20.0, warn=False)
    assert rep.stale == 0
