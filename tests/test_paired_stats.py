"""Paired confidence intervals of traces.stats against scipy and against known differences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sstats

from traces.stats import jain_index, paired_bootstrap_ci, paired_ci, paired_t_ci


def _paired_sample(n: int, diff: float, seed: int):
    """Two correlated samples whose true mean difference is ``diff`` (common world per seed)."""
    rng = np.random.default_rng(seed)
    world = rng.normal(100.0, 20.0, n)  # the shared seed effect (cancels in pairs)
    x = world + diff + rng.normal(0.0, 1.0, n)
    y = world + rng.normal(0.0, 1.0, n)
    return x, y


@pytest.mark.parametrize("n,conf", [(8, 0.95), (32, 0.95), (32, 0.9), (5, 0.99)])
def test_paired_t_matches_scipy_ttest_rel(n, conf):
    x, y = _paired_sample(n, 2.5, seed=n)
    ci = paired_t_ci(x, y, conf)
    ref = sstats.ttest_rel(x, y).confidence_interval(confidence_level=conf)
    assert ci.n == n and ci.method == "t"
    assert ci.mean == pytest.approx(np.mean(x - y), rel=1e-12)
    assert ci.low == pytest.approx(ref.low, rel=1e-10)
    assert ci.high == pytest.approx(ref.high, rel=1e-10)


def test_bootstrap_matches_scipy_percentile_bootstrap():
    x, y = _paired_sample(30, -1.2, seed=7)
    ci = paired_bootstrap_ci(x, y, 0.95, num_resamples=20_000, seed=3)
    ref = sstats.bootstrap(
        (x - y,),
        np.mean,
        confidence_level=0.95,
        n_resamples=20_000,
        method="percentile",
        random_state=np.random.default_rng(11),
    ).confidence_interval
    # two independent Monte-Carlo bootstraps agree to Monte-Carlo error (~1 % of the width)
    width = ref.high - ref.low
    assert abs(ci.low - ref.low) < 0.05 * width
    assert abs(ci.high - ref.high) < 0.05 * width
    # reproducible: same seed -> same interval
    assert paired_bootstrap_ci(x, y, 0.95, num_resamples=20_000, seed=3) == ci


def test_coverage_of_known_difference():
    """Over 400 synthetic studies the 95 % paired-t CI covers the true difference ~95 %."""
    true_diff = 0.7
    covered = 0
    trials = 400
    for k in range(trials):
        x, y = _paired_sample(12, true_diff, seed=1000 + k)
        ci = paired_t_ci(x, y)
        covered += ci.low <= true_diff <= ci.high
    # binomial(400, 0.95): sd ~ 0.011 -> 4 sd band
    assert abs(covered / trials - 0.95) < 0.045


def test_pairing_is_what_narrows_the_interval():
    x, y = _paired_sample(16, 1.0, seed=5)
    paired = paired_t_ci(x, y)
    unpaired = sstats.ttest_ind(x, y).confidence_interval()
    assert paired.significant  # the 1.0 difference is found with 16 seeds
    assert (paired.high - paired.low) < 0.2 * (unpaired.high - unpaired.low)


def test_nan_pairs_dropped_and_degenerate_cases():
    x = np.array([1.0, 2.0, np.nan, 4.0])
    y = np.array([0.0, 1.0, 1.0, np.nan])
    ci = paired_ci(x, y)
    assert ci.n == 2 and ci.mean == pytest.approx(1.0)
    assert ci.low == pytest.approx(1.0) and ci.high == pytest.approx(1.0)  # zero variance
    one = paired_ci(np.array([1.0]), np.array([0.5]), method="bootstrap")
    assert one.n == 1 and np.isnan(one.low)
    with pytest.raises(ValueError, match="CI method"):
        paired_ci(x, y, method="wilcoxon")


def test_jain_index_closed_forms():
    assert jain_index([3.0, 3.0, 3.0]) == pytest.approx(1.0)
    assert jain_index([5.0, 0.0, 0.0, 0.0]) == pytest.approx(0.25)  # 1/n for one active user
    assert np.isnan(jain_index([]))
