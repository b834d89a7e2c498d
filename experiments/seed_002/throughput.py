"""Figs. 3-6 of seed 002: throughput of the three architectures at full power (spec §9.1-9.2).

Everything comes from the ``cellfree_uplink`` system: ``snapshot_observation`` for the drops,
``statistics(obs).rates_bps`` for the analytical curves (Theorem 1, corrected as (S8), or the
LSFD-2 ablation) and ``mc_statistics(obs).rates_bps`` (the estimator behind ``score(...,
method="monte_carlo")``) for the simulated ones. Power is
``P_max`` for every user and every user is scheduled (spec §7: the paper does not state the
power of §VI-A).

* Fig. 3 / Fig. 4: CDF over drops (and users) of the per-user / sum throughput, K = 20,
  tau_c = 1e4, tau_p = 10; analysis over ``drops_cdf`` drops, Monte Carlo over the first
  ``drops_mc`` (PHYS) / ``drops_mc_other`` of them. The hard check compares the deciles of
  Monte Carlo and analysis on the
  same drops (paired).
* Fig. 5 / Fig. 6: per-user / sum throughput vs tau_p, K = 10, tau_c in {200, 1e5}. The SINR does
  not depend on tau_c (only the pre-log ``B (1 - tau_p / tau_c)`` does, eq. (19)), so the
  tau_c = 1e5 curve is the tau_c = 200 rates times the ratio of the pre-logs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from emulator.units import bps_to_mbps
from experiments.common import Reproduction, decile_rel_gap, quantiles
from experiments.seed_002.config import ARCH_LABEL, PAPER, Config

#: the four analysed curves: (architecture, CPU combining). Space / Ground have no combining.
CURVES = (
    ("space", "equal"),
    ("ground", "equal"),
    ("space_ground", "equal"),
    ("space_ground", "lsfd2"),
)


def curve_name(arch: str, combining: str) -> str:
    """``space``, ``ground``, ``space_ground[equal]`` or ``space_ground[lsfd2]``."""
    return f"{arch}[{combining}]" if arch == "space_ground" else arch


def _cf():
    from emulator.systems import cellfree_uplink as cf

    return cf


_FULL_POWER = []


def full_power_decision(obs):
    """Every user at ``P_max``, all scheduled: the ``full-power-v1`` policy's decision."""
    if not _FULL_POWER:
        from policies import make

        _FULL_POWER.append(make("full-power-v1"))
    return _FULL_POWER[0].decide(obs)


def cdf_data(cfg: Config, profile: str, log: Callable[[str], None]) -> dict:
    """Per-user rates [Mbps] of every curve of Figs. 3-4 (analysis and Monte Carlo).

    The Monte-Carlo curves come from the system's ``mc_statistics`` (what ``score(...,
    method="monte_carlo")`` evaluates); its empirical moments serve both CPU-combining modes
    of the space-ground curve, so one set of channel draws is simulated per drop and
    architecture.

    Returns:
        ``{curve: {"ana": [drops_cdf, K], "mc": [n_mc, K]}}`` float64 arrays.
    """
    cf = _cf()
    K = 20
    n_mc = 0
    if profile in cfg.mc_profiles:
        n_mc = cfg.drops_mc if profile == "PHYS" else cfg.drops_mc_other
    out: dict[str, dict[str, np.ndarray]] = {}
    for arch in ("space", "ground", "space_ground"):
        combs = ("equal", "lsfd2") if arch == "space_ground" else ("equal",)
        params = {
            comb: cf.params_from_dict(
                {"architecture": arch, "cpu_combining": comb, "tau_c": 10_000, "tau_p": 10},
                profile=profile,
            )
            for comb in combs
        }
        ana = {comb: np.empty((cfg.drops_cdf, K)) for comb in combs}
        mc = {comb: np.empty((n_mc, K)) for comb in combs}
        for d in range(cfg.drops_cdf):
            for comb in combs:
                obs = cf.snapshot_observation(params[comb], K, cfg.seed, d)
                dec = full_power_decision(obs)
                ana[comb][d] = bps_to_mbps(cf.statistics(obs).rates_bps(dec.power_w, dec.scheduled))
            if d < n_mc:
                obs = cf.snapshot_observation(params["equal"], K, cfg.seed, d)
                dec = full_power_decision(obs)
                st = cf.mc_statistics(obs, num_draws=cfg.mc_draws, seed=cfg.seed, counter=d)
                for comb in combs:
                    st_c = dataclasses.replace(st, cpu_combining=comb)
                    mc[comb][d] = bps_to_mbps(st_c.rates_bps(dec.power_w, dec.scheduled))
        for comb in combs:
            name = curve_name(arch, comb)
            out[name] = {"ana": ana[comb], "mc": mc[comb]}
            log(f"  fig3/4 {profile} {name}: mean sum {ana[comb].sum(1).mean():.1f} Mbps")
    return out


def _plot_cdfs(data_by_profile: dict, per_user: bool, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    profiles = list(data_by_profile)
    fig, axes = plt.subplots(
        2, len(profiles), figsize=(6 * len(profiles), 8), squeeze=False, constrained_layout=True
    )
    colors = {"space": "C0", "ground": "C1", "space_ground": "C2"}
    for j, profile in enumerate(profiles):
        for i, comb in enumerate(("equal", "lsfd2")):
            ax = axes[i, j]
            for arch in ("space_ground", "space", "ground"):
                name = curve_name(arch, comb)
                d = data_by_profile[profile][name]
                n_mc = d["mc"].shape[0]
                series = [("analysis", d["ana"], "-", {})]
                if n_mc:
                    series += [
                        ("analysis, MC drops", d["ana"][:n_mc], ":", {"linewidth": 1}),
                        ("Monte Carlo", d["mc"], "o", {"markevery": 10, "fillstyle": "none"}),
                    ]
                for label, arr, style, kw in series:
                    x = arr.ravel() if per_user else arr.sum(1)
                    lv, q = quantiles(x)
                    ax.plot(
                        q,
                        lv,
                        style,
                        color=colors[arch],
                        label=f"{ARCH_LABEL[arch]} ({label})",
                        **kw,
                    )
            ax.set_title(f"{profile}, CPU combining = {comb}")
            ax.set_xlabel(("Per-user" if per_user else "Sum") + " throughput [Mbps]")
            ax.set_ylabel("CDF")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(title)
    return fig


def _cdf_csv(data_by_profile: dict, per_user: bool) -> dict:
    cols: dict[str, list] = {"profile": [], "curve": [], "method": [], "cdf": [], "mbps": []}
    for profile, curves in data_by_profile.items():
        for name, d in curves.items():
            for kind in ("ana", "mc"):
                if d[kind].size == 0:
                    continue
                x = d[kind].ravel() if per_user else d[kind].sum(1)
                lv, q = quantiles(x)
                n = len(lv)
                cols["profile"] += [profile] * n
                cols["curve"] += [name] * n
                cols["method"] += ["analysis" if kind == "ana" else "monte_carlo"] * n
                cols["cdf"] += list(lv)
                cols["mbps"] += list(q)
    return cols


def run_fig3_fig4(repro: Reproduction, cfg: Config, items: list[str], log) -> None:
    """Figs. 3 and 4 (whichever of them is in ``items``), both profiles, both combinings."""
    data = {p: cdf_data(cfg, p, log) for p in cfg.profiles}
    repro.note(
        f"Figs. 3-4: K = 20, tau_c = 1e4, tau_p = 10, full power; analysis over {cfg.drops_cdf} "
        f"drops, Monte Carlo ({', '.join(cfg.mc_profiles)}) over the first {cfg.drops_mc} (PHYS) / "
        f"{cfg.drops_mc_other} (other profiles) drops "
        f"x {cfg.mc_draws} realisations; the MC-vs-analysis check compares the deciles "
        "(10 %..90 %) of the two CDFs on the same drops, relative gap <= 2 %; hard for PHYS "
        "(CAL's ground-only users reach kbit/s rates, where MC is relatively noisy)."
    )
    for item, per_user in (("fig3", True), ("fig4", False)):
        if item not in items:
            continue
        what = "per-user" if per_user else "sum"
        for profile, curves in data.items():
            for name, d in curves.items():
                mc = d["mc"]
                if mc.size == 0:
                    continue
                ana = d["ana"][: mc.shape[0]]
                x_ana = ana.ravel() if per_user else ana.sum(1)
                x_mc = mc.ravel() if per_user else mc.sum(1)
                gap = decile_rel_gap(x_mc, x_ana)
                repro.claim(
                    item,
                    f"mc_matches_analysis_deciles_2pct[{what},{name},{profile}]",
                    gap <= 0.02,
                    hard=(profile == "PHYS"),
                    note=f"max decile gap {100 * gap:.2f} %",
                )
        repro.figure(
            item,
            _plot_cdfs(data, per_user, f"Seed 002 Fig. {item[3:]}: CDF of the {what} throughput"),
        )
        repro.csv(item, _cdf_csv(data, per_user))

    for profile, curves in data.items():
        sums = {name: d["ana"].sum(1) for name, d in curves.items()}
        per_user_median = {name: float(np.median(d["ana"])) for name, d in curves.items()}
        if "fig4" in items:
            space_mean = float(sums["space"].mean())
            repro.claim(
                "fig4",
                f"space_mean_sum_in_[28,36]Mbps[{profile}]",
                28.0 <= space_mean <= 36.0,
                hard=(profile == "PHYS"),
                note=f"{space_mean:.2f} Mbps",
            )
            for name, s in sums.items():
                arch = name.split("[")[0]
                repro.value(
                    "fig4",
                    f"mean_sum_throughput[{name},{profile}]",
                    PAPER["fig4_mean"][arch],
                    s.mean(),
                    "Mbps",
                )
                repro.value(
                    "fig4",
                    f"p5_sum_throughput[{name},{profile}]",
                    PAPER["fig4_p5"][arch],
                    np.percentile(s, 5),
                    "Mbps",
                )
            ratio_p5 = np.percentile(sums["space"], 5) / sums["space"].mean()
            repro.claim(
                "fig4",
                f"space_p5_within_10pct_of_mean[{profile}]",
                ratio_p5 >= 0.9,
                note=f"p5/mean = {ratio_p5:.3f} (paper 30.5/32.1 = 0.950)",
            )
        if "fig3" in items:
            g = per_user_median["ground"]
            for name in ("space", "space_ground[equal]", "space_ground[lsfd2]"):
                arch = name.split("[")[0]
                repro.value(
                    "fig3",
                    f"median_per_user_ratio_to_ground[{name},{profile}]",
                    PAPER["fig3_median_ratio"][arch],
                    per_user_median[name] / g,
                    "x",
                )
            for name, m in per_user_median.items():
                repro.value(
                    "fig3", f"median_per_user_throughput[{name},{profile}]", None, m, "Mbps"
                )


def tau_data(cfg: Config, profile: str, log) -> dict:
    """Per-user and sum throughput [Mbps] vs tau_p for every curve, K = 10 (Figs. 5-6).

    Returns:
        ``{curve: {tau_c: (per_user [T], sum [T])}}`` with T = len(tau_p_values), means over drops.
    """
    cf = _cf()
    K = 10
    out: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] = {}
    taus = np.asarray(cfg.tau_p_values)
    for arch, comb in CURVES:
        sums = np.zeros((len(taus), cfg.drops_tau))
        prelog_ratio = np.zeros(len(taus))
        for i, tp in enumerate(taus):
            params = cf.params_from_dict(
                {"architecture": arch, "cpu_combining": comb, "tau_c": 200, "tau_p": int(tp)},
                profile=profile,
            )
            # eq. (19): R = B (1 - tau_p / tau_c) log2(1 + SINR); SINR is tau_c-free
            prelog_ratio[i] = (1.0 - tp / 100_000) / (1.0 - tp / 200)
            for d in range(cfg.drops_tau):
                obs = cf.snapshot_observation(params, K, cfg.seed, d)
                dec = full_power_decision(obs)
                st = cf.statistics(obs)
                sums[i, d] = bps_to_mbps(st.sum_rate_bps(dec.power_w, dec.scheduled))
        s200 = sums.mean(1)
        s1e5 = s200 * prelog_ratio
        out[curve_name(arch, comb)] = {200: (s200 / K, s200), 100_000: (s1e5 / K, s1e5)}
        log(f"  fig5/6 {profile} {curve_name(arch, comb)} done")
    return out


def run_fig5_fig6(repro: Reproduction, cfg: Config, items: list[str], log) -> None:
    """Figs. 5 and 6 (whichever is in ``items``), both profiles, both combinings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = {p: tau_data(cfg, p, log) for p in cfg.profiles}
    taus = np.asarray(cfg.tau_p_values)
    repro.note(
        f"Figs. 5-6: K = 10, full power, tau_p in {list(cfg.tau_p_values)}, {cfg.drops_tau} "
        "drops per point (the same drops for every tau_p)."
    )
    i10 = int(np.flatnonzero(taus == 10)[0]) if 10 in taus else None
    for item, idx, what in (("fig5", 0, "per-user"), ("fig6", 1, "sum")):
        if item not in items:
            continue
        fig, axes = plt.subplots(
            1, len(data), figsize=(6 * len(data), 4.5), squeeze=False, constrained_layout=True
        )
        cols: dict[str, list] = {"profile": [], "curve": [], "tau_c": [], "tau_p": [], "mbps": []}
        for j, (profile, curves) in enumerate(data.items()):
            ax = axes[0, j]
            for n_curve, (name, by_tc) in enumerate(curves.items()):
                for tc, style in ((200, "-"), (100_000, "--")):
                    y = by_tc[tc][idx]
                    ax.plot(taus, y, style, color=f"C{n_curve}", label=f"{name}, tau_c={tc}")
                    cols["profile"] += [profile] * len(taus)
                    cols["curve"] += [name] * len(taus)
                    cols["tau_c"] += [tc] * len(taus)
                    cols["tau_p"] += list(taus)
                    cols["mbps"] += list(y)
            ax.set_title(f"{profile}")
            ax.set_xlabel("tau_p [symbols]")
            ax.set_ylabel(f"{what} throughput [Mbps]")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle(f"Seed 002 Fig. {item[3:]}: {what} throughput vs pilot length, K = 10")
        repro.figure(item, fig)
        repro.csv(item, cols)

    if "fig6" in items:
        for profile, curves in data.items():
            for comb in ("equal", "lsfd2"):
                sg = curves[curve_name("space_ground", comb)]
                best = all(
                    np.all(sg[tc][1] >= np.maximum(curves["space"][tc][1], curves["ground"][tc][1]))
                    for tc in (200, 100_000)
                )
                repro.claim(
                    "fig6",
                    f"space_ground_above_both_branches_all_tau_p[{comb},{profile}]",
                    bool(best),
                    note="paper: integrated network outperforms both",
                )
    if "fig5" not in items:
        return
    for profile, curves in data.items():
        hard = profile == "PHYS"
        space200 = curves["space"][200][0]
        space1e5 = curves["space"][100_000][0]
        if i10 is not None:
            v = float(space200[i10])
            repro.claim(
                "fig5",
                f"space_per_user_tc200_tp10_in_[2.8,3.6][{profile}]",
                2.8 <= v <= 3.6,
                hard=hard,
                note=f"{v:.3f} Mbps",
            )
            for name, by_tc in curves.items():
                arch = name.split("[")[0]
                repro.value(
                    "fig5",
                    f"per_user_tc200_tp10[{name},{profile}]",
                    PAPER["fig5_tp10"][arch],
                    by_tc[200][0][i10],
                    "Mbps",
                )
        peak = int(taus[int(np.argmax(space200))])
        falls = bool(space200[-1] < space200.max())
        repro.claim(
            "fig5",
            f"space_tc200_peak_tau_p_in_[8,12][{profile}]",
            8 <= peak <= 12 and falls,
            hard=hard,
            note=f"peak at tau_p = {peak}, {space200.max():.3f} -> {space200[-1]:.3f} Mbps",
        )
        nondecr = bool(np.all(np.diff(space1e5) >= -1e-9 * space1e5[1:]))
        repro.claim(
            "fig5",
            f"space_tc1e5_nondecreasing_in_tau_p[{profile}]",
            nondecr,
            hard=hard,
            note=f"{space1e5[0]:.3f} -> {space1e5[-1]:.3f} Mbps",
        )
