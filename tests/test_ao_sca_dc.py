"""``sca-dc-v1`` (spec §5.4, not in seed 002) as an independent cross-check of ``ao-v1``."""

from __future__ import annotations

import numpy as np
import pytest

from emulator.systems import cellfree_uplink as cf
from policies import check_policy, make
from policies.ao import ao_solve, normalised_triple

pytest.importorskip("cvxpy")


def test_sca_dc_conformance():
    assert all(check_policy(make("sca-dc-v1")).values())


def test_sca_dc_monotone_and_agrees_with_ao():
    pol = make("sca-dc-v1", max_iter=30)
    params = cf.params_from_dict(dict(cf.REDUCED))
    ratios = []
    for drop in range(4):
        obs = cf.snapshot_observation(params, 6, 21, drop)
        st = cf.statistics(obs)
        A, Dn = normalised_triple(st.a, st.D, st.NO, st.max_power_w)
        x, iters, _, hist = pol.solve_normalised(A, Dn)
        assert np.all(np.diff(hist) >= -1e-12 * np.abs(hist[1:]))  # minorise-maximise
        assert np.all((x >= 0) & (x <= 1))
        ao = ao_solve(st.a, st.D, st.NO, st.max_power_w)
        ratios.append(ao.sum_se / hist[-1])
    # two different local methods from the same start land on points of similar quality
    assert min(ratios) >= 0.97, ratios
