"""Comparison reports of policy studies: per-policy KPI tables, paired differences, plots.

Input is a list of runs (policy id, seed, trace folder) — what ``study.json`` lists — and the
output is ``report.md`` plus PNGs. Everything is computed from the trace tables with pandas
(:func:`traces.load`); figures use matplotlib's non-interactive ``Agg`` backend.

Metric definitions (per run, i.e. one policy on one seed):

* ``sum_throughput_bps``: mean over epochs of the epoch's sum rate (all users).
* ``energy_efficiency_bit_per_j``: mean over epochs of the system's energy-efficiency KPI;
  only when the system defines one (a column of the ``epochs`` table), else omitted.
* ``user_throughput_p5_bps``: 5th percentile over users of the *per-user throughput*, which is
  a user's mean rate over the epochs it was present (its session throughput; 0 when never
  served). This is the "cell-edge user" figure.
* ``jain_fairness``: mean over epochs (with at least one served user) of Jain's index
  ``(sum r)^2 / (K sum r^2)`` of the rates of the K users present.
* ``outage_share``: share of (user, epoch) samples whose rate is below ``outage_bps``
  (default 100 kbit/s; an unscheduled user is in outage).
* ``scheduled_share``: share of (user, epoch) samples in which the user was scheduled by the
  decision *in force* (the user row's ``scheduled_share`` over the epoch's sampled intervals,
  so decision latency counts).
* ``decision_time_p50_s`` / ``decision_time_p99_s``: percentiles of the measured wall-clock
  time of ``decide`` (the ``wall`` table) over the run's epochs that had users (pooled over
  seeds in the policy table).

A (user, epoch) sample is a row of the ``users`` table whose user was present in at least one
sampled coherence interval of the epoch (``intervals_present > 0``); its rate is the mean over
those intervals.
* ``fallbacks``: epochs decided by the fallback policy, by cause.

Paired differences: for each policy and KPI, ``d_s = KPI[policy, s] - KPI[baseline, s]`` over
the seeds both completed; the mean and its 95 % confidence interval come from
:mod:`traces.stats` (paired t by default, percentile bootstrap on request). Runs share their
world per seed (common random numbers), so the pairing removes the seed-to-seed variation.
Wall-clock KPIs are not paired (they depend on the machine, not the seed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from traces.stats import CI_METHODS, paired_ci

#: KPIs compared in pairs, with their display label and scale for the tables.
PAIRED_METRICS: dict[str, tuple[str, float, str]] = {
    "sum_throughput_bps": ("mean sum throughput", 1e-6, "Mbit/s"),
    "energy_efficiency_bit_per_j": ("energy efficiency", 1e-6, "Mbit/J"),
    "user_throughput_p5_bps": ("5th-pct user throughput", 1e-6, "Mbit/s"),
    "jain_fairness": ("Jain fairness", 1.0, ""),
    "outage_share": ("outage share", 1.0, ""),
    "scheduled_share": ("scheduled share", 1.0, ""),
}
#: wall-clock KPIs (machine-dependent; kept out of deterministic tables).
TIMING_METRICS: dict[str, tuple[str, float, str]] = {
    "decision_time_p50_s": ("decision time p50", 1e3, "ms"),
    "decision_time_p99_s": ("decision time p99", 1e3, "ms"),
}
DEFAULT_OUTAGE_BPS = 1.0e5

# Trace column names this module reads (the trace schema of traces/schema.py).
EPOCH_COL = "epoch"
TIME_COL = "t_s"
SUM_RATE_COL = "sum_rate_bps"
#: where a system's energy-efficiency KPI lands in ``epochs`` (``KPIs.extra`` -> ``kpi_<name>``)
EE_COLUMNS = ("kpi_energy_efficiency_bit_per_j", "energy_efficiency_bit_per_j")
DECIDE_TIME_COL = "wall_decide_s"  # in the ``wall`` table
FALLBACK_COL = "fallback_reason"
USER_COL = "user_id"
RATE_COL = "rate_bps"
SCHED_COL = "scheduled"  # decided schedule
APPLIED_SCHED_COL = (
    "scheduled_share"  # share of sampled intervals scheduled by the decision in force
)
PRESENT_COL = "intervals_present"
SOURCE_COL = "decision_source"


@dataclass(frozen=True)
class RunRef:
    """One run of a study: which policy, which seed, where its trace is."""

    policy_id: str
    seed: int
    path: Path | None  # None for a failed run
    error: str | None = None


@dataclass
class RunSummary:
    """Everything the report needs from one trace (kept small; the trace is dropped).

    Attributes:
        metrics: per-run KPIs by name (see module docstring).
        user_throughput_bps: per-user throughput. Shapes: [U] float64.
        decide_s: decision wall time per epoch. Shapes: [E] float64.
        fallbacks: epochs decided by the fallback, by cause.
        timeline: per-epoch ``t_s``, ``sum_rate_bps``, ``scheduled_share`` (+ elevation).
    """

    metrics: dict[str, float]
    user_throughput_bps: np.ndarray
    decide_s: np.ndarray
    fallbacks: dict[str, int] = field(default_factory=dict)
    timeline: pd.DataFrame | None = None


# --------------------------------------------------------------------------- per run
def _fallback_causes(epochs: pd.DataFrame) -> dict[str, int]:
    if FALLBACK_COL not in epochs:
        return {}
    reasons = epochs[FALLBACK_COL].astype("string").fillna("")
    reasons = reasons[reasons != ""]
    return {str(k): int(v) for k, v in reasons.value_counts().sort_index().items()}


def summarize_run(
    epochs: pd.DataFrame,
    users: pd.DataFrame,
    outage_bps: float = DEFAULT_OUTAGE_BPS,
    wall: pd.DataFrame | None = None,
) -> RunSummary:
    """Per-run KPIs from a trace's ``epochs``, ``users`` and ``wall`` tables.

    Args:
        epochs: one row per epoch (needs ``epoch``, ``t_s``, ``sum_rate_bps``,
            ``fallback_reason``).
        users: one row per user per epoch (needs ``epoch``, ``user_id``, ``rate_bps``,
            ``scheduled``).
        outage_bps: rate below which a (user, epoch) sample is in outage [bit/s].
        wall: wall-clock table (``wall_decide_s`` per epoch); None -> no decision times.
    """
    m: dict[str, float] = {}
    sum_rate = epochs[SUM_RATE_COL].to_numpy(np.float64) if len(epochs) else np.zeros(0)
    m["sum_throughput_bps"] = float(sum_rate.mean()) if sum_rate.size else math.nan
    ee_col = next((c for c in EE_COLUMNS if c in epochs), None)
    if ee_col is not None:
        ee = epochs[ee_col].to_numpy(np.float64)
        ee = ee[np.isfinite(ee)]
        m["energy_efficiency_bit_per_j"] = float(ee.mean()) if ee.size else math.nan

    # (user, epoch) samples: users scored in at least one sampled interval of the epoch
    present = users[RATE_COL].notna() if len(users) else pd.Series([], dtype=bool)
    if len(users) and PRESENT_COL in users:
        present &= users[PRESENT_COL].fillna(0).to_numpy() > 0
    u = users[present.to_numpy(bool)] if len(users) else users
    rate = u[RATE_COL].to_numpy(np.float64) if len(u) else np.zeros(0)
    if len(u) and APPLIED_SCHED_COL in u:  # schedule in force (accounts for latency)
        sched = u[APPLIED_SCHED_COL].to_numpy(np.float64)
    else:
        sched = u[SCHED_COL].to_numpy(np.float64) if len(u) else np.zeros(0)
    if rate.size:
        per_user = u.groupby(USER_COL, sort=True)[RATE_COL].mean().to_numpy(np.float64)
        m["user_throughput_p5_bps"] = float(np.percentile(per_user, 5.0))
        # Jain per epoch, vectorised: (sum r)^2 / (K sum r^2) over the K users present
        g = pd.DataFrame({"e": u[EPOCH_COL].to_numpy(), "r": rate, "r2": rate * rate})
        agg = g.groupby("e", sort=True).agg(s=("r", "sum"), s2=("r2", "sum"), n=("r", "size"))
        ok = agg["s2"].to_numpy() > 0.0
        jains = (agg["s"] ** 2 / (agg["n"] * agg["s2"])).to_numpy(np.float64)[ok]
        m["jain_fairness"] = float(jains.mean()) if jains.size else math.nan
        m["outage_share"] = float(np.mean(rate < outage_bps))
        m["scheduled_share"] = float(np.mean(sched))
    else:
        per_user = np.zeros(0)
        for k in ("user_throughput_p5_bps", "jain_fairness", "outage_share", "scheduled_share"):
            m[k] = math.nan

    decide = np.zeros(0)
    if wall is not None and DECIDE_TIME_COL in wall and len(wall):
        w = wall[[EPOCH_COL, DECIDE_TIME_COL]]
        if SOURCE_COL in epochs:  # epochs without users call no policy: not timed
            busy = epochs.loc[epochs[SOURCE_COL] != "idle", EPOCH_COL]
            w = w[w[EPOCH_COL].isin(busy)]
        decide = w[DECIDE_TIME_COL].to_numpy(np.float64)
    decide = decide[np.isfinite(decide)]
    m["decision_time_p50_s"] = float(np.percentile(decide, 50)) if decide.size else math.nan
    m["decision_time_p99_s"] = float(np.percentile(decide, 99)) if decide.size else math.nan
    fallbacks = _fallback_causes(epochs)
    m["fallbacks"] = float(sum(fallbacks.values()))

    timeline = pd.DataFrame(
        {TIME_COL: epochs[TIME_COL].to_numpy(np.float64), SUM_RATE_COL: sum_rate}
    )
    if len(u):
        share = pd.Series(sched, index=u.index).groupby(u[EPOCH_COL], sort=True).mean()
        timeline["scheduled_share"] = (
            epochs[EPOCH_COL].map(share).to_numpy(np.float64) if EPOCH_COL in epochs else np.nan
        )
    if "elevation_deg" in epochs:
        timeline["elevation_deg"] = epochs["elevation_deg"].to_numpy(np.float64)
    return RunSummary(m, per_user, decide, fallbacks, timeline)


def load_summaries(
    runs: Sequence[RunRef], outage_bps: float = DEFAULT_OUTAGE_BPS
) -> dict[tuple[str, int], RunSummary]:
    """Load each complete run's trace and summarise it (one trace in memory at a time)."""
    from traces import load

    out: dict[tuple[str, int], RunSummary] = {}
    for run in runs:
        if run.path is None:
            continue
        trace = load(run.path)
        wall = getattr(trace, "wall", None)
        out[(run.policy_id, run.seed)] = summarize_run(trace.epochs, trace.users, outage_bps, wall)
    return out


def kpi_table(summaries: dict[tuple[str, int], RunSummary], timing: bool = False) -> pd.DataFrame:
    """One row per run (policy, seed) with its KPIs, sorted; deterministic unless ``timing``.

    Without ``timing`` the table holds only seed-determined KPIs, so two executions of a study
    (any backend, any worker count) give byte-identical tables.
    """
    names = list(PAIRED_METRICS) + ["fallbacks"] + (list(TIMING_METRICS) if timing else [])
    rows = []
    for (policy, seed), s in sorted(summaries.items()):
        row = {"policy_id": policy, "seed": int(seed)}
        row.update({k: s.metrics.get(k, math.nan) for k in names})
        rows.append(row)
    df = pd.DataFrame(rows, columns=["policy_id", "seed", *names])
    df = df.dropna(axis=1, how="all")  # e.g. no energy efficiency in this system
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- tables
def policy_table(
    summaries: dict[tuple[str, int], RunSummary],
    policies: Sequence[str],
    failed: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Per-policy KPIs: seed means of the per-run KPIs, pooled decision-time percentiles,
    fallback counts summed over seeds (by cause), runs done / failed."""
    failed = failed or {}
    rows = []
    for p in policies:
        runs = {s: v for (q, s), v in summaries.items() if q == p}
        row: dict[str, object] = {"policy": p, "runs": len(runs), "failed": failed.get(p, 0)}
        for k in PAIRED_METRICS:
            vals = np.asarray([v.metrics.get(k, math.nan) for v in runs.values()], np.float64)
            vals = vals[np.isfinite(vals)]
            row[k] = float(vals.mean()) if vals.size else math.nan
        decide = np.concatenate([v.decide_s for v in runs.values()]) if runs else np.zeros(0)
        row["decision_time_p50_s"] = float(np.percentile(decide, 50)) if decide.size else math.nan
        row["decision_time_p99_s"] = float(np.percentile(decide, 99)) if decide.size else math.nan
        causes: dict[str, int] = {}
        for v in runs.values():
            for c, n in v.fallbacks.items():
                causes[c] = causes.get(c, 0) + n
        row["fallbacks"] = int(sum(causes.values()))
        row["fallback_causes"] = ", ".join(f"{c}: {n}" for c, n in sorted(causes.items())) or "-"
        rows.append(row)
    return pd.DataFrame(rows)


def paired_table(
    summaries: dict[tuple[str, int], RunSummary],
    policies: Sequence[str],
    baseline: str,
    confidence: float = 0.95,
    method: str = "t",
) -> pd.DataFrame:
    """Paired differences ``policy - baseline`` per KPI over the seeds both completed."""
    if method not in CI_METHODS:
        raise ValueError(f"expected CI method one of {CI_METHODS}, got {method!r}")
    base = {s: v for (q, s), v in summaries.items() if q == baseline}
    rows = []
    for p in policies:
        if p == baseline:
            continue
        mine = {s: v for (q, s), v in summaries.items() if q == p}
        seeds = sorted(set(mine) & set(base))
        for k in PAIRED_METRICS:
            x = np.asarray([mine[s].metrics.get(k, math.nan) for s in seeds], np.float64)
            y = np.asarray([base[s].metrics.get(k, math.nan) for s in seeds], np.float64)
            if not np.isfinite(x).any() and not np.isfinite(y).any():
                continue  # KPI not defined by this system
            ci = paired_ci(x, y, confidence, method)
            ymean = float(np.nanmean(y)) if np.isfinite(y).any() else math.nan
            rel = 100.0 * ci.mean / ymean if ymean and np.isfinite(ymean) else math.nan
            rows.append(
                {
                    "policy": p,
                    "baseline": baseline,
                    "metric": k,
                    "mean_diff": ci.mean,
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                    "rel_diff_pct": rel,
                    "pairs": ci.n,
                    "significant": ci.significant,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "policy",
            "baseline",
            "metric",
            "mean_diff",
            "ci_low",
            "ci_high",
            "rel_diff_pct",
            "pairs",
            "significant",
        ],
    )


def _fmt(x: object, digits: int = 4) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            return "n/a"
        return f"{x:.{digits}g}"
    return str(x)


def markdown_table(df: pd.DataFrame, digits: int = 4) -> str:
    """A GitHub-flavoured markdown table of ``df`` (no third-party formatter needed)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v, digits) for v in row) + " |")
    return "\n".join(lines)


def _display_policy_table(table: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"policy": table["policy"], "runs": table["runs"]})
    for k, (label, scale, unit) in {**PAIRED_METRICS, **TIMING_METRICS}.items():
        if k in table and table[k].notna().any():
            out[f"{label} [{unit}]" if unit else label] = table[k] * scale
    out["fallbacks"] = table["fallbacks"]
    out["fallback causes"] = table["fallback_causes"]
    out["failed runs"] = table["failed"]
    return out


def _display_paired_table(paired: pd.DataFrame, confidence: float) -> pd.DataFrame:
    rows = []
    for r in paired.itertuples(index=False):
        label, scale, unit = PAIRED_METRICS[r.metric]
        rows.append(
            {
                "policy": r.policy,
                "metric": f"{label} [{unit}]" if unit else label,
                "mean diff": r.mean_diff * scale,
                f"{round(confidence * 100)} % CI": (
                    f"[{_fmt(r.ci_low * scale)}, {_fmt(r.ci_high * scale)}]"
                ),
                "rel. diff [%]": r.rel_diff_pct,
                "seeds": r.pairs,
                "CI excludes 0": r.significant,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figures
def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_user_cdf(
    summaries: dict[tuple[str, int], RunSummary], policies: Sequence[str], path: Path
) -> Path:
    """Empirical CDF of per-user throughput, users pooled over seeds, one curve per policy."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for p in policies:
        vals = [v.user_throughput_bps for (q, _), v in summaries.items() if q == p]
        x = np.sort(np.concatenate(vals)) if vals else np.zeros(0)
        if x.size == 0:
            continue
        y = np.arange(1, x.size + 1) / x.size
        ax.step(x * 1e-6, y, where="post", label=p)
    ax.set_xlabel("per-user throughput [Mbit/s]")
    ax.set_ylabel("CDF")
    ax.set_ylim(0.0, 1.0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title("Per-user throughput (users pooled over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_kpi_over_time(
    summaries: dict[tuple[str, int], RunSummary], policies: Sequence[str], path: Path
) -> Path:
    """Sum throughput and scheduled share over simulated time (mean over seeds per policy),
    with the serving elevation when the trace records it: the KPIs across the pass."""
    plt = _plt()
    has_elev = any(
        v.timeline is not None and "elevation_deg" in v.timeline for v in summaries.values()
    )
    nrows = 3 if has_elev else 2
    fig, axes = plt.subplots(nrows, 1, figsize=(7.0, 2.4 * nrows), sharex=True)
    for p in policies:
        frames = [
            v.timeline for (q, _), v in summaries.items() if q == p and v.timeline is not None
        ]
        if not frames:
            continue
        mean = pd.concat(frames).groupby(TIME_COL, sort=True).mean()
        t = mean.index.to_numpy(np.float64)
        axes[0].plot(t, mean[SUM_RATE_COL] * 1e-6, label=p)
        if "scheduled_share" in mean:
            axes[1].plot(t, mean["scheduled_share"], label=p)
    if has_elev:
        first = next(v.timeline for v in summaries.values() if v.timeline is not None)
        axes[2].plot(first[TIME_COL], first["elevation_deg"], color="k")
        axes[2].set_ylabel("elevation [deg]")
    axes[0].set_ylabel("sum throughput\n[Mbit/s]")
    axes[1].set_ylabel("scheduled share")
    axes[-1].set_xlabel("simulated time [s]")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    axes[0].legend()
    axes[0].set_title("KPIs over the pass (mean over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_paired(paired: pd.DataFrame, path: Path, confidence: float) -> Path:
    """Mean paired difference of sum throughput vs the baseline with its CI, per policy."""
    plt = _plt()
    sub = paired[paired["metric"] == "sum_throughput_bps"]
    fig, ax = plt.subplots(figsize=(6.0, 0.6 + 0.5 * max(1, len(sub))))
    y = np.arange(len(sub))
    mean = sub["mean_diff"].to_numpy(np.float64) * 1e-6
    lo = mean - sub["ci_low"].to_numpy(np.float64) * 1e-6
    hi = sub["ci_high"].to_numpy(np.float64) * 1e-6 - mean
    ax.errorbar(mean, y, xerr=np.vstack([lo, hi]), fmt="o", capsize=4)
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set_yticks(y, list(sub["policy"]))
    base = sub["baseline"].iloc[0] if len(sub) else "baseline"
    ax.set_xlabel(
        f"sum throughput - {base} [Mbit/s] (mean, {round(confidence * 100)} % CI over seeds)"
    )
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- report
def write_report(
    runs: Sequence[RunRef],
    policies: Sequence[str],
    out_dir: str | Path,
    baseline: str | None = None,
    confidence: float = 0.95,
    method: str = "t",
    outage_bps: float = DEFAULT_OUTAGE_BPS,
    title: str = "Policy comparison",
    header_lines: Iterable[str] = (),
) -> Path:
    """Write ``report.md``, ``kpis.csv``, ``paired.csv`` and PNGs into ``out_dir``.

    Args:
        runs: the study's runs (failed ones have ``path=None`` and an ``error``).
        policies: policies in display order.
        out_dir: folder for the report (created).
        baseline: policy to pair against (default: the last of ``policies``).
        confidence: confidence level of the paired intervals.
        method: ``"t"`` (paired t) or ``"bootstrap"``.
        outage_bps: outage threshold [bit/s].
        title: report heading.
        header_lines: extra markdown lines under the heading (study facts).

    Returns:
        Path of ``report.md``.
    """
    policies = list(policies)
    baseline = baseline or policies[-1]
    if baseline not in policies:
        raise ValueError(f"expected a baseline among {policies}, got {baseline!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summaries = load_summaries(runs, outage_bps)
    failed: dict[str, int] = {}
    for r in runs:
        if r.path is None:
            failed[r.policy_id] = failed.get(r.policy_id, 0) + 1
    table = policy_table(summaries, policies, failed)
    paired = paired_table(summaries, policies, baseline, confidence, method)
    kpi_table(summaries, timing=True).to_csv(out / "kpis.csv", index=False)
    paired.to_csv(out / "paired.csv", index=False)
    figs = {
        "Per-user throughput CDF": plot_user_cdf(
            summaries, policies, out / "cdf_user_throughput.png"
        ),
        "KPIs over time across the pass": plot_kpi_over_time(
            summaries, policies, out / "kpi_over_time.png"
        ),
    }
    if len(paired):
        figs["Paired sum-throughput difference"] = plot_paired(
            paired, out / "paired_sum_throughput.png", confidence
        )
    ci_text = (
        "paired t interval, mean(d) +- t(n-1) sd(d)/sqrt(n)"
        if method == "t"
        else "percentile bootstrap of mean(d), 10 000 resamples"
    )
    lines = [f"# {title}", ""]
    lines += list(header_lines)
    lines += [
        "",
        "## Per-policy KPIs",
        "",
        "Seed means of per-run KPIs; decision-time percentiles pooled over all epochs of all "
        f"seeds; fallbacks summed over seeds. Outage: rate < {outage_bps:g} bit/s. "
        "Energy efficiency appears only where the system defines it.",
        "",
        markdown_table(_display_policy_table(table)),
        "",
        f"## Paired differences vs `{baseline}`",
        "",
        f"d = KPI(policy, seed) - KPI({baseline}, same seed), over seeds both completed "
        f"(common random numbers). {round(confidence * 100)} % CI: {ci_text}.",
        "",
        markdown_table(_display_paired_table(paired, confidence))
        if len(paired)
        else "(no other policy to compare)",
        "",
        "## Figures",
        "",
    ]
    for caption, path in figs.items():
        lines += [f"![{caption}]({path.name})", ""]
    bad = [r for r in runs if r.path is None]
    if bad:
        lines += ["## Failed runs", ""]
        lines += [f"* `{r.policy_id}` seed {r.seed}: {r.error}" for r in bad]
        lines += [""]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report
