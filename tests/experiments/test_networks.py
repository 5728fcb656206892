"""The network training experiments (experiments.networks: models, data, runs, train, mlp,
autoencoder, summaries): the model pieces against NumPy references, the --quick
runs' files, resuming, and TR's accuracy on digits.
"""

import json
import os

import numpy as np
import pytest

jax = pytest.importorskip("jax")
pytest.importorskip("optax")

from experiments.common import io  # noqa: E402
from experiments.common.runs import config_key, load_finished  # noqa: E402
from experiments.networks import autoencoder, mlp, models  # noqa: E402
from experiments.networks import data as net_data  # noqa: E402
from experiments.networks.runs import SCHEMA_VERSION  # noqa: E402

SIZES = [64, 8, 10]


def _np_forward(params, X, acts):
    """The MLP in plain NumPy (independent of mlp_apply)."""
    fns = {"tanh": np.tanh, "logistic": lambda z: 1 / (1 + np.exp(-z)), "linear": lambda z: z,
           "relu": lambda z: np.maximum(z, 0), "softplus": lambda z: np.log1p(np.exp(z))}
    z = X
    for (W, b), act in zip(params[:-1], acts, strict=True):
        z = fns[act](z @ np.asarray(W) + np.asarray(b))
    W, b = params[-1]
    return z @ np.asarray(W) + np.asarray(b)


@pytest.fixture(scope="module")
def digits():
    return net_data.load_digits_split(0)


# -- model pieces -------------------------------------------------------------------- #
def test_init_is_seeded_and_scaled():
    a = models.init_mlp([30, 20, 5], 3, activation="logistic")
    b = models.init_mlp([30, 20, 5], np.random.default_rng(3), activation="logistic")
    c = models.init_mlp([30, 20, 5], 4, activation="logistic")
    assert all(np.array_equal(x, y) for (x, _), (y, _) in zip(a, b, strict=True))
    assert not np.array_equal(a[0][0], c[0][0])
    # Glorot's uniform range: 4x for the logistic hidden layer, 1x for the linear output.
    assert np.abs(a[0][0]).max() <= 4 * np.sqrt(6 / 50) and np.abs(a[0][0]).max() > np.sqrt(6 / 50)
    assert np.abs(a[1][0]).max() <= np.sqrt(6 / 25)
    relu = models.init_mlp([4000, 1], 0, activation="relu")  # output layer: Glorot
    he = models.init_mlp([4000, 3000, 1], 0, activation="relu")[0][0]
    assert relu[0][0].shape == (4000, 1)
    # He: variance 2 / fan_in, checked to 5 standard errors of a sample variance.
    n = he.size
    assert abs(float(np.var(he)) / (2 / 4000) - 1) < 5 * np.sqrt(2 / n)
    assert all(p.dtype == np.float64 for layer in a for p in layer)
    # The reference code's normalized start: one standard normal vector of unit norm.
    flat = models.init_mlp([30, 20, 5], 3, scheme="normalized")
    values = np.concatenate([np.ravel(p) for layer in flat for p in layer])
    assert values.size == 30 * 20 + 20 + 20 * 5 + 5
    assert np.isclose(np.linalg.norm(values), 1.0, rtol=1e-14)


@pytest.mark.parametrize("act", ["tanh", "logistic", "softplus", "relu"])
def test_apply_and_losses_match_numpy(act, rng):
    params = models.init_mlp([5, 7, 6, 3], 0, activation=act)
    X = rng.standard_normal((11, 5))
    y = rng.integers(0, 3, size=11)
    logits = _np_forward(params, X, [act, act])
    eps = np.finfo(float).eps
    scale = np.abs(logits).max()
    assert np.allclose(models.mlp_apply(params, X, activation=act), logits, rtol=0,
                       atol=100 * eps * max(scale, 1))
    m = logits.max(axis=1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    ce = -logp[np.arange(11), y].mean()
    assert np.isclose(models.softmax_cross_entropy(logits, y), ce, rtol=1e-13)
    t = (rng.random((11, 3)) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-logits))
    bce = -(t * np.log(p) + (1 - t) * np.log1p(-p)).sum(axis=1).mean()
    assert np.isclose(models.sigmoid_cross_entropy(logits, t), bce, rtol=1e-12)
    penalty = 0.5 * 0.1 * sum(float(np.sum(np.asarray(W) ** 2) + np.sum(np.asarray(b) ** 2))
                              for W, b in params)
    got = models.mlp_loss(params, X, y, activation=act, alpha=0.1)
    assert np.isclose(got, ce + penalty, rtol=1e-13)


def test_objective_value_gradient_and_gauss_newton(digits, rng):
    """mlp_objective's value and gradient (central differences) against the NumPy network,
    and its Gauss-Newton product against J^T H J with the softmax Hessian diag(p) - p p^T."""
    X, y = digits.X_train[:30], digits.y_train[:30]
    f = models.mlp_objective(SIZES, X, y, random_state=1, alpha=0.01)
    assert f.supports_gauss_newton and f.n_features == 64 * 8 + 8 + 8 * 10 + 10
    params = f.unravel(f.x0)

    def np_loss(w):
        logits = _np_forward(f.unravel(w), X, ["tanh"])
        m = logits.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
        return float(np.mean(lse - logits[np.arange(len(y)), y]) + 0.005 * w @ w)

    assert np.isclose(f.value(f.x0), np_loss(f.x0), rtol=1e-13)
    g = f.gradient(f.x0)
    h = 1e-5  # central differences: error ~ h^2 f''' + eps f / h ~ 1e-10
    for j in rng.choice(f.n_features, size=8, replace=False):
        e = np.zeros(f.n_features)
        e[j] = h
        fd = (np_loss(f.x0 + e) - np_loss(f.x0 - e)) / (2 * h)
        assert abs(fd - g[j]) <= 1e-8 * max(1.0, np.abs(g).max())

    # Gauss-Newton: the Jacobian of the logits z = tanh(X W1 + b1) W2 + b2 by hand (in the
    # flattening order W1, b1, W2, b2), the softmax Hessian diag(p) - p p^T analytic.
    (W1, b1), (W2, _) = [(np.asarray(W), np.asarray(b)) for W, b in params]
    hidden = np.tanh(X @ W1 + b1)
    m, k = len(y), 10
    slope = (1 - hidden**2)[:, None, :] * W2.T[None, :, :]  # d z_k / d (X W1 + b1)_j
    J = np.concatenate([
        np.einsum("ri,rkj->rkij", X, slope).reshape(m, k, -1),
        slope,
        np.einsum("rj,kl->rkjl", hidden, np.eye(k)).reshape(m, k, -1),
        np.broadcast_to(np.eye(k), (m, k, k)),
    ], axis=2)
    logits = _np_forward(params, X, ["tanh"])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    H = np.einsum("ik,kl->ikl", p, np.eye(k)) - np.einsum("ik,il->ikl", p, p)
    G = np.einsum("ikw,ikl,ilv->wv", J, H, J) / m + 0.01 * np.eye(f.n_features)
    v = rng.standard_normal(f.n_features)
    Gv = f.gauss_newton_model(f.x0, explicit=False).matvec(v)
    # Both sides are sums of O(m k d) float64 terms of size |G| |v|.
    assert np.allclose(Gv, G @ v, rtol=0, atol=1e-12 * np.abs(G).max() * np.abs(v).sum())
    assert np.linalg.eigvalsh(G).min() > 0  # PSD plus the penalty


def test_bad_input_is_refused(digits):
    X, y = digits.X_train[:10], digits.y_train[:10]
    with pytest.raises(ValueError, match="sizes"):
        models.init_mlp([64], 0)
    with pytest.raises(ValueError, match="sizes"):
        models.init_mlp([64, 0, 10], 0)
    with pytest.raises(TypeError, match="sizes"):
        models.init_mlp("64,10", 0)
    with pytest.raises(ValueError, match="activation"):
        models.init_mlp([3, 4, 2], 0, activation="sine")
    with pytest.raises(ValueError, match="one per hidden layer"):
        models.init_mlp([3, 4, 2], 0, activation=["tanh", "tanh"])
    with pytest.raises(TypeError, match="random_state"):
        models.init_mlp([3, 2], "seed")
    with pytest.raises(ValueError, match="scheme"):
        models.init_mlp([3, 2], 0, scheme="zeros")
    with pytest.raises(ValueError, match="output"):
        models.mlp_objective(SIZES, X, y, output="hinge")
    with pytest.raises(ValueError, match="labels must lie"):
        models.mlp_objective([64, 8, 5], X, y)
    with pytest.raises(ValueError, match="integer labels"):
        models.mlp_objective(SIZES, X, y.astype(float))
    with pytest.raises(ValueError, match="X must have shape"):
        models.mlp_objective([32, 8, 10], X, y)
    with pytest.raises(ValueError, match="alpha"):
        models.mlp_objective(SIZES, X, y, alpha=-1.0)
    with pytest.raises(ValueError, match="targets"):
        models.mlp_objective([64, 4, 64], X, y, output="sigmoid")
    with pytest.raises(ValueError, match="n_train"):
        net_data.load_mnist_split(0)
    with pytest.raises(ValueError, match="test_size"):
        net_data.load_digits_split(0, test_size=1.5)
    X_copy = X.copy()
    models.mlp_objective(SIZES, X, y)
    assert np.array_equal(X, X_copy)  # the caller's arrays are not written


def test_digits_split_is_stratified_and_reproducible(digits):
    again = net_data.load_digits_split(0)
    assert np.array_equal(digits.X_test, again.X_test)
    assert digits.X_train.shape == (1347, 64) and digits.X_test.shape == (450, 64)
    assert 0 <= digits.X_train.min() and digits.X_train.max() <= 1
    counts = np.bincount(digits.y_test, minlength=10)
    assert counts.min() >= 43 and counts.max() <= 47  # 450 / 10 rows per class, stratified


def test_tr_ten_percent_reaches_95_percent_on_digits(digits):
    """The paper's claim at its defaults: sub-sampled TR (10% Hessian, default radius)
    trains the 64-32-10 MLP to >= 95% test accuracy within 200 passes."""
    from randopt.optimize import trust_region

    f = models.mlp_objective([64, 32, 10], digits.X_train, digits.y_train, random_state=0)
    res = trust_region(f, f.x0, hessian_sampling="uniform", hessian_sample_size=0.1,
                       gtol=1e-10, max_props=200 * f.n_samples, random_state=0)
    acc = models.accuracy(f.unravel(res.x), digits.X_test, digits.y_test)
    assert acc >= 0.95, acc
    assert res.fun < 0.1 * res.history["loss"][0]


# -- the experiments ------------------------------------------------------------------ #
MLP_ARGS = ["--quick", "--methods", "tr,gn,sgd,adam", "--tr-sizes", "0.1", "--sgd-lrs",
            "0.1,0.3", "--adam-lrs", "0.01", "--max-passes", "4"]


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mlp")
    assert mlp.main([*MLP_ARGS, "--out", str(out)]) == 0
    return out


def test_mlp_quick_run_writes_well_formed_files(mlp_run):
    out = mlp_run
    ids = ["tr_0.1_seed0", "gn_0.05_seed0", "sgd_lr0.1_seed0", "sgd_lr0.3_seed0",
           "adam_lr0.01_seed0"]
    assert sorted(p.stem for p in (out / "runs").glob("*.csv")) == sorted(ids)
    assert sorted(p.stem for p in (out / "runs").glob("*.json")) == sorted(ids)
    summary = json.loads((out / "summary.json").read_text())  # strict JSON
    assert summary["reused"] == [] and summary["shape"] == [1347, 64]
    finals = {}
    for run in ids:
        data = io.read_csv(out / "runs" / f"{run}.csv")
        assert {"loss", "test_loss", "test_accuracy", "passes", "time", "props"} <= set(data)
        assert np.all(np.isfinite(data["loss"])) and np.all(np.diff(data["passes"]) >= 0)
        assert np.allclose(data["passes"], data["props"] / 1347, rtol=1e-15)
        assert data["passes"][-1] >= 4 or json.loads(
            (out / "runs" / f"{run}.json").read_text())["status"] != 2
        assert 0 <= data["test_accuracy"].min() and data["test_accuracy"].max() <= 1
        finals[run] = data["loss"][-1]
        if run.startswith(("tr", "gn")):  # monotone: rejected steps keep the iterate
            assert np.all(np.diff(data["loss"]) <= 1e-12 * data["loss"][0])
    # The selected learning rate is the one with the lowest final training loss.
    best_sgd = min(("sgd_lr0.1_seed0", "sgd_lr0.3_seed0"), key=finals.get)
    assert summary["selected"] == {"sgd": best_sgd, "adam": "adam_lr0.01_seed0"}
    assert [row["id"] for row in summary["table"]] == ["tr_0.1_seed0", "gn_0.05_seed0",
                                                       best_sgd, "adam_lr0.01_seed0"]
    md = (out / "summary.md").read_text()
    assert "| TR 10% |" in md and "Learning-rate grids" in md
    for suffix in (".png", ".pdf"):
        assert (out / f"mlp-digits-quick{suffix}").stat().st_size > 1000


def test_mlp_rerun_reuses_finished_runs_and_redoes_damaged_ones(mlp_run):
    out = mlp_run
    before = {p.name: p.read_bytes() for p in (out / "runs").iterdir()}
    loss_before = io.read_csv(out / "runs" / "sgd_lr0.1_seed0.csv")["loss"]
    (out / "runs" / "sgd_lr0.1_seed0.json").unlink()  # killed before its JSON was written
    assert mlp.main([*MLP_ARGS, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["reused"]) == sorted(
        ["tr_0.1_seed0", "gn_0.05_seed0", "sgd_lr0.3_seed0", "adam_lr0.01_seed0"])
    after = {p.name: p.read_bytes() for p in (out / "runs").iterdir()}
    assert set(after) == set(before)
    assert all(after[k] == before[k] for k in before if not k.startswith("sgd_lr0.1"))
    # Same seed: the redone run repeats its losses exactly.
    assert np.array_equal(io.read_csv(out / "runs" / "sgd_lr0.1_seed0.csv")["loss"],
                          loss_before)
    # Other settings are another run: its key does not match the finished files.
    meta = json.loads((out / "runs" / "sgd_lr0.3_seed0.json").read_text())
    assert load_finished(out, "sgd_lr0.3_seed0", meta["config_key"]) is not None
    other = {**meta["config"], "budget": {**meta["config"]["budget"], "max_passes": 3.0}}
    assert load_finished(out, "sgd_lr0.3_seed0", config_key(other, SCHEMA_VERSION)) is None
    assert config_key(meta["config"], SCHEMA_VERSION) == meta["config_key"]


def test_command_line_errors():
    with pytest.raises(SystemExit):
        mlp.parse_args(["--methods", "newton"])
    with pytest.raises(SystemExit):
        mlp.parse_args(["--tr-sizes", "0.1,2"])
    with pytest.raises(SystemExit):
        mlp.parse_args(["--sgd-lrs", "-1"])
    with pytest.raises(SystemExit):
        autoencoder.parse_args(["--quick", "--full"])
    with pytest.raises(SystemExit):
        autoencoder.parse_args(["--sizes", "784,10"])
    # A value given is kept and checked, 0 included (not replaced by the default).
    for option, bad in [("--batch-size", "0"), ("--max-iter", "0"), ("--max-passes", "0"),
                        ("--max-passes", "nan"), ("--max-time", "inf"),
                        ("--records-per-pass", "0")]:
        with pytest.raises(SystemExit, match=option):
            mlp.parse_args([option, bad])
    with pytest.raises(ValueError, match="n_train"):
        net_data.load_split("digits", n_train=0)


def test_missing_mnist_exits_with_status_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RANDOPT_DATA", str(tmp_path))
    assert mlp.main(["--dataset", "mnist", "--quick", "--out",
                                    str(tmp_path / "o")]) == 2
    assert autoencoder.main(["--quick", "--out", str(tmp_path / "o")]) == 2
    assert "mnist_binarized.npz" in capsys.readouterr().err


def test_autoencoder_quick_run(tmp_path, mnist_path, monkeypatch):
    monkeypatch.setenv("RANDOPT_DATA", str(mnist_path.parent))
    args = ["--quick", "--n-train", "200", "--n-test", "100", "--sizes", "784,16,4,16,784",
            "--max-passes", "3", "--sgd-lrs", "0.01", "--out", str(tmp_path)]
    assert autoencoder.main(args) == 0
    runs = sorted(p.stem for p in (tmp_path / "runs").glob("*.json"))
    assert runs == ["sgd_lr0.01_seed0", "tr_0.05_seed0"]
    for run in runs:
        data = io.read_csv(tmp_path / "runs" / f"{run}.csv")
        assert data["loss"][-1] < data["loss"][0] and np.all(np.isfinite(data["test_mse"]))
        # The reconstruction error of {0, 1} pixels is at most the 784 pixels' count.
        assert 0 < data["test_mse"].min() and data["test_mse"].max() <= 784
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["sizes"] == [784, 16, 4, 16, 784]
    assert summary["activations"] == ["logistic", "linear", "logistic"]
    assert (tmp_path / "autoencoder-quick.png").is_file()


@pytest.mark.skipif(not os.environ.get("RANDOPT_SLOW"),
                    reason="set RANDOPT_SLOW=1 (about 20 s more)")
def test_mnist_quick_run(tmp_path, mnist_path, monkeypatch):
    monkeypatch.setenv("RANDOPT_DATA", str(mnist_path.parent))
    assert mlp.main(["--dataset", "mnist", "--quick", "--out",
                                    str(tmp_path)]) == 0
    assert (tmp_path / "mlp-mnist-quick.png").is_file()
