"""``inspect``: summary table of a trace, and with ``--plot`` PNGs of KPIs over time."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    """Register ``inspect``."""
    p = subparsers.add_parser(
        "inspect",
        help="summarise a trace (and plot it)",
        description=(
            "Print a summary of the trace in DIR: epochs, users served, KPI means and "
            "percentiles, fallbacks, decide time. --plot writes PNGs of KPIs and of the "
            "visible / serving satellites over time."
        ),
    )
    p.add_argument("dir", help="trace folder written by `run`")
    p.add_argument("--plot", action="store_true", help="write PNGs")
    p.add_argument("--plot-dir", default=None, help="where the PNGs go (default DIR/plots)")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    """Print the summary; plot if asked."""
    import traces
    from traces.summary import format_summary

    tr = traces.load(args.dir)
    print(format_summary(tr))
    if args.plot:
        out = Path(args.plot_dir) if args.plot_dir else Path(args.dir) / "plots"
        for path in plot_trace(tr, out):
            print(f"wrote {path}")
    return 0


def plot_trace(tr, out_dir: Path) -> list[Path]:
    """KPIs over time and the visible / serving satellites; returns the PNG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    ep = tr.epochs
    paths = []
    if ep.empty:
        return paths
    t_min = ep["t_s"] / 60.0

    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    axes[0].plot(t_min, ep["sum_rate_bps"] / 1e6, lw=1)
    axes[0].set_ylabel("sum rate [Mbit/s]")
    axes[1].plot(t_min, ep["num_users"], lw=1, label="users")
    axes[1].plot(t_min, ep["num_scheduled"], lw=1, label="scheduled")
    axes[1].set_ylabel("users")
    axes[1].legend(loc="best")
    fb = ep["decision_source"].isin(["fallback", "hold"])
    axes[2].plot(t_min, ep["p5_user_rate_bps"] / 1e6, lw=1, label="p5 user rate")
    if fb.any():
        axes[2].scatter(t_min[fb], (ep["p5_user_rate_bps"] / 1e6)[fb], c="r", s=8, label="fallback")
    axes[2].set_ylabel("p5 user rate [Mbit/s]")
    axes[2].set_xlabel("simulated time [min]")
    axes[2].legend(loc="best")
    fig.suptitle(f"{tr.manifest.get('scenario_name')} / {tr.manifest['policy']['id']}")
    fig.tight_layout()
    p = out_dir / "kpis.png"
    fig.savefig(p, dpi=120)
    plt.close(fig)
    paths.append(p)

    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    axes[0].step(t_min, ep["visible_sat_count"], where="post")
    axes[0].set_ylabel("visible satellites")
    axes[1].plot(t_min, ep["elevation_deg"], lw=1)
    for sid, grp in ep[ep["serving_sat_id"] >= 0].groupby("serving_sat_id"):
        axes[1].plot(grp["t_s"] / 60.0, grp["elevation_deg"], lw=2, label=str(sid))
    axes[1].set_ylabel("serving elevation [deg]")
    axes[1].set_xlabel("simulated time [min]")
    if ep["serving_sat_id"].nunique() <= 12:
        axes[1].legend(title="serving sat", fontsize=7, loc="best")
    fig.tight_layout()
    p = out_dir / "satellites.png"
    fig.savefig(p, dpi=120)
    plt.close(fig)
    paths.append(p)
    return paths
