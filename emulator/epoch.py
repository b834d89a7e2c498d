"""One scheduling epoch as a pure function: decide, time, validate, fall back, apply, score.

:func:`run_epoch` is what both the live run (:mod:`emulator.engine`) and replay call. Its
inputs are the epoch's decision observation, the truth observations of the coherence intervals
sampled in the epoch, and the :class:`Carry` (decisions in force or pending) from the previous
epoch; it returns the new carry and the rows to write. It touches no SimPy, no geometry and no
channel generation, so replaying recorded observations gives the same result as the live run.

Semantics:

* **Warm start.** Before deciding, pending decisions whose effective time is <= ``t_s`` are put
  in force, and the observation's ``prev_power_w`` (when the system's observation has that
  field) is set to the power in force for each user at ``t_s`` (NaN for users not in it).
* **Decide.** ``policy.decide(obs)`` runs under a wall-clock budget (``time_budget_s``; SIGALRM
  pre-empts Python code in the main thread, and a call that returns late counts as a timeout
  too). A raise, a timeout, or a decision that ``system.validate`` rejects is replaced, for this
  epoch, by ``fallback.decide(obs)`` and the cause is recorded (``fallback_reason``). If the
  fallback fails as well, the decision in force is held (``decision_source = "hold"``).
* **Latency.** The decision takes effect at ``t_s + latency`` (``none``: 0; ``fixed``:
  ``latency_s``; ``measured``: the measured wall time of deciding x ``latency_scale``). Until
  then the previous decision stays in force (aligned to the current users by
  ``system.align``: users unknown to it send nothing).
* **Score.** Each truth is scored with the decision in force at its time
  (``system.score``); users with no decision in force score zero.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import math
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emulator.systems.base import KPIs, as_diagnostics

#: decision_source values
SOURCE_POLICY = "policy"
SOURCE_FALLBACK = "fallback"
SOURCE_HOLD = "hold"
SOURCE_IDLE = "idle"
#: fallback_reason values
REASON_RAISED = "raised"
REASON_TIMEOUT = "timeout"
REASON_INVALID = "invalid"


class DecisionTimeout(BaseException):
    """Raised inside ``decide`` when its wall-clock budget runs out (BaseException so that a
    policy's own ``except Exception`` cannot swallow it)."""


@dataclass(frozen=True)
class EpochSettings:
    """The parts of a scenario that :func:`run_epoch` needs (no geometry, no files)."""

    epoch_s: float
    seed: int
    time_budget_s: float = 0.0
    latency: str = "none"
    latency_s: float = 0.0
    latency_scale: float = 1.0
    score_method: str = "closed_form"
    mc_draws: int = 2000
    samples_per_epoch: int = 1

    @classmethod
    def from_scenario(cls, sc) -> EpochSettings:
        """Settings of a :class:`emulator.config.Scenario`."""
        return cls(
            epoch_s=sc.timing.epoch_s,
            seed=sc.seed,
            time_budget_s=sc.policy.time_budget_s,
            latency=sc.policy.latency,
            latency_s=sc.policy.latency_s,
            latency_scale=sc.policy.latency_scale,
            score_method=sc.timing.score_method,
            mc_draws=sc.timing.mc_draws,
            samples_per_epoch=sc.timing.coherence_samples_per_epoch,
        )


@dataclass(frozen=True)
class Applied:
    """A decision with the time it takes (or took) effect and the epoch that made it."""

    effective_t_s: float
    decision: Any
    epoch: int
    source: str


@dataclass(frozen=True)
class Carry:
    """State carried from one epoch to the next: the decision in force and pending ones."""

    in_force: Applied | None = None
    pending: tuple[Applied, ...] = ()


@dataclass(frozen=True)
class Truth:
    """One sampled coherence interval: its index within the epoch, start time, true state.

    ``obs`` is None when no user was active at that instant.
    """

    ci: int
    t_s: float
    obs: Any


@dataclass
class EpochResult:
    """Everything one epoch produced.

    Attributes:
        obs: the observation the policy saw (warm start filled in), or None (no users).
        decision: the decision made this epoch (None when idle or held).
        source: ``policy`` / ``fallback`` / ``hold`` / ``idle``.
        fallback_reason: ``""`` or ``raised`` / ``timeout`` / ``invalid``.
        fallback_error: one-line message of the policy's failure.
        effective_t_s: when the decision takes effect (NaN if none).
        kpis: one :class:`KPIs` per truth (same order).
        carry: state for the next epoch.
        events: event rows (without ``seq``).
        epoch_row / user_rows / wall_row: table rows.
    """

    obs: Any
    decision: Any
    source: str
    fallback_reason: str
    fallback_error: str
    effective_t_s: float
    kpis: list
    carry: Carry
    events: list = field(default_factory=list)
    epoch_row: dict = field(default_factory=dict)
    user_rows: list = field(default_factory=list)
    wall_row: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# timing a decision


def call_with_budget(fn, arg, budget_s: float) -> tuple[Any, float]:
    """Call ``fn(arg)`` under a wall-clock budget; returns (result, elapsed_s).

    Raises:
        DecisionTimeout: the call ran past ``budget_s`` (pre-empted via SIGALRM when possible,
            otherwise detected when it returns). ``budget_s <= 0`` disables the budget.
        Exception: whatever ``fn`` raised.
    """
    use_alarm = (
        budget_s > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    armed = {"on": False}

    def _handler(signum, frame):
        if armed["on"]:
            raise DecisionTimeout(f"decide ran past its budget of {budget_s} s")

    old = None
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _handler)
        armed["on"] = True
        signal.setitimer(signal.ITIMER_REAL, budget_s)
    t0 = time.perf_counter()
    try:
        result = fn(arg)
    finally:
        elapsed = time.perf_counter() - t0
        if use_alarm:
            armed["on"] = False
            signal.setitimer(signal.ITIMER_REAL, 0.0)
            signal.signal(signal.SIGALRM, old)
    if budget_s > 0 and elapsed > budget_s:
        raise DecisionTimeout(f"decide took {elapsed:.3g} s, over its budget of {budget_s} s")
    return result, elapsed


def _one_line(exc: BaseException) -> str:
    text = f"{exc.__class__.__name__}: {exc}"
    return " ".join(text.split())[:300]


def _try_decide(system, policy, obs, budget_s: float, clock: dict):
    """(decision or None, reason, message, elapsed_s); validation time goes to ``clock``."""
    t0 = time.perf_counter()
    try:
        decision, elapsed = call_with_budget(policy.decide, obs, budget_s)
    except DecisionTimeout as exc:
        return None, REASON_TIMEOUT, _one_line(exc), time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - any policy failure triggers the fallback
        return None, REASON_RAISED, _one_line(exc), time.perf_counter() - t0
    t1 = time.perf_counter()
    try:
        system.validate(decision, obs)
    except Exception as exc:  # noqa: BLE001 - InvalidDecision or a malformed object
        return None, REASON_INVALID, _one_line(exc), elapsed
    finally:
        clock["system"] += time.perf_counter() - t1
    return decision, "", "", elapsed


# --------------------------------------------------------------------------------------------
# helpers on generic observations / decisions


def obs_user_ids(obs) -> np.ndarray:
    """User ids of an observation (``user_ids`` field), empty when ``obs`` is None."""
    if obs is None:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(obs.user_ids, dtype=np.int64)


def power_for_users(applied: Applied | None, user_ids: np.ndarray) -> np.ndarray:
    """Power in force for each of ``user_ids`` (NaN where the decision has no such user)."""
    out = np.full(len(user_ids), np.nan)
    if applied is None or getattr(applied.decision, "power_w", None) is None:
        return out
    d = applied.decision
    src = np.asarray(d.user_ids, dtype=np.int64)
    ids = np.asarray(user_ids, dtype=np.int64)
    if len(src) == 0 or len(ids) == 0:
        return out
    if src.shape == ids.shape and np.array_equal(src, ids):  # same users, same order
        out[:] = np.asarray(d.power_w, dtype=float)
        return out
    order = np.argsort(src, kind="stable")
    pos = np.clip(np.searchsorted(src[order], ids), 0, len(src) - 1)
    hit = src[order][pos] == ids
    out[hit] = np.asarray(d.power_w, dtype=float)[order[pos[hit]]]
    return out


@functools.lru_cache(maxsize=64)
def _has_prev_power(obs_type: type) -> bool:
    return any(f.name == "prev_power_w" for f in dataclasses.fields(obs_type))


def warm_start(obs, in_force: Applied | None):
    """``obs`` with ``prev_power_w`` set from the decision in force (if it has that field).

    A shallow copy with that one field replaced: ``prev_power_w`` has the shape of
    ``user_ids`` by construction, so the observation's validation is not re-run, and the
    caches derived from the channel (satellite means and covariances, closed-form
    statistics), which do not depend on the data-phase power, carry over.
    """
    if obs is None or not _has_prev_power(type(obs)):
        return obs
    prev = power_for_users(in_force, obs_user_ids(obs))
    out = copy.copy(obs)
    object.__setattr__(out, "prev_power_w", prev)
    return out


def zero_kpis(user_ids: np.ndarray) -> KPIs:
    """KPIs of users with no decision in force: nothing sent, nothing received."""
    k = len(user_ids)
    return KPIs(
        user_ids=np.asarray(user_ids, dtype=np.int64),
        rate_bps=np.zeros(k),
        scheduled=np.zeros(k, dtype=bool),
        power_w=np.zeros(k),
        sum_rate_bps=0.0,
        extra={},
    )


def _promote(carry: Carry, t_s: float, strict: bool, events: list, epoch: int) -> Carry:
    """Put pending decisions with effective time <= t_s (< t_s if strict) in force."""
    in_force = carry.in_force
    keep = []
    for a in carry.pending:
        due = a.effective_t_s < t_s if strict else a.effective_t_s <= t_s
        if due:
            in_force = a
            events.append(
                {
                    "t_s": a.effective_t_s,
                    "epoch": epoch,
                    "kind": "decision_applied",
                    "sat_id": -1,
                    "user_id": -1,
                    "detail": f"decided_epoch={a.epoch};source={a.source}",
                }
            )
        else:
            keep.append(a)
    return Carry(in_force=in_force, pending=tuple(keep))


# --------------------------------------------------------------------------------------------
# the epoch


def run_epoch(
    system,
    policy,
    fallback,
    obs,
    truths: Sequence[Truth],
    carry: Carry,
    settings: EpochSettings,
    epoch: int,
    t_s: float,
    context: Mapping[str, Any] | None = None,
) -> EpochResult:
    """Run one scheduling epoch.

    Args:
        system: the system module (``validate``, ``align``, ``score``).
        policy: the policy under test (``decide``).
        fallback: the fallback policy.
        obs: the decision observation at ``t_s`` (None when no user is active).
        truths: the sampled coherence intervals of this epoch, in time order.
        carry: state from the previous epoch (``Carry()`` for the first).
        settings: :class:`EpochSettings`.
        epoch: epoch index.
        t_s: epoch start [s].
        context: extra epoch-row columns (serving satellite, elevation, ...).

    Returns:
        :class:`EpochResult`.
    """
    events: list[dict] = []
    carry = _promote(carry, t_s, strict=False, events=events, epoch=epoch)
    clock = {"system": 0.0}  # wall time in system calls other than score (validate, align...)
    t0 = time.perf_counter()
    obs = warm_start(obs, carry.in_force)
    clock["system"] += time.perf_counter() - t0

    decision = None
    source = SOURCE_IDLE
    reason = ""
    error = ""
    wall_decide = 0.0
    wall_fallback = 0.0
    effective = math.nan
    diag: dict[str, float] = {}
    if obs is not None:
        decision, reason, error, wall_decide = _try_decide(
            system, policy, obs, settings.time_budget_s, clock
        )
        source = SOURCE_POLICY
        if decision is None:
            events.append(
                {
                    "t_s": t_s,
                    "epoch": epoch,
                    "kind": "fallback",
                    "sat_id": -1,
                    "user_id": -1,
                    "detail": f"reason={reason};policy={policy.id};error={error}",
                }
            )
            decision, fb_reason, fb_error, wall_fallback = _try_decide(
                system, fallback, obs, settings.time_budget_s, clock
            )
            source = SOURCE_FALLBACK
            if decision is None:
                source = SOURCE_HOLD
                events.append(
                    {
                        "t_s": t_s,
                        "epoch": epoch,
                        "kind": "fallback_failed",
                        "sat_id": -1,
                        "user_id": -1,
                        "detail": f"reason={fb_reason};policy={fallback.id};error={fb_error}",
                    }
                )
        if decision is not None:
            if settings.latency == "fixed":
                latency = settings.latency_s
            elif settings.latency == "measured":
                latency = (wall_decide + wall_fallback) * settings.latency_scale
            else:
                latency = 0.0
            effective = t_s + latency
            diag = as_diagnostics(getattr(decision, "diagnostics", None))
            events.append(
                {
                    "t_s": t_s,
                    "epoch": epoch,
                    "kind": "decision",
                    "sat_id": -1,
                    "user_id": -1,
                    "detail": f"source={source};effective_t_s={effective!r}",
                }
            )
            pending = (*carry.pending, Applied(effective, decision, epoch, source))
            carry = Carry(carry.in_force, tuple(sorted(pending, key=lambda a: a.effective_t_s)))

    # score every sampled coherence interval with the decision in force at its time
    kpis: list[KPIs] = []
    wall_score = 0.0
    for tr in truths:
        carry = _promote(carry, tr.t_s, strict=False, events=events, epoch=epoch)
        ids = obs_user_ids(tr.obs)
        if tr.obs is None or carry.in_force is None:
            kpis.append(zero_kpis(ids))
            continue
        t0 = time.perf_counter()
        d = system.align(carry.in_force.decision, ids)
        t1 = time.perf_counter()
        clock["system"] += t1 - t0
        t0 = t1
        kp = system.score(
            d,
            tr.obs,
            method=settings.score_method,
            num_draws=settings.mc_draws,
            seed=settings.seed,
            counter=epoch * settings.samples_per_epoch + tr.ci,
        )
        wall_score += time.perf_counter() - t0
        kpis.append(kp)
    carry = _promote(carry, t_s + settings.epoch_s, strict=True, events=events, epoch=epoch)

    res = EpochResult(
        obs=obs,
        decision=decision,
        source=source,
        fallback_reason=reason,
        fallback_error=error,
        effective_t_s=effective,
        kpis=kpis,
        carry=carry,
        events=events,
    )
    res.epoch_row, res.user_rows = _rows(res, epoch, t_s, diag, context or {})
    res.wall_row = {
        "epoch": epoch,
        "wall_decide_s": wall_decide,
        "wall_fallback_decide_s": wall_fallback,
        "wall_score_s": wall_score,
        "wall_system_s": clock["system"],
        "wall_epoch_s": 0.0,  # filled by the engine (whole epoch incl. observation building)
    }
    for k, v in as_diagnostics(getattr(decision, "diagnostics", None)).items():
        if _is_wall_key(k):
            res.wall_row[f"wall_diag_{k}"] = v
    return res


def _percentile(x: np.ndarray, q: float) -> float:
    """``np.percentile(x, q)`` (linear interpolation) for small arrays, NaN when empty."""
    n = len(x)
    if n == 0:
        return math.nan
    xs = np.sort(x)
    pos = (n - 1) * q / 100.0
    lo = int(math.floor(pos))
    hi = min(lo + 1, n - 1)
    return float(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo))


def _is_wall_key(key: str) -> bool:
    """Diagnostics that measure wall-clock time go to the wall table (not deterministic)."""
    k = key.lower()
    return k.startswith("wall") or k.endswith("time_s") or k.endswith("_time") or k == "time"


def _one_sorted_user_set(ids_dec: np.ndarray, dec_ids: np.ndarray | None, kpis) -> bool:
    """The decision and every scored interval cover exactly ``ids_dec``, which is sorted."""
    if dec_ids is None or not kpis or len(ids_dec) == 0:
        return False
    if len(ids_dec) > 1 and not bool(np.all(ids_dec[1:] > ids_dec[:-1])):
        return False
    return all(
        ids.shape == ids_dec.shape and np.array_equal(ids, ids_dec)
        for ids in (dec_ids, *(np.asarray(k.user_ids, dtype=np.int64) for k in kpis))
    )


def _rows(res: EpochResult, epoch: int, t_s: float, diag: Mapping[str, float], context):
    obs = res.obs
    dec = res.decision
    ids_dec = obs_user_ids(obs)
    n_ci = len(res.kpis)
    # per-user aggregation over the sampled intervals (vectorised)
    if n_ci:
        ids_all = np.concatenate([np.asarray(k.user_ids, dtype=np.int64) for k in res.kpis])
        rate_all = np.concatenate([np.asarray(k.rate_bps, dtype=float) for k in res.kpis])
        pw_all = np.concatenate([np.asarray(k.power_w, dtype=float) for k in res.kpis])
        sch_all = np.concatenate([np.asarray(k.scheduled, dtype=float) for k in res.kpis])
    else:
        ids_all = np.zeros(0, dtype=np.int64)
        rate_all = pw_all = sch_all = np.zeros(0)
    dec_ids = np.zeros(0, dtype=np.int64) if dec is None else np.asarray(dec.user_ids, np.int64)
    if _one_sorted_user_set(ids_dec, dec_ids if dec is not None else None, res.kpis):
        # the usual epoch (no arrival or departure inside it): the aggregation below without
        # the scatter; the sums run in the same order as bincount's, so the bits are the same
        uids = ids_dec
        n = len(uids)
        cnt = np.full(n, n_ci, dtype=np.int64)
        sums = [np.zeros(n), np.zeros(n), np.zeros(n)]
        for k in res.kpis:
            sums[0] += np.asarray(k.rate_bps, dtype=float)
            sums[1] += np.asarray(k.power_w, dtype=float)
            sums[2] += np.asarray(k.scheduled, dtype=float)
        mean_rate, mean_pw, share = (x / cnt for x in sums)
        power = np.array(dec.power_w, dtype=float)
        sched = np.array(dec.scheduled, dtype=bool)
        decided = np.ones(n, dtype=bool)
        in_obs = np.ones(n, dtype=bool)
    else:
        uids = np.unique(np.concatenate([ids_dec, ids_all, dec_ids]))
        n = len(uids)
        pos = np.searchsorted(uids, ids_all)
        cnt = np.bincount(pos, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_rate = np.where(cnt > 0, np.bincount(pos, rate_all, n) / cnt, np.nan)
            mean_pw = np.where(cnt > 0, np.bincount(pos, pw_all, n) / cnt, np.nan)
            share = np.where(cnt > 0, np.bincount(pos, sch_all, n) / cnt, np.nan)
        power = np.full(n, np.nan)
        sched = np.zeros(n, dtype=bool)
        decided = np.zeros(n, dtype=bool)
        if dec is not None:
            dpos = np.searchsorted(uids, dec_ids)
            power[dpos] = np.asarray(dec.power_w, dtype=float)
            sched[dpos] = np.asarray(dec.scheduled, dtype=bool)
            decided[dpos] = True
        in_obs = np.zeros(n, dtype=bool)
        in_obs[np.searchsorted(uids, ids_dec)] = True
    user_rows = [
        {
            "epoch": epoch,
            "user_id": u,
            "in_observation": o,
            "in_decision": d,
            "power_w": p,
            "scheduled": sc,
            "rate_bps": r,
            "applied_power_w": ap,
            "scheduled_share": sh,
            "intervals_present": c,
        }
        for u, o, d, p, sc, r, ap, sh, c in zip(
            uids.tolist(),
            in_obs.tolist(),
            decided.tolist(),
            power.tolist(),
            sched.tolist(),
            mean_rate.tolist(),
            mean_pw.tolist(),
            share.tolist(),
            cnt.tolist(),
        )
    ]
    sums = [float(k.sum_rate_bps) for k in res.kpis]
    rates = rate_all
    row: dict[str, Any] = {
        "epoch": epoch,
        "t_s": float(t_s),
        "num_users": len(ids_dec),
        "num_scheduled": int(sched.sum()),
        "total_power_w": float(np.nansum(power)) if dec is not None else 0.0,
        "serving_sat_id": int(context.get("serving_sat_id", -1)),
        "elevation_deg": float(context.get("elevation_deg", math.nan)),
        "slant_range_m": float(context.get("slant_range_m", math.nan)),
        "visible_sat_count": int(context.get("visible_sat_count", 0)),
        "decision_source": res.source,
        "fallback_reason": res.fallback_reason,
        "fallback_error": res.fallback_error,
        "effective_t_s": float(res.effective_t_s),
        "sum_rate_bps": sum(sums) / n_ci if n_ci else 0.0,
        "min_sum_rate_bps": min(sums) if n_ci else 0.0,
        "p5_user_rate_bps": _percentile(rates, 5.0),
        "mean_user_rate_bps": float(rates.mean()) if len(rates) else math.nan,
        "num_intervals": n_ci,
        "num_truth_users": int(sum(len(k.user_ids) for k in res.kpis)),
    }
    extras: dict[str, list[float]] = {}
    for k in res.kpis:
        for name, v in (k.extra or {}).items():
            extras.setdefault(str(name), []).append(float(v))
    for name in sorted(extras):
        row[f"kpi_{name}"] = sum(extras[name]) / len(extras[name])
    for name in sorted(diag):
        if not _is_wall_key(name):
            row[f"diag_{name}"] = float(diag[name])
    return row, user_rows


# --------------------------------------------------------------------------------------------
# carry (de)serialisation for resume


def _encode_value(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        a = v.astype(v.dtype.newbyteorder("<"), order="C", copy=False)
        return {
            "__ndarray__": base64.b64encode(a.tobytes()).decode("ascii"),
            "dtype": a.dtype.str,
            "shape": list(a.shape),
        }
    if isinstance(v, Mapping):
        return {"__mapping__": {str(k): _encode_value(x) for k, x in v.items()}}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return {"__float__": repr(v)}
    return v


def _decode_value(v: Any) -> Any:
    if isinstance(v, dict):
        if "__ndarray__" in v:
            buf = base64.b64decode(v["__ndarray__"])
            return np.frombuffer(buf, dtype=np.dtype(v["dtype"])).reshape(v["shape"]).copy()
        if "__mapping__" in v:
            return {k: _decode_value(x) for k, x in v["__mapping__"].items()}
        if "__float__" in v:
            return float(v["__float__"])
    return v


def _encode_applied(a: Applied | None) -> dict | None:
    if a is None:
        return None
    d = a.decision
    return {
        "effective_t_s": a.effective_t_s,
        "epoch": a.epoch,
        "source": a.source,
        "decision": {f.name: _encode_value(getattr(d, f.name)) for f in dataclasses.fields(d)},
    }


def _decode_applied(system, d: dict | None) -> Applied | None:
    if d is None:
        return None
    fields = {k: _decode_value(v) for k, v in d["decision"].items()}
    return Applied(
        float(d["effective_t_s"]), system.Decision(**fields), int(d["epoch"]), d["source"]
    )


def carry_to_json(carry: Carry) -> dict:
    """JSON-serialisable form of a :class:`Carry` (arrays bit-exact, base64)."""
    return {
        "in_force": _encode_applied(carry.in_force),
        "pending": [_encode_applied(a) for a in carry.pending],
    }


def carry_from_json(system, d: Mapping) -> Carry:
    """Inverse of :func:`carry_to_json` (needs the system's ``Decision`` class)."""
    return Carry(
        in_force=_decode_applied(system, d.get("in_force")),
        pending=tuple(_decode_applied(system, a) for a in d.get("pending", [])),
    )
