"""End-to-end tests of ``experiments.networks.spectrum`` (the Hessian spectrum) and
``experiments.networks.absa`` (adaptive batch size): ``--quick`` into temporary folders, and
their resumption."""

import json

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")
pytest.importorskip("matplotlib")

from experiments.common import io  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_jax_settings(monkeypatch):
    """The experiments turn on x64 and may set XLA_FLAGS: both are restored afterwards."""
    import jax

    before = jax.config.read("jax_enable_x64")
    monkeypatch.setenv("XLA_FLAGS", "")
    yield
    jax.config.update("jax_enable_x64", before)


def test_hessian_spectrum_quick_writes_checked_results_and_resumes(tmp_path, capsys):
    from experiments.networks import spectrum

    out = tmp_path / "spectrum"
    assert spectrum.main(["--quick", "--out", str(out)]) == 0
    for name in ("weights.csv", "train.json", "analysis.json", "density.csv", "dense.json",
                 "dense_eigenvalues.csv", "summary.json", "summary.md",
                 "spectrum-digits-quick.png", "spectrum-digits-quick.pdf"):
        assert (out / name).is_file(), name
    analysis = json.loads((out / "analysis.json").read_text())
    lam = io.read_csv(out / "dense_eigenvalues.csv")["eigenvalue"]
    dense = json.loads((out / "dense.json").read_text())
    # Lanczos against eigvalsh of the dense jax.hessian: within the residual bounds
    # (plus the rounding of products, O(d eps ||H||)).
    top = analysis["full"]["top"]
    slack = 100 * lam.size * np.finfo(float).eps * np.abs(lam).max()
    assert np.all(np.abs(np.array(top["eigenvalues"]) - lam[::-1][:3])
                  <= np.array(top["residuals"]) + slack)
    assert abs(analysis["full"]["bottom"]["eigenvalues"][0] - lam[0]) <= (
        analysis["full"]["bottom"]["residuals"][0] + slack)
    assert abs(dense["trace"] - lam.sum()) <= 1e-9 * np.abs(lam).sum()
    density = io.read_csv(out / "density.csv")
    assert abs(np.trapezoid(density["density_full"], density["grid_full"]) - 1) < 1e-2
    md = (out / "summary.md").read_text()
    assert "Measured: the top eigenvalue from products" in md
    # A rerun reuses every step (nothing recomputed: the step files are unchanged).
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if p.name != "summary.json"}
    capsys.readouterr()
    assert spectrum.main(["--quick", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("reused") == 3
    assert stamps == {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")
                      if p.name != "summary.json"}


def test_adaptive_batch_quick_writes_runs_and_resumes(tmp_path, capsys):
    from experiments.networks import absa

    out = tmp_path / "absa"
    assert absa.main(["--quick", "--out", str(out)]) == 0
    for run in ("small_s0", "large_s0", "absa_s0"):
        data = io.read_csv(out / "runs" / f"{run}.csv")
        meta = json.loads((out / "runs" / f"{run}.json").read_text())
        assert data["epoch"].tolist() == list(range(6))
        assert int(data["updates"][-1]) == meta["updates"]
        assert np.all((data["test_accuracy"] >= 0) & (data["test_accuracy"] <= 1))
    small = io.read_csv(out / "runs" / "small_s0.csv")
    large = io.read_csv(out / "runs" / "large_s0.csv")
    # 400 rows: 25 updates per epoch of 16 rows, 3 of 128 (the leftover rows skipped).
    assert np.all(np.diff(small["updates"]) == 25) and np.all(np.diff(large["updates"]) == 3)
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["methods"]) == ["small", "large", "absa"]
    for name in ("summary.md", "absa-digits-quick.png", "absa-digits-quick.pdf"):
        assert (out / name).is_file()
    capsys.readouterr()
    assert absa.main(["--quick", "--out", str(out)]) == 0
    assert capsys.readouterr().err.count("reused") == 3
