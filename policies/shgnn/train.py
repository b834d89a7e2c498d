"""Train SHGNN unsupervised on emulator-generated drops (spec section 6.3).

Usage::

    python -m policies.shgnn.train --config policies/shgnn/configs/stable.toml
    python -m policies.shgnn.train --config policies/shgnn/configs/paper.toml --out DIR
    python -m policies.shgnn.train --config cfg.toml --finetune-graphs DIR --init stable

The loss is minus the closed-form sum rate (51) of 002 with the corrected SINR (S8), evaluated
from the cached ``(A~, D~)`` (:mod:`policies.shgnn.closed_form_torch`); no AO labels. Adam with
cosine decay, gradient-norm clipping and early stopping on the validation sum rate (the best
validation state is kept). All randomness: named streams -- the drops through
``snapshot_observation``, the weight initialisation and the batch order through
``torch.Generator`` seeded by ``emulator.rng.stream_seed``.

Outputs ``<out>/<name>.pt`` (a ``state_dict``, loadable with ``weights_only=True``) and
``<out>/<name>.json`` (config, data seed, normalisation constants, hyper-parameters, log).

Config (TOML)::

    name = "stable"
    [data]   profile, num_users, num_aps, tau_p (optional), seed, n_train, n_val
    [params] optional CellFreeParams overrides
    [model]  variant ("paper_literal" | "neighbour" | "enhanced" | "refine"), hidden, layers,
             refine_steps (variant "refine" only)
    [train]  epochs, batch_size, lr, lr_min, patience, grad_clip, threads, seed, eps_s

``train.eps_s`` (default 1e-3, the ``ao-v1`` / ``shgnn-v1`` threshold) makes the loss score the
*applied* decision: powers at or below ``eps_s * P_max`` count as 0 (unscheduled, rule (44)),
with a straight-through gradient. The validation metric is the same thresholded sum rate.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import torch

from emulator.rng import stream_seed
from policies.shgnn import closed_form_torch as cft
from policies.shgnn.data import load_dataset, make_params, split_seed
from policies.shgnn.graph import (
    VARIANTS,
    Normalisation,
    collate,
    fit_normalisation,
    sat_feature_dim,
)
from policies.shgnn.model import SHGNN

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

DEFAULTS = {
    "name": "model",
    "data": {
        "profile": "PHYS",
        "num_users": 30,
        "num_aps": 40,
        "tau_p": None,
        "seed": 2002,
        "n_train": 2000,
        "n_val": 200,
    },
    "params": {},
    "model": {"variant": "enhanced", "hidden": 32, "layers": 3, "refine_steps": 3},
    "train": {
        "epochs": 30,
        "batch_size": 32,
        "lr": 1e-3,
        "lr_min": 1e-5,
        "patience": 15,
        "grad_clip": 1.0,
        "threads": 1,
        "seed": 1,
        "eps_s": 1e-3,
    },
}


class ConfigError(ValueError):
    """A bad training config (one line: expected / got / fix)."""


def load_config(path) -> dict:
    """Read a TOML config and merge it over :data:`DEFAULTS` (unknown keys are errors)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"expected a TOML config file, got {str(path)!r}; fix the --config path")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"expected valid TOML in {path}, got: {exc}") from None
    return merge_config(raw)


def merge_config(raw: dict) -> dict:
    """Merge a config dict over :data:`DEFAULTS`, checking keys and a few values."""
    cfg = json.loads(json.dumps(DEFAULTS))
    for key, value in raw.items():
        if key not in cfg:
            raise ConfigError(f"unknown config key {key!r}; expected some of {sorted(cfg)}")
        if isinstance(cfg[key], dict) and key != "params":
            if not isinstance(value, dict):
                raise ConfigError(f"expected a [{key}] table, got {value!r}")
            for sub, v in value.items():
                if sub not in cfg[key]:
                    raise ConfigError(
                        f"unknown key {key}.{sub}; expected some of {sorted(cfg[key])}"
                    )
                cfg[key][sub] = v
        else:
            cfg[key] = value
    if cfg["model"]["variant"] not in VARIANTS:
        raise ConfigError(
            f"model.variant: expected one of {list(VARIANTS)}, got {cfg['model']['variant']!r}"
        )
    for sec, sub in [("data", "num_users"), ("data", "n_train"), ("data", "n_val"),
                     ("model", "hidden"), ("model", "layers"), ("train", "epochs"),
                     ("train", "batch_size"), ("train", "threads")]:  # fmt: skip
        v = cfg[sec][sub]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ConfigError(f"{sec}.{sub}: expected an int >= 1, got {v!r}")
    return cfg


def init_parameters(model: torch.nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default ``Linear`` initialisation, drawn from ``generator`` (no global RNG).

    Keeps the +2 readout bias of spec 6.2 and the zero-initialised refinement heads.
    """
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.Linear):
                bound = 1.0 / math.sqrt(mod.in_features)
                mod.weight.uniform_(-bound, bound, generator=generator)
                if mod.bias is not None:
                    mod.bias.uniform_(-bound, bound, generator=generator)
        model.readout[2].bias.fill_(2.0)
        for step in getattr(model, "refine", []):  # refinements start as the identity
            step.head[2].weight.zero_()
            step.head[2].bias.zero_()


def buckets(graphs) -> list[dict]:
    """Group graphs by (M, K) and collate each group (a batch needs one size, spec 6.3)."""
    groups: dict[tuple[int, int], list] = {}
    for g in graphs:
        groups.setdefault((g.num_aps, g.num_users), []).append(g)
    return [collate(groups[key], with_loss=True) for key in sorted(groups)]


def _slice(t: dict, idx) -> dict:
    return {k: (None if v is None else v[idx]) for k, v in t.items()}


def _forward(model: SHGNN, t: dict) -> torch.Tensor:
    return model(
        t["edge_ap_ue"], t["edge_sat_ue"], t["ue_feat"], t["w_in"], t["a_tilde"], t["d_tilde"]
    )


def applied_fraction(x: torch.Tensor, eps_s: float) -> torch.Tensor:
    """The power actually applied under the scheduling rule (44): ``x`` if ``x > eps_s`` else 0.

    The forward value is the thresholded ``x`` (what the policy applies, so training optimises
    the sum rate the emulator scores); the gradient is passed straight through (identity), so
    a user below the threshold still learns whether more power would pay off.
    """
    if eps_s <= 0:
        return x
    below = x * (x <= eps_s).to(x.dtype)
    return x - below.detach()


@torch.no_grad()
def mean_sum_rate_mbps(model: SHGNN, data, batch_size: int = 64, eps_s: float = 0.0) -> float:
    """Mean closed-form sum rate [Mbit/s] of the model's powers, thresholded at ``eps_s``.

    Args:
        model: the network.
        data: one collated tensor dict, or a list of them (:func:`buckets`).
        batch_size: drops per forward pass.
        eps_s: scheduling threshold (44) applied before scoring (0: none).
    """
    model.eval()
    total, count = 0.0, 0
    for t in data if isinstance(data, list) else [data]:
        n = t["a_tilde"].shape[0]
        for start in range(0, n, batch_size):
            b = _slice(t, slice(start, start + batch_size))
            x = applied_fraction(_forward(model, b), eps_s)
            rate = cft.sum_rate_bps(x.double(), b["a_tilde"], b["d_tilde"], b["prelog_bps"])
            total += float(rate.sum())
        count += n
    return total / count / 1e6


def fit(
    model: SHGNN,
    train_t: list[dict],
    val_t: list[dict],
    tcfg: dict,
    generator: torch.Generator,
    log=print,
) -> list[dict]:
    """Minimise the negative closed-form sum rate; keeps the best validation state in ``model``.

    Returns:
        The per-epoch log (train loss, validation Mbit/s, lr, seconds).
    """
    opt = torch.optim.Adam(model.parameters(), lr=tcfg["lr"])
    epochs = int(tcfg["epochs"])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=tcfg["lr_min"])
    bs = int(tcfg["batch_size"])
    eps_s = float(tcfg["eps_s"])
    best = (
        mean_sum_rate_mbps(model, val_t, eps_s=eps_s),
        0,
        {k: v.clone() for k, v in model.state_dict().items()},
    )
    history = [{"epoch": 0, "val_mbps": best[0]}]
    log(f"epoch 0: val {best[0]:.2f} Mbit/s")
    since_best = 0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        batches = []
        for bi, t in enumerate(train_t):
            perm = torch.randperm(t["a_tilde"].shape[0], generator=generator)
            batches += [(bi, perm[s : s + bs]) for s in range(0, len(perm), bs)]
        order = torch.randperm(len(batches), generator=generator).tolist()
        losses = []
        for i in order:
            bi, idx = batches[i]
            b = _slice(train_t[bi], idx)
            x = applied_fraction(_forward(model, b), eps_s)
            loss = cft.loss(x, b["a_tilde"], b["d_tilde"], b["prelog_bps"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if tcfg["grad_clip"]:
                torch.nn.utils.clip_grad_norm_(model.parameters(), float(tcfg["grad_clip"]))
            opt.step()
            losses.append(float(loss.detach()))
        sched.step()
        val = mean_sum_rate_mbps(model, val_t, eps_s=eps_s)
        rec = {
            "epoch": epoch,
            "train_loss_mbps": float(np.mean(losses)),
            "val_mbps": val,
            "lr": float(opt.param_groups[0]["lr"]),
            "seconds": time.perf_counter() - t0,
        }
        history.append(rec)
        log(
            f"epoch {epoch}: loss {rec['train_loss_mbps']:.2f} val {val:.2f} Mbit/s "
            f"({rec['seconds']:.1f} s)"
        )
        if val > best[0]:
            best = (val, epoch, {k: v.clone() for k, v in model.state_dict().items()})
            since_best = 0
        else:
            since_best += 1
            if since_best >= int(tcfg["patience"]):
                log(f"early stop at epoch {epoch} (best {best[1]})")
                break
    model.load_state_dict(best[2])
    history.append({"best_epoch": best[1], "best_val_mbps": best[0]})
    return history


def build_model(hyper: dict) -> SHGNN:
    """An SHGNN from the hyper-parameters stored in a weights JSON."""
    return SHGNN(
        int(hyper["sat_dim"]),
        int(hyper["hidden"]),
        int(hyper["layers"]),
        hyper["variant"],
        int(hyper.get("refine_steps", 0)),
    )


def save(model: SHGNN, norm: Normalisation, meta: dict, out_dir: Path, name: str) -> Path:
    """Write ``<name>.pt`` (state_dict) and ``<name>.json`` (everything needed to rebuild)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pt = out_dir / f"{name}.pt"
    torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, pt)
    doc = dict(meta)
    doc["hyper"] = model.hyper()
    doc["normalisation"] = norm.to_dict()
    (out_dir / f"{name}.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    return pt


def train(cfg: dict, out_dir: Path | None = None, log=print, finetune=None) -> tuple:
    """Run one training config end to end.

    Args:
        cfg: merged config (:func:`merge_config`).
        out_dir: where to write the weights (default: the package's ``weights/``).
        log: progress callable.
        finetune: optional ``(list[GraphArrays], init_weights_name_or_path)`` to fine-tune a
            shipped model on exported graphs instead of training on fresh drops.

    Returns:
        ``(model, normalisation, history, path_of_pt)``.
    """
    t_start = time.perf_counter()
    dcfg, mcfg, tcfg = cfg["data"], cfg["model"], cfg["train"]
    torch.set_num_threads(int(tcfg["threads"]))
    gen = torch.Generator().manual_seed(stream_seed(int(tcfg["seed"]), "shgnn/train/torch"))
    if finetune is None:
        overrides = {**cfg.get("params", {}), "num_aps": int(dcfg["num_aps"])}
        params = make_params(dcfg["profile"], overrides, dcfg["tau_p"])
        k = int(dcfg["num_users"])
        log(f"data: K={k}, M={params.num_aps}, n_train={dcfg['n_train']}, n_val={dcfg['n_val']}")
        tr = load_dataset(params, k, split_seed(dcfg["seed"], "train"), dcfg["n_train"], log=log)
        va = load_dataset(params, k, split_seed(dcfg["seed"], "val"), dcfg["n_val"], log=log)
        log(f"data ready after {time.perf_counter() - t_start:.1f} s")
        norm = fit_normalisation(tr.observations, [tr.stats(i) for i in range(len(tr))])
        n_ant = np.asarray(tr.observations[0].gbar).shape[1]
        model = SHGNN(
            sat_feature_dim(n_ant),
            mcfg["hidden"],
            mcfg["layers"],
            mcfg["variant"],
            int(mcfg["refine_steps"]),
        )
        init_parameters(model, gen)
        train_t = buckets(tr.graphs(norm, mcfg["variant"]))
        val_t = buckets(va.graphs(norm, mcfg["variant"]))
    else:
        from policies.shgnn.policy import load_weights

        graphs, init = finetune
        shared, norm, _ = load_weights(init)
        model = build_model(shared.hyper())  # a trainable copy; the cached one stays frozen
        model.load_state_dict(shared.state_dict())
        n_val = max(1, len(graphs) // 10)
        if len(graphs) < 2:
            raise ValueError(f"fine-tuning needs >= 2 exported graphs, got {len(graphs)}")
        train_t, val_t = buckets(graphs[n_val:]), buckets(graphs[:n_val])
    history = fit(model, train_t, val_t, tcfg, gen, log=log)
    meta = {
        "config": cfg,
        "data_seed": dcfg["seed"],
        "split_seeds": {s: split_seed(dcfg["seed"], s) for s in ("train", "val")},
        "finetuned_from": None if finetune is None else str(finetune[1]),
        "torch_version": torch.__version__,
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "wall_time_s": time.perf_counter() - t_start,
        "training_log": history,
    }
    path = save(model, norm, meta, Path(out_dir) if out_dir else WEIGHTS_DIR, cfg["name"])
    log(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in {meta['wall_time_s']:.0f} s")
    return model, norm, history, path


def main(argv=None) -> int:
    """CLI entry point; bad input -> one line on stderr and exit status 2."""
    p = argparse.ArgumentParser(
        prog="python -m policies.shgnn.train", description=__doc__.split("\n")[0]
    )
    p.add_argument("--config", required=True, help="TOML config (see policies/shgnn/configs/)")
    p.add_argument("--out", default=None, help="output directory (default: package weights/)")
    p.add_argument("--threads", type=int, default=None, help="override train.threads")
    p.add_argument("--finetune-graphs", default=None, help="directory from export-graphs")
    p.add_argument("--init", default="stable", help="weights to fine-tune (name or .pt path)")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config)
        if args.threads is not None:
            cfg["train"]["threads"] = args.threads
        finetune = None
        if args.finetune_graphs:
            from policies.shgnn.export import load_graph_dir

            finetune = (load_graph_dir(args.finetune_graphs), args.init)
        train(cfg, args.out, finetune=finetune)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        sys.stderr.write(f"error: {' '.join(str(exc).split())}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
