"""Policy-comparison studies: the policy x seed matrix of one scenario, run in parallel.

A study runs every policy on every seed of one scenario. Because every exogenous process
draws from named streams keyed by the run seed (DESIGN section 5), all policies on one seed see
the same world (common random numbers), so per-seed KPI differences are *paired*
(:mod:`traces.stats`, :mod:`traces.report`).

Layout of a study folder (default ``runs/study-<scenario>-<UTC time>/``)::

    study.json                 manifest: scenario hash, policies, seeds, one record per run
    scenario.toml              copy of the scenario file the study was made from
    runs/<policy>/seed-<s>/    one trace folder per run (written by ``run_scenario``)
    errors/<policy>-seed-<s>.txt   full traceback of a failed run
    kpis.parquet               per-run summary KPIs (deterministic columns only)

Only the driver process writes ``study.json`` (atomically: temp file + ``os.replace``), after
every finished run. Whether a run is finished is read from its trace's ``manifest.json``
(``status == "complete"``), not from ``study.json``, so a kill between the end of a run and
the manifest update loses nothing.

Resume: running the same study again (same scenario, same ``out`` folder) skips complete runs,
resumes partial ones with ``run_scenario(..., resume_dir=...)`` (the engine continues from the
last complete Parquet part, to the same result as an uninterrupted run), and starts the rest.
Runs that failed before are tried again.

Backends:

* ``local``: a :class:`concurrent.futures.ProcessPoolExecutor`. On Linux its workers are
  forked from the driver after :func:`warm_up` (imports, parsed TLE snapshot), so a worker
  starts in milliseconds instead of paying ~3 s of imports and parsing; the driver starts no
  threads before forking (no tqdm monitor thread). Elsewhere ``forkserver`` / ``spawn``. A
  worker that dies (segfault, OOM kill) breaks the pool; the pool is rebuilt and the runs that
  were in flight are retried once, so one bad run cannot take the others with it.
* ``ray``: each run is a Ray task (1 CPU, no retries). Without ``ray_address`` a local Ray
  instance with ``workers`` CPUs is started (and shut down at the end); with an address the
  driver joins that cluster. Traces are written by the workers directly to the study folder,
  which must be on storage shared by all nodes, at the same absolute path. See
  ``docs/studies.md``.

Failure isolation: any exception inside a run is caught in the worker and returned as a
failed :class:`RunResult` (one-line error in ``study.json``, traceback under ``errors/``); the
other runs go on. Worker threads are limited to one BLAS / OpenMP / torch thread each.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as _dt
import importlib
import json
import logging
import multiprocessing as mp
import os
import re
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: version of the ``study.json`` layout.
STUDY_SCHEMA = "study-v1"
#: the function that executes one run, as ``"module:function"`` (picklable by name).
DEFAULT_RUNNER = "emulator.engine:run_scenario"
BACKENDS = ("local", "ray")
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class StudyError(ValueError):
    """Bad study input (seeds, policies, folder of another study): one line at the CLI."""


# --------------------------------------------------------------------------- parsing
def parse_seeds(text: str) -> list[int]:
    """Seeds from ``"0-31"``, ``"0,3,7"`` or ``"0-3,10-11"`` (ranges inclusive, sorted, unique).

    Raises:
        StudyError: on anything else.
    """
    seeds: set[int] = set()
    for part in str(text).split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise StudyError(f"expected seeds like '0-31' or '0,2,5-7', got {text!r}; fix --seeds")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if hi < lo:
            raise StudyError(f"expected an increasing seed range, got {part!r}; fix --seeds")
        seeds.update(range(lo, hi + 1))
    return sorted(seeds)


def parse_policies(text: str | Sequence[str]) -> list[str]:
    """Policy ids from ``"ao-v1,shgnn-v1"`` (order kept, no duplicates), checked in the registry."""
    import policies

    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        policies.entry(item)  # did-you-mean PolicyError for unknown ids
        if item not in out:
            out.append(item)
    if not out:
        raise StudyError(f"expected at least one policy id, got {text!r}; fix --policies")
    return out


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class RunSpec:
    """One cell of the policy x seed matrix.

    Attributes:
        policy_id: registry id of the policy.
        seed: run seed.
        rel_dir: trace folder relative to the study folder.
    """

    policy_id: str
    seed: int
    rel_dir: str

    @property
    def key(self) -> str:
        """Stable name of the run, e.g. ``"ao-v1/seed-0003"``."""
        return f"{self.policy_id}/seed-{self.seed:04d}"


@dataclass
class RunResult:
    """What happened to one run (one record of ``study.json``)."""

    policy_id: str
    seed: int
    rel_dir: str
    status: str  # "complete" | "failed" | "pending"
    error: str | None = None
    wall_s: float = 0.0
    resumed: bool = False
    skipped: bool = False
    attempts: int = 0


@dataclass
class Study:
    """A planned study: where it lives, what it runs.

    Attributes:
        root: the study folder.
        scenario: the base scenario (policy and seed are overridden per run).
        policies: policy ids, in report order (the first is the default baseline).
        seeds: run seeds.
        runs: the matrix, policy-major.
        duration_s: duration override applied to every run (None = the scenario's).
    """

    root: Path
    scenario: Any
    policies: list[str]
    seeds: list[int]
    runs: list[RunSpec] = field(default_factory=list)
    duration_s: float | None = None
    scenario_path: str | None = None

    def run_dir(self, spec: RunSpec) -> Path:
        """Absolute trace folder of ``spec``."""
        return self.root / spec.rel_dir


def run_rel_dir(policy_id: str, seed: int) -> str:
    """Trace folder of one run inside the study folder."""
    return f"runs/{policy_id}/seed-{int(seed):04d}"


def trace_status(run_dir: Path) -> str:
    """``"absent"``, ``"complete"`` or ``"partial"`` from the run folder's ``manifest.json``."""
    manifest = Path(run_dir) / "manifest.json"
    if not manifest.is_file():
        # a folder without a manifest holds nothing resumable
        return "absent"
    try:
        status = json.loads(manifest.read_text()).get("status")
    except (OSError, ValueError):
        return "partial"
    return "complete" if status == "complete" else "partial"


# --------------------------------------------------------------------------- one run
def _load_runner(ref: str) -> Callable:
    module_name, func_name = ref.split(":")
    return getattr(importlib.import_module(module_name), func_name)


def _limit_threads() -> None:
    for name in _THREAD_ENV:
        os.environ.setdefault(name, "1")
    if "torch" in sys.modules:  # only if something already loaded it
        sys.modules["torch"].set_num_threads(1)


def execute_run(
    scenario: dict,
    policy_id: str,
    seed: int,
    run_dir: str,
    error_file: str,
    duration_s: float | None = None,
    runner: str = DEFAULT_RUNNER,
) -> RunResult:
    """Run one cell of the matrix in this process; never raises.

    A fresh run writes its trace into ``run_dir``; a partial trace there is resumed. Any
    exception becomes a failed :class:`RunResult` whose full traceback goes to ``error_file``.

    Args:
        scenario: the base scenario as :meth:`Scenario.to_dict` (a plain, picklable dict;
            ``Scenario`` itself holds mapping proxies, which do not pickle).
        policy_id: policy to run.
        seed: run seed.
        run_dir: absolute trace folder of this run.
        error_file: absolute path for the traceback of a failure.
        duration_s: optional duration override.
        runner: ``"module:function"`` with ``run_scenario``'s signature.
    """
    _limit_threads()
    t0 = time.perf_counter()
    rel = str(run_dir)
    resumed = False
    try:
        run_path = Path(run_dir)
        status = trace_status(run_path)
        from emulator.config import scenario_from_dict

        base = scenario_from_dict(scenario, base_dir=None)
        sc = base.with_overrides(policy_id=policy_id, seed=int(seed), duration_s=duration_s)
        fn = _load_runner(runner)
        if status == "complete":
            return RunResult(policy_id, int(seed), rel, "complete", skipped=True)
        if status == "partial":
            resumed = True
            fn(sc, resume_dir=run_path, quiet=True)
        else:
            if run_path.exists():  # leftovers without a manifest: nothing to resume
                shutil.rmtree(run_path)
            run_path.parent.mkdir(parents=True, exist_ok=True)
            fn(sc, out_dir=run_path, quiet=True)
        if trace_status(run_path) != "complete":
            raise RuntimeError(f"run finished but its trace in {run_path} is not complete")
        return RunResult(
            policy_id, int(seed), rel, "complete", wall_s=time.perf_counter() - t0, resumed=resumed
        )
    except BaseException as exc:  # noqa: BLE001 - isolation: a run never stops the study
        if isinstance(exc, KeyboardInterrupt):
            raise
        text = "".join(traceback.format_exception(exc))
        try:
            Path(error_file).parent.mkdir(parents=True, exist_ok=True)
            Path(error_file).write_text(text)
        except OSError:
            pass
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        return RunResult(
            policy_id,
            int(seed),
            rel,
            "failed",
            error=message,
            wall_s=time.perf_counter() - t0,
            resumed=resumed,
        )


# --------------------------------------------------------------------------- planning
def _utc_stamp() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _scenario_name(scenario: Any, scenario_path: str | None) -> str:
    name = getattr(scenario, "name", None)
    if not name and scenario_path:
        name = Path(scenario_path).stem
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name or "scenario"))


def plan_study(
    scenario: Any,
    policies: Sequence[str],
    seeds: Iterable[int],
    out_dir: str | os.PathLike | None = None,
    duration_s: float | None = None,
    scenario_path: str | os.PathLike | None = None,
) -> Study:
    """Lay out a study (creates nothing); an existing ``study.json`` in ``out_dir`` must match.

    Raises:
        StudyError: ``out_dir`` holds a study of another scenario or duration.
    """
    seeds = sorted({int(s) for s in seeds})
    if not seeds:
        raise StudyError("expected at least one seed, got none; fix --seeds")
    if any(s < 0 for s in seeds):
        raise StudyError(f"expected non-negative seeds, got {seeds}; fix --seeds")
    scenario_path = str(scenario_path) if scenario_path is not None else None
    if out_dir is None:
        parent = Path(getattr(getattr(scenario, "output", None), "dir", "runs"))
        out_dir = parent / f"study-{_scenario_name(scenario, scenario_path)}-{_utc_stamp()}"
    root = Path(out_dir).resolve()
    policies = list(policies)
    existing = root / "study.json"
    if existing.is_file():
        old = read_study_manifest(root)
        if old.get("scenario_hash") != scenario.content_hash():
            raise StudyError(
                f"expected the scenario of the study in {root} (hash "
                f"{old.get('scenario_hash')}), got hash {scenario.content_hash()}; fix: use "
                "the original scenario file, or a new --out folder"
            )
        if old.get("duration_s") != duration_s:
            raise StudyError(
                f"expected duration override {old.get('duration_s')} of the study in {root}, "
                f"got {duration_s}; fix: repeat the original --duration-s or use a new --out"
            )
        # resuming may extend the matrix: keep the old policies and seeds, add the new ones
        policies = list(dict.fromkeys(list(old.get("policies", [])) + policies))
        seeds = sorted(set(old.get("seeds", [])) | set(seeds))
    runs = [RunSpec(p, s, run_rel_dir(p, s)) for p in policies for s in seeds]
    return Study(root, scenario, policies, seeds, runs, duration_s, scenario_path)


def read_study_manifest(root: str | os.PathLike) -> dict:
    """The parsed ``study.json`` of a study folder.

    Raises:
        StudyError: no readable ``study.json`` of this schema there.
    """
    path = Path(root) / "study.json"
    if not path.is_file():
        raise StudyError(
            f"expected a study folder with study.json, got {str(root)!r}; fix: give the --out "
            "folder of a `compare` run"
        )
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise StudyError(f"expected valid JSON in {path}, got a parse error ({exc})") from None
    if data.get("schema") != STUDY_SCHEMA:
        raise StudyError(
            f"expected study schema {STUDY_SCHEMA!r} in {path}, got {data.get('schema')!r}; "
            "fix: re-run the study with this version"
        )
    return data


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)


def _write_manifest(
    study: Study, results: dict[str, RunResult], backend: str, created: str, state: str
) -> None:
    data = {
        "schema": STUDY_SCHEMA,
        "state": state,  # "running" | "complete" | "failed-runs"
        "created_utc": created,
        "updated_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "scenario_path": study.scenario_path,
        "scenario_hash": study.scenario.content_hash(),
        "duration_s": study.duration_s,
        "policies": study.policies,
        "seeds": study.seeds,
        "backend": backend,
        "runs": [asdict(results[spec.key]) for spec in study.runs],
    }
    _write_json_atomic(study.root / "study.json", data)


# --------------------------------------------------------------------------- backends
def _run_args(study: Study, spec: RunSpec, runner: str) -> tuple:
    err = study.root / "errors" / f"{spec.policy_id}-seed-{spec.seed:04d}.txt"
    return (
        study.scenario.to_dict(),
        spec.policy_id,
        spec.seed,
        str(study.run_dir(spec)),
        str(err),
        study.duration_s,
        runner,
    )


def _worker_init() -> None:
    _limit_threads()


def _pool_context():
    """``fork`` where available (workers inherit the warmed-up driver: no imports, no TLE
    parsing per worker), else ``forkserver``, else ``spawn``."""
    methods = mp.get_all_start_methods()
    for name in ("fork", "forkserver", "spawn"):
        if name in methods:
            return mp.get_context(name)
    return mp.get_context()  # pragma: no cover


def warm_up(study: Study, runner: str = DEFAULT_RUNNER) -> None:
    """Import what a run needs and fill per-process caches before workers are forked.

    Best effort (an optimisation only; any error here is left for the run to report): the
    runner's module, the trace package, the system module, the policies' modules and, for a
    scenario on the shipped TLE snapshot, the parsed constellation (about 1 s per process).
    """
    import policies

    names = [runner.split(":")[0], "traces", "traces.reader", "traces.writer"]
    for pid in [*study.policies, getattr(study.scenario.policy, "fallback", None)]:
        try:
            names.append(policies.entry(pid).target.split(":")[0])
        except Exception:  # noqa: BLE001
            continue
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001
            pass
    try:
        from emulator.systems import get_system

        get_system(study.scenario.system.name)
        c = study.scenario.constellation
        if c.source == "tle" and not c.tle_file:
            from orbits.tle import default_constellation

            default_constellation()
    except Exception:  # noqa: BLE001
        pass


def _local_backend(
    study: Study, to_run: list[RunSpec], workers: int, runner: str, on_result: Callable
) -> None:
    ctx = _pool_context()
    if ctx.get_start_method() == "fork":
        warm_up(study, runner)
    elif ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload([runner.split(":")[0], "traces"])
    attempts: dict[str, int] = {}
    queue = list(to_run)
    breaks = 0  # pools broken so far; after two, every run left gets a pool of its own
    while queue:
        isolate = breaks >= 2
        batches = [[spec] for spec in queue] if isolate else [queue]
        queue = []
        for batch in batches:
            broke = False
            pool = cf.ProcessPoolExecutor(
                max_workers=1 if isolate else workers, mp_context=ctx, initializer=_worker_init
            )
            try:
                futures = {pool.submit(execute_run, *_run_args(study, s, runner)): s for s in batch}
                for fut in cf.as_completed(futures):
                    spec = futures[fut]
                    attempts[spec.key] = attempts.get(spec.key, 0) + 1
                    try:
                        result = fut.result()
                    except cf.process.BrokenProcessPool:
                        broke = True
                        if not isolate:
                            queue.append(spec)  # retried in a fresh pool
                            continue
                        result = RunResult(
                            spec.policy_id,
                            spec.seed,
                            str(study.run_dir(spec)),
                            "failed",
                            error="worker process died (crashed or killed) while running this "
                            "run alone",
                        )
                    result.attempts = attempts[spec.key]
                    on_result(spec, result)
            except BaseException:  # Ctrl-C and friends: start nothing more, leave at once
                # stop the workers too (their runs stay resumable: a trace keeps its complete
                # parts); otherwise the interpreter's exit would wait for the runs in flight
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
            breaks += broke


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast (one line) when a ``host:port`` Ray address does not accept connections;
    ``ray.init`` itself retries an unreachable address for minutes."""
    import socket

    target = address.split("://", 1)[-1]
    if target in ("auto", "local", ""):
        return
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise StudyError(
            f"expected --ray-address as host:port (or 'auto'), got {address!r}; "
            "fix: e.g. --ray-address 10.0.0.1:6379"
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise StudyError(
            f"expected a Ray cluster listening at --ray-address {address!r}, got "
            f"{exc.__class__.__name__}: {exc}; fix: start it with `ray start --head` on that "
            "host, or check the address"
        ) from None


def _ray_backend(
    study: Study,
    to_run: list[RunSpec],
    workers: int,
    runner: str,
    on_result: Callable,
    ray_address: str | None,
) -> None:
    try:
        import ray
    except ImportError:
        raise StudyError(
            "expected Ray for --backend ray, got no `ray` module; fix: pip install -e .[ray] "
            "(or use --backend local)"
        ) from None
    started_here = False
    if not ray.is_initialized():
        env = {"env_vars": {name: "1" for name in _THREAD_ENV}}
        if ray_address:
            try:
                ray.init(
                    address=ray_address,
                    runtime_env=env,
                    log_to_driver=False,
                    logging_level=logging.ERROR,
                )
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise StudyError(
                    f"expected a reachable Ray cluster at --ray-address {ray_address!r}, got "
                    f"{' '.join(str(exc).split())}; fix: start it with `ray start --head` or "
                    "check the address"
                ) from None
        else:
            ray.init(
                num_cpus=workers,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
                runtime_env=env,
                object_store_memory=80 * 1024 * 1024,
            )
        started_here = True
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(execute_run)
        pending = {task.remote(*_run_args(study, s, runner)): s for s in to_run}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            ref = done[0]
            spec = pending.pop(ref)
            try:
                result = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - worker died, task cancelled, ...
                result = RunResult(
                    spec.policy_id,
                    spec.seed,
                    str(study.run_dir(spec)),
                    "failed",
                    error=" ".join(f"{type(exc).__name__}: {exc}".split())[:500],
                )
            result.attempts = 1
            on_result(spec, result)
    finally:
        if started_here:
            ray.shutdown()


# --------------------------------------------------------------------------- driver
def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def run_study(
    study: Study,
    backend: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    progress: bool = False,
    runner: str = DEFAULT_RUNNER,
) -> list[RunResult]:
    """Run (or resume) every run of ``study`` that is not complete yet.

    Args:
        study: from :func:`plan_study`.
        backend: ``"local"`` (process pool) or ``"ray"``.
        workers: parallel runs (local pool size / local Ray CPUs); default: usable CPUs.
        ray_address: join this Ray cluster instead of starting a local instance.
        progress: show a whole-study progress bar (runs done, ETA, failures) on stderr.
        runner: ``"module:function"`` that executes one run (tests substitute it).

    Returns:
        One :class:`RunResult` per run of the matrix, in matrix order. Failed runs are in it
        with their error; they never raise.
    """
    if backend not in BACKENDS:
        raise StudyError(f"expected --backend one of {BACKENDS}, got {backend!r}")
    workers = int(workers) if workers else _default_workers()
    if workers < 1:
        raise StudyError(f"expected --workers >= 1, got {workers}")
    if backend == "ray" and ray_address:
        _check_reachable(ray_address)  # before anything is written
    study.root.mkdir(parents=True, exist_ok=True)
    created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    if (study.root / "study.json").is_file():
        created = read_study_manifest(study.root).get("created_utc", created)
    if study.scenario_path and Path(study.scenario_path).is_file():
        target = study.root / "scenario.toml"
        if not target.exists():
            shutil.copyfile(study.scenario_path, target)

    results: dict[str, RunResult] = {}
    to_run: list[RunSpec] = []
    for spec in study.runs:
        status = trace_status(study.run_dir(spec))
        if status == "complete":
            results[spec.key] = RunResult(
                spec.policy_id, spec.seed, spec.rel_dir, "complete", skipped=True
            )
        else:
            results[spec.key] = RunResult(spec.policy_id, spec.seed, spec.rel_dir, "pending")
            to_run.append(spec)
    _write_manifest(study, results, backend, created, "running")

    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked from here
    bar = tqdm(
        total=len(study.runs),
        initial=len(study.runs) - len(to_run),
        desc="study",
        unit="run",
        disable=not progress,
        dynamic_ncols=True,
    )
    failures = 0

    def on_result(spec: RunSpec, result: RunResult) -> None:
        nonlocal failures
        result.rel_dir = spec.rel_dir
        results[spec.key] = result
        if result.status == "failed":
            failures += 1
        _write_manifest(study, results, backend, created, "running")
        bar.set_postfix(failed=failures, refresh=False)
        bar.update(1)

    try:
        if to_run:
            n = min(workers, len(to_run))
            if backend == "local":
                _local_backend(study, to_run, n, runner, on_result)
            else:
                _ray_backend(study, to_run, n, runner, on_result, ray_address)
    finally:
        bar.close()
    ordered = [results[spec.key] for spec in study.runs]
    state = "complete" if all(r.status == "complete" for r in ordered) else "failed-runs"
    _write_manifest(study, results, backend, created, state)
    return ordered


# --------------------------------------------------------------------------- results
def study_runs(root: str | os.PathLike) -> tuple[dict, list]:
    """``study.json`` and a :class:`traces.report.RunRef` per run (failed/pending: no path)."""
    from traces.report import RunRef

    data = read_study_manifest(root)
    refs = []
    for rec in data.get("runs", []):
        path = Path(root) / rec["rel_dir"]
        done = trace_status(path) == "complete"  # the trace is the truth (kill-safe)
        error = rec.get("error") or (None if done else f"run {rec.get('status', 'pending')}")
        refs.append(RunRef(rec["policy_id"], int(rec["seed"]), path if done else None, error))
    return data, refs


def study_kpi_table(root: str | os.PathLike):
    """Per-run deterministic KPI table of a study (a pandas DataFrame, one row per run).

    Only seed-determined KPIs are in it (no wall-clock column), so any two executions of the
    same study, on any backend and any number of workers, give equal tables.
    """
    from traces.report import kpi_table, load_summaries

    _, refs = study_runs(root)
    return kpi_table(load_summaries(refs), timing=False)


def write_study_kpis(root: str | os.PathLike) -> Path:
    """Write :func:`study_kpi_table` to ``<root>/kpis.parquet`` (atomically) and return its path."""
    df = study_kpi_table(root)
    path = Path(root) / "kpis.parquet"
    tmp = path.with_name(path.name + ".tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path
