"""Reproduction of seed 002 (cell-free satellite-terrestrial IoT uplink): Figs. 3-10, Table I.

``run(repro, items, quick)`` regenerates the requested items with the ``cellfree_uplink``
system and the ``ao-v1`` / ``full-power-v1`` / ``random-power-v1`` / ``shgnn-v1`` policies,
under both parameter profiles (PHYS, CAL) and, for Figs. 3-6, both CPU combining modes
(the paper's equal-weight sum (S8), and LSFD-2). See ``config.py`` for drop counts.
"""

from __future__ import annotations

from collections.abc import Callable

ITEMS = ("fig3", "fig4", "fig5", "fig6", "fig7", "fig8", "fig9", "fig10", "table1")


def run(
    repro, items, quick: bool = False, log: Callable[[str], None] | None = None, config=None
) -> None:
    """Regenerate ``items`` into ``repro`` (an :class:`experiments.common.Reproduction`).

    Args:
        repro: the run's collector (output folder, summary rows).
        items: item names, a subset of :data:`ITEMS`.
        quick: the reduced configuration (``config.QUICK``) instead of ``config.FULL``.
        log: progress sink (one line per step), or None.
        config: an explicit :class:`experiments.seed_002.config.Config` (tests), overriding quick.
    """
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from experiments.seed_002 import config as c
    from experiments.seed_002.scheduling import run_scheduling
    from experiments.seed_002.throughput import run_fig3_fig4, run_fig5_fig6

    cfg = config or (c.QUICK if quick else c.FULL)
    log = log or (lambda msg: None)
    items = [i for i in ITEMS if i in set(items)]
    if {"fig3", "fig4"} & set(items):
        log("seed 002: Figs. 3-4")
        run_fig3_fig4(repro, cfg, items, log)
    if {"fig5", "fig6"} & set(items):
        log("seed 002: Figs. 5-6")
        run_fig5_fig6(repro, cfg, items, log)
    if {"fig7", "fig8", "fig9", "fig10", "table1"} & set(items):
        log("seed 002: Figs. 7-10 and Table I")
        run_scheduling(repro, cfg, items, log)
