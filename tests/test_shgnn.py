"""SHGNN of seed 002 (spec section 6 and P9): closed form, graph, equivariance, training, policy.

References are independent of the code under test: the system's numpy closed form
(``Statistics.sinr`` / ``sum_rate_bps``), the observation built by the emulator for a permuted
user / AP order, and the training set's own loss before and after training.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from emulator.rng import stream  # noqa: E402
from emulator.systems import cellfree_uplink as cf  # noqa: E402
from policies.shgnn import closed_form_torch as cft  # noqa: E402
from policies.shgnn import graph as gr  # noqa: E402
from policies.shgnn.model import SHGNN  # noqa: E402
from policies.shgnn.train import init_parameters  # noqa: E402

FULL = cf.params_from_dict({}, "PHYS")


def _model(variant: str, n_ant: int = 25, hidden: int = 16, layers: int = 3, seed: int = 3):
    net = SHGNN(gr.sat_feature_dim(n_ant), hidden, layers, variant, refine_steps=2)
    init_parameters(net, torch.Generator().manual_seed(seed))
    if variant == "refine":  # non-zero refinement heads, so the refinement path is exercised
        gen = torch.Generator().manual_seed(seed + 1)
        for step in net.refine:
            step.head[2].weight.data.uniform_(-0.5, 0.5, generator=gen)
    return net.eval()


def _norm(obs_list):
    stats = [cf.statistics(o).normalised() for o in obs_list]
    return gr.fit_normalisation(obs_list, stats)


def _forward(net, obs, norm, dtype=torch.float64):
    st = cf.statistics(obs).normalised() if gr.uses_statistics(net.variant) else None
    g = gr.features(obs, norm, net.variant, st)
    t = gr.collate([g], with_loss=False)
    net = net.to(dtype)
    with torch.no_grad():
        w = None if t["w_in"] is None else t["w_in"].to(dtype)
        x = net(
            t["edge_ap_ue"].to(dtype),
            t["edge_sat_ue"].to(dtype),
            t["ue_feat"].to(dtype),
            w,
            t["a_tilde"],
            t["d_tilde"],
        )
    return x[0].numpy()


def _permute_users(obs, perm):
    """The same drop with users listed in order ``perm`` (pilots travel with the users)."""
    return dataclasses.replace(
        obs,
        beta_ap=obs.beta_ap[:, perm],
        beta_sat=obs.beta_sat[perm],
        kappa=obs.kappa[perm],
        sat_dir=obs.sat_dir[perm],
        pilot_index=obs.pilot_index[perm],
        max_power_w=obs.max_power_w[perm],
        user_ids=obs.user_ids[perm],
        prev_power_w=obs.prev_power_w[perm],
    )


# --- closed form -----------------------------------------------------------------------------
@pytest.mark.parametrize("k", [6, 20])
def test_torch_closed_form_matches_numpy(k):
    params = cf.params_from_dict({"num_aps": 12}, "PHYS")
    obs = cf.snapshot_observation(params, k, 7, 0)
    st = cf.statistics(obs)
    a_t, d_t = st.normalised()
    rng = stream(0, "test/shgnn/powers")
    for _ in range(3):
        power = st.max_power_w * rng.uniform(0.0, 1.0, k)
        power[rng.integers(k)] = 0.0
        x = torch.from_numpy(power / st.max_power_w)
        sinr_t = cft.sinr(x, torch.from_numpy(a_t), torch.from_numpy(d_t)).numpy()
        sinr_np = st.sinr(power)
        np.testing.assert_allclose(sinr_t, sinr_np, rtol=1e-6, atol=1e-12)
        rate_t = float(
            cft.sum_rate_bps(x, torch.from_numpy(a_t), torch.from_numpy(d_t), st.prelog_bps)
        )
        assert rate_t == pytest.approx(st.sum_rate_bps(power), rel=1e-6)
        # the loss is minus the batch mean in Mbit/s
        loss = cft.loss(
            x[None], torch.from_numpy(a_t)[None], torch.from_numpy(d_t)[None], st.prelog_bps
        )
        assert float(loss) == pytest.approx(-st.sum_rate_bps(power) / 1e6, rel=1e-6)


# --- graph -----------------------------------------------------------------------------------
def test_networkx_roundtrip_and_counts():
    obs = cf.snapshot_observation(FULL, 5, 3, 1)
    norm = _norm([obs])
    st = cf.statistics(obs)
    g = gr.features(obs, norm, "enhanced", st.normalised(), st.prelog_bps)
    nxg = gr.to_networkx(g, obs.user_ids)
    m, k = obs.num_aps, obs.num_users
    assert nxg.number_of_nodes() == m + k + 1
    n_uu = int(np.count_nonzero(g.w_in))
    assert nxg.number_of_edges() == 2 * m * k + 2 * k + n_uu
    types = {d["ntype"] for _, d in nxg.nodes(data=True)}
    assert types == {"ap", "sat", "ue"}
    back = gr.from_networkx(nxg)
    for name in ("edge_ap_ue", "edge_sat_ue", "ue_feat", "w_in", "a_tilde", "d_tilde"):
        np.testing.assert_array_equal(getattr(back, name), getattr(g, name), err_msg=name)
    assert back.prelog_bps == g.prelog_bps
    # edge feature (47) uses the LoS mean: Re gbar / sqrt(sigma_a^2 c_s)
    expect = obs.gbar.real[2] / np.sqrt(obs.noise_ap_w * norm.sat_scale)
    np.testing.assert_allclose(g.edge_sat_ue[2, : obs.num_antennas], expect, rtol=1e-5)


# --- equivariance / any size -----------------------------------------------------------------
@pytest.mark.parametrize("variant", ["paper_literal", "neighbour", "enhanced", "refine"])
def test_user_permutation_equivariance_and_ap_invariance(variant):
    obs = cf.snapshot_observation(FULL, 12, 11, 0)
    norm = _norm([obs])
    net = _model(variant)
    x = _forward(net, obs, norm)
    perm = stream(1, "test/shgnn/perm").permutation(obs.num_users)
    x_perm = _forward(net, _permute_users(obs, perm), norm)
    np.testing.assert_allclose(x_perm, x[perm], atol=1e-6, rtol=0)
    ap_perm = stream(2, "test/shgnn/perm").permutation(obs.num_aps)
    x_ap = _forward(net, dataclasses.replace(obs, beta_ap=obs.beta_ap[ap_perm]), norm)
    np.testing.assert_allclose(x_ap, x, atol=1e-6, rtol=0)
    # float32 (the in-loop dtype) to 1e-5, spec P9
    x32 = _forward(net, obs, norm, torch.float32)
    x32p = _forward(net, _permute_users(obs, perm), norm, torch.float32)
    np.testing.assert_allclose(x32p, x32[perm], atol=1e-5, rtol=0)
    # the output is not trivially constant, so the permutation check has teeth
    assert np.ptp(x) > 1e-4


@pytest.mark.parametrize("variant", ["neighbour", "refine"])
def test_same_weights_any_size(variant):
    net = _model(variant)
    obs_small = cf.snapshot_observation(cf.params_from_dict({"num_aps": 8}, "PHYS"), 6, 5, 0)
    obs_big = cf.snapshot_observation(FULL, 50, 5, 0)
    norm = _norm([obs_big])
    for obs in (obs_small, obs_big):
        x = _forward(net, obs, norm, torch.float32)
        assert x.shape == (obs.num_users,)
        assert np.all((x > 0) & (x < 1))


# --- training --------------------------------------------------------------------------------
def test_five_epochs_lower_the_loss(tmp_path, monkeypatch):
    from policies.shgnn import train as tr
    from policies.shgnn.data import load_dataset, make_params, split_seed

    monkeypatch.setenv("SHGNN_CACHE_DIR", str(tmp_path / "cache"))
    cfg = tr.load_config(tr.Path(tr.__file__).parent / "configs" / "tiny.toml")
    _, norm, hist, path = tr.train(cfg, tmp_path, log=lambda *_: None)
    first = next(h for h in hist if h.get("epoch") == 1)
    last = [h for h in hist if "train_loss_mbps" in h][-1]
    assert last["train_loss_mbps"] < first["train_loss_mbps"]
    assert hist[-1]["best_val_mbps"] > hist[0]["val_mbps"]
    # the saved weights reload with weights_only=True and reproduce the validation number
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["data_seed"] == cfg["data"]["seed"]
    state = torch.load(path, weights_only=True)
    net = tr.build_model(meta["hyper"])
    net.load_state_dict(state)
    d = cfg["data"]
    params = make_params(d["profile"], {**cfg["params"], "num_aps": d["num_aps"]}, d["tau_p"])
    val = load_dataset(params, d["num_users"], split_seed(d["seed"], "val"), d["n_val"])
    t = gr.collate(val.graphs(gr.Normalisation.from_dict(meta["normalisation"]), "enhanced"))
    eps_s = cfg["train"]["eps_s"]
    assert tr.mean_sum_rate_mbps(net, t, eps_s=eps_s) == pytest.approx(
        hist[-1]["best_val_mbps"], rel=1e-9
    )
    # independent reference: the numpy closed form on the same fractions, rule (44) applied
    with torch.no_grad():
        x = tr._forward(net, t).double().numpy()
    x = np.where(x > eps_s, x, 0.0)
    assert val.sum_rate_bps(x).mean() / 1e6 == pytest.approx(hist[-1]["best_val_mbps"], rel=1e-6)


def test_applied_fraction_thresholds_with_straight_through_gradient():
    from policies.shgnn.train import applied_fraction

    x = torch.tensor([5e-4, 1e-3, 2e-3, 0.5], dtype=torch.float64, requires_grad=True)
    y = applied_fraction(x, 1e-3)
    np.testing.assert_array_equal(y.detach().numpy(), [0.0, 0.0, 2e-3, 0.5])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(4))


def test_bad_config_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\nvariant = "transformer"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "policies.shgnn.train", "--config", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "variant" in proc.stderr


def test_import_policies_does_not_import_torch():
    code = "import sys, policies; policies.entries(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
