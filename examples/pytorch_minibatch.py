"""A PyTorch network trained by randopt's sub-sampled trust region, through ``torch.func``.

Usage::

    python examples/pytorch_minibatch.py [--quick]

The network (64-32-10, tanh, on scikit-learn's bundled digits) stays a
``torch.nn.Module``; randopt sees a flat float64 parameter vector ``x`` and
the minibatch protocol of :class:`randopt.oracles.MinibatchObjective`:
callables of ``(x, indices)`` returning the *mean* loss, gradient and
Hessian-vector product over those rows of the training data. They are built
from ``torch.func``:

* ``functional_call(net, params, (X[rows],))`` evaluates the network at
  parameters unflattened from ``x`` (without touching ``net``'s own);
* ``grad_and_value`` gives the gradient and the value in one backward pass;
* ``jvp`` of the gradient function is the Hessian-vector product, forward
  over reverse (about the cost of two gradients, Pearlmutter's trick);
* ``jvp`` of the network, the output Hessian of the loss and ``vjp`` give
  the Gauss-Newton product ``J^T H_out J v`` (for ``gauss_newton``).

The trust region then draws a uniform 10% Hessian sample at every iterate.
Needs PyTorch (``pip install torch``; a CPU wheel is enough).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

try:
    import torch
    from torch.func import functional_call, grad_and_value, jvp, vjp
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("This example needs PyTorch: pip install torch (the CPU wheel is enough).")

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from randopt.optimize import trust_region
from randopt.oracles import MinibatchObjective


def minibatch_objective(net: torch.nn.Module, X: np.ndarray, y: np.ndarray,
                        alpha: float = 0.0) -> tuple[MinibatchObjective, np.ndarray, callable]:
    """``net``'s mean cross-entropy on ``(X, y)`` as a MinibatchObjective, ``x0`` and unflatten."""
    names = [name for name, _ in net.named_parameters()]
    shapes = [p.shape for _, p in net.named_parameters()]
    sizes = [p.numel() for _, p in net.named_parameters()]
    x0 = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).double().numpy()
    X_t = torch.as_tensor(X, dtype=torch.float64)
    y_t = torch.as_tensor(y, dtype=torch.long)

    def unflatten(flat: torch.Tensor) -> dict:
        return {n: t.view(s) for n, t, s in zip(names, torch.split(flat, sizes), shapes,
                                                strict=True)}

    def outputs(flat: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        return functional_call(net, unflatten(flat), (X_t[rows],))

    def loss(flat: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        # The mean over the rows: the protocol's convention.
        return torch.nn.functional.cross_entropy(outputs(flat, rows), y_t[rows])

    grad_value = grad_and_value(loss)

    # randopt passes fresh float64 numpy copies of x, v and the indices: from_numpy is safe.
    def fun(x, idx):
        with torch.no_grad():
            return loss(torch.from_numpy(x), torch.from_numpy(idx)).item()

    def value_and_grad(x, idx):
        g, value = grad_value(torch.from_numpy(x), torch.from_numpy(idx))
        return value.item(), g.numpy()

    def gradient(x, idx):
        return value_and_grad(x, idx)[1]

    def hvp(x, v, idx):
        rows = torch.from_numpy(idx)
        _, hv = jvp(lambda p: grad_value(p, rows)[0], (torch.from_numpy(x),),
                    (torch.from_numpy(v),))
        return hv.numpy()

    def gnvp(x, v, idx):
        rows, p = torch.from_numpy(idx), torch.from_numpy(x)
        out, jv = jvp(lambda q: outputs(q, rows), (p,), (torch.from_numpy(v),))
        # H_out J v: the Hessian of the mean loss in the outputs, times J v.
        out_grad = torch.func.grad(lambda o: torch.nn.functional.cross_entropy(o, y_t[rows]))
        _, hjv = jvp(out_grad, (out.detach(),), (jv,))
        return vjp(lambda q: outputs(q, rows), p)[1](hjv)[0].numpy()

    objective = MinibatchObjective(fun, gradient, value_and_grad=value_and_grad, hvp=hvp,
                                   gnvp=gnvp, n_samples=X.shape[0], n_features=x0.shape[0],
                                   alpha=alpha)
    return objective, x0, unflatten


def accuracy(net: torch.nn.Module, params: dict, X: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        logits = functional_call(net, params, (torch.as_tensor(X, dtype=torch.float64),))
    return float((logits.argmax(1).numpy() == y).mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few iterations only")
    parser.add_argument("--max-iter", type=int, default=200)
    args = parser.parse_args(argv)

    digits = load_digits()
    X = digits.data / 16.0
    X_train, X_test, y_train, y_test = train_test_split(X, digits.target, test_size=0.2,
                                                        random_state=0)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(),
                              torch.nn.Linear(32, 10)).double()
    objective, x0, unflatten = minibatch_objective(net, X_train, y_train, alpha=1e-4)
    print(f"{objective!r}")

    max_iter = 8 if args.quick else args.max_iter
    start = time.perf_counter()
    res = trust_region(objective, x0, hessian_sample_size=0.1, hessian_mode="hessp",
                       max_iter=max_iter, random_state=0)
    seconds = time.perf_counter() - start
    params = unflatten(torch.from_numpy(res.x))
    print(f"trust_region, 10% Hessian samples: {res.nit} iterations, {res.nhev} products, "
          f"{res.props / objective.n_samples:.1f} passes, {seconds:.1f} s")
    print(f"  train loss {objective.value(x0):.4f} -> {res.fun:.4f}; test accuracy "
          f"{accuracy(net, unflatten(torch.from_numpy(x0)), X_test, y_test):.3f} -> "
          f"{accuracy(net, params, X_test, y_test):.3f}")


if __name__ == "__main__":
    main()
