"""Paper reproductions (DESIGN §9): one sub-package per seed, run by ``run_emulation.py reproduce``.

Every reproduction uses the emulator's own systems and policies (no separate implementation)
and writes its output folder through :mod:`experiments.common`.
"""

#: paper number -> module exposing ``ITEMS`` (ordered item names) and ``run(repro, items)``.
PAPERS: dict[str, str] = {
    "002": "experiments.seed_002",
}
