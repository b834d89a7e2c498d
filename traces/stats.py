"""Paired-difference statistics for policy-comparison studies.

A study runs every policy on the same seeds with common random numbers (DESIGN section 5), so
for a KPI ``x`` the per-seed differences ``d_s = x[policy, s] - x[baseline, s]`` are *paired*:
the world (geometry, arrivals, fading, pilots) is identical inside a pair, and most of the
seed-to-seed variation cancels. Two confidence intervals for the mean difference are offered:

* **paired t** (default): ``mean(d) +- t_{1-a/2, n-1} * sd(d) / sqrt(n)``, exact when the
  ``d_s`` are i.i.d. normal and a good approximation from n ~ 10 seeds for KPIs that are
  averages over many epochs (central limit theorem). Identical to
  ``scipy.stats.ttest_rel(x, y).confidence_interval()``.
* **bootstrap** (percentile): resample the n differences with replacement ``num_resamples``
  times, take the ``a/2`` and ``1-a/2`` quantiles of the resampled means. No normality
  assumption; needs more seeds (n >= 20) to be accurate. Resampling draws come from
  ``emulator.rng.stream(seed, "stats/bootstrap")`` so a report is reproducible.

Both ignore pairs where either side is NaN (a failed run), and say how many pairs were used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _sstats

from emulator.rng import stream

#: methods accepted by :func:`paired_ci`.
CI_METHODS = ("t", "bootstrap")


@dataclass(frozen=True)
class PairedCI:
    """Mean paired difference with its confidence interval.

    Attributes:
        mean: mean of ``x - y`` over the valid pairs (NaN when there are none).
        low: lower end of the confidence interval (NaN when n < 2).
        high: upper end of the confidence interval (NaN when n < 2).
        n: number of valid pairs used.
        confidence: the confidence level, e.g. 0.95.
        method: ``"t"`` or ``"bootstrap"``.
    """

    mean: float
    low: float
    high: float
    n: int
    confidence: float
    method: str

    @property
    def significant(self) -> bool:
        """Whether the interval excludes zero."""
        return bool(np.isfinite(self.low) and (self.low > 0.0 or self.high < 0.0))


def _valid_differences(x, y) -> np.ndarray:
    """Paired differences ``x - y`` with NaN pairs dropped.

    Shapes: x [n] float64, y [n] float64 -> [m] float64, m <= n.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"expected two 1-D arrays of equal length, got {x.shape} and {y.shape}")
    d = x - y
    return d[np.isfinite(d)]


def _check_confidence(confidence: float) -> float:
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return confidence


def paired_t_ci(x, y, confidence: float = 0.95) -> PairedCI:
    """Paired-t confidence interval of ``mean(x - y)``.

    Args:
        x: KPI of the policy per seed. Shapes: [n] float64.
        y: KPI of the baseline on the same seeds, same order. Shapes: [n] float64.
        confidence: two-sided confidence level.

    Returns:
        :class:`PairedCI` with ``method="t"``. With n < 2 the bounds are NaN; with zero
        variance the interval collapses onto the mean.
    """
    confidence = _check_confidence(confidence)
    d = _valid_differences(x, y)
    n = int(d.size)
    if n == 0:
        return PairedCI(np.nan, np.nan, np.nan, 0, confidence, "t")
    mean = float(d.mean())
    if n < 2:
        return PairedCI(mean, np.nan, np.nan, n, confidence, "t")
    sem = float(d.std(ddof=1)) / np.sqrt(n)
    half = float(_sstats.t.ppf(0.5 + confidence / 2.0, df=n - 1)) * sem
    return PairedCI(mean, mean - half, mean + half, n, confidence, "t")


def paired_bootstrap_ci(
    x, y, confidence: float = 0.95, num_resamples: int = 10_000, seed: int = 0
) -> PairedCI:
    """Percentile-bootstrap confidence interval of ``mean(x - y)``.

    Args:
        x: KPI of the policy per seed. Shapes: [n] float64.
        y: KPI of the baseline on the same seeds, same order. Shapes: [n] float64.
        confidence: two-sided confidence level.
        num_resamples: number of bootstrap resamples B.
        seed: seed of the ``"stats/bootstrap"`` stream (results are reproducible).

    Returns:
        :class:`PairedCI` with ``method="bootstrap"`` (NaN bounds when n < 2).
    """
    confidence = _check_confidence(confidence)
    if int(num_resamples) < 1:
        raise ValueError(f"num_resamples must be >= 1, got {num_resamples}")
    d = _valid_differences(x, y)
    n = int(d.size)
    if n == 0:
        return PairedCI(np.nan, np.nan, np.nan, 0, confidence, "bootstrap")
    mean = float(d.mean())
    if n < 2:
        return PairedCI(mean, np.nan, np.nan, n, confidence, "bootstrap")
    rng = stream(seed, "stats/bootstrap", n)
    idx = rng.integers(0, n, size=(int(num_resamples), n))  # [B, n] resample indices
    means = d[idx].mean(axis=1)  # [B]
    alpha = 1.0 - confidence
    low, high = np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0])
    return PairedCI(mean, float(low), float(high), n, confidence, "bootstrap")


def paired_ci(x, y, confidence: float = 0.95, method: str = "t", seed: int = 0) -> PairedCI:
    """Dispatch to :func:`paired_t_ci` or :func:`paired_bootstrap_ci` by ``method``."""
    if method == "t":
        return paired_t_ci(x, y, confidence)
    if method == "bootstrap":
        return paired_bootstrap_ci(x, y, confidence, seed=seed)
    raise ValueError(f"expected CI method one of {CI_METHODS}, got {method!r}")


def jain_index(values) -> float:
    """Jain's fairness index ``(sum x)^2 / (n sum x^2)`` of non-negative values.

    Shapes: values [n] float64. Returns NaN for an empty input or an all-zero input.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return float("nan")
    sq = float(np.sum(x * x))
    if sq <= 0.0:
        return float("nan")
    return float(np.sum(x) ** 2 / (x.size * sq))
