"""The reproduction framework of DESIGN §9: output folder, figures, CSVs and summaries.

A reproduction run writes, into one output folder:

* ``<item>[_<variant>].png`` for each figure and ``<item>[_<variant>].csv`` with its plotted data;
* ``summary.json``: a list of ``{"item", "quantity", "paper", "ours", "unit", "config"}``
  objects, one per number the paper states that we regenerate (``paper`` may be null for a
  number we add, e.g. the CAL profile's value of a quantity the paper gives once), and one per
  checked claim with boolean ``paper`` (``true``) and ``ours``; hard checks carry
  ``"hard": true``;
* ``summary.md``: the same table with the ratio ours / paper, the hard checks with PASS / FAIL,
  and free-text notes (drop counts, missing inputs, deviations).

Usage::

    repro = Reproduction("002", out_dir, config="quick")
    repro.value("fig4", "mean_sum_throughput[space,PHYS]", 32.1, 31.7, "Mbps")
    repro.claim("fig4", "space_mean_in_[28,36]", ok, hard=True)
    repro.figure("fig4", fig)                     # PNG
    repro.csv("fig4", {"x": xs, "cdf": ys})       # CSV
    repro.write()                                 # summary.md + summary.json
"""

from __future__ import annotations

import csv
import json
import math
import platform
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Row:
    """One line of ``summary.json``."""

    item: str
    quantity: str
    paper: float | bool | None
    ours: float | bool | None
    unit: str
    config: str
    hard: bool = False
    note: str = ""

    def ratio(self) -> float | None:
        """``ours / paper`` for numbers (None for claims, missing or zero paper values)."""
        if isinstance(self.paper, bool) or isinstance(self.ours, bool):
            return None
        if self.paper is None or self.ours is None or self.paper == 0:
            return None
        return float(self.ours) / float(self.paper)


def _clean(x: Any) -> float | bool | None:
    if x is None or isinstance(x, bool):
        return x
    if isinstance(x, np.bool_):
        return bool(x)
    value = float(x)
    return value if math.isfinite(value) else None


def git_sha(cwd: Path | None = None) -> str:
    """The repository's HEAD commit (``"unknown"`` outside a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd or Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@dataclass
class Reproduction:
    """Collects one reproduction run's numbers, checks, figures and notes.

    Args:
        paper: the seed number, e.g. ``"002"``.
        out_dir: output folder (created).
        config: configuration name written into every row (``"quick"`` or ``"full"``).
    """

    paper: str
    out_dir: Path
    config: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    started_s: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)

    # ---- numbers and claims ------------------------------------------------------------
    def value(
        self,
        item: str,
        quantity: str,
        paper: float | None,
        ours: float | None,
        unit: str,
        note: str = "",
    ) -> None:
        """Record a number (soft: reported beside the paper's, never asserted)."""
        self.rows.append(
            Row(item, quantity, _clean(paper), _clean(ours), unit, self.config, False, note)
        )

    def claim(
        self, item: str, quantity: str, ours: bool, hard: bool = False, note: str = ""
    ) -> None:
        """Record a qualitative claim (paper side ``true``); ``hard`` marks an acceptance check."""
        self.rows.append(Row(item, quantity, True, bool(ours), "bool", self.config, hard, note))

    def note(self, text: str) -> None:
        """Add a free-text line to ``summary.md`` (drop counts, missing inputs, deviations)."""
        self.notes.append(text)

    def hard_failures(self) -> list[Row]:
        """Hard checks whose ``ours`` is False."""
        return [r for r in self.rows if r.hard and r.ours is not True]

    # ---- files -------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        """A path inside the output folder (recorded in the file list)."""
        self.files.append(name)
        return self.out_dir / name

    def figure(self, name: str, fig: Any) -> Path:
        """Save a matplotlib figure as ``<name>.png`` and close it."""
        import matplotlib.pyplot as plt

        p = self.path(f"{name}.png")
        fig.savefig(p, dpi=110, bbox_inches="tight")
        plt.close(fig)
        return p

    def csv(self, name: str, columns: Mapping[str, Sequence[Any]]) -> Path:
        """Write equal-length ``columns`` as ``<name>.csv`` (header = column names)."""
        keys = list(columns)
        cols = [list(np.asarray(columns[k]).tolist()) for k in keys]
        n = {len(c) for c in cols}
        if len(n) > 1:
            raise ValueError(f"csv {name}: columns of unequal length {dict(zip(keys, n))}")
        p = self.path(f"{name}.csv")
        with p.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(keys)
            for line in zip(*cols):
                w.writerow(line)
        return p

    # ---- summaries ---------------------------------------------------------------------
    def write(self, extra_meta: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
        """Write ``summary.json`` and ``summary.md``; returns their paths."""
        rows = [asdict(r) for r in self.rows]
        for r, d in zip(self.rows, rows):
            d["ratio"] = r.ratio()
        meta = {
            "paper": self.paper,
            "config": self.config,
            "git_sha": git_sha(),
            "python": platform.python_version(),
            "wall_s": round(time.time() - self.started_s, 2),
            **dict(extra_meta or {}),
        }
        pj = self.out_dir / "summary.json"
        pj.write_text(json.dumps(rows, indent=1) + "\n")
        (self.out_dir / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        pm = self.out_dir / "summary.md"
        pm.write_text(self.markdown(meta))
        return pj, pm

    def markdown(self, meta: Mapping[str, Any]) -> str:
        """The ``summary.md`` text."""

        def fmt(x: Any) -> str:
            if x is None:
                return "–"
            if isinstance(x, bool):
                return "true" if x else "false"
            return f"{x:.4g}"

        lines = [
            f"# Reproduction of seed {self.paper} ({self.config} configuration)",
            "",
            f"git {meta.get('git_sha', '?')[:12]}, wall time {meta.get('wall_s', '?')} s.",
            "",
        ]
        hard = [r for r in self.rows if r.hard]
        if hard:
            n_ok = sum(r.ours is True for r in hard)
            lines += [f"## Hard checks: {n_ok}/{len(hard)} pass", ""]
            lines += ["| item | check | result | note |", "|---|---|---|---|"]
            for r in hard:
                lines.append(
                    f"| {r.item} | {r.quantity} | {'PASS' if r.ours is True else 'FAIL'} "
                    f"| {r.note} |"
                )
            lines.append("")
        lines += [
            "## Paper vs ours",
            "",
            "| item | quantity | paper | ours | ratio | unit |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            if r.hard:
                continue
            ratio = r.ratio()
            lines.append(
                f"| {r.item} | {r.quantity} | {fmt(r.paper)} | {fmt(r.ours)} | "
                f"{'–' if ratio is None else f'{ratio:.3f}'} | {r.unit} |"
            )
        if self.notes:
            lines += ["", "## Notes", ""] + [f"* {n}" for n in self.notes]
        if self.files:
            lines += ["", "## Files", ""] + [f"* `{f}`" for f in self.files]
        return "\n".join(lines) + "\n"


def quantiles(
    values: np.ndarray, levels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF on a fixed grid: ``(levels, quantile values)`` (what a CDF figure plots).

    Shapes: values [n] -> levels [L], quantiles [L] (L = 101 by default: 0, 0.01, ..., 1).
    """
    lv = np.linspace(0.0, 1.0, 101) if levels is None else np.asarray(levels, dtype=float)
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        return lv, np.full(lv.shape, np.nan)
    return lv, np.quantile(v, lv)


def decile_rel_gap(x: np.ndarray, y: np.ndarray) -> float:
    """Largest relative difference between the deciles (10 %, ..., 90 %) of two samples."""
    lv = np.linspace(0.1, 0.9, 9)
    qx = np.quantile(np.asarray(x, float).ravel(), lv)
    qy = np.quantile(np.asarray(y, float).ravel(), lv)
    return float(np.max(np.abs(qx - qy) / np.maximum(np.abs(qy), 1e-300)))
