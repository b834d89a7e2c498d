"""Build a run from a :class:`~emulator.config.Scenario` and stream its KPIs to a trace.

``run_scenario(scenario, out_dir=None, resume_dir=None, quiet=True) -> Path`` is the entry
point. A run:

1. resolves the system (``get_system``), its parameters, the policy and the fallback policy;
2. builds the world: constellation, exact pass and serving plans (:mod:`emulator.world`),
   the service area, and the user list (:mod:`emulator.arrivals`);
3. runs the SimPy timeline (:mod:`emulator.processes`); at each epoch the decision
   observation and the truth observations of the sampled coherence intervals are built with
   ``system.observe`` and handed to :func:`emulator.epoch.run_epoch` (re-exported here), the
   same function replay calls;
4. writes a trace part (atomically) every ``output.flush_every_epochs`` epochs, with the carry
   state needed to resume, and keeps ``manifest.json`` current.

Resume (``resume_dir``): the scenario must hash to the manifest's ``scenario_hash``. The
timeline is replayed from t = 0 without observing, deciding or scoring the epochs already in
complete parts (the world is a pure function of the seed), and the run continues from the first
missing epoch with the saved carry, so the result equals an uninterrupted run.

Randomness (DESIGN section 5): arrivals from ``stream(seed, "arrivals", n)``, access points
from ``stream(seed, "world/ap_positions")``; each observation is
``system.observe(world, params, seed, epoch_index)`` (the system keys its own streams on the
seed, the epoch and user ids), and a Monte-Carlo score of interval j of epoch k uses
``counter = k * S + j``. The ``observations`` table records these keys per row.
"""

from __future__ import annotations

import copy
import datetime as _dt
import importlib.metadata
import json
import math
import platform
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from emulator.arrivals import poisson_users, trace_users
from emulator.config import Scenario, ScenarioError, file_sha256, scenario_from_dict, system_params
from emulator.epoch import (
    Carry,
    EpochResult,
    EpochSettings,
    Truth,
    carry_from_json,
    carry_to_json,
    run_epoch,
)
from emulator.processes import LiveState, arrival_process, epoch_process, pass_process
from emulator.systems import get_system
from emulator.world import NO_SATELLITE, OrbitWorld, service_area, world_state

__all__ = [
    "Carry",
    "EpochResult",
    "EpochSettings",
    "Truth",
    "Run",
    "build_policies",
    "run_epoch",
    "run_scenario",
]

_PACKAGES = ["numpy", "scipy", "simpy", "skyfield", "sgp4", "pandas", "pyarrow", "cvxpy", "torch"]


def build_policies(scenario: Scenario):
    """(policy, fallback) made from the registry with the scenario's parameters."""
    import policies

    policy = policies.make(scenario.policy.id, **dict(scenario.policy.params))
    fallback = policies.make(scenario.policy.fallback, **dict(scenario.policy.fallback_params))
    return policy, fallback


def package_versions() -> dict[str, str]:
    """Versions of Python, the emulator and its main dependencies (for the manifest)."""
    out = {"python": platform.python_version()}
    for name in ["leo-emulator", *_PACKAGES]:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = ""
    return out


def default_run_dir(scenario: Scenario, tag: str = "") -> Path:
    """``<output.dir>/<scenario>-<policy>-<seed>[-<tag>]-<UTC time>`` (suffixed if it exists)."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    tag = f"-{tag}" if tag else ""
    base = Path(scenario.output.dir) / (
        f"{scenario.name}-{scenario.policy.id}-{scenario.seed}{tag}-{stamp}"
    )
    path, n = base, 1
    while path.exists():
        path = base.with_name(f"{base.name}-{n}")
        n += 1
    return path


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Run:
    """One run of a scenario: construct it (resolves everything, fails fast), then :meth:`execute`.

    Args:
        scenario: the scenario.
        out_dir: trace folder (None: :func:`default_run_dir`), ignored when resuming.
        resume_dir: an existing trace folder to continue.
        quiet: no progress bar.
    """

    def __init__(self, scenario: Scenario, out_dir=None, resume_dir=None, quiet: bool = True):
        import traces

        self.scenario = scenario
        self.quiet = quiet
        self.system = get_system(scenario.system.name)
        self.params = system_params(scenario)
        self.policy, self.fallback = build_policies(scenario)
        self.settings = EpochSettings.from_scenario(scenario)
        self.num_epochs = scenario.num_epochs
        self.samples_per_epoch = scenario.timing.coherence_samples_per_epoch
        self.block = scenario.output.flush_every_epochs
        self.area = service_area(self.params, scenario.seed)

        # output (and resume state) first: a resume onto another scenario fails fast
        self.start_epoch = 0
        self.next_seq = 0
        self.carry = Carry()
        if resume_dir is not None:
            self.root = Path(resume_dir)
            manifest = traces.read_manifest(self.root)
            if manifest.get("scenario_hash") != scenario.content_hash():
                raise ScenarioError(
                    f"cannot resume {str(self.root)!r} with another scenario: expected hash "
                    f"{manifest.get('scenario_hash', '')[:12]}, got "
                    f"{scenario.content_hash()[:12]}; resume with the same scenario and "
                    "overrides (or omit SCENARIO to use the trace's own)"
                )
            self.writer = traces.TraceWriter(self.root, fsync=scenario.output.fsync)
            parts = self.writer.open_for_resume()
            self.parts_written = len(parts)
            if parts:
                tr = traces.load(self.root)
                saved = tr.carry() or {}
                self.start_epoch = int(saved.get("next_epoch", 0))
                self.next_seq = int(saved.get("next_seq", 0))
                self.carry = carry_from_json(self.system, saved.get("epoch_carry", {}))
            self.manifest = dict(manifest)
        else:
            self.root = Path(out_dir) if out_dir is not None else default_run_dir(scenario)
            self.writer = traces.TraceWriter(self.root, fsync=scenario.output.fsync)
            self.parts_written = 0
            self.manifest = None

        # the world
        self._block_cache: tuple[int, np.ndarray] | None = None
        self.orbit = OrbitWorld(scenario, self._block_times)
        self.world_events = self.orbit.events()
        if scenario.arrivals.process == "trace":
            try:
                self.users = iter(trace_users(scenario.arrivals.file))
            except ValueError as exc:
                raise ScenarioError(str(exc)) from None
        else:
            a = scenario.arrivals
            side_m = a.area_side_m if a.area_side_m > 0 else self.area.side_m
            self.users = poisson_users(
                scenario.seed, a.rate_per_s, a.mean_holding_s, side_m, a.initial
            )

        # buffers of the part being built
        self.state = LiveState()
        self._events: list[dict] = []
        self._rows: dict[str, list] = {k: [] for k in ("epochs", "users", "observations", "wall")}
        self._part_events: list[dict] = []
        self._obs = None
        self._truths: list[Truth] = []
        self._ctx: dict[str, Any] = {}
        self._wall_t0 = 0.0
        self._wall_obs = 0.0
        self._wall_pack = 0.0
        self.wall_decide_s = 0.0
        self.wall_score_s = 0.0
        self.wall_total_s = 0.0
        self.fallbacks = 0
        self._bar = None
        self._io: ThreadPoolExecutor | None = None
        self._pending_io: Future | None = None

    # -- timeline grid ---------------------------------------------------------------------
    def epoch_start(self, k: int) -> float:
        """Start of epoch ``k`` [s]."""
        return k * self.settings.epoch_s

    def ci_starts(self, k: int) -> list[float]:
        """Starts of the sampled coherence intervals of epoch ``k`` (slice mid-points) [s]."""
        e = self.settings.epoch_s
        return [
            k * e + (j + 0.5) * e / self.samples_per_epoch for j in range(self.samples_per_epoch)
        ]

    def _block_times(self, t_s: float) -> np.ndarray:
        k = min(int(math.floor(t_s / self.settings.epoch_s + 1e-9)), self.num_epochs - 1)
        b0 = (k // self.block) * self.block
        cached = self._block_cache
        if cached is not None and cached[0] == b0:
            return cached[1]
        b1 = min(b0 + self.block, self.num_epochs)
        times = []
        for kk in range(b0, b1):
            times.append(self.epoch_start(kk))
            times.extend(self.ci_starts(kk))
        arr = np.asarray(times)
        self._block_cache = (b0, arr)
        return arr

    def pilot_s(self, k: int, j: int) -> float:
        """Pilot-phase duration of a coherence interval: tau_p / tau_c of its length."""
        tr = self._truths[-1].obs if self._truths else None
        tau_c = getattr(self.params, "tau_c", None)
        tau_p = getattr(tr, "tau_p", None) if tr is not None else None
        if not tau_c or tau_p is None:
            return 0.0
        return self.scenario.timing.coherence_interval_s * float(tau_p) / float(tau_c)

    # -- logging ---------------------------------------------------------------------------
    def log(self, t_s: float, kind: str, sat_id: int = -1, user_id: int = -1, detail: str = ""):
        """Record a world event (buffered until its epoch is finished)."""
        self._events.append(
            {
                "t_s": float(t_s),
                "kind": kind,
                "sat_id": int(sat_id),
                "user_id": int(user_id),
                "detail": detail,
            }
        )

    # -- observation building --------------------------------------------------------------
    def _active(self) -> tuple[np.ndarray, np.ndarray]:
        users = self.state.active
        ids = np.fromiter(users.keys(), dtype=np.int64, count=len(users))
        en = np.array([(u.east_m, u.north_m) for u in users.values()], dtype=float).reshape(-1, 2)
        order = np.argsort(ids, kind="stable")
        return ids[order], en[order]

    def _observe(self, k: int, t_s: float):
        ids, en = self._active()
        geom = self.orbit.geometry(self.state.serving_sat_id, t_s)
        visible = self.orbit.visible_count(t_s)
        ctx = {
            "serving_sat_id": geom.sat_id,
            "elevation_deg": geom.elevation_deg,
            "slant_range_m": geom.slant_range_m,
            "visible_sat_count": visible,
        }
        if len(ids) == 0:
            return None, ctx
        ws = world_state(
            t_s, geom if geom is not None else NO_SATELLITE, self.area, ids, en, visible
        )
        obs = self.system.observe(ws, self.params, self.scenario.seed, k)
        return obs, ctx

    def begin_epoch(self, k: int) -> None:
        """Epoch start: the decision observation (skipped for epochs already written)."""
        self._truths = []
        if k < self.start_epoch:
            return
        self._wall_t0 = time.perf_counter()
        self._obs, self._ctx = self._observe(k, self.epoch_start(k))
        self._wall_obs = time.perf_counter() - self._wall_t0

    def coherence_interval(self, k: int, j: int) -> None:
        """Pilot phase of sampled interval j: the true state at that instant."""
        if k < self.start_epoch:
            return
        t = self.ci_starts(k)[j]
        t0 = time.perf_counter()
        obs, _ = self._observe(k, t)
        self._wall_obs += time.perf_counter() - t0
        self._truths.append(Truth(ci=j, t_s=t, obs=obs))
        n = 0 if obs is None else len(obs.user_ids)
        self.log(t, "pilot_phase", detail=f"ci={j};num_users={n}")

    def data_phase(self, k: int, j: int) -> None:
        """Data phase of sampled interval j (scored with the decision in force)."""
        if k < self.start_epoch:
            return
        self.log(self._truths[-1].t_s + self.pilot_s(k, j), "data_phase", detail=f"ci={j}")

    def finish_epoch(self, k: int) -> None:
        """Epoch end: run the epoch function, buffer its rows, write a part when due."""
        t_next = self.epoch_start(k + 1)
        mine = [e for e in self._events if e["t_s"] < t_next]
        self._events = [e for e in self._events if e["t_s"] >= t_next]
        if k < self.start_epoch:
            return
        res = run_epoch(
            self.system,
            self.policy,
            self.fallback,
            self._obs,
            self._truths,
            self.carry,
            self.settings,
            epoch=k,
            t_s=self.epoch_start(k),
            context=self._ctx,
        )
        self.carry = res.carry
        self.fallbacks += res.source != "policy" and res.source != "idle"
        mine = sorted(
            mine + [{k_: v for k_, v in e.items() if k_ != "epoch"} for e in res.events],
            key=lambda e: e["t_s"],
        )
        for e in mine:
            e["epoch"] = k
            e["seq"] = self.next_seq
            self.next_seq += 1
            self._part_events.append(
                {
                    "t_s": e["t_s"],
                    "epoch": k,
                    "seq": e["seq"],
                    "kind": e["kind"],
                    "sat_id": e["sat_id"],
                    "user_id": e["user_id"],
                    "detail": e["detail"],
                }
            )
        self._rows["epochs"].append(res.epoch_row)
        self._rows["users"].extend(res.user_rows)
        self._record_observations(k, res)
        wall = dict(res.wall_row)
        wall["wall_observe_s"] = self._wall_obs
        wall["wall_system_s"] += self._wall_pack
        wall["wall_epoch_s"] = time.perf_counter() - self._wall_t0
        self._rows["wall"].append(wall)
        self.wall_decide_s += wall["wall_decide_s"] + wall["wall_fallback_decide_s"]
        self.wall_score_s += wall["wall_score_s"]
        if (k + 1) % self.block == 0 or k + 1 == self.num_epochs:
            self._flush(k)
        if self._bar is not None:
            self._bar.update(1)

    def _record_observations(self, k: int, res: EpochResult) -> None:
        import traces

        seed = self.scenario.seed
        rows = self._rows["observations"]

        def row(role, ci, t_s, obs):
            streams = {"observe": {"seed": seed, "epoch_index": k}}
            if role == "truth" and self.settings.score_method == "monte_carlo":
                streams["score"] = {"seed": seed, "counter": k * self.samples_per_epoch + ci}
            r = {
                "epoch": k,
                "role": role,
                "ci": ci,
                "t_s": float(t_s),
                "num_users": 0 if obs is None else len(obs.user_ids),
                "rng_streams": json.dumps(streams, sort_keys=True),
            }
            t0 = time.perf_counter()
            packed = (
                {} if obs is None else self.system.pack(obs, include_statistics=role == "truth")
            )
            self._wall_pack += time.perf_counter() - t0
            r.update(traces.encode_arrays(packed))
            rows.append(r)

        self._wall_pack = 0.0
        row("decision", -1, self.epoch_start(k), res.obs)
        if self.scenario.output.record_truth:
            for tr in self._truths:
                row("truth", tr.ci, tr.t_s, tr.obs)

    def _flush(self, k: int) -> None:
        """Hand the finished part to the writer thread (at most one part in flight).

        The rows are built and converted to Arrow here, in the timeline's thread (Python work
        that holds the GIL: in the writer thread it would only stall the timeline); the
        writer thread encodes Parquet, fsyncs and renames (native code, GIL released), so the
        bytes do not depend on the thread and the timeline does not wait for the disk.
        """
        from traces.writer import part_tables

        tables = dict(self._rows)
        tables["events"] = self._part_events
        tables = part_tables(tables)
        carry = {
            "next_epoch": k + 1,
            "next_seq": self.next_seq,
            "epoch_carry": carry_to_json(self.carry),
        }
        index = self.parts_written
        self.parts_written += 1
        self._rows = {key: [] for key in self._rows}
        self._part_events = []
        self.manifest["epochs_written"] = k + 1
        self.manifest["parts"] = self.parts_written
        self.manifest["blocked_arrivals"] = self.state.blocked
        manifest = copy.deepcopy(self.manifest)
        self._wait_io()
        if self._io is None:
            self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trace-writer")
        self._pending_io = self._io.submit(self._write_part, index, tables, carry, manifest)

    def _write_part(self, index: int, tables, carry, manifest) -> None:
        self.writer.write_part(index, tables, carry)
        self.writer.write_manifest(manifest)

    def _wait_io(self) -> None:
        """Wait for the part in flight; re-raise its error in the timeline's thread."""
        fut, self._pending_io = self._pending_io, None
        if fut is not None:
            fut.result()

    def _close_io(self) -> None:
        try:
            self._wait_io()
        finally:
            if self._io is not None:
                self._io.shutdown(wait=True)
                self._io = None

    # -- manifest ------------------------------------------------------------------------
    def _tle_hash(self) -> str:
        h = self.orbit.tle_set_hash()
        if h:
            return h
        c = self.scenario.constellation
        if c.source == "walker":
            blob = json.dumps(self.scenario.to_dict()["constellation"], sort_keys=True)
            import hashlib

            return hashlib.sha256(blob.encode()).hexdigest()
        if c.tle_file:
            return file_sha256(c.tle_file)
        import orbits

        where = getattr(orbits, "__file__", None)
        data = sorted((Path(where).parent / "data").glob("*.tle")) if where else []
        return file_sha256(data[0]) if data else ""

    def _new_manifest(self) -> dict:
        import traces.schema as ts

        sc = self.scenario
        pid = sc.policy.id
        return {
            "format": ts.FORMAT_NAME,
            "schema_version": ts.SCHEMA_VERSION,
            "status": "running",
            "scenario": sc.to_dict(),
            "scenario_hash": sc.content_hash(),
            "scenario_name": sc.name,
            "seed": sc.seed,
            "system": sc.system.name,
            "policy": {
                "id": pid,
                "version": pid.rsplit("-v", 1)[-1] if "-v" in pid else "",
                "class": f"{type(self.policy).__module__}:{type(self.policy).__qualname__}",
                "params": dict(sc.policy.params),
            },
            "fallback": {"id": sc.policy.fallback, "params": dict(sc.policy.fallback_params)},
            "latency": {
                "mode": sc.policy.latency,
                "latency_s": sc.policy.latency_s,
                "scale": sc.policy.latency_scale,
            },
            "timing": {
                "epoch_s": sc.timing.epoch_s,
                "num_epochs": self.num_epochs,
                "coherence_interval_s": sc.timing.coherence_interval_s,
                "coherence_samples_per_epoch": self.samples_per_epoch,
                "sampling": (
                    "stratified: interval j of epoch k starts at t_k + (j + 1/2) * epoch_s / S; "
                    "each scored on the true state at that instant"
                ),
                "score_method": sc.timing.score_method,
            },
            "tle_set_hash": self._tle_hash(),
            "tle_hygiene": self.orbit.hygiene_summary(),
            "num_passes": int(len(self.orbit.passes)),
            "num_handovers": int(len(self.orbit.serving)),
            "versions": package_versions(),
            "command": " ".join(sys.argv),
            "started_utc": _utc_now(),
            "ended_utc": None,
            "epochs_written": 0,
            "parts": 0,
            "tables": sorted(ts.TABLES),
            "flush_every_epochs": self.block,
            "wall_columns": "every column starting with wall_ (table wall) is wall-clock time",
        }

    # -- running -------------------------------------------------------------------------
    def execute(self) -> Path:
        """Run the timeline to the end; returns the trace folder."""
        import simpy

        if self.manifest is None:
            self.manifest = self._new_manifest()
            self.writer.create(self.manifest)
        else:
            if self.manifest.get("status") == "complete":
                return self.root
            self.manifest.setdefault("resumed_utc", []).append(_utc_now())
            self.manifest["status"] = "running"
            self.writer.write_manifest(self.manifest)
        if self.start_epoch >= self.num_epochs:
            self._finish_manifest("complete")
            return self.root
        t0 = time.perf_counter()
        env = simpy.Environment()
        env.process(pass_process(env, self.world_events, self.state, self.log))
        env.process(
            arrival_process(
                env,
                self.users,
                self.state,
                self.log,
                self.scenario.arrivals.max_users,
                self.epoch_start(self.num_epochs),
            )
        )
        main = env.process(epoch_process(env, self, self.num_epochs))
        if not self.quiet:
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.num_epochs,
                initial=self.start_epoch,
                unit="epoch",
                desc=f"{self.scenario.name} {self.policy.id}",
                file=sys.stderr,
            )
        try:
            env.run(until=main)
            self._close_io()
        except KeyboardInterrupt:
            self._close_io_quietly()
            self._finish_manifest("interrupted")
            raise
        except BaseException as exc:
            self._close_io_quietly()
            self._finish_manifest("failed", error=" ".join(str(exc).split())[:500])
            raise
        finally:
            if self._bar is not None:
                self._bar.close()
        self.wall_total_s = time.perf_counter() - t0
        self._finish_manifest("complete")
        return self.root

    def _close_io_quietly(self) -> None:
        try:
            self._close_io()
        except Exception:  # noqa: BLE001 - the original error is the one to report
            pass

    def _finish_manifest(self, status: str, error: str | None = None) -> None:
        if self.manifest is None:
            return
        self.manifest["status"] = status
        self.manifest["ended_utc"] = _utc_now()
        if error:
            self.manifest["error"] = error
        self.writer.write_manifest(self.manifest)


def run_scenario(
    scenario: Scenario,
    out_dir: str | Path | None = None,
    resume_dir: str | Path | None = None,
    quiet: bool = True,
) -> Path:
    """Run ``scenario`` (or resume ``resume_dir``) and return the trace folder.

    Raises:
        ScenarioError: a resume onto another scenario, or a bad arrival file.
        traces.TraceError: the output folder is not empty, or the resumed trace is corrupt.
    """
    return Run(scenario, out_dir=out_dir, resume_dir=resume_dir, quiet=quiet).execute()


def scenario_of_trace(path: str | Path) -> Scenario:
    """The scenario recorded in a trace's manifest."""
    import traces

    manifest = traces.read_manifest(path)
    return scenario_from_dict(manifest["scenario"])
