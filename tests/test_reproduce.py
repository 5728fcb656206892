"""End-to-end tests of ``python -m experiments.reproduce --quick`` and its helpers."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments import _io, reproduce

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["iteration", "loss", "grad_norm", "test_accuracy", "time", "props", "passes",
           "accepted"]


def _first_reach(data, target):
    for k, f in enumerate(data["loss"]):
        if f <= target:
            return data["passes"][k], data["time"][k]
    return math.nan, math.nan


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("repro")
    code = reproduce.main(["--dataset", "synthetic", "--quick", "--out", str(out),
                           "--no-progress"])
    return code, out


def test_quick_run_writes_well_formed_files(quick_run):
    code, out = quick_run
    assert code == 0
    grid = reproduce.build_grid(["tr", "arc"], ["full", "uniform", "nonuniform"], [0.05],
                                list(reproduce.BASELINES))
    assert len(grid) == 10
    csvs = sorted((out / "runs").glob("*.csv"))
    assert len(csvs) == 10 and len(list((out / "runs").glob("*.json"))) == 10
    summary = json.loads((out / "summary.json").read_text())  # strict JSON (no NaN)
    n = summary["shape"][0]
    assert summary["shape"] == [3000, 23] and summary["synthetic"] is True
    losses = {}
    for path in csvs:
        with open(path) as f:
            assert f.readline().strip().split(",") == COLUMNS
        data = _io.read_csv(path)
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
    assert len(rows) == 10 and "TR nonuniform 5%" in md and "f* =" in md
    png = (out / "synthetic.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert (out / "synthetic.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(out.rglob("*.tmp")), "temp files left behind"


def test_rerun_skips_finished_runs(quick_run, tmp_path):
    _, out = quick_run
    before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.csv")}
    # A run whose JSON is missing (killed after its CSV) is redone; the rest are reused.
    (out / "runs" / "gd.json").unlink()
    code = reproduce.main(["--dataset", "synthetic", "--quick", "--out", str(out),
                           "--no-progress"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["skipped"]) == sorted(
        Path(name).stem for name in before if name != "gd.csv"
    )
    after = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.csv")}
    assert all(after[k] == before[k] for k in before if k != "gd.csv")
    assert (out / "runs" / "gd.json").is_file()


def test_ijcnn1_without_data_falls_back_and_says_so(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "no_data"
    empty.mkdir()
    monkeypatch.setenv("RANDOPT_DATA", str(empty))
    out = tmp_path / "out"
    code = reproduce.main(["--dataset", "ijcnn1", "--quick", "--out", str(out), "--no-progress",
                           "--solvers", "tr", "--sampling", "full", "--baselines", "GD",
                           "--max-iter", "5"])
    assert code == 0
    assert "SYNTHETIC" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["synthetic"] is True and "SYNTHETIC" in summary["source"]
    assert "SYNTHETIC DATA" in (out / "summary.md").read_text()
    assert (out / "ijcnn1.png").is_file()


def test_covtype_without_data_exits_2_with_instructions(tmp_path):
    env = dict(os.environ, RANDOPT_DATA=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "c"))
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.reproduce", "--dataset", "covtype", "--quick",
         "--out", str(tmp_path / "out")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "covtype.libsvm.binary.scale.bz2" in proc.stderr
    assert "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/binary/" in proc.stderr
    assert str(tmp_path) in proc.stderr
    assert not (tmp_path / "out").exists()


def test_quick_on_real_ijcnn1(ijcnn1_path, tmp_path, monkeypatch):
    monkeypatch.setenv("RANDOPT_DATA", str(ijcnn1_path.parent))
    out = tmp_path / "out"
    code = reproduce.main(["--dataset", "ijcnn1", "--quick", "--out", str(out), "--no-progress",
                           "--solvers", "tr", "--sampling", "full,uniform", "--baselines",
                           "trust-ncg"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["synthetic"] is False and summary["shape"] == [3000, 22]
    # A linear model on ijcnn1 beats the 90.5% of always predicting the majority class.
    best = summary["runs"][summary["f_star_run"]]
    assert best["final_test_accuracy"] > 0.91


def test_gradient_descent_cost_accounting():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3))
    y = np.where(X @ np.ones(3) + rng.logistic(size=400) > 0, 1.0, -1.0)
    problem = reproduce.Problem("t", X, y, X, y, "test", True)
    from randopt.oracles import NonlinearLeastSquares

    f = NonlinearLeastSquares(X, y)
    budget = reproduce.Budget(max_iter=2, max_passes=1e9, max_time=60.0, gtol=0.0)
    data, outcome = reproduce._run_gd(f, problem, budget)
    assert len(data["loss"]) == 41  # 20x the iteration budget for first-order methods
    steps = np.diff(data["props"]) / 400
    # 2 passes per accepted gradient + 1 per trial value, at least one trial per step.
    assert np.all(steps >= 3) and np.all(steps == np.round(steps))
    # Armijo: each accepted step decreases f.
    assert np.all(np.diff(data["loss"]) < 0)
    assert outcome["status"] == 1  # stopped by the iteration budget


def test_summarize_against_hand_computed_values():
    def run(slug, kind, sampling, loss, passes, time):
        method = reproduce.Method(kind, kind.upper(), sampling, None).as_dict()
        method["slug"] = slug
        return {"id": slug, "method": method, "seed": None, "data": {
            "loss": np.array(loss), "passes": np.array(passes), "time": np.array(time),
            "test_accuracy": np.array([0.5] * len(loss)),
            "iteration": np.arange(len(loss), dtype=float)}}

    runs = [
        run("tr_full", "tr", "full", [2.0, 1.00001, 1.0], [2, 10, 20], [0.0, 1.0, 2.0]),
        run("arc_full", "arc", "full", [2.0, 1.5, 1.00005], [2, 5, 8], [0.0, 0.1, 0.25]),
    ]
    grid = [reproduce.Method("tr", "TR", "full"), reproduce.Method("arc", "ARC", "full")]
    s = reproduce.summarize(runs, grid)
    assert s["f_star"] == 1.0 and s["f_star_run"] == "tr_full"
    tr, arc = s["methods"]
    assert tr["passes_to_0.0001"] == 10 and tr["seconds_to_1e-06"] == 2.0
    assert arc["passes_to_0.0001"] == 8 and math.isnan(arc["passes_to_1e-06"])
    assert arc["speedup_vs_tr_full"] == pytest.approx(1.0 / 0.25)
    table = reproduce.markdown_table(s)
    assert "| ARC full | 8 | 0.25 | — | — |" in table


def test_io_is_atomic_and_round_trips(tmp_path):
    cols = {"a": np.array([0.1, 1 / 3, 1e-300]), "b": np.array([1, 2, 3])}
    _io.write_csv(tmp_path / "x.csv", cols)
    back = _io.read_csv(tmp_path / "x.csv")
    assert back["a"].tolist() == cols["a"].tolist() and back["b"].tolist() == [1.0, 2.0, 3.0]
    _io.write_text(tmp_path / "t.txt", "old")
    with pytest.raises(RuntimeError):
        with _io.atomic_path(tmp_path / "t.txt") as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    assert (tmp_path / "t.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt", "x.csv"]
    _io.write_json(tmp_path / "j.json", {"nan": float("nan"), "v": np.float64(2.5)})
    assert json.loads((tmp_path / "j.json").read_text()) == {"nan": None, "v": 2.5}
