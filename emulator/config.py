"""Scenario schema: frozen, validated, loaded from TOML, with a content hash.

A scenario is everything a run needs besides the code: when and how long, which satellites
over which site, which radio system with which parameters, how users arrive, how time is cut
into epochs and coherence intervals, which policy decides (and which one falls back), and where
the trace goes. Every key is checked: unknown keys, wrong types and out-of-range values raise
:class:`ScenarioError` with one line saying what was expected, what was found and how to fix it.

TOML layout (see ``scenarios/default.toml`` for a complete example)::

    name = "paris-starlink"          # used in the run-folder name
    start_utc = 2023-07-18T12:00:00Z # TOML datetime or ISO string, must carry a timezone
    duration_s = 900.0
    seed = 0

    [constellation]  source = "tle" | "walker"; tle_file; max_tle_age_days; handover_rule;
                     [[constellation.shells]] total, planes, phasing, altitude_m, inclination_deg
    [site]           name, lat_deg, lon_deg, alt_m, min_elevation_deg
    [system]         name, profile; [system.params] -> the system's params_from_dict
    [arrivals]       process = "poisson" | "trace"; rate_per_s; mean_holding_s;
                     initial = "stationary" | "empty"; max_users; file (trace CSV);
                     area_side_m (0 = the system's service area)
    [timing]         epoch_s; coherence_interval_s; coherence_samples_per_epoch;
                     score_method = "closed_form" | "monte_carlo"; mc_draws
    [policy]         id; fallback; time_budget_s; latency = "none" | "measured" | "fixed";
                     latency_s; latency_scale; [policy.params]; [policy.fallback_params]
    [output]         dir; flush_every_epochs; record_truth; fsync

Design choices written down here (DESIGN says: write the choice in the module docstring):

* One run emulates one ground site (one service area around it). Campaigns over several
  sites are several runs (a study), which keeps each trace self-contained.
* The pilot length and coherence-block length in symbols (``tau_p``, ``tau_c``) belong to the
  system's parameters (``[system.params]``); ``[timing]`` holds the *durations*.
* Referenced files (TLE set, arrival trace) enter the content hash by their SHA-256 digest, not
  their path, so moving a checkout does not change a scenario's identity.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import hashlib
import json
import math
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: bump when the scenario schema changes incompatibly.
SCENARIO_SCHEMA_VERSION = 1

#: handover rules understood by ``orbits.serving_plan``.
HANDOVER_RULES = ("highest_elevation", "longest_remaining", "sticky")
LATENCY_MODES = ("none", "measured", "fixed")
SCORE_METHODS = ("closed_form", "monte_carlo")
ARRIVAL_PROCESSES = ("poisson", "trace")
INITIAL_POPULATION = ("stationary", "empty")


class ScenarioError(ValueError):
    """Bad scenario input: one line (expected / got / fix), exit status 2 at the CLI."""


# --------------------------------------------------------------------------------------------
# sections


@dataclass(frozen=True)
class WalkerShell:
    """One Walker-delta shell ``i: total/planes/phasing`` at ``altitude_m``."""

    total: int
    planes: int
    phasing: int
    altitude_m: float
    inclination_deg: float


@dataclass(frozen=True)
class ConstellationConfig:
    """Where the satellites come from.

    Attributes:
        source: ``"tle"`` (a TLE file; empty ``tle_file`` = the shipped Starlink snapshot) or
            ``"walker"`` (synthetic shells).
        tle_file: absolute path of the TLE file, or ``""`` for the shipped snapshot.
        shells: Walker shells (``source = "walker"`` only).
        max_tle_age_days: warn when a TLE epoch is further than this from the start.
        handover_rule: serving-satellite rule (one of :data:`HANDOVER_RULES`).
    """

    source: str = "tle"
    tle_file: str = ""
    shells: tuple[WalkerShell, ...] = ()
    max_tle_age_days: float = 14.0
    handover_rule: str = "highest_elevation"


@dataclass(frozen=True)
class SiteConfig:
    """The ground site at the centre of the service area."""

    name: str = "Paris"
    lat_deg: float = 48.8566
    lon_deg: float = 2.3522
    alt_m: float = 35.0
    min_elevation_deg: float = 25.0


@dataclass(frozen=True)
class SystemConfig:
    """The radio system and its parameters (validated by the system's ``params_from_dict``)."""

    name: str = "cellfree_uplink"
    profile: str = "PHYS"
    params: Mapping[str, Any] = field(default_factory=lambda: types.MappingProxyType({}))


@dataclass(frozen=True)
class ArrivalConfig:
    """User arrival process.

    Attributes:
        process: ``"poisson"`` (rate ``rate_per_s``, exponential holding times of mean
            ``mean_holding_s``, positions uniform in the service area) or ``"trace"`` (a CSV
            with columns ``arrival_s, departure_s, east_m, north_m``).
        initial: ``"stationary"`` starts with Poisson(rate x holding) users already present
            (the M/M/inf stationary law), ``"empty"`` starts with none.
        max_users: arrivals while this many users are active are blocked (and logged).
        file: absolute path of the arrival CSV (``process = "trace"`` only).
        area_side_m: side of the square (centred on the site) where Poisson users appear;
            0 = the system's service area (its ``area_side_m`` parameter).
    """

    process: str = "poisson"
    rate_per_s: float = 0.05
    mean_holding_s: float = 300.0
    initial: str = "stationary"
    max_users: int = 32
    file: str = ""
    area_side_m: float = 0.0


@dataclass(frozen=True)
class TimingConfig:
    """How simulated time is cut.

    Attributes:
        epoch_s: scheduling-epoch length [s]; a policy decides once per epoch.
        coherence_interval_s: duration of one coherence interval [s] (pilot + data phase).
        coherence_samples_per_epoch: coherence intervals evaluated per epoch; interval j of
            epoch k starts at ``t_k + (j + 1/2) epoch_s / S`` (the mid-point of slice j).
        score_method: the system's scoring method (closed form or Monte Carlo).
        mc_draws: channel draws per Monte-Carlo score.
    """

    epoch_s: float = 2.0
    coherence_interval_s: float = 1e-3
    coherence_samples_per_epoch: int = 2
    score_method: str = "closed_form"
    mc_draws: int = 2000


@dataclass(frozen=True)
class PolicyConfig:
    """Which policy decides, what replaces it, and how long its decision takes to apply.

    Attributes:
        id: registry id of the policy.
        fallback: registry id of the fallback policy (used when ``id`` raises, times out or
            returns an invalid decision).
        time_budget_s: wall-clock budget of one ``decide`` call [s]; 0 disables the check.
        latency: ``"none"`` (decisions apply at the epoch start), ``"measured"`` (after the
            measured wall time of ``decide`` x ``latency_scale``, in simulated seconds) or
            ``"fixed"`` (after ``latency_s``).
    """

    id: str = "full-power-v1"
    fallback: str = "full-power-v1"
    params: Mapping[str, Any] = field(default_factory=lambda: types.MappingProxyType({}))
    fallback_params: Mapping[str, Any] = field(default_factory=lambda: types.MappingProxyType({}))
    time_budget_s: float = 5.0
    latency: str = "none"
    latency_s: float = 0.0
    latency_scale: float = 1.0


@dataclass(frozen=True)
class OutputConfig:
    """Where and how the trace is written.

    Attributes:
        dir: parent folder of run folders (relative paths are relative to the working dir).
        flush_every_epochs: a trace part (atomically renamed) is written every this many epochs.
        record_truth: also record the truth observation of every evaluated coherence interval.
        fsync: fsync each part's files before its atomic rename. A killed process never loses
            a renamed part either way; fsync also survives an OS crash or power loss.
    """

    dir: str = "runs"
    flush_every_epochs: int = 50
    record_truth: bool = True
    fsync: bool = True


@dataclass(frozen=True)
class Scenario:
    """A complete, validated scenario (immutable). Build with :func:`load_scenario`."""

    name: str
    start_utc: _dt.datetime
    duration_s: float
    seed: int
    constellation: ConstellationConfig
    site: SiteConfig
    system: SystemConfig
    arrivals: ArrivalConfig
    timing: TimingConfig
    policy: PolicyConfig
    output: OutputConfig
    description: str = ""
    source_path: str = ""  # where it was loaded from (not part of the content hash)

    # ---- derived -----------------------------------------------------------------------
    @property
    def num_epochs(self) -> int:
        """Number of whole epochs in the run."""
        return int(math.floor(self.duration_s / self.timing.epoch_s + 1e-9))

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict (round-trips through :func:`scenario_from_dict`)."""
        return _plain(self)

    def content_hash(self) -> str:
        """SHA-256 of the canonical content.

        Referenced files enter by their digest, not their path; the source path, the output
        folder and the fsync switch are left out (they change no result).
        """
        d = self.to_dict()
        d.pop("source_path", None)
        # where the trace goes and whether it is fsynced change no result
        d["output"].pop("dir", None)
        d["output"].pop("fsync", None)
        if d["constellation"]["tle_file"]:
            d["constellation"]["tle_file"] = "sha256:" + file_sha256(d["constellation"]["tle_file"])
        if d["arrivals"]["file"]:
            d["arrivals"]["file"] = "sha256:" + file_sha256(d["arrivals"]["file"])
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def with_overrides(
        self,
        policy_id: str | None = None,
        seed: int | None = None,
        duration_s: float | None = None,
    ) -> Scenario:
        """A copy with the policy id, seed and/or duration replaced (and re-validated)."""
        d = self.to_dict()
        if policy_id is not None:
            d["policy"]["id"] = policy_id
            if policy_id != self.policy.id:
                d["policy"]["params"] = {}  # params belonged to the replaced policy
        if seed is not None:
            d["seed"] = seed
        if duration_s is not None:
            d["duration_s"] = duration_s
        return scenario_from_dict(d, base_dir=None, source_path=self.source_path)


def _plain(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, _dt.datetime):
        return obj.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return obj


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# validation helpers (every one raises ScenarioError with expected / got / fix)


def _where(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_keys(table: Mapping, allowed: list[str], path: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            where = f"[{path}]" if path else "the top level"
            raise ScenarioError(
                f"unknown key {_where(path, key)!r} in {where}: expected one of {allowed}; "
                f"{hint}fix or remove it"
            )


def _table(d: Mapping, key: str, path: str) -> Mapping:
    v = d.get(key, {})
    if not isinstance(v, Mapping):
        raise ScenarioError(
            f"{_where(path, key)} must be a table, got {type(v).__name__} {v!r}; "
            f"write it as [{_where(path, key)}]"
        )
    return v


def _num(d: Mapping, key: str, default: float, path: str, lo=None, hi=None, lo_open=False):
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ScenarioError(
            f"{_where(path, key)} must be a number, got {type(v).__name__} {v!r}; "
            f"write e.g. {_where(path, key).split('.')[-1]} = {default!r}"
        )
    v = float(v)
    if not math.isfinite(v):
        raise ScenarioError(f"{_where(path, key)} must be finite, got {v!r}; use a finite number")
    if lo is not None and (v <= lo if lo_open else v < lo):
        rel = ">" if lo_open else ">="
        raise ScenarioError(
            f"{_where(path, key)} must be {rel} {lo}, got {v!r}; use a value {rel} {lo}"
        )
    if hi is not None and v > hi:
        raise ScenarioError(f"{_where(path, key)} must be <= {hi}, got {v!r}; use a value <= {hi}")
    return v


def _int(d: Mapping, key: str, default: int, path: str, lo=None, hi=None) -> int:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ScenarioError(
            f"{_where(path, key)} must be an integer, got {type(v).__name__} {v!r}; "
            f"write e.g. {_where(path, key).split('.')[-1]} = {default!r}"
        )
    if lo is not None and v < lo:
        raise ScenarioError(f"{_where(path, key)} must be >= {lo}, got {v}; use a value >= {lo}")
    if hi is not None and v > hi:
        raise ScenarioError(f"{_where(path, key)} must be <= {hi}, got {v}; use a value <= {hi}")
    return v


def _str(d: Mapping, key: str, default: str, path: str, choices=None) -> str:
    v = d.get(key, default)
    if not isinstance(v, str):
        raise ScenarioError(
            f"{_where(path, key)} must be a string, got {type(v).__name__} {v!r}; quote it"
        )
    if choices is not None and v not in choices:
        close = difflib.get_close_matches(v, list(choices), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ScenarioError(
            f"{_where(path, key)} must be one of {list(choices)}, got {v!r}; {hint}pick one of them"
        )
    return v


def _bool(d: Mapping, key: str, default: bool, path: str) -> bool:
    v = d.get(key, default)
    if not isinstance(v, bool):
        raise ScenarioError(
            f"{_where(path, key)} must be true or false, got {type(v).__name__} {v!r}; "
            "write true or false (no quotes)"
        )
    return v


def _plain_table(d: Mapping, key: str, path: str) -> types.MappingProxyType:
    t = _table(d, key, path)
    for k, v in t.items():
        if isinstance(v, _dt.date | _dt.time):
            raise ScenarioError(
                f"{_where(path, key)}.{k} must be a number, string, bool or list, got a date; "
                "quote it"
            )
    return types.MappingProxyType(json.loads(json.dumps(dict(t))))


def _resolve_file(value: str, base_dir: Path | None, what: str) -> str:
    if not value:
        return ""
    p = Path(value).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    p = p.resolve()
    if not p.is_file():
        raise ScenarioError(
            f"{what} must name an existing file, got {value!r} (resolved to {str(p)!r}); "
            "fix the path (relative paths are relative to the scenario file)"
        )
    return str(p)


def _parse_time(v: Any) -> _dt.datetime:
    if isinstance(v, str):
        try:
            v = _dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise ScenarioError(
                f"start_utc must be an ISO-8601 UTC time, got {v!r}; "
                "write e.g. start_utc = 2023-07-18T12:00:00Z"
            ) from None
    if not isinstance(v, _dt.datetime):
        raise ScenarioError(
            f"start_utc must be a date-time, got {type(v).__name__} {v!r}; "
            "write e.g. start_utc = 2023-07-18T12:00:00Z"
        )
    if v.tzinfo is None:
        raise ScenarioError(
            f"start_utc must carry a timezone, got {v.isoformat()!r}; append Z for UTC"
        )
    return v.astimezone(_dt.UTC)


# --------------------------------------------------------------------------------------------
# building


def scenario_from_dict(
    d: Mapping[str, Any], base_dir: Path | None = None, source_path: str = ""
) -> Scenario:
    """Validate a parsed TOML (or :meth:`Scenario.to_dict`) mapping into a :class:`Scenario`.

    Args:
        d: the mapping.
        base_dir: folder that relative file paths are relative to (the scenario's folder).
        source_path: recorded for messages only.

    Raises:
        ScenarioError: on any unknown key, wrong type or bad value.
    """
    if not isinstance(d, Mapping):
        raise ScenarioError(f"a scenario must be a TOML table, got {type(d).__name__}")
    top = [
        "name",
        "description",
        "start_utc",
        "duration_s",
        "seed",
        "constellation",
        "site",
        "system",
        "arrivals",
        "timing",
        "policy",
        "output",
        "source_path",
        "schema_version",
    ]
    _check_keys(d, top, "")
    name = _str(d, "name", "scenario", "")
    if not name or any(c in name for c in "/\\\0") or name.strip() != name:
        raise ScenarioError(
            f"name must be a non-empty file-name-safe string, got {name!r}; "
            "use letters, digits, '-' and '_'"
        )
    description = _str(d, "description", "", "")
    if "start_utc" not in d:
        raise ScenarioError(
            "start_utc is missing: expected the scenario start time; "
            "add e.g. start_utc = 2023-07-18T12:00:00Z"
        )
    start = _parse_time(d["start_utc"])
    duration_s = _num(d, "duration_s", 600.0, "", lo=0.0, lo_open=True)
    seed = _int(d, "seed", 0, "", lo=0, hi=2**63 - 1)
    sv = d.get("schema_version", SCENARIO_SCHEMA_VERSION)
    if sv != SCENARIO_SCHEMA_VERSION:
        raise ScenarioError(
            f"schema_version must be {SCENARIO_SCHEMA_VERSION}, got {sv!r}; "
            "update the scenario to the current schema"
        )

    # constellation
    c = _table(d, "constellation", "")
    _check_keys(
        c, ["source", "tle_file", "shells", "max_tle_age_days", "handover_rule"], "constellation"
    )
    source = _str(c, "source", "tle", "constellation", choices=("tle", "walker"))
    tle_file = _resolve_file(
        _str(c, "tle_file", "", "constellation"), base_dir, "constellation.tle_file"
    )
    shells_raw = c.get("shells", [])
    if not isinstance(shells_raw, list):
        raise ScenarioError(
            f"constellation.shells must be an array of tables, got {type(shells_raw).__name__}; "
            "write [[constellation.shells]] blocks"
        )
    shells = []
    for i, s in enumerate(shells_raw):
        path = f"constellation.shells[{i}]"
        if not isinstance(s, Mapping):
            raise ScenarioError(f"{path} must be a table, got {s!r}; use [[constellation.shells]]")
        _check_keys(s, ["total", "planes", "phasing", "altitude_m", "inclination_deg"], path)
        total = _int(s, "total", 24, path, lo=1)
        planes = _int(s, "planes", 3, path, lo=1)
        if total % planes:
            raise ScenarioError(
                f"{path}.total must be a multiple of planes, got total={total}, planes={planes}; "
                "choose total = planes x satellites per plane"
            )
        shells.append(
            WalkerShell(
                total=total,
                planes=planes,
                phasing=_int(s, "phasing", 1, path, lo=0, hi=planes - 1),
                altitude_m=_num(s, "altitude_m", 550e3, path, lo=150e3, hi=3000e3),
                inclination_deg=_num(s, "inclination_deg", 53.0, path, lo=0.0, hi=180.0),
            )
        )
    if source == "walker" and not shells:
        raise ScenarioError(
            "constellation.source = 'walker' needs at least one shell, got none; "
            "add a [[constellation.shells]] block"
        )
    if source == "tle" and shells:
        raise ScenarioError(
            "constellation.shells is only used with source = 'walker', got source = 'tle'; "
            "remove the shells or set source = 'walker'"
        )
    constellation = ConstellationConfig(
        source=source,
        tle_file=tle_file,
        shells=tuple(shells),
        max_tle_age_days=_num(c, "max_tle_age_days", 14.0, "constellation", lo=0.0, lo_open=True),
        handover_rule=_str(
            c, "handover_rule", "highest_elevation", "constellation", choices=HANDOVER_RULES
        ),
    )

    # site
    s = _table(d, "site", "")
    _check_keys(s, ["name", "lat_deg", "lon_deg", "alt_m", "min_elevation_deg"], "site")
    site = SiteConfig(
        name=_str(s, "name", "Paris", "site"),
        lat_deg=_num(s, "lat_deg", 48.8566, "site", lo=-90.0, hi=90.0),
        lon_deg=_num(s, "lon_deg", 2.3522, "site", lo=-180.0, hi=180.0),
        alt_m=_num(s, "alt_m", 35.0, "site", lo=-500.0, hi=9000.0),
        min_elevation_deg=_num(s, "min_elevation_deg", 25.0, "site", lo=0.0, hi=89.0),
    )

    # system
    sy = _table(d, "system", "")
    _check_keys(sy, ["name", "profile", "params"], "system")
    system = SystemConfig(
        name=_str(sy, "name", "cellfree_uplink", "system"),
        profile=_str(sy, "profile", "PHYS", "system"),
        params=_plain_table(sy, "params", "system"),
    )

    # arrivals
    a = _table(d, "arrivals", "")
    _check_keys(
        a,
        ["process", "rate_per_s", "mean_holding_s", "initial", "max_users", "file", "area_side_m"],
        "arrivals",
    )
    process = _str(a, "process", "poisson", "arrivals", choices=ARRIVAL_PROCESSES)
    arr_file = _resolve_file(_str(a, "file", "", "arrivals"), base_dir, "arrivals.file")
    if process == "trace" and not arr_file:
        raise ScenarioError(
            "arrivals.process = 'trace' needs arrivals.file, got none; "
            "set file = 'arrivals.csv' (columns arrival_s, departure_s, east_m, north_m)"
        )
    if process == "trace":
        from emulator.arrivals import trace_users

        try:
            trace_users(arr_file)
        except ValueError as exc:
            raise ScenarioError(" ".join(str(exc).split())) from None
        except UnicodeDecodeError:
            raise ScenarioError(
                f"arrivals.file must be a UTF-8 CSV, got undecodable bytes in {arr_file!r}; "
                "save it as UTF-8 text"
            ) from None
    arrivals = ArrivalConfig(
        process=process,
        rate_per_s=_num(a, "rate_per_s", 0.05, "arrivals", lo=0.0),
        mean_holding_s=_num(a, "mean_holding_s", 300.0, "arrivals", lo=0.0, lo_open=True),
        initial=_str(a, "initial", "stationary", "arrivals", choices=INITIAL_POPULATION),
        max_users=_int(a, "max_users", 32, "arrivals", lo=1, hi=100_000),
        file=arr_file,
        area_side_m=_num(a, "area_side_m", 0.0, "arrivals", lo=0.0),
    )

    # timing
    t = _table(d, "timing", "")
    _check_keys(
        t,
        [
            "epoch_s",
            "coherence_interval_s",
            "coherence_samples_per_epoch",
            "score_method",
            "mc_draws",
        ],
        "timing",
    )
    epoch_s = _num(t, "epoch_s", 2.0, "timing", lo=0.0, lo_open=True)
    timing = TimingConfig(
        epoch_s=epoch_s,
        coherence_interval_s=_num(t, "coherence_interval_s", 1e-3, "timing", lo=0.0, lo_open=True),
        coherence_samples_per_epoch=_int(t, "coherence_samples_per_epoch", 2, "timing", lo=1),
        score_method=_str(t, "score_method", "closed_form", "timing", choices=SCORE_METHODS),
        mc_draws=_int(t, "mc_draws", 2000, "timing", lo=1),
    )
    if 2 * timing.coherence_interval_s * timing.coherence_samples_per_epoch > epoch_s * (1 + 1e-12):
        raise ScenarioError(
            "timing: each sampled coherence interval starts at the middle of its slice of the "
            "epoch, so coherence_interval_s must be <= epoch_s / (2 x coherence_samples_per_epoch)"
            f", got {timing.coherence_interval_s} s with {timing.coherence_samples_per_epoch} "
            f"samples in {epoch_s} s; sample fewer intervals or lengthen the epoch"
        )
    if duration_s < epoch_s:
        raise ScenarioError(
            f"duration_s must be at least one epoch ({epoch_s} s), got {duration_s}; "
            "lengthen the run or shorten timing.epoch_s"
        )

    # policy
    p = _table(d, "policy", "")
    _check_keys(
        p,
        [
            "id",
            "fallback",
            "params",
            "fallback_params",
            "time_budget_s",
            "latency",
            "latency_s",
            "latency_scale",
        ],
        "policy",
    )
    policy = PolicyConfig(
        id=_str(p, "id", "full-power-v1", "policy"),
        fallback=_str(p, "fallback", "full-power-v1", "policy"),
        params=_plain_table(p, "params", "policy"),
        fallback_params=_plain_table(p, "fallback_params", "policy"),
        time_budget_s=_num(p, "time_budget_s", 5.0, "policy", lo=0.0),
        latency=_str(p, "latency", "none", "policy", choices=LATENCY_MODES),
        latency_s=_num(p, "latency_s", 0.0, "policy", lo=0.0),
        latency_scale=_num(p, "latency_scale", 1.0, "policy", lo=0.0),
    )

    # output
    o = _table(d, "output", "")
    _check_keys(o, ["dir", "flush_every_epochs", "record_truth", "fsync"], "output")
    output = OutputConfig(
        dir=_str(o, "dir", "runs", "output"),
        flush_every_epochs=_int(o, "flush_every_epochs", 50, "output", lo=1),
        record_truth=_bool(o, "record_truth", True, "output"),
        fsync=_bool(o, "fsync", True, "output"),
    )

    scenario = Scenario(
        name=name,
        start_utc=start,
        duration_s=duration_s,
        seed=seed,
        constellation=constellation,
        site=site,
        system=system,
        arrivals=arrivals,
        timing=timing,
        policy=policy,
        output=output,
        description=description,
        source_path=str(source_path or d.get("source_path", "")),
    )
    _check_against_registries(scenario)
    return scenario


def _check_against_registries(sc: Scenario) -> None:
    """System name, its parameters, and policy ids against what is registered."""
    from emulator.systems import SYSTEMS, get_system

    if sc.system.name not in SYSTEMS:
        close = difflib.get_close_matches(sc.system.name, list(SYSTEMS), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ScenarioError(
            f"system.name must be one of {sorted(SYSTEMS)}, got {sc.system.name!r}; {hint}"
            "fix [system] name"
        )
    system = get_system(sc.system.name)
    profiles = getattr(system, "PROFILES", None)
    if profiles is not None and sc.system.profile not in profiles:
        raise ScenarioError(
            f"system.profile must be one of {sorted(profiles)}, got {sc.system.profile!r}; "
            "fix [system] profile"
        )
    try:
        system.params_from_dict(dict(sc.system.params), profile=sc.system.profile)
    except (ValueError, TypeError, KeyError) as exc:
        msg = " ".join(str(exc).split())
        raise ScenarioError(f"[system.params] rejected: {msg}") from None

    from policies.base import PolicyError
    from policies.registry import entry

    for key, pid in (("policy.id", sc.policy.id), ("policy.fallback", sc.policy.fallback)):
        try:
            e = entry(pid)
        except PolicyError as exc:
            raise ScenarioError(f"{key}: {' '.join(str(exc).split())}") from None
        if e.system != sc.system.name:
            raise ScenarioError(
                f"{key} = {pid!r} solves system {e.system!r}, but the scenario's system is "
                f"{sc.system.name!r}; choose a policy for {sc.system.name!r} "
                "(see `run_emulation.py policies`)"
            )


def system_params(sc: Scenario):
    """The system's parameter object for this scenario (``params_from_dict``)."""
    from emulator.systems import get_system

    return get_system(sc.system.name).params_from_dict(
        dict(sc.system.params), profile=sc.system.profile
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a TOML scenario file.

    Raises:
        ScenarioError: missing / unreadable file, TOML syntax error, or any bad value.
    """
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(
            f"expected a scenario TOML file, got {str(path)!r} which does not exist; "
            "check the path (e.g. scenarios/default.toml)"
        )
    try:
        with open(p, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(
            f"expected valid TOML in {str(path)!r}, got a syntax error "
            f"({' '.join(str(exc).split())}); fix the syntax"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            f"could not read scenario {str(path)!r} ({exc.__class__.__name__}); "
            "expected a readable UTF-8 TOML file"
        ) from None
    return scenario_from_dict(data, base_dir=p.resolve().parent, source_path=str(p))
