"""Summary of one trace (what ``inspect`` and ``run`` print): pandas only, no plotting."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from traces.reader import Trace


def _pct(s: pd.Series, q: float) -> float:
    s = pd.to_numeric(s, errors="coerce").dropna()
    return float(np.percentile(s, q)) if len(s) else math.nan


def summary_rows(trace: Trace) -> list[tuple[str, str]]:
    """(quantity, value) pairs describing a trace, in display order."""
    m = trace.manifest
    ep = trace.epochs
    us = trace.users
    ev = trace.events
    wall = trace.wall
    rows: list[tuple[str, str]] = []
    timing = m.get("timing", {})
    rows.append(("status", str(m.get("status"))))
    rows.append(("scenario", f"{m.get('scenario_name')} (hash {str(m.get('scenario_hash'))[:12]})"))
    rows.append(("policy / fallback", f"{m['policy']['id']} / {m['fallback']['id']}"))
    rows.append(("seed", str(m.get("seed"))))
    n = len(ep)
    rows.append(("epochs", f"{n} of {timing.get('num_epochs')} x {timing.get('epoch_s')} s"))
    if n == 0:
        return rows
    served = us.loc[us["scheduled"].astype(bool), "user_id"].nunique() if len(us) else 0
    rows.append(("users seen / served", f"{us['user_id'].nunique()} / {served}"))
    rows.append(
        ("users per epoch (mean, max)", f"{ep['num_users'].mean():.2f}, {ep['num_users'].max()}")
    )
    rows.append(("scheduled per epoch (mean)", f"{ep['num_scheduled'].mean():.2f}"))
    sr = ep["sum_rate_bps"] / 1e6
    rows.append(
        (
            "sum rate [Mbit/s] mean / p5 / p50 / p95",
            f"{sr.mean():.3f} / {_pct(sr, 5):.3f} / {_pct(sr, 50):.3f} / {_pct(sr, 95):.3f}",
        )
    )
    if len(us):
        ur = pd.to_numeric(us["rate_bps"], errors="coerce").dropna() / 1e6
        rows.append(
            (
                "user rate [Mbit/s] p5 / p50 / mean",
                f"{_pct(ur, 5):.4f} / {_pct(ur, 50):.4f} / {ur.mean():.4f}",
            )
        )
    for col in sorted(c for c in ep.columns if c.startswith("kpi_")):
        rows.append((col[4:] + " (mean)", f"{pd.to_numeric(ep[col], errors='coerce').mean():.6g}"))
    src = ep["decision_source"].value_counts().to_dict()
    rows.append(("decision sources", ", ".join(f"{k}={v}" for k, v in sorted(src.items()))))
    reasons = ep.loc[ep["fallback_reason"].astype(str) != "", "fallback_reason"].value_counts()
    rows.append(
        (
            "fallbacks",
            f"{int(reasons.sum())}"
            + (
                " (" + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())) + ")"
                if len(reasons)
                else ""
            ),
        )
    )
    if len(wall):
        d = pd.to_numeric(wall["wall_decide_s"], errors="coerce") * 1e3
        rows.append(
            (
                "decide time [ms] p50 / p99 / max",
                f"{_pct(d, 50):.3f} / {_pct(d, 99):.3f} / {d.max():.3f}",
            )
        )
    solve_cols = [c for c in wall.columns if c.startswith("wall_diag_") and "solve" in c]
    for col in solve_cols:
        d = pd.to_numeric(wall[col], errors="coerce") * 1e3
        rows.append(
            (
                f"solver time [ms] p50 / p99 ({col[len('wall_diag_') :]})",
                f"{_pct(d, 50):.3f} / {_pct(d, 99):.3f}",
            )
        )
    if len(ev):
        kinds = ev["kind"].value_counts().to_dict()
        rows.append(
            (
                "events",
                ", ".join(
                    f"{k}={kinds[k]}"
                    for k in (
                        "aos",
                        "los",
                        "handover",
                        "arrival",
                        "departure",
                        "arrival_blocked",
                        "fallback",
                    )
                    if k in kinds
                ),
            )
        )
    sats = ep.loc[ep["serving_sat_id"] >= 0, "serving_sat_id"].nunique()
    rows.append(
        ("serving satellites", f"{sats} (visible mean {ep['visible_sat_count'].mean():.1f})")
    )
    rows.append(
        (
            "elevation [deg] min / mean",
            f"{ep['elevation_deg'].min():.2f} / {ep['elevation_deg'].mean():.2f}",
        )
    )
    return rows


def format_summary(trace: Trace) -> str:
    """The summary as an aligned two-column text table."""
    rows = summary_rows(trace)
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
