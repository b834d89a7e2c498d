"""Configurations and the paper's numbers for the reproduction of seed 002 (spec §9, §12).

``FULL`` is the paper's configuration (spec §8) at the drop counts we can afford on a shared
2-core CPU; every count is stated in ``summary.md``. ``QUICK`` keeps the paper's geometry
(M = 40, N = 25, K as in each figure: the hard checks are about those sizes) with far fewer
drops, Monte-Carlo draws and pilot lengths, so it finishes in well under two minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROFILES = ("PHYS", "CAL")
COMBININGS = ("equal", "lsfd2")
ARCHS = ("space_ground", "space", "ground")
ARCH_LABEL = {"space_ground": "Space-ground", "space": "Space", "ground": "Ground"}


@dataclass(frozen=True)
class Config:
    """Drop counts and sweeps of one reproduction configuration.

    Attributes:
        name: "quick" or "full" (written into every summary row).
        seed: run seed; drop d of size K is ``snapshot_observation(params, K, seed, d)``.
        drops_cdf: drops for the analytical CDFs of Figs. 3-4.
        drops_mc: drops (the first ones of the analytical set) also scored by Monte Carlo in
            the PHYS profile (where the MC check is hard).
        drops_mc_other: the same for the other profiles in ``mc_profiles``.
        mc_draws: small-scale realisations per Monte-Carlo drop.
        drops_tau: drops per point of Figs. 5-6.
        tau_p_values: pilot lengths swept in Figs. 5-6.
        drops_ao: drops per K for Figs. 7-10 and Table I.
        k_values: numbers of users of Figs. 7-10 and Table I.
        timing_drops: drops per K timed for Table I's run-time column.
        profiles: parameter profiles reported.
        mc_profiles: profiles whose Figs. 3-4 also get Monte-Carlo curves.
        eps_s_values: scheduling thresholds reported in Figs. 9-10.
    """

    name: str
    seed: int
    drops_cdf: int
    drops_mc: int
    drops_mc_other: int
    mc_draws: int
    drops_tau: int
    tau_p_values: tuple[int, ...]
    drops_ao: int
    k_values: tuple[int, ...] = (20, 30, 40, 50)
    timing_drops: int = 10
    profiles: tuple[str, ...] = PROFILES
    mc_profiles: tuple[str, ...] = PROFILES
    eps_s_values: tuple[float, ...] = field(default=(1e-2, 1e-3, 1e-4))


FULL = Config(
    name="full",
    seed=2002,
    drops_cdf=1000,
    drops_mc=200,
    drops_mc_other=50,
    mc_draws=10_000,
    drops_tau=100,
    tau_p_values=tuple(range(1, 31)),
    drops_ao=1000,
    timing_drops=20,
)

QUICK = Config(
    name="quick",
    seed=2002,
    drops_cdf=60,
    drops_mc=3,
    drops_mc_other=0,
    mc_draws=10_000,
    drops_tau=12,
    tau_p_values=(1, 2, 4, 6, 8, 9, 10, 11, 12, 14, 16, 20, 25, 30),
    drops_ao=200,
    timing_drops=5,
    mc_profiles=("PHYS",),
)

#: The paper's stated numbers (seed 002 §VI), by item.
PAPER = {
    # Fig. 4: mean and 5th-percentile sum throughput [Mbps], K = 20, tau_c = 1e4, tau_p = 10
    "fig4_mean": {"space": 32.1, "ground": 42.5, "space_ground": 67.9},
    "fig4_p5": {"space": 30.5, "ground": 14.5, "space_ground": 43.5},
    # Fig. 3: per-user median ratios to Ground
    "fig3_median_ratio": {"space": 3.3, "space_ground": 5.9},
    # Fig. 5: per-user throughput at tau_c = 200, tau_p = 10, K = 10 [Mbps]
    "fig5_tp10": {"space_ground": 7.0, "ground": 4.5, "space": 3.2},
    # Fig. 7: K = 20, initial and final sum throughput of Algorithm 1 [Mbps]
    "fig7_k20": {"initial": 114.6, "final": 167.8},
    # Fig. 8: mean sum throughput [Mbps]
    "fig8_k30": {"random": 182.6, "equal": 212.9, "ao": 226.5},
    "fig8_gain_over_random": {30: 0.240, 50: 0.265},
    # Figs. 9-10: scheduled share [%]
    "fig9": {20: 99.2, 50: 87.3},
    # Table I: sum throughput [Mbps] and run time [ms]
    "table1_ao": {20: 167.1, 30: 226.5, 40: 279.3, 50: 321.9},
    "table1_stable": {20: 170.5, 30: 228.6, 40: 275.6, 50: 317.8},
    "table1_robust": {20: 171.4, 30: 228.6, 40: 275.9, 50: 318.9},
    "table1_gnn_ms": {20: 30.0, 30: 34.0, 40: 35.0, 50: 36.0},
    "table1_ao_ms": {20: 621.0, 30: 1667.0, 40: 2939.0, 50: 5089.0},
}
