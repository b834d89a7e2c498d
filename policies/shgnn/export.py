"""Graph-snapshot export: recorded observations of a trace -> SHGNN training graphs.

Every ``role == "decision"`` observation of a ``cellfree_uplink`` trace is rebuilt exactly
(``traces`` array decoding + the system's ``unpack``), its closed-form statistics are computed,
and its graph (:func:`policies.shgnn.graph.features` with the normalisation of the chosen
weights, then :func:`~policies.shgnn.graph.to_networkx`) is written as networkx node-link JSON:

    DIR/graph-<epoch:06d>.json     one MultiDiGraph per epoch (features, A~, D~, pre-log, meta)
    DIR/index.json                 trace, scenario hash, weights, variant, normalisation, epochs

``python -m policies.shgnn.train --config C --finetune-graphs DIR --init stable`` fine-tunes a
shipped model on them (e.g. on the geometry of a real pass).
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx

from policies.shgnn.graph import GraphArrays, features, from_networkx, to_networkx

SYSTEM = "cellfree_uplink"


def export_trace(trace_dir, out_dir, weights: str = "stable", log=None) -> dict:
    """Write the graphs of every decision observation of a trace; returns the index dict.

    Raises:
        traces.errors.TraceError: not a readable trace.
        ValueError: the trace is of another system, or the weights are unknown.
    """
    import traces
    from emulator.config import scenario_from_dict, system_params
    from emulator.systems import get_system
    from policies.shgnn.policy import load_weights, weights_path

    trace = traces.load(trace_dir)
    scenario = scenario_from_dict(trace.manifest["scenario"])
    if scenario.system.name != SYSTEM:
        raise ValueError(
            f"export-graphs: expected a {SYSTEM!r} trace, got system {scenario.system.name!r}"
        )
    params = system_params(scenario)
    cf = get_system(SYSTEM)
    model, norm, _ = load_weights(weights)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    obs_table = trace.observations
    rows = obs_table[obs_table["role"] == "decision"].sort_values("epoch")
    entries = []
    for _, row in rows.iterrows():
        if int(row["num_users"]) == 0:
            continue
        obs = cf.unpack(traces.decode_arrays(row), params)
        st = cf.statistics(obs)
        g = features(obs, norm, model.variant, st.normalised(), float(st.prelog_bps))
        epoch = int(row["epoch"])
        meta = {
            "epoch": epoch,
            "t_s": float(row["t_s"]),
            "elevation_deg": float(obs.elevation_deg),
            "serving_sat_id": int(obs.serving_sat_id),
        }
        graph = to_networkx(g, obs.user_ids, meta)
        name = f"graph-{epoch:06d}.json"
        (out / name).write_text(json.dumps(nx.node_link_data(graph, edges="links")))
        entries.append(
            {"file": name, "epoch": epoch, "num_users": g.num_users, "num_aps": g.num_aps}
        )
    index = {
        "trace": str(Path(trace_dir).resolve()),
        "scenario_hash": trace.manifest.get("scenario_hash"),
        "seed": trace.manifest.get("seed"),
        "weights": str(weights_path(weights).name),
        "variant": model.variant,
        "normalisation": norm.to_dict(),
        "graphs": entries,
    }
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    if log is not None:
        log(f"wrote {len(entries)} graphs to {out}")
    return index


def load_graph(path) -> GraphArrays:
    """One exported graph file -> :class:`GraphArrays`."""
    data = json.loads(Path(path).read_text())
    graph = nx.node_link_graph(data, directed=True, multigraph=True, edges="links")
    return from_networkx(graph)


def load_graph_dir(path) -> list[GraphArrays]:
    """All graphs listed in ``DIR/index.json``.

    Raises:
        FileNotFoundError: no ``index.json`` (not an export-graphs folder).
    """
    root = Path(path)
    index_file = root / "index.json"
    if not index_file.is_file():
        raise FileNotFoundError(2, "no index.json (run export-graphs first)", str(index_file))
    index = json.loads(index_file.read_text())
    return [load_graph(root / e["file"]) for e in index["graphs"]]
