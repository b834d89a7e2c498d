"""Trace replay: re-run a policy on the recorded observations of a trace.

A trace's ``observations`` table holds, per epoch, the decision observation the policy saw
(``role = "decision"``, ``ci = -1``) and the true state of every sampled coherence interval
(``role = "truth"``), each as the system's exact ``pack(obs)`` arrays plus the RNG stream keys
that produced it. Replay rebuilds those observations with ``system.unpack`` and feeds them to
:func:`emulator.epoch.run_epoch` — the very function the live run calls — so:

* a replay generates no geometry (no orbits, no pass plan) and no channels (no arrivals, no
  shadowing or fading draws): same epochs, same channels, same arrivals as the source;
* replaying with the recorded policy reproduces the source's deterministic tables (``epochs``,
  ``users``, ``events``, ``observations``) exactly, for latency modes ``none`` and ``fixed``
  (with ``measured`` latency, or a policy that hit its wall-clock time budget, the wall clock
  enters the result and a replay can differ, as a re-run would);
* with another policy the KPIs are paired with the source's, epoch by epoch.

The world events (passes, handovers, arrivals, pilot / data phases) are copied from the source
trace and merged with the replayed policy's decision / fallback events exactly as the engine
merges them. The warm start (``prev_power_w``) of every decision observation is re-derived from
the *replayed* decisions by ``run_epoch``. The new trace's manifest gets ``mode = "replay"`` and
``replay_of`` (the source folder, its scenario hash, policy and start time); parts are cut at the
source's part boundaries with the same carry format, so the result reads like any trace.

Single-epoch re-execution (:func:`replay_epoch`) rebuilds the state carried into epoch N —
the decision in force and any pending ones — from the recorded ``users`` table (decided power
and schedule per user) and ``epochs`` table (effective time, source), then runs ``run_epoch``
on epoch N's recorded inputs alone. This needs a system whose decisions are
``(power_w, scheduled, user_ids)`` (``cellfree_uplink``).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import traces
from emulator.config import ScenarioError, scenario_from_dict, system_params
from emulator.epoch import (
    SOURCE_FALLBACK,
    SOURCE_POLICY,
    Applied,
    Carry,
    EpochResult,
    EpochSettings,
    Truth,
    carry_to_json,
    run_epoch,
)
from emulator.systems import get_system
from traces.errors import TraceError
from traces.reader import part_dirs, read_part_table

#: event kinds written by ``run_epoch`` (everything else in ``events`` is a world event).
DECISION_EVENT_KINDS = frozenset({"decision", "decision_applied", "fallback", "fallback_failed"})
#: epoch-row columns that come from the world, not the decision (``run_epoch``'s context).
CONTEXT_COLUMNS = ("serving_sat_id", "elevation_deg", "slant_range_m", "visible_sat_count")


# --------------------------------------------------------------------------- the source
@dataclass
class Source:
    """A validated source trace, ready to replay.

    Attributes:
        path: the trace folder.
        manifest: its manifest.
        scenario: the scenario it was run with.
        system: the system module.
        params: the system parameters.
        parts: its complete part folders, in order.
    """

    path: Path
    manifest: dict
    scenario: Any
    system: Any
    params: Any
    parts: list[Path]


def open_source(trace_dir: str | Path) -> Source:
    """Open and check a trace for replay.

    Raises:
        TraceError: not a trace, another schema version, not complete, missing parts, or
            recorded without truth observations (one line: expected / got / fix).
    """
    path = Path(trace_dir)
    manifest = traces.read_manifest(path)  # format + schema version
    status = manifest.get("status")
    if status != "complete":
        raise TraceError(
            f"expected a complete trace to replay, got status {status!r} in {str(path)!r}; "
            "finish it first with `run --resume DIR`"
        )
    if "scenario" not in manifest:
        raise TraceError(
            f"expected the scenario in {str(path)}/manifest.json, found none; the manifest is "
            "incomplete, re-run the scenario"
        )
    try:
        scenario = scenario_from_dict(manifest["scenario"])
    except ScenarioError as exc:
        raise TraceError(
            f"expected a valid scenario in {str(path)}/manifest.json, got: "
            f"{' '.join(str(exc).split())}"
        ) from None
    parts = part_dirs(path)
    expected_parts = manifest.get("parts")
    if expected_parts is not None and len(parts) != int(expected_parts):
        raise TraceError(
            f"expected {expected_parts} parts in {str(path)!r} as its manifest says, found "
            f"{len(parts)}; parts are missing, the trace cannot be replayed (re-run it)"
        )
    for p in parts:
        for name in traces.TABLES:
            if not (p / f"{name}.parquet").is_file():
                raise TraceError(
                    f"expected {name}.parquet in {str(p)!r}, found none; the part is "
                    "incomplete, the trace cannot be replayed (re-run it)"
                )
    written = int(manifest.get("epochs_written", -1))
    if written != scenario.num_epochs:
        raise TraceError(
            f"expected {scenario.num_epochs} epochs in {str(path)!r}, the manifest records "
            f"{written}; the trace is incomplete, re-run it"
        )
    if not scenario.output.record_truth:
        raise TraceError(
            f"expected truth observations in {str(path)!r}, but it was run with "
            "[output] record_truth = false; re-run with record_truth = true to replay it"
        )
    system = get_system(scenario.system.name)
    return Source(path, manifest, scenario, system, system_params(scenario), parts)


def _read_records(part: Path, name: str) -> list[dict]:
    """A part's table as row dicts straight from Arrow (no pandas boxing of every cell)."""
    return read_part_table(part, name).to_pylist()


def _epoch_inputs(src: Source, k: int, obs_rows: list[dict]):
    """(decision obs or None, [Truth], decision row, truth rows) of epoch ``k``."""
    dec_rows = [r for r in obs_rows if r["role"] == "decision"]
    truth_rows = sorted((r for r in obs_rows if r["role"] == "truth"), key=lambda r: r["ci"])
    if len(dec_rows) != 1:
        raise TraceError(
            f"expected one recorded decision observation for epoch {k} in {str(src.path)!r}, "
            f"found {len(dec_rows)}; the trace is corrupt"
        )
    try:
        obs = _unpack(src, dec_rows[0])
        truths = [  # truths are only scored (read), never handed to a policy: no copies
            Truth(ci=int(r["ci"]), t_s=float(r["t_s"]), obs=_unpack(src, r, copy=False))
            for r in truth_rows
        ]
    except (KeyError, ValueError) as exc:
        raise TraceError(
            f"expected the system's packed observation arrays for epoch {k} in "
            f"{str(src.path)!r}, got {' '.join(str(exc).split())[:160]}; the trace was "
            "written by another version"
        ) from None
    return obs, truths, dec_rows[0], truth_rows


def _unpack(src: Source, row: dict, copy: bool = True):
    if int(row["num_users"]) == 0:
        return None
    return src.system.unpack(traces.decode_arrays(row, copy=copy), src.params)


def _context(epoch_row: dict) -> dict:
    return {c: epoch_row[c] for c in CONTEXT_COLUMNS if c in epoch_row}


def _world_events_by_epoch(events: pa.Table) -> dict[int, list[dict]]:
    """World events of a part (no decision events), by epoch, in their recorded order."""
    out: dict[int, list[dict]] = {}
    ev = events.take(pc.sort_indices(events, [("seq", "ascending")]))
    cols = [
        ev.column(c).to_pylist() for c in ("epoch", "t_s", "kind", "sat_id", "user_id", "detail")
    ]
    for k, t_s, kind, sat_id, user_id, detail in zip(*cols):
        if kind in DECISION_EVENT_KINDS:
            continue
        out.setdefault(int(k), []).append(
            {
                "t_s": float(t_s),
                "kind": kind,
                "sat_id": int(sat_id),
                "user_id": int(user_id),
                "detail": detail,
            }
        )
    return out


def _obs_row(src: Source, k: int, role: str, ci: int, t_s: float, obs, streams: str) -> dict:
    r = {
        "epoch": k,
        "role": role,
        "ci": ci,
        "t_s": float(t_s),
        "num_users": 0 if obs is None else len(obs.user_ids),
        "rng_streams": streams,
    }
    packed = {} if obs is None else src.system.pack(obs, include_statistics=role == "truth")
    r.update(traces.encode_arrays(packed))
    return r


def _copy_obs_row(row: dict) -> dict:
    """A recorded truth row as the engine builds it (same cells, same key order)."""
    out = {c: row[c] for c in ("epoch", "role", "ci", "t_s", "num_users", "rng_streams")}
    for c in sorted(c for c in row if c.startswith(traces.arrays.ARRAY_PREFIX)):
        if row[c] is not None:
            out[c] = row[c]
    out[traces.arrays.LAYOUT_COLUMN] = row[traces.arrays.LAYOUT_COLUMN]
    return out


def _replay_scenario(src: Source, policy_id: str | None):
    if policy_id is None or policy_id == src.scenario.policy.id:
        return src.scenario
    return src.scenario.with_overrides(policy_id=policy_id)


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- whole trace
def replay_trace(
    trace_dir: str | Path,
    policy_id: str | None = None,
    out_dir: str | Path | None = None,
    quiet: bool = True,
) -> Path:
    """Re-run ``policy_id`` (default: the recorded one) on every recorded epoch of a trace.

    Args:
        trace_dir: the source trace folder (complete, this schema version, with truths).
        policy_id: registry id of the policy to replay; its parameters are the registry
            defaults unless it is the recorded policy (then the recorded parameters).
        out_dir: the new trace folder
            (default ``<output.dir>/<name>-<policy>-<seed>-replay-<UTC>``).
        quiet: no progress bar.

    Returns:
        The new trace folder.

    Raises:
        TraceError: bad source trace (see :func:`open_source`).
        policies.PolicyError: unknown policy id, or one for another system.
    """
    from emulator.engine import build_policies, default_run_dir, package_versions

    src = open_source(trace_dir)
    scenario = _replay_scenario(src, policy_id)
    _check_policy_system(scenario)
    policy, fallback = build_policies(scenario)
    settings = EpochSettings.from_scenario(scenario)

    root = Path(out_dir) if out_dir is not None else default_run_dir(scenario, "replay")
    writer = traces.TraceWriter(root)
    manifest = _replay_manifest(src, scenario, policy, package_versions())
    writer.create(manifest)

    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=scenario.num_epochs, unit="epoch", desc=f"replay {policy.id}")
    carry = Carry()
    seq = 0
    epochs_done = 0
    io = _PartWriter(writer)
    t_start = time.perf_counter()
    try:
        for index, part in enumerate(src.parts):
            epochs = sorted(_read_records(part, "epochs"), key=lambda r: r["epoch"])
            world = _world_events_by_epoch(read_part_table(part, "events"))
            by_epoch: dict[int, list[dict]] = {}
            for r in _read_records(part, "observations"):
                by_epoch.setdefault(int(r["epoch"]), []).append(r)
            rows: dict[str, list] = {"epochs": [], "users": [], "observations": [], "wall": []}
            part_events: list[dict] = []
            for erow in epochs:
                k = int(erow["epoch"])
                t0 = time.perf_counter()
                obs, truths, dec_row, truth_rows = _epoch_inputs(src, k, by_epoch.get(k, []))
                wall_obs = time.perf_counter() - t0
                res = run_epoch(
                    src.system,
                    policy,
                    fallback,
                    obs,
                    truths,
                    carry,
                    settings,
                    epoch=k,
                    t_s=float(erow["t_s"]),
                    context=_context(erow),
                )
                carry = res.carry
                merged = sorted(
                    world.get(k, [])
                    + [{c: v for c, v in e.items() if c != "epoch"} for e in res.events],
                    key=lambda e: e["t_s"],
                )
                for e in merged:  # column order as the engine writes it
                    part_events.append(
                        {
                            "t_s": e["t_s"],
                            "epoch": k,
                            "seq": seq,
                            "kind": e["kind"],
                            "sat_id": e["sat_id"],
                            "user_id": e["user_id"],
                            "detail": e["detail"],
                        }
                    )
                    seq += 1
                rows["epochs"].append(res.epoch_row)
                rows["users"].extend(res.user_rows)
                rows["observations"].append(
                    _obs_row(
                        src, k, "decision", -1, dec_row["t_s"], res.obs, dec_row["rng_streams"]
                    )
                )
                rows["observations"].extend(_copy_obs_row(r) for r in truth_rows)
                wall = dict(res.wall_row)
                wall["wall_observe_s"] = wall_obs
                wall["wall_epoch_s"] = time.perf_counter() - t0
                rows["wall"].append(wall)
                epochs_done = k + 1
                if bar is not None:
                    bar.update(1)
            tables = dict(rows)
            tables["events"] = part_events
            tables = traces.writer.part_tables(tables)  # here, not in the writer thread (GIL)
            part_carry = {
                "next_epoch": epochs_done,
                "next_seq": seq,
                "epoch_carry": carry_to_json(carry),
            }
            manifest["epochs_written"] = epochs_done
            manifest["parts"] = index + 1
            io.submit(index, tables, part_carry, copy.deepcopy(manifest))
        io.wait()
    except BaseException as exc:
        try:
            io.wait()
        except BaseException:  # noqa: BLE001 - the first error is the one to report
            pass
        manifest["status"] = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        manifest["ended_utc"] = _utc_now()
        manifest["error"] = " ".join(str(exc).split())[:500]
        writer.write_manifest(manifest)
        raise
    finally:
        io.close()
        if bar is not None:
            bar.close()
    manifest["status"] = "complete"
    manifest["ended_utc"] = _utc_now()
    manifest["replay_wall_s"] = time.perf_counter() - t_start
    writer.write_manifest(manifest)
    return root


class _PartWriter:
    """Writes finished parts on one background thread (at most one part in flight), as the
    engine does: the rows are built in the caller's thread, so the bytes do not depend on the
    thread, and replay does not wait for Parquet encoding and fsync."""

    def __init__(self, writer):
        self.writer = writer
        self.pool = None
        self.pending = None

    def _write(self, index, tables, carry, manifest) -> None:
        self.writer.write_part(index, tables, carry)
        self.writer.write_manifest(manifest)

    def submit(self, index, tables, carry, manifest) -> None:
        self.wait()
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-writer")
        self.pending = self.pool.submit(self._write, index, tables, carry, manifest)

    def wait(self) -> None:
        fut, self.pending = self.pending, None
        if fut is not None:
            fut.result()  # re-raises a write error here

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None


def _check_policy_system(scenario) -> None:
    import policies

    e = policies.entry(scenario.policy.id)
    if e.system != scenario.system.name:
        raise policies.PolicyError(
            f"policy {e.id!r} solves system {e.system!r}, but the trace's system is "
            f"{scenario.system.name!r}; choose a policy for {scenario.system.name!r} "
            "(see `run_emulation.py policies`)"
        )


def _replay_manifest(src: Source, scenario, policy, versions: dict) -> dict:
    m = dict(src.manifest)
    pid = scenario.policy.id
    m.update(
        {
            "status": "running",
            "mode": "replay",
            "scenario": scenario.to_dict(),
            "scenario_hash": scenario.content_hash(),
            "policy": {
                "id": pid,
                "version": pid.rsplit("-v", 1)[-1] if "-v" in pid else "",
                "class": f"{type(policy).__module__}:{type(policy).__qualname__}",
                "params": dict(scenario.policy.params),
            },
            "fallback": {
                "id": scenario.policy.fallback,
                "params": dict(scenario.policy.fallback_params),
            },
            "replay_of": {
                "path": str(src.path.resolve()),
                "scenario_hash": src.manifest.get("scenario_hash"),
                "policy_id": src.scenario.policy.id,
                "started_utc": src.manifest.get("started_utc"),
            },
            "versions": versions,
            "started_utc": _utc_now(),
            "ended_utc": None,
            "epochs_written": 0,
            "parts": 0,
        }
    )
    for key in ("resumed_utc", "error", "replay_wall_s"):
        m.pop(key, None)
    return m


# --------------------------------------------------------------------------- one epoch
@dataclass
class EpochReplay:
    """One epoch re-executed alone, next to what the trace recorded.

    Attributes:
        epoch: the epoch index.
        policy_id: the policy re-executed.
        recorded_policy_id: the policy of the trace.
        result: the :class:`EpochResult` of the re-execution.
        recorded_epoch: the trace's epoch row.
        recorded_users: the trace's user rows of the epoch.
        rng_streams: the recorded RNG stream keys of the epoch's observations, by role/ci.
    """

    epoch: int
    policy_id: str
    recorded_policy_id: str
    result: EpochResult
    recorded_epoch: dict
    recorded_users: list[dict]
    rng_streams: dict[str, str]

    def differences(self) -> list[str]:
        """Deterministic columns where re-execution and recording differ (empty: identical)."""
        out = []
        for c, v in self.result.epoch_row.items():
            if c in self.recorded_epoch and not _same(v, self.recorded_epoch[c]):
                out.append(f"epochs.{c}")
        rec = {int(r["user_id"]): r for r in self.recorded_users}
        new = {int(r["user_id"]): r for r in self.result.user_rows}
        if sorted(rec) != sorted(new):
            out.append("users.user_id")
        for u in sorted(set(rec) & set(new)):
            for c, v in new[u].items():
                if c in rec[u] and not _same(v, rec[u][c]):
                    out.append(f"users.{c}[user {u}]")
        return out

    @property
    def identical(self) -> bool:
        """True when every deterministic KPI and decision column equals the recording."""
        return not self.differences()


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            fa, fb = float(a), float(b)
        except (TypeError, ValueError):
            return False
        return (math.isnan(fa) and math.isnan(fb)) or fa == fb
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return bool(a) == bool(b)
    if isinstance(a, (int, np.integer)) and isinstance(b, (int, np.integer)):
        return int(a) == int(b)
    return a == b


def _recorded_decision(system, users: pd.DataFrame, epoch: int):
    """The decision made at ``epoch`` as the ``users`` table records it."""
    rows = users[(users["epoch"] == epoch) & users["in_decision"].astype(bool)]
    rows = rows[np.isfinite(rows["power_w"].to_numpy(np.float64))]
    fields = {f.name for f in dataclasses.fields(system.Decision)}
    if not {"power_w", "scheduled", "user_ids"} <= fields:
        raise TraceError(
            "expected a system whose decisions are (power_w, scheduled, user_ids) for "
            f"single-epoch re-execution, got fields {sorted(fields)}; replay the whole trace"
        )
    return system.Decision(
        power_w=rows["power_w"].to_numpy(np.float64).copy(),
        scheduled=rows["scheduled"].to_numpy(bool).copy(),
        user_ids=rows["user_id"].to_numpy(np.int64).copy(),
    )


def carry_before(system, epochs: pd.DataFrame, users: pd.DataFrame, epoch: int) -> Carry:
    """The :class:`Carry` the live run handed to ``epoch``, rebuilt from recorded tables.

    Decisions take effect in the order of their effective times (each at or after the epoch
    that made it), so the one in force at the start of ``epoch`` is the latest (by effective
    time, then epoch) with effective time before the epoch start, and later ones are pending.
    """
    t_k = float(epochs.loc[epochs["epoch"] == epoch, "t_s"].iloc[0])
    made = epochs[
        (epochs["epoch"] < epoch) & epochs["decision_source"].isin([SOURCE_POLICY, SOURCE_FALLBACK])
    ]
    made = made.sort_values(["effective_t_s", "epoch"], kind="stable")
    eff = made["effective_t_s"].to_numpy(np.float64)
    before = made[eff < t_k]
    later = made[eff >= t_k]
    in_force = None
    if len(before):
        r = before.iloc[-1]
        in_force = Applied(
            float(r["effective_t_s"]),
            _recorded_decision(system, users, int(r["epoch"])),
            int(r["epoch"]),
            str(r["decision_source"]),
        )
    pending = tuple(
        Applied(
            float(r["effective_t_s"]),
            _recorded_decision(system, users, int(r["epoch"])),
            int(r["epoch"]),
            str(r["decision_source"]),
        )
        for _, r in later.iterrows()
    )
    return Carry(in_force=in_force, pending=pending)


def replay_epoch(trace_dir: str | Path, epoch: int, policy_id: str | None = None) -> EpochReplay:
    """Re-execute epoch ``epoch`` of a trace alone, with ``policy_id`` (default: recorded).

    The inputs are the epoch's recorded observations (decision + truths, exact arrays, with
    their RNG stream keys); the decisions in force come from :func:`carry_before`.

    Raises:
        TraceError: bad trace, or ``epoch`` not in it.
    """
    from emulator.engine import build_policies

    src = open_source(trace_dir)
    n = src.scenario.num_epochs
    if not 0 <= int(epoch) < n:
        raise TraceError(
            f"expected an epoch in 0..{n - 1} for {str(src.path)!r}, got {epoch}; pick one "
            "from the trace's epochs table"
        )
    epoch = int(epoch)
    scenario = _replay_scenario(src, policy_id)
    _check_policy_system(scenario)
    policy, fallback = build_policies(scenario)
    settings = EpochSettings.from_scenario(scenario)

    tr = traces.load(src.path)
    epochs = tr.epochs
    users = tr.users
    erow = epochs[epochs["epoch"] == epoch].iloc[0].to_dict()
    obs_rows = _read_epoch_observations(src, epoch)
    obs, truths, _, _ = _epoch_inputs(src, epoch, obs_rows)
    carry = carry_before(src.system, epochs, users, epoch)
    res = run_epoch(
        src.system,
        policy,
        fallback,
        obs,
        truths,
        carry,
        settings,
        epoch=epoch,
        t_s=float(erow["t_s"]),
        context=_context(erow),
    )
    rec_users = users[users["epoch"] == epoch].to_dict("records")
    streams = {
        f"{r['role']}[{int(r['ci'])}]": r["rng_streams"]
        for r in sorted(obs_rows, key=lambda r: (r["role"], r["ci"]))
    }
    return EpochReplay(epoch, policy.id, src.scenario.policy.id, res, erow, rec_users, streams)


def _read_epoch_observations(src: Source, epoch: int) -> list[dict]:
    """Recorded observation rows of one epoch (reads only the part that holds it)."""
    for part in src.parts:
        table = pq.read_table(part / "epochs.parquet", columns=["epoch"])
        ks = table.column("epoch").to_numpy()
        if len(ks) and ks.min() <= epoch <= ks.max():
            return [r for r in _read_records(part, "observations") if r["epoch"] == epoch]
    return []


def format_epoch_replay(er: EpochReplay) -> str:
    """Text table: the decision and KPIs of the re-execution next to the recorded ones."""
    res = er.result
    rec = er.recorded_epoch
    lines = [
        f"epoch {er.epoch} (t = {float(rec['t_s']):g} s): re-executed {er.policy_id} "
        f"(recorded policy {er.recorded_policy_id})",
        "inputs: recorded observations "
        + ", ".join(f"{k} streams {v}" for k, v in er.rng_streams.items()),
        "",
        "decision            recorded                 re-executed",
        f"{'user':>6} {'power_w':>12} {'sched':>6}   {'power_w':>12} {'sched':>6}"
        f"   {'rate_bps rec':>14} {'rate_bps new':>14}",
    ]
    rec_u = {int(r["user_id"]): r for r in er.recorded_users}
    new_u = {int(r["user_id"]): r for r in res.user_rows}
    for u in sorted(set(rec_u) | set(new_u)):
        a = rec_u.get(u, {})
        b = new_u.get(u, {})
        lines.append(
            f"{u:>6} {_num(a.get('power_w')):>12} {_flag(a.get('scheduled')):>6}   "
            f"{_num(b.get('power_w')):>12} {_flag(b.get('scheduled')):>6}   "
            f"{_num(a.get('rate_bps')):>14} {_num(b.get('rate_bps')):>14}"
        )
    lines += ["", f"{'KPI':<22} {'recorded':>18} {'re-executed':>18}"]
    keys = [
        "decision_source",
        "fallback_reason",
        "num_users",
        "num_scheduled",
        "total_power_w",
        "sum_rate_bps",
        "min_sum_rate_bps",
        "p5_user_rate_bps",
        "mean_user_rate_bps",
    ]
    keys += sorted(c for c in res.epoch_row if c.startswith("kpi_"))
    for c in keys:
        lines.append(f"{c:<22} {_num(rec.get(c)):>18} {_num(res.epoch_row.get(c)):>18}")
    diffs = er.differences()
    if not diffs:
        lines += ["", "identical to the recording: yes"]
    else:
        shown = ", ".join(diffs[:8]) + (" ..." if len(diffs) > 8 else "")
        lines += ["", f"identical to the recording: no ({len(diffs)} differ: {shown})"]
    return "\n".join(lines)


def _num(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v or "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(f):
        return "-"
    if f == int(f) and abs(f) < 1e6:
        return str(int(f))
    return f"{f:.9g}"


def _flag(v) -> str:
    return "-" if v is None else ("yes" if bool(v) else "no")


def replay_summary(path: str | Path) -> dict[str, Any]:
    """Small JSON-able summary of a (replayed) trace: link, epochs, mean sum rate."""
    tr = traces.load(path)
    return {
        "path": str(Path(path)),
        "replay_of": tr.manifest.get("replay_of"),
        "policy": tr.manifest.get("policy", {}).get("id"),
        "epochs": int(len(tr.epochs)),
        "mean_sum_rate_bps": float(tr.epochs["sum_rate_bps"].mean()) if len(tr.epochs) else 0.0,
        "fallbacks": int((tr.epochs["fallback_reason"].astype(str) != "").sum()),
    }


__all__ = [
    "EpochReplay",
    "Source",
    "carry_before",
    "format_epoch_replay",
    "open_source",
    "replay_epoch",
    "replay_summary",
    "replay_trace",
]
