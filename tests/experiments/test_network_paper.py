"""The reference code's settings in the network experiments: zero initialization, TR's
random-start CG (which leaves the symmetric saddle that CG from 0 cannot), the --paper
preset, HF as a method, and the passes counted both ways."""

import json

import numpy as np
import pytest

jax = pytest.importorskip("jax")
pytest.importorskip("optax")

from experiments.common import io  # noqa: E402
from experiments.networks import autoencoder, mlp, models  # noqa: E402
from experiments.networks import data as net_data  # noqa: E402
from experiments.networks.runs import NetMethod, build_methods  # noqa: E402
from experiments.networks.summaries import loss_at  # noqa: E402


def test_zero_initialization():
    params = models.init_mlp([5, 4, 3], 0, scheme="zero")
    assert [(W.shape, b.shape) for W, b in params] == [((5, 4), (4,)), ((4, 3), (3,))]
    assert all(not np.asarray(p).any() for layer in params for p in layer)


def _unit_spread(f, x):
    """How far the hidden units are from all being the same unit: the largest difference
    between a unit's incoming weights (and bias) and the first unit's."""
    W, b = (np.asarray(a) for a in f.unravel(x)[0])
    return float(max(np.abs(W - W[:, :1]).max(), np.abs(b - b[0]).max()))


def test_tr_from_zero_initialization_leaves_the_saddle_only_from_a_random_cg_start():
    """From zero weights every hidden unit is the same, and gradients and Hessian products
    keep them so: TR with CG from 0 stays on that set; the reference's random start leaves
    it, and ends lower than the zero start does (the independent check: the loss and the
    units' spread, computed from the weights)."""
    from randopt.optimize import trust_region
    from randopt.optimize.subproblems import CGSteihaug

    s = net_data.load_digits_split(0)
    f = models.mlp_objective([64, 8, 10], s.X_train[:300], s.y_train[:300],
                             activation="logistic", init="zero")
    assert not f.x0.any()
    runs = {}
    for start in ("zero", "random"):
        runs[start] = trust_region(f, f.x0, hessian_sampling="uniform", hessian_sample_size=0.1,
                                   radius=1000.0, subproblem=CGSteihaug(start=start),
                                   gtol=1e-10, max_iter=15, random_state=0)
    assert _unit_spread(f, runs["zero"].x) <= 1e-12 * np.abs(runs["zero"].x).max()
    assert _unit_spread(f, runs["random"].x) > 1e-3
    # the symmetric network is a 64-1-10 one at best; the separated units fit better
    assert runs["random"].fun < runs["zero"].fun - 0.05
    assert runs["random"].fun < f.value(f.x0)


def test_methods_labels_and_slugs():
    methods = build_methods(["tr", "hf", "sgd"], [0.05], [None, 1000.0], 0.05, [0.1], [],
                            ["zero", "random"], 0.1, "paper")
    assert [m.slug for m in methods] == ["tr_0.05", "tr_0.05_rand", "tr_0.05_r1000",
                                         "tr_0.05_r1000_rand", "hf_0.1_paper", "sgd_lr0.1"]
    # the stored settings of the methods from before the options are unchanged
    assert NetMethod("tr", 0.05).as_dict() == {
        "kind": "tr", "sample_size": 0.05, "radius": None, "learning_rate": None,
        "label": "TR 5%", "slug": "tr_0.05", "family": "tr_0.05"}
    with pytest.raises(ValueError, match="cg_start"):
        NetMethod("tr", 0.05, cg_start="ones")


def test_paper_preset_fills_only_what_is_not_given():
    a = autoencoder.parse_args(["--paper"])
    assert (a.init, a.tr_sizes, a.tr_radii, a.cg_start, a.sgd_lrs, a.methods) == (
        "zero", [0.05], [1000.0], ["random"], [0.05], ["tr", "sgd"])
    assert a.batch_size is None  # 5% of the rows, set once they are known
    a = autoencoder.parse_args(["--paper", "--init", "normalized", "--tr-radii", "10",
                                "--batch-size", "128", "--cg-start", "zero,random"])
    assert (a.init, a.tr_radii, a.batch_size, a.cg_start) == (
        "normalized", [10.0], 128, ["zero", "random"])
    a = mlp.parse_args([])
    assert (a.init, a.activation, a.cg_start, a.tr_radii) == ("glorot", "tanh", ["zero"], [None])
    assert len(autoencoder.parse_args([]).sgd_lrs) == 6 and len(mlp.parse_args([]).sgd_lrs) == 6
    with pytest.raises(SystemExit, match="cg-start"):
        mlp.parse_args(["--cg-start", "one"])
    with pytest.raises(SystemExit):
        mlp.parse_args(["--init", "ones"])


def test_loss_at_passes():
    d = {"passes": np.array([0.0, 3.0, 6.0, 10.1]), "passes_ref": np.array([0, 2, 4, 7.0]),
         "loss": np.array([4.0, 3.0, 2.0, 1.0])}
    assert loss_at(d, 5.0) == 3.0 and loss_at(d, 10.0) == 2.0 and loss_at(d, 6.0) == 2.0
    assert loss_at(d, 5.0, "passes_ref") == 2.0 and np.isnan(loss_at(d, 10.0, "passes_ref"))


def test_mlp_paper_run_counts_passes_both_ways(tmp_path):
    out = tmp_path / "paper"
    assert mlp.main(["--quick", "--paper", "--methods", "tr,hf,sgd", "--max-passes", "3",
                     "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["init"] == "zero" and summary["activation"] == "logistic"
    ids = sorted(p.stem for p in (out / "runs").glob("*.json"))
    assert ids == ["hf_0.05_paper_seed0", "sgd_lr0.05_seed0", "tr_0.05_r1000_rand_seed0"]
    n = summary["shape"][0]
    for run in ids:
        d = io.read_csv(out / "runs" / f"{run}.csv")
        if run.startswith("sgd"):
            assert np.array_equal(d["passes_ref"], d["passes"])
        else:  # the reference charges the gradient of x0 and of every accepted point n, not 2n
            expected = d["passes"] - (1 + np.cumsum(d["accepted"]))
            assert np.allclose(d["passes_ref"], expected, rtol=1e-14)
            assert np.allclose(d["passes"] * n, d["props"], rtol=1e-15)
    sgd = json.loads((out / "runs" / "sgd_lr0.05_seed0.json").read_text())
    assert sgd["config"]["budget"]["batch_size"] == int(0.05 * n)  # the reference's 5%
    entry = summary["runs"]["tr_0.05_r1000_rand_seed0"]
    assert set(entry["loss_at"]) == {"0.75", "1.5", "3"}
    assert "in brackets as the reference code counts" in (out / "summary.md").read_text()
