"""Figs. 7-10 and Table I of seed 002: Algorithm 1 against its baselines (spec §9.3-9.6).

One set of drops per K in {20, 30, 40, 50} (tau_c = 1e4, tau_p = K/2, space-ground, the
paper's equal-weight CPU sum) feeds every item: the statistics triple is built once per drop
with the system's ``statistics`` and shared by

* Fig. 7: :func:`policies.ao.ao_solve` from full power with its per-iteration history (the same
  function the ``ao-v1`` policy runs), averaged over drops;
* Fig. 8: the ``ao-v1`` decision, the equal (full) power decision and the ``random-power-v1``
  decision, each scored with ``statistics(obs).sum_rate_bps``;
* Figs. 9-10: the scheduled share of the ``ao-v1`` decision (eps_s = 1e-3), and of ``rho*`` at
  the other thresholds of spec §5.3;
* Table I: the AO mean sum throughput, the AO run time per decision (``policy.decide`` incl. the
  statistics build, on a fresh observation, median over ``timing_drops`` drops) and, when the
  ``shgnn-v1`` weights
  exist, the GNN-Stable / GNN-Robust columns on the same drops.

Every AO decision is checked with the system's ``validate``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from emulator.units import bps_to_mbps
from experiments.common import Reproduction, quantiles
from experiments.seed_002.config import PAPER, Config
from policies.ao import AOPolicy, ao_solve

#: shipped SHGNN weights per profile (trained on that profile's drops; spec §6.3 variants)
GNN_WEIGHTS = {
    "PHYS": {"stable": "stable", "robust": "robust-k{K}"},
    "CAL": {"stable": "cal-stable", "robust": "cal-robust-k{K}"},
}


def _cf():
    from emulator.systems import cellfree_uplink as cf

    return cf


def cf_invalid():
    """The system's invalid-decision exception type."""
    from emulator.systems.base import InvalidDecision

    return InvalidDecision


def _random_policy():
    from policies import make

    return make("random-power-v1")


def _gnn_policies(K: int, profile: str) -> dict[str, Any]:
    """``{"stable": policy, "robust": policy}`` for K, leaving out weights that do not load."""
    out: dict[str, Any] = {}
    try:
        import policies.shgnn  # noqa: F401
        from policies import make
    except Exception:  # noqa: BLE001 - any import failure means "no GNN column"
        return out
    for label, w in GNN_WEIGHTS.get(profile, {}).items():
        try:
            pol = make("shgnn-v1", weights=w.format(K=K))
            pol.decide(_cf().canned_observation())  # weights load lazily: try them once
        except Exception:  # noqa: BLE001 - missing weights: column reported missing
            continue
        out[label] = pol
    return out


def ao_data(cfg: Config, profile: str, log, items=("table1",)) -> dict[int, dict[str, Any]]:
    """Run every policy on ``cfg.drops_ao`` drops per K.

    Returns:
        ``{K: {...}}`` with per-drop arrays ``ao``, ``equal``, ``random`` (sum throughput
        [Mbps]), ``sched`` (scheduled share at eps_s = 1e-3), ``sched_eps`` ({eps_s: share}),
        ``hist`` ([drops, L] Mbps per AO iteration, padded with the final value), ``iters``,
        ``monotone_gap`` (worst relative decrease over iterations), ``invalid`` (number of
        decisions that failed ``validate``), ``gnn`` ({label: per-drop Mbps}) and timing lists.
    """
    cf = _cf()
    policy = AOPolicy(warm_start=False)
    rnd = _random_policy()
    out: dict[int, dict[str, Any]] = {}
    for K in cfg.k_values:
        params = cf.params_from_dict({"tau_c": 10_000}, profile=profile)  # tau_p = K/2
        n = cfg.drops_ao
        r: dict[str, Any] = {
            "ao": np.zeros(n),
            "equal": np.zeros(n),
            "random": np.zeros(n),
            "ao_raw": np.zeros(n),
            "sched": np.zeros(n),
            "sched_eps": {e: np.zeros(n) for e in cfg.eps_s_values},
            "sum_eps": {e: np.zeros(n) for e in cfg.eps_s_values},
            "iters": np.zeros(n, dtype=int),
            "converged": np.zeros(n, dtype=bool),
            "monotone_gap": 0.0,
            "invalid": 0,
            "hist": [],
            "gnn": {},
            "gnn_ms": {},
            "ao_ms": [],
            "ao_stats_ms": [],
            "ao_iter_ms": [],
        }
        gnn = _gnn_policies(K, profile) if "table1" in items else {}
        for label in gnn:
            r["gnn"][label] = np.full(n, np.nan)
            r["gnn_ms"][label] = []
        for d in range(n):
            obs = cf.snapshot_observation(params, K, cfg.seed, d)
            st = cf.statistics(obs)
            p_max = np.asarray(st.max_power_w, dtype=np.float64)
            prelog = bps_to_mbps(float(st.prelog_bps))
            # Fig. 7: Algorithm 1 from full power, with its history
            res = ao_solve(
                st.a, st.D, st.NO, p_max, None, policy.eps_rel, policy.max_iter, record_history=True
            )
            h = res.history_se * prelog
            r["hist"].append(h)
            r["monotone_gap"] = max(
                r["monotone_gap"], float(np.max(np.maximum(h[:-1] - h[1:], 0.0) / h[1:]))
            )
            r["iters"][d] = res.iterations
            r["converged"][d] = res.converged
            r["ao_raw"][d] = h[-1]
            for e in cfg.eps_s_values:
                q = res.power_w > e * p_max  # eq. (44) at threshold e
                r["sched_eps"][e][d] = np.mean(q)
                r["sum_eps"][e][d] = bps_to_mbps(st.sum_rate_bps(np.where(q, res.power_w, 0.0), q))
            # Fig. 8: the policies' decisions on the same statistics
            dec = policy.decide_from_statistics(obs, st)
            try:
                cf.validate(dec, obs)
            except cf_invalid() as exc:
                r["invalid"] += 1
                log(f"  invalid ao-v1 decision (K={K}, drop {d}): {exc}")
            r["ao"][d] = bps_to_mbps(st.sum_rate_bps(dec.power_w, dec.scheduled))
            r["sched"][d] = np.mean(dec.scheduled)
            full = np.ones(K, dtype=bool)
            r["equal"][d] = bps_to_mbps(st.sum_rate_bps(p_max, full))
            dr = rnd.decide(obs)
            r["random"][d] = bps_to_mbps(st.sum_rate_bps(dr.power_w, dr.scheduled))
            # Table I run time: the whole policy call (statistics build included), each on a
            # fresh observation (no cached channel means), as in benchmarks/ao_bench.py
            if d < cfg.timing_drops:
                fresh = cf.snapshot_observation(params, K, cfg.seed, d)
                t0 = time.perf_counter()
                dt = policy.decide(fresh)
                r["ao_ms"].append(1e3 * (time.perf_counter() - t0))
                r["ao_stats_ms"].append(1e3 * dt.diagnostics["stats_time_s"])
                r["ao_iter_ms"].append(1e3 * dt.diagnostics["iter_time_s"])
                for label, gp in gnn.items():
                    fresh = cf.snapshot_observation(params, K, cfg.seed, d)
                    t0 = time.perf_counter()
                    gp.decide(fresh)
                    r["gnn_ms"][label].append(1e3 * (time.perf_counter() - t0))
            for label, gp in gnn.items():
                dg = gp.decide(obs)
                cf.validate(dg, obs)
                r["gnn"][label][d] = bps_to_mbps(st.sum_rate_bps(dg.power_w, dg.scheduled))
        L = max(len(h) for h in r["hist"])
        r["hist"] = np.stack([np.pad(h, (0, L - len(h)), mode="edge") for h in r["hist"]])
        out[K] = r
        log(
            f"  AO {profile} K={K}: AO {r['ao'].mean():.1f}, equal {r['equal'].mean():.1f}, "
            f"random {r['random'].mean():.1f} Mbps, scheduled {100 * r['sched'].mean():.1f} %"
        )
    return out


def run_scheduling(repro: Reproduction, cfg: Config, items: list[str], log) -> None:
    """Figs. 7-10 and Table I (whichever are in ``items``), PHYS and CAL profiles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = {p: ao_data(cfg, p, log, items) for p in cfg.profiles}
    ks = list(cfg.k_values)
    repro.note(
        f"Figs. 7-10 / Table I: K in {ks}, tau_c = 1e4, tau_p = K/2, space-ground with the "
        f"paper's equal-weight CPU sum, {cfg.drops_ao} drops per K (the same drops for every "
        "policy); Algorithm 1 from full power, eps_rel = 1e-4, max_iter = 200, eps_s = 1e-3."
    )

    if "fig7" in items:
        fig, axes = plt.subplots(
            1, len(data), figsize=(6 * len(data), 4.5), squeeze=False, constrained_layout=True
        )
        cols: dict[str, list] = {"profile": [], "K": [], "iteration": [], "mean_sum_mbps": []}
        for j, (profile, by_k) in enumerate(data.items()):
            hard = profile == "PHYS"
            ax = axes[0, j]
            for K in ks:
                r = by_k[K]
                curve = r["hist"].mean(0)
                ax.plot(np.arange(len(curve)), curve, label=f"K = {K}")
                cols["profile"] += [profile] * len(curve)
                cols["K"] += [K] * len(curve)
                cols["iteration"] += list(range(len(curve)))
                cols["mean_sum_mbps"] += list(curve)
                gain = curve[-1] - curve[0]
                frac10 = (curve[min(10, len(curve) - 1)] - curve[0]) / gain if gain > 0 else 1.0
                repro.claim(
                    "fig7",
                    f"monotone_1e-9[K={K},{profile}]",
                    r["monotone_gap"] <= 1e-9,
                    hard=True,
                    note=f"worst relative decrease {r['monotone_gap']:.2e}",
                )
                repro.claim(
                    "fig7",
                    f"70pct_of_gain_by_iteration_10[K={K},{profile}]",
                    frac10 >= 0.7,
                    hard=hard,
                    note=f"{100 * frac10:.1f} % (mean curve)",
                )
                repro.claim(
                    "fig7",
                    f"converged_within_200[K={K},{profile}]",
                    bool(r["converged"].all()),
                    hard=hard,
                    note=f"median {np.median(r['iters']):.0f}, max {r['iters'].max()} iterations",
                )
                if K == 20:
                    repro.value(
                        "fig7",
                        f"initial_sum_throughput[K=20,{profile}]",
                        PAPER["fig7_k20"]["initial"],
                        curve[0],
                        "Mbps",
                    )
                    repro.value(
                        "fig7",
                        f"final_sum_throughput[K=20,{profile}]",
                        PAPER["fig7_k20"]["final"],
                        curve[-1],
                        "Mbps",
                    )
                    repro.value(
                        "fig7",
                        f"final_over_initial[K=20,{profile}]",
                        PAPER["fig7_k20"]["final"] / PAPER["fig7_k20"]["initial"],
                        curve[-1] / curve[0],
                        "x",
                    )
            ax.set_xlim(0, 60)
            ax.set_xlabel("iteration")
            ax.set_ylabel("mean sum throughput [Mbps]")
            ax.set_title(profile)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.suptitle("Seed 002 Fig. 7: convergence of Algorithm 1 (mean over drops)")
        repro.figure("fig7", fig)
        repro.csv("fig7", cols)

    if "fig8" in items:
        from policies import ConformanceError, check_policy, make

        try:
            check_policy(make("ao-v1"))
            conform, why = True, "valid, deterministic, input unmutated (cold and warm)"
        except ConformanceError as exc:
            conform, why = False, str(exc)
        repro.claim("fig8", "ao-v1_passes_check_policy", conform, hard=True, note=why)
        fig, axes = plt.subplots(
            1, len(data), figsize=(6 * len(data), 4.5), squeeze=False, constrained_layout=True
        )
        cols = {"profile": [], "K": [], "policy": [], "cdf": [], "sum_mbps": []}
        for j, (profile, by_k) in enumerate(data.items()):
            ax = axes[0, j]
            for K in ks:
                r = by_k[K]
                for pol, style in (("ao", "-"), ("equal", "--"), ("random", ":")):
                    lv, q = quantiles(r[pol])
                    cols["profile"] += [profile] * len(lv)
                    cols["K"] += [K] * len(lv)
                    cols["policy"] += [pol] * len(lv)
                    cols["cdf"] += list(lv)
                    cols["sum_mbps"] += list(q)
                    if K in (30, 50):
                        ax.plot(
                            q, lv, style, color="C0" if K == 30 else "C3", label=f"{pol}, K = {K}"
                        )
                repro.claim(
                    "fig8",
                    f"every_ao_decision_valid[K={K},{profile}]",
                    r["invalid"] == 0,
                    hard=True,
                    note=f"{r['invalid']} of {len(r['ao'])} failed validate()",
                )
                worst = float(np.min(r["ao"] - r["equal"]))
                repro.claim(
                    "fig8",
                    f"ao_ge_equal_every_drop[K={K},{profile}]",
                    worst >= 0,
                    hard=True,
                    note=f"min AO - equal = {worst:.3f} Mbps",
                )
                ratio = r["ao"].mean() / r["random"].mean()
                repro.claim(
                    "fig8",
                    f"ao_mean_ge_1.05x_random[K={K},{profile}]",
                    ratio >= 1.05,
                    hard=True,
                    note=f"AO / random = {ratio:.3f}",
                )
                if K in PAPER["fig8_gain_over_random"]:
                    repro.value(
                        "fig8",
                        f"ao_gain_over_random[K={K},{profile}]",
                        PAPER["fig8_gain_over_random"][K],
                        ratio - 1.0,
                        "fraction",
                    )
                if K == 30:
                    for pol in ("random", "equal", "ao"):
                        repro.value(
                            "fig8",
                            f"mean_sum_throughput[K=30,{pol},{profile}]",
                            PAPER["fig8_k30"][pol],
                            r[pol].mean(),
                            "Mbps",
                        )
                    repro.value(
                        "fig8",
                        f"ao_gain_over_equal[K=30,{profile}]",
                        PAPER["fig8_k30"]["ao"] / PAPER["fig8_k30"]["equal"] - 1.0,
                        r["ao"].mean() / r["equal"].mean() - 1.0,
                        "fraction",
                    )
            ax.set_xlabel("sum throughput [Mbps]")
            ax.set_ylabel("CDF")
            ax.set_title(profile)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle("Seed 002 Fig. 8: Algorithm 1 vs equal and random power")
        repro.figure("fig8", fig)
        repro.csv("fig8", cols)

    for item, unsched in (("fig9", False), ("fig10", True)):
        if item not in items:
            continue
        fig, axes = plt.subplots(
            1, len(data), figsize=(6 * len(data), 4.5), squeeze=False, constrained_layout=True
        )
        cols = {"profile": [], "K": [], "eps_s": [], "share_pct": []}
        for j, (profile, by_k) in enumerate(data.items()):
            ax = axes[0, j]
            for e in cfg.eps_s_values:
                y = np.array([100 * by_k[K]["sched_eps"][e].mean() for K in ks])
                y = 100 - y if unsched else y
                ax.plot(ks, y, "o-", label=f"eps_s = {e:g}")
                cols["profile"] += [profile] * len(ks)
                cols["K"] += ks
                cols["eps_s"] += [e] * len(ks)
                cols["share_pct"] += list(y)
            ax.set_xlabel("K")
            ax.set_ylabel(("unscheduled" if unsched else "scheduled") + " users [%]")
            ax.set_title(profile)
            ax.grid(alpha=0.3)
            ax.legend()
            share = np.array([100 * by_k[K]["sched"].mean() for K in ks])
            hard = profile == "PHYS"
            if not unsched:
                nonincr = bool(np.all(np.diff(share) <= 1.0))
                repro.claim(
                    "fig9",
                    f"scheduled_share_nonincreasing_in_K_1pt[{profile}]",
                    nonincr,
                    hard=hard,
                    note=" / ".join(f"{s:.1f}" for s in share) + " %",
                )
                for K, s in zip(ks, share):
                    if K == 20:
                        repro.claim(
                            "fig9",
                            f"scheduled_share_K20_in_[88,100][{profile}]",
                            88 <= s <= 100,
                            hard=hard,
                            note=f"{s:.1f} %",
                        )
                    if K == 50:
                        repro.claim(
                            "fig9",
                            f"scheduled_share_K50_in_[80,95][{profile}]",
                            80 <= s <= 95,
                            hard=hard,
                            note=f"{s:.1f} %",
                        )
                    repro.value(
                        "fig9", f"scheduled_share[K={K},{profile}]", PAPER["fig9"].get(K), s, "%"
                    )
                for K in ks:
                    r = by_k[K]
                    for e in cfg.eps_s_values:
                        repro.value(
                            "fig9",
                            f"scheduled_share[K={K},eps_s={e:g},{profile}]",
                            None,
                            100 * r["sched_eps"][e].mean(),
                            "%",
                        )
                        loss = 1.0 - r["sum_eps"][e].mean() / r["ao_raw"].mean()
                        repro.value(
                            "fig9",
                            f"throughput_lost_to_threshold[K={K},eps_s={e:g},{profile}]",
                            None,
                            100 * loss,
                            "%",
                            note="descheduled users' rate at rho* minus the interference "
                            "they caused",
                        )
            else:
                for K, s in zip(ks, share):
                    paper = PAPER["fig9"].get(K)
                    repro.value(
                        "fig10",
                        f"unscheduled_share[K={K},{profile}]",
                        None if paper is None else 100 - paper,
                        100 - s,
                        "%",
                    )
        fig.suptitle(f"Seed 002 Fig. {item[3:]}: {'un' if unsched else ''}scheduled users vs K")
        repro.figure(item, fig)
        repro.csv(item, cols)

    if "table1" in items:
        table1(repro, cfg, data)


def table1(repro: Reproduction, cfg: Config, data: dict) -> None:
    """Table I: AO column (both profiles), run times, and the GNN columns when weights exist."""
    ks = list(cfg.k_values)
    cols: dict[str, list] = {
        "profile": [],
        "K": [],
        "column": [],
        "mean_sum_mbps": [],
        "median_ms": [],
    }
    missing: list[str] = []
    for profile, by_k in data.items():
        for K in ks:
            r = by_k[K]
            ao_ms = float(np.median(r["ao_ms"]))
            repro.value(
                "table1",
                f"sum_throughput[K={K},ao,{profile}]",
                PAPER["table1_ao"][K],
                r["ao"].mean(),
                "Mbps",
            )
            repro.value(
                "table1",
                f"run_time[K={K},ao,{profile}]",
                PAPER["table1_ao_ms"][K],
                ao_ms,
                "ms",
                note=f"stats {np.median(r['ao_stats_ms']):.2f} ms + iterations "
                f"{np.median(r['ao_iter_ms']):.2f} ms",
            )
            rows = [("ao", r["ao"].mean(), ao_ms)]
            for label, paper_key in (("stable", "table1_stable"), ("robust", "table1_robust")):
                if label not in r["gnn"]:
                    missing.append(f"{label}[K={K},{profile}]")
                    continue
                g = r["gnn"][label]
                g_ms = float(np.median(r["gnn_ms"][label]))
                rows.append((f"gnn_{label}", float(np.nanmean(g)), g_ms))
                repro.value(
                    "table1",
                    f"sum_throughput[K={K},gnn_{label},{profile}]",
                    PAPER[paper_key][K],
                    np.nanmean(g),
                    "Mbps",
                )
                repro.value(
                    "table1",
                    f"run_time[K={K},gnn_{label},{profile}]",
                    PAPER["table1_gnn_ms"][K],
                    g_ms,
                    "ms",
                )
            if "robust" in r["gnn"]:
                rr = float(np.nanmean(r["gnn"]["robust"])) / r["ao"].mean()
                repro.claim(
                    "table1",
                    f"gnn_robust_ge_0.95x_ao[K={K},{profile}]",
                    rr >= 0.95,
                    note=f"{rr:.3f} (SHGNN acceptance, spec §9.6)",
                )
                if "stable" in r["gnn"]:
                    rs = float(np.nanmean(r["gnn"]["stable"] / np.nanmean(r["gnn"]["robust"])))
                    repro.claim(
                        "table1",
                        f"gnn_stable_ge_0.97x_robust[K={K},{profile}]",
                        rs >= 0.97,
                        note=f"{rs:.3f}",
                    )
            for col, mean, ms in rows:
                cols["profile"].append(profile)
                cols["K"].append(K)
                cols["column"].append(col)
                cols["mean_sum_mbps"].append(mean)
                cols["median_ms"].append(ms)
        t20 = float(np.median(by_k[ks[0]]["ao_ms"]))
        t50 = float(np.median(by_k[ks[-1]]["ao_ms"]))
        repro.value(
            "table1",
            f"ao_time_ratio[K={ks[-1]}/K={ks[0]},{profile}]",
            PAPER["table1_ao_ms"][50] / PAPER["table1_ao_ms"][20],
            t50 / t20,
            "x",
        )
        repro.claim(
            "table1",
            f"ao_le_100ms_at_K=50[{profile}]",
            t50 <= 100.0,
            note=f"{t50:.2f} ms, {PAPER['table1_ao_ms'][50] / t50:.0f}x faster than paper",
        )
        for label in ("stable", "robust"):
            k0, k1 = by_k[ks[0]], by_k[ks[-1]]
            if label not in k0["gnn_ms"] or label not in k1["gnn_ms"]:
                continue
            g20 = float(np.median(k0["gnn_ms"][label]))
            g50 = float(np.median(k1["gnn_ms"][label]))
            repro.claim(
                "table1",
                f"gnn_{label}_time_K50_over_K20_le_1.5[{profile}]",
                g50 / g20 <= 1.5,
                note=f"{g50 / g20:.2f} (paper 36/30 = 1.2)",
            )
            repro.claim(
                "table1",
                f"gnn_{label}_10x_faster_than_ao_at_K50[{profile}]",
                t50 / g50 >= 10.0,
                note=f"AO / GNN = {t50 / g50:.2f} (paper 5089/36 = 141); our AO is vectorised",
            )
    if missing:
        repro.note(
            "Table I: GNN entries " + ", ".join(missing) + " missing: the `shgnn-v1` policy "
            "or those weights (policies/shgnn/weights/) could not be loaded in this checkout."
        )
    repro.note(
        f"Table I run times: median of {cfg.timing_drops} `ao-v1` decisions per K on this CPU "
        "(statistics build + iterations); see benchmarks/ao_bench.py for the full benchmark."
    )
    repro.csv("table1", cols)
