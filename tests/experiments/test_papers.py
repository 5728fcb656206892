"""End-to-end tests of ``python -m experiments.papers --quick`` (the reproduction) and its
modules (grid, problems, runs, summaries, plots) and of the run store and atomic files of
experiments.common. Their Examples run as doctests (``--doctest-modules``)."""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments.common import io
from experiments.common.runs import config_key, load_finished
from experiments.papers import cli, grid, problems, runs, summaries

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["iteration", "loss", "grad_norm", "test_accuracy", "time", "props", "passes",
           "accepted"]


def _first_reach(data, target):
    for k, f in enumerate(data["loss"]):
        if f <= target:
            return data["passes"][k], data["time"][k]
    return math.nan, math.nan


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    """Parsed-data caches go to the test's own folder, not to the user's ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("repro")
    code = cli.main(["--dataset", "synthetic", "--quick", "--out", str(out),
                           "--no-progress"])
    return code, out


def test_quick_run_writes_well_formed_files(quick_run):
    code, out = quick_run
    assert code == 0
    # TR, ARC and GN with full, 5% and (TR, ARC only) "auto" samples, and 4 baselines.
    methods = grid.build_grid(["tr", "arc", "gn"], ["full", "uniform", "nonuniform"],
                              [0.05, "auto"], list(grid.BASELINES))
    assert len(methods) == 17
    assert {m.slug for m in methods if m.kind == "gn"} == {
        "gn_full", "gn_uniform_0.05", "gn_nonuniform_0.05"}
    csvs = sorted((out / "runs").glob("*.csv"))
    assert {p.stem for p in csvs} == {grid.run_id(m, s) for m, s in grid.grid_runs(methods, 1)}
    assert len(csvs) == 17 and len(list((out / "runs").glob("*.json"))) == 17
    summary = json.loads((out / "summary.json").read_text())  # strict JSON (no NaN)
    n = summary["shape"][0]
    assert summary["shape"] == [3000, 23] and summary["synthetic"] is True
    losses = {}
    for path in csvs:
        with open(path) as f:
            assert f.readline().strip().split(",") == COLUMNS
        data = io.read_csv(path)
        assert len(data["loss"]) >= 2
        assert np.all(np.isfinite(data["loss"])) and np.all(np.isfinite(data["time"]))
        # Every method only moves to points that do not increase f; props grow; passes = props/n.
        accepted = data["accepted"][1:] == 1
        assert np.all(np.diff(data["loss"])[accepted] <= 1e-15)
        assert np.all(np.diff(data["props"]) >= 0) and np.all(np.diff(data["time"]) >= 0)
        np.testing.assert_allclose(data["passes"], data["props"] / n, rtol=1e-15)
        assert np.all((data["test_accuracy"] >= 0) & (data["test_accuracy"] <= 1))
        meta = json.loads(path.with_suffix(".json").read_text())
        assert meta["rows"] == len(data["loss"]) and meta["final_loss"] == data["loss"][-1]
        losses[path.stem] = data
    # f* is the lowest loss of any run, recomputed here from the CSVs.
    best = min(losses, key=lambda k: losses[k]["loss"].min())
    assert summary["f_star"] == losses[best]["loss"].min()
    assert summary["f_star_run"] == best
    f_star = summary["f_star"]
    for run_id, data in losses.items():
        metrics = summary["runs"][run_id]
        for tol in (1e-4, 1e-6):
            passes, seconds = _first_reach(data, f_star * (1 + tol))
            got = metrics[f"passes_to_{tol:g}"]
            assert (got is None and math.isnan(passes)) or got == passes
        assert metrics["final_test_accuracy"] == data["test_accuracy"][-1]
    # The full-Hessian TR run defines the speed-up; its own is 1.
    tr_full = next(m for m in summary["methods"] if m["slug"] == "tr_full")
    assert tr_full["speedup_vs_tr_full"] in (1.0, None)
    # Markdown: one table row per method, the f* sentence, the figure files.
    md = (out / "summary.md").read_text()
    rows = [line for line in md.splitlines() if line.startswith("| ") and "method" not in line]
    assert len(rows) == 17 and "f* =" in md and "GN = Gauss-Newton" in md and "auto = " in md
    for label in ("TR nonuniform 5%", "GN full", "GN nonuniform 5%", "ARC uniform auto"):
        assert f"| {label} |" in md
    # Every Gauss-Newton run converges on this easy problem (to f* (1 + 1e-4)).
    for slug in ("gn_full", "gn_uniform_0.05", "gn_nonuniform_0.05"):
        assert math.isfinite(summary["runs"][slug + ("" if slug == "gn_full" else "_seed0")][
            "passes_to_0.0001"])
    png = (out / "synthetic.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert (out / "synthetic.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(out.rglob("*.tmp")), "temp files left behind"


def test_rerun_skips_finished_runs(quick_run, tmp_path):
    _, out = quick_run
    before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.csv")}
    # A run whose JSON is missing (killed after its CSV) is redone; the rest are reused.
    (out / "runs" / "gd.json").unlink()
    code = cli.main(["--dataset", "synthetic", "--quick", "--out", str(out),
                           "--no-progress"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["skipped"]) == sorted(
        Path(name).stem for name in before if name != "gd.csv"
    )
    after = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.csv")}
    assert all(after[k] == before[k] for k in before if k != "gd.csv")
    assert (out / "runs" / "gd.json").is_file()


def test_existing_runs_keep_their_names_and_keys():
    """Adding GN and "auto" leaves the file names and configuration hashes of the runs of the
    earlier grid (TR/ARC at fixed sizes, the baselines) as they were: their results stay
    valid. The keys were computed by the code before the change."""
    problem = problems.Problem("toy", np.ones((3, 2)), np.ones(3), np.ones((1, 2)), np.ones(1),
                               "t", True)
    budget = grid.Budget(60, 300.0, 10.0, 1e-10)
    before = {
        "tr_full": "fd00744e5da4c9b9", "tr_uniform_0.05": "8383e9e78defa8f3",
        "tr_nonuniform_0.05": "c697359c00e002b7", "arc_full": "0b9d5e30a40c0af7",
        "arc_uniform_0.05": "247a3f472965fd3e", "arc_nonuniform_0.05": "cc587f8d62b64f54",
        "trust_ncg": "36c4169a5d69b4db", "trust_exact": "28f7947165b91f74",
        "l_bfgs_b": "b5f6e6c514924889", "gd": "28adaebefd33dacc",
    }
    methods = grid.build_grid(["tr", "arc"], ["full", "uniform", "nonuniform"], [0.05],
                              list(grid.BASELINES))
    keys = {m.slug: config_key(runs.run_config(problem, budget, m, 0 if m.stochastic else None,
                                               True), runs.SCHEMA_VERSION)
            for m in methods}
    assert keys == before


def test_sample_size_option_parses_auto():
    args = cli.parse_args([])
    assert args.solvers == ["tr", "arc", "gn"] and args.sample_sizes == [0.05, "auto"]
    assert cli.parse_args(["--sample-sizes", "auto,0.1"]).sample_sizes == ["auto", 0.1]
    for bad in ("0.05,fast", "0", "1.5"):
        with pytest.raises(SystemExit):
            cli.parse_args(["--sample-sizes", bad])
    with pytest.raises(SystemExit):
        cli.parse_args(["--solvers", "tr,newton"])
    # A budget given is kept and checked, 0 included (not replaced by the default).
    for option in ("--max-iter", "--max-passes", "--max-time"):
        for bad in ["0", "-1"] + ([] if option == "--max-iter" else ["nan", "inf"]):
            with pytest.raises(SystemExit, match=option):
                cli.parse_args([option, bad])
    with pytest.raises(SystemExit):
        cli.parse_args(["--gtol", "nan"])
    assert cli.parse_args(["--quick", "--max-iter", "7"]).max_iter == 7
    assert cli.parse_args(["--quick"]).max_passes == 300.0
    # "auto" goes to TR and ARC only (GN has no schedule).
    built = grid.build_grid(["gn", "arc"], ["nonuniform"], ["auto"], [])
    assert [m.label for m in built] == ["ARC nonuniform auto"]


def test_gauss_newton_run_follows_the_solver():
    """The runner's GN run is gauss_newton with the papers' settings, its history unchanged."""
    from randopt.optimize import gauss_newton

    rng = np.random.default_rng(2)
    X = rng.standard_normal((500, 4))
    y = np.where(X[:, 0] + rng.logistic(size=500) > 0, 1.0, -1.0)
    problem = problems.Problem("t", X, y, X, y, "test", True)
    budget = grid.Budget(max_iter=8, max_passes=1e9, max_time=60.0, gtol=0.0)
    objective = problems.make_objective(X, y)
    method = grid.Method("gn", "GN", "nonuniform", 0.1)
    data, outcome = runs.run_one(method, objective, problem, budget, 3)
    res = gauss_newton(objective, np.zeros(4), hessian_sampling="nonuniform",
                       hessian_sample_size=0.1, gtol=0.0, max_iter=8, cg_max_iter=4,
                       random_state=3)
    np.testing.assert_array_equal(data["loss"], res.history["loss"])
    np.testing.assert_array_equal(data["props"], res.history["props"])
    np.testing.assert_array_equal(data["accepted"], res.history["accepted"].astype(int))
    assert outcome["status"] == res.status == 1 and len(data["loss"]) == 9


def test_ijcnn1_without_data_falls_back_and_says_so(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "no_data"
    empty.mkdir()
    monkeypatch.setenv("RANDOPT_DATA", str(empty))
    out = tmp_path / "out"
    code = cli.main(["--dataset", "ijcnn1", "--quick", "--out", str(out), "--no-progress",
                           "--solvers", "tr", "--sampling", "full", "--baselines", "GD",
                           "--max-iter", "5"])
    assert code == 0
    assert "SYNTHETIC" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["synthetic"] is True and "SYNTHETIC" in summary["source"]
    assert "SYNTHETIC DATA" in (out / "summary.md").read_text()
    assert (out / "ijcnn1.png").is_file()


@pytest.mark.parametrize("command", ["experiments.papers", "experiments.reproduce"])
def test_covtype_without_data_exits_2_with_instructions(tmp_path, command):
    """Also through ``python -m experiments.reproduce``, the former command, which runs the
    reproduction for one more release with a DeprecationWarning."""
    env = dict(os.environ, RANDOPT_DATA=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "c"))
    proc = subprocess.run(
        [sys.executable, "-m", command, "--dataset", "covtype", "--quick",
         "--out", str(tmp_path / "out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "covtype.libsvm.binary.scale.bz2" in proc.stderr
    assert "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/" in proc.stderr
    assert str(tmp_path) in proc.stderr
    assert not (tmp_path / "out").exists()
    assert ("DeprecationWarning" in proc.stderr) == command.endswith("reproduce")


def test_quick_on_real_ijcnn1(ijcnn1_path, tmp_path, monkeypatch):
    # A data folder of our own, so that nothing is written next to the shared files.
    home = tmp_path / "data"
    home.mkdir()
    for name in ("ijcnn1.bz2", "ijcnn1.t.bz2"):
        shutil.copyfile(ijcnn1_path.parent / name, home / name)
    monkeypatch.setenv("RANDOPT_DATA", str(home))
    out = tmp_path / "out"
    code = cli.main(["--dataset", "ijcnn1", "--quick", "--out", str(out), "--no-progress",
                           "--solvers", "tr", "--sampling", "full,uniform", "--baselines",
                           "trust-ncg"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["synthetic"] is False and summary["shape"] == [3000, 22]
    # A linear model on ijcnn1 beats the 90.5% of always predicting the majority class.
    best = summary["runs"][summary["f_star_run"]]
    assert best["final_test_accuracy"] > 0.91


def reference_armijo_gd(X, y, n_steps):
    """Gradient descent with Armijo backtracking on mean((b - sigmoid(X w))^2), written from
    the runners' docstring with NumPy: the losses and the props after each step."""
    n = X.shape[0]
    b = (1 + y) / 2

    def f_and_g(w):
        s = 1 / (1 + np.exp(-(X @ w)))
        r = s - b
        return np.mean(r**2), X.T @ (2 * r * s * (1 - s)) / n

    w = np.zeros(X.shape[1])
    f, g = f_and_g(w)
    losses, props, spent, t = [f], [2 * n], 2 * n, 1.0
    for _ in range(n_steps):
        t *= 2
        while True:
            f_trial, g_trial = f_and_g(w - t * g)
            spent += n
            if f_trial <= f - 1e-4 * t * (g @ g):
                break
            t /= 2
        w, f, g = w - t * g, f_trial, g_trial
        spent += 2 * n
        losses.append(f)
        props.append(spent)
    return np.array(losses), np.array(props, dtype=float)


def test_gradient_descent_against_reference():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3))
    y = np.where(X @ np.ones(3) + rng.logistic(size=400) > 0, 1.0, -1.0)
    problem = problems.Problem("t", X, y, X, y, "test", True)
    budget = grid.Budget(max_iter=2, max_passes=1e9, max_time=60.0, gtol=0.0)
    data, outcome = runs.run_gradient_descent(problems.make_objective(X, y), problem, budget)
    assert len(data["loss"]) == 41  # 20x the iteration budget for first-order methods
    assert outcome["status"] == 1  # stopped by the iteration budget
    losses, props = reference_armijo_gd(X, y, 40)
    # Same steps (the step sizes are powers of two, so both take the same branch every
    # time); losses agree to rounding, props (the cost accounting) exactly.
    np.testing.assert_allclose(data["loss"], losses, rtol=1e-12)
    np.testing.assert_array_equal(data["props"], props)
    np.testing.assert_array_equal(data["passes"], props / 400)


def test_scipy_baseline_cost_accounting():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 4))
    y = np.where(X[:, 0] + rng.logistic(size=300) > 0, 1.0, -1.0)
    problem = problems.Problem("t", X, y, X, y, "test", True)
    budget = grid.Budget(max_iter=4, max_passes=1e9, max_time=60.0, gtol=0.0)
    objective = problems.make_objective(X, y)
    calls = {"fun": 0, "hessp": 0}
    from scipy.optimize import minimize

    def fun(w):
        calls["fun"] += 1
        ev = objective.evaluate(w)
        return ev.fun, ev.grad

    def hessp(w, p):
        calls["hessp"] += 1
        return objective.hessian_model(objective.evaluate(w), explicit=True).toarray() @ p

    ref = minimize(fun, np.zeros(4), jac=True, hessp=hessp, method="trust-ncg",
                   options={"maxiter": 4, "gtol": 0.0})
    data, _ = runs.run_scipy(grid.Method("baseline", "trust-ncg"), objective, problem, budget)
    # scipy's own call counts, priced at 3n per (f, g) and 2n per hessp.
    assert data["props"][-1] == 300 * (3 * calls["fun"] + 2 * calls["hessp"])
    np.testing.assert_allclose(data["loss"][-1], ref.fun, rtol=1e-12)


def test_summarize_against_hand_computed_values():
    def run(slug, kind, sampling, loss, passes, time):
        method = grid.Method(kind, kind.upper(), sampling, None).as_dict()
        method["slug"] = slug
        return {"id": slug, "method": method, "seed": None, "data": {
            "loss": np.array(loss), "passes": np.array(passes), "time": np.array(time),
            "test_accuracy": np.array([0.5] * len(loss)),
            "iteration": np.arange(len(loss), dtype=float)}}

    history = [
        run("tr_full", "tr", "full", [2.0, 1.00001, 1.0], [2, 10, 20], [0.0, 1.0, 2.0]),
        run("arc_full", "arc", "full", [2.0, 1.5, 1.00005], [2, 5, 8], [0.0, 0.1, 0.25]),
    ]
    methods = [grid.Method("tr", "TR", "full"), grid.Method("arc", "ARC", "full")]
    s = summaries.summarize(history, methods)
    assert s["f_star"] == 1.0 and s["f_star_run"] == "tr_full"
    tr, arc = s["methods"]
    assert tr["passes_to_0.0001"] == 10 and tr["seconds_to_1e-06"] == 2.0
    assert arc["passes_to_0.0001"] == 8 and math.isnan(arc["passes_to_1e-06"])
    assert arc["speedup_vs_tr_full"] == pytest.approx(1.0 / 0.25)
    table = summaries.markdown_table(s)
    assert "| ARC full | 8 | 0.25 | — | — |" in table


def test_io_is_atomic_and_round_trips(tmp_path):
    cols = {"a": np.array([0.1, 1 / 3, 1e-300]), "b": np.array([1, 2, 3])}
    io.write_csv(tmp_path / "x.csv", cols)
    back = io.read_csv(tmp_path / "x.csv")
    assert back["a"].tolist() == cols["a"].tolist() and back["b"].tolist() == [1.0, 2.0, 3.0]
    io.write_text(tmp_path / "t.txt", "old")
    with pytest.raises(RuntimeError):
        with io.atomic_path(tmp_path / "t.txt") as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert (tmp_path / "t.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt", "x.csv"]
    io.write_json(tmp_path / "j.json", {"nan": float("nan"), "v": np.float64(2.5)})
    assert json.loads((tmp_path / "j.json").read_text()) == {"nan": None, "v": 2.5}


def test_load_finished_refuses_damaged_or_foreign_runs(tmp_path):
    folder = tmp_path / "runs"
    io.write_csv(folder / "gd.csv", {"loss": [2.0, 1.0]})
    io.write_json(folder / "gd.json", {"config_key": "k"})
    data, meta = load_finished(tmp_path, "gd", "k")
    assert data["loss"].tolist() == [2.0, 1.0] and meta == {"config_key": "k"}
    assert load_finished(tmp_path, "gd", "other settings") is None
    (folder / "gd.csv").write_text("loss\nnot a number\n")  # a CSV damaged after the fact
    assert load_finished(tmp_path, "gd", "k") is None
    (folder / "gd.json").write_text("{truncated")
    assert load_finished(tmp_path, "gd", "k") is None
    assert load_finished(tmp_path, "tr_full", "k") is None  # never run


def test_reproduce_names_are_deprecated_aliases():
    """``main`` and ``parse_args`` of experiments.reproduce are the papers' ones, with a
    DeprecationWarning (for one release)."""
    import experiments.reproduce as old

    with pytest.warns(DeprecationWarning, match="experiments.papers"):
        assert old.parse_args is cli.parse_args
    with pytest.warns(DeprecationWarning):
        from experiments.reproduce import main
    assert main is cli.main
