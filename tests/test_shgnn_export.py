"""``run_emulation.py export-graphs``: a recorded trace -> SHGNN training graphs (issue 7).

The exported graphs are checked against the features built directly from the trace's recorded
observations (decoded and unpacked independently of the exporter), and a graph folder must be
usable for fine-tuning.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from emulator.cli import main as cli_main  # noqa: E402
from emulator.config import load_scenario, system_params  # noqa: E402
from emulator.engine import run_scenario  # noqa: E402
from emulator.systems import cellfree_uplink as cf  # noqa: E402
from policies.shgnn import graph as gr  # noqa: E402
from policies.shgnn.export import load_graph, load_graph_dir  # noqa: E402
from policies.shgnn.model import SHGNN  # noqa: E402
from policies.shgnn.train import init_parameters, save  # noqa: E402


@pytest.fixture(scope="module")
def trace_dir(tmp_path_factory):
    sc = load_scenario("scenarios/default.toml").with_overrides(
        policy_id="full-power-v1", duration_s=8.0
    )
    return run_scenario(sc, out_dir=tmp_path_factory.mktemp("trace") / "run", quiet=True)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    obs = cf.snapshot_observation(cf.params_from_dict({}, "PHYS"), 10, 1, 0)
    norm = gr.fit_normalisation([obs], [cf.statistics(obs).normalised()])
    net = SHGNN(gr.sat_feature_dim(obs.num_antennas), 8, 2, "enhanced")
    init_parameters(net, torch.Generator().manual_seed(0))
    return save(
        net, norm, {"config": {"data": {"num_users": 10}}}, tmp_path_factory.mktemp("w"), "t"
    )


def test_export_graphs_matches_direct_features(trace_dir, weights, tmp_path):
    import traces

    out = tmp_path / "graphs"
    assert (
        cli_main(["export-graphs", str(trace_dir), "--out", str(out), "--weights", str(weights)])
        == 0
    )
    index = json.loads((out / "index.json").read_text())
    tr = traces.load(trace_dir)
    dec = tr.observations[tr.observations["role"] == "decision"]
    assert len(index["graphs"]) == int((dec["num_users"] > 0).sum()) > 0
    norm = gr.Normalisation.from_dict(index["normalisation"])
    params = system_params(load_scenario("scenarios/default.toml"))
    entry = index["graphs"][-1]
    obs = cf.unpack(tr.observation_arrays(entry["epoch"]), params)
    st = cf.statistics(obs)
    direct = gr.features(obs, norm, "enhanced", st.normalised(), st.prelog_bps)
    got = load_graph(out / entry["file"])
    for name in ("edge_ap_ue", "edge_sat_ue", "ue_feat", "w_in", "a_tilde", "d_tilde"):
        np.testing.assert_array_equal(getattr(got, name), getattr(direct, name), err_msg=name)
    assert got.num_aps == params.num_aps and got.num_users == obs.num_users
    assert len(load_graph_dir(out)) == len(index["graphs"])


def test_export_graphs_bad_trace_is_exit_2(tmp_path, capsys):
    rc = cli_main(["export-graphs", str(tmp_path / "missing"), "--out", str(tmp_path / "g")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "trace" in err


def test_finetune_on_exported_graphs(trace_dir, weights, tmp_path):
    from policies.shgnn.train import merge_config, train

    out = tmp_path / "graphs"
    assert (
        cli_main(["export-graphs", str(trace_dir), "--out", str(out), "--weights", str(weights)])
        == 0
    )
    graphs = load_graph_dir(out)
    cfg = merge_config({"name": "ft", "train": {"epochs": 2, "batch_size": 2}})
    model, _, hist, path = train(
        cfg, tmp_path / "w", log=lambda *_: None, finetune=(graphs, str(weights))
    )
    assert path.is_file() and hist[-1]["best_val_mbps"] >= hist[0]["val_mbps"] > 0
    assert any(p.requires_grad for p in model.parameters())
