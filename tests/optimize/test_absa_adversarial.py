"""ABSA's schedule (growth rule, learning rate, adversarial fraction) and its FGSM training."""

import math

import numpy as np
import pytest

from randopt.optimize import adaptive_batch_sgd
from randopt.optimize.adaptive_batch import BatchSchedule
from randopt.oracles import LogisticObjective

NAN = math.nan


def test_growth_rule_on_a_constructed_eigenvalue_sequence():
    s = BatchSchedule(16, 1024, 0.1, adversarial_fraction=0.4)
    lams = [10.0, 8.0, 5.0, 4.0, NAN, 2.6, 2.5, 2.4, 1.0, 0.7]
    grew = [s.end_epoch(lam) for lam in lams]
    # the reference is the first estimate, then the estimate at each growth; growth at <= ref/2
    # 5 <= 10/2 grows (the bound is inclusive); then 2.5 <= 5/2, then 1.0 <= 2.5/2
    assert grew == [False, False, True, False, False, False, True, False, True, False]
    assert s.reference == 1.0 and s.batch_size == 128
    assert s.learning_rate == 0.1 * 128 / 16
    assert s.adversarial_fraction == 0.4 / 8
    assert s.end_epoch(0.5) and s.batch_size == 256 and s.reference == 0.5


def test_patience_grows_after_that_many_epochs_without_growth():
    s = BatchSchedule(10, 80, 1.0, patience=3, scale_learning_rate=False)
    lams = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 1.0]
    grew = [s.end_epoch(lam) for lam in lams]
    # epoch 1 sets the reference; 3 epochs without growth: growth at epochs 3 and 6;
    # 0.5 <= 1/2 at epoch 7 (the cap, 80 rows: no more growth)
    assert grew == [False, False, True, False, False, True, True, False]
    assert s.batch_size == 80 and s.learning_rate == 1.0 and not s.growing


def test_patience_counts_epochs_without_an_estimate_too():
    s = BatchSchedule(1, 8, 1.0, patience=2)
    assert [s.end_epoch(lam) for lam in (3.0, NAN, NAN, NAN)] == [False, True, False, True]
    assert s.reference == 3.0 and s.batch_size == 4


def test_the_adversarial_fraction_halves_at_every_growth_and_ends_at_the_cap():
    s = BatchSchedule(4, 40, 0.1, patience=1, adversarial_fraction=0.5)
    fractions, sizes = [s.adversarial_fraction], [s.batch_size]
    for lam in (1.0, 1.0, 1.0, 1.0, 1.0):
        s.end_epoch(lam)
        fractions.append(s.adversarial_fraction)
        sizes.append(s.batch_size)
    assert sizes == [4, 4, 8, 16, 32, 40]
    assert fractions == [0.5, 0.5, 0.25, 0.125, 0.0625, 0.0]
    assert not s.growing and not s.end_epoch(0.0)


def test_a_fixed_batch_has_no_adversarial_rows():
    s = BatchSchedule(32, 32, 0.1, adversarial_fraction=0.3)
    assert s.adversarial_fraction == 0.0 and not s.growing


@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"max_batch_size": 4}, ValueError, "max_batch_size"),
    ({"learning_rate": -1.0}, ValueError, "learning_rate"),
    ({"growth_factor": 1.0}, ValueError, "growth_factor"),
    ({"eigen_drop": 0.5}, ValueError, "eigen_drop"),
    ({"patience": 0}, ValueError, "patience"),
    ({"adversarial_fraction": 1.5}, ValueError, "adversarial_fraction"),
    ({"adversarial_fraction": NAN}, ValueError, "adversarial_fraction"),
    ({"adversarial_fraction": "0.2"}, TypeError, "adversarial_fraction"),
    ({"scale_learning_rate": "yes"}, TypeError, "scale_learning_rate"),
])
def test_schedule_entry_checks(kwargs, error, match):
    args = {"batch_size": 8, "max_batch_size": 64, "learning_rate": 0.1, **kwargs}
    b, m, lr = args.pop("batch_size"), args.pop("max_batch_size"), args.pop("learning_rate")
    with pytest.raises(error, match=match):
        BatchSchedule(b, m, lr, **args)


jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")


@pytest.fixture(scope="module", autouse=True)
def x64():
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def _linear_objective(n=64, seed=0):
    from randopt.oracles import JaxObjective
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(n)
    return JaxObjective(None, jnp.zeros(3), (X, y), model=lambda p, X: X @ p,
                        output_loss=lambda o, t: 0.5 * jnp.mean((o - t) ** 2))


def recording(f):
    """``f`` with its batch gradients recorded (rows of every call)."""
    calls = []
    gradient, fgsm_gradient = f.gradient, f.fgsm_gradient

    def clean(w, sample=None):
        calls.append(("clean", np.asarray(sample.indices)))
        return gradient(w, sample)

    def fgsm(w, rows, epsilon):
        calls.append(("fgsm", np.asarray(rows), epsilon))
        return fgsm_gradient(w, rows, epsilon)

    f.gradient, f.fgsm_gradient = clean, fgsm
    return f, calls


def test_adversarial_rows_follow_the_schedule_and_are_charged():
    f, calls = recording(_linear_objective())
    res = adaptive_batch_sgd(f, np.zeros(3), learning_rate=0.02, batch_size=8,
                             max_batch_size=64, patience=1, epochs=6, momentum=0.0,
                             adversarial_fraction=0.5, adversarial_epsilon=0.1,
                             adversarial_epochs=3, random_state=0)
    h = res.history
    assert h["batch_size"].tolist() == [8, 8, 16, 32, 64, 64, 64]
    # halved at every growth; none from the fourth epoch on (adversarial_epochs=3)
    assert h["adversarial_fraction"].tolist() == [0.5, 0.5, 0.25, 0.0, 0.0, 0.0, 0.0]
    fgsm = [c for c in calls if c[0] == "fgsm"]
    # epoch 1 and 2: 8 batches of 8 rows with 4 FGSM rows; epoch 3: 4 batches of 16 with 4
    assert [c[1].size for c in fgsm] == [4] * 16 + [4] * 4
    assert all(c[2] == 0.1 for c in fgsm)
    # every batch: FGSM rows and clean rows are disjoint and make up the batch
    clean = [c for c in calls if c[0] == "clean"]
    assert [c[1].size for c in clean[:20]] == [4] * 16 + [12] * 4
    for a, c in zip(fgsm, clean[:20], strict=True):
        assert np.intersect1d(a[1], c[1]).size == 0
    # props: 2 per row of every batch, 2 more per FGSM row (its input gradient), plus the
    # Hessian-vector products of the checks
    batches = 2 * (8 * 8 + 4 * 16 + 2 * 32 + 1 * 64 + 1 * 64 + 1 * 64)
    assert res.props == batches + 2 * 4 * 20 + 2 * 8 * res.nhev


def test_the_adversarial_gradient_is_the_weighted_mean_of_both_parts():
    f = _linear_objective()
    rows = np.arange(10)
    from randopt.optimize.adaptive_batch import _adversarial_gradient
    w = np.array([0.3, -0.2, 0.1])
    g = _adversarial_gradient(f, w, rows, 4, 0.2)
    expected = 0.4 * f.fgsm_gradient(w, rows[:4], 0.2) + 0.6 * f.gradient(w, rows[4:])
    assert np.allclose(g, expected, atol=1e-15)


def test_without_adversarial_options_the_run_is_unchanged():
    # the default path (no FGSM) gives the same history as a run that names the defaults
    f = _linear_objective()
    a = adaptive_batch_sgd(f, np.zeros(3), learning_rate=0.02, batch_size=8, patience=2,
                           epochs=4, random_state=1)
    b = adaptive_batch_sgd(f, np.zeros(3), learning_rate=0.02, batch_size=8, patience=2,
                           epochs=4, random_state=1, adversarial_fraction=0.0,
                           adversarial_epsilon=0.0)
    assert np.array_equal(a.x, b.x) and set(a.history["adversarial_fraction"]) == {0.0}


@pytest.mark.parametrize("kwargs, error, match", [
    ({"adversarial_fraction": 0.2}, ValueError, "adversarial_epsilon"),
    ({"adversarial_epsilon": 0.1}, ValueError, "adversarial_fraction"),
    ({"adversarial_fraction": 0.2, "adversarial_epsilon": -0.1}, ValueError,
     "adversarial_epsilon"),
    ({"adversarial_fraction": 0.2, "adversarial_epsilon": NAN}, ValueError,
     "adversarial_epsilon"),
    ({"adversarial_fraction": -0.2, "adversarial_epsilon": 0.1}, ValueError,
     "adversarial_fraction"),
    ({"adversarial_fraction": True, "adversarial_epsilon": 0.1}, TypeError,
     "adversarial_fraction"),
    ({"adversarial_fraction": 0.2, "adversarial_epsilon": 0.1, "adversarial_epochs": -1},
     ValueError, "adversarial_epochs"),
    ({"adversarial_fraction": 0.2, "adversarial_epsilon": 0.1, "adversarial_epochs": 1.5},
     TypeError, "adversarial_epochs"),
])
def test_adversarial_entry_checks(kwargs, error, match):
    with pytest.raises(error, match=match):
        adaptive_batch_sgd(_linear_objective(), np.zeros(3), batch_size=8, epochs=1, **kwargs)


def test_adversarial_training_needs_input_gradients():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    f = LogisticObjective(X, (X[:, 0] > 0).astype(int))
    with pytest.raises(TypeError, match="fgsm_gradient"):
        adaptive_batch_sgd(f, np.zeros(3), batch_size=8, adversarial_fraction=0.2,
                           adversarial_epsilon=0.1)


def test_fgsm_gradient_hostile_inputs():
    from randopt.oracles import JaxObjective
    f = _linear_objective()
    w = np.zeros(3)
    for eps, error in ((-1.0, ValueError), (NAN, ValueError), ("0.1", TypeError),
                       (math.inf, ValueError)):
        with pytest.raises(error, match="epsilon"):
            f.fgsm_gradient(w, [0, 1], eps)
    with pytest.raises(ValueError):
        f.fgsm_gradient(w, [0, 999], 0.1)
    with pytest.raises(ValueError):
        f.input_gradient(np.zeros(4), [0, 1])
    w_nan = np.array([np.nan, 0.0, 0.0])
    with pytest.raises(ValueError):
        f.input_gradient(w_nan, [0])
    loss_only = JaxObjective(lambda p, b: jnp.mean(b[0] @ p), jnp.zeros(3), (np.ones((5, 3)),))
    for call in (lambda: loss_only.input_gradient(np.zeros(3), [0]),
                 lambda: loss_only.fgsm_gradient(np.zeros(3), [0], 0.1)):
        with pytest.raises(TypeError, match="model and output_loss"):
            call()
    before = w.copy()
    f.fgsm_gradient(w, [0, 1], 0.1)
    assert np.array_equal(w, before)
