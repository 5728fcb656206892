"""Every command the README names runs as ``python -m <module>`` (its ``__main__`` guard calls
its ``main``): ``--help``, the module's code executed as ``__main__``, in-process."""

import ast
import contextlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

COMMANDS = [
    "experiments.papers",
    "experiments.reproduce",  # the deprecated alias (one release)
    "experiments.networks.mlp",
    "experiments.networks.autoencoder",
    "experiments.networks.spectrum",
    "experiments.networks.absa",
    "benchmarks.bench_sketch",
    "benchmarks.bench_solvers",
    "benchmarks.bench_classifier",
    "benchmarks.bench_norms",
    "benchmarks.bench_dask",
    "benchmarks.bench_jax",
    "benchmarks.bench_multiclass_losses",
    "benchmarks.bench_two_to_q",
    "benchmarks.bench_inexact_newton",
]


def run_as_main(module: str) -> None:
    """What ``python -m module`` executes: the module's (or the package's ``__main__.py``)
    code under the name ``__main__``, in its package (so relative imports work)."""
    path = Path(importlib.util.find_spec(module).origin)
    package = module.rpartition(".")[0]
    if path.name == "__init__.py":
        path, package = path.with_name("__main__.py"), module
    source = path.read_text()
    guards = [node for node in ast.parse(source).body if isinstance(node, ast.If)
              and ast.unparse(node.test) in ("__name__ == '__main__'", "'__main__' == __name__")]
    # The guard hands over to main (so --help below proves main's parser is reached from it).
    assert any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "main"
               for g in guards for n in ast.walk(g)), f"{path}: no main() under __main__"
    code = compile(source, str(path), "exec")
    exec(code, {"__name__": "__main__", "__package__": package, "__file__": str(path)})


@pytest.mark.parametrize("module", COMMANDS)
def test_command_runs_its_main(module, monkeypatch, capsys):
    if "networks" in module or module.endswith("bench_jax"):
        pytest.importorskip("jax")
    # bench_jax sets XLA_FLAGS when run; keep that out of this process's environment.
    monkeypatch.setenv("XLA_FLAGS", os.environ.get("XLA_FLAGS", ""))
    monkeypatch.setattr(sys, "argv", [module, "--help"])
    with (pytest.warns(DeprecationWarning) if module.endswith("reproduce")
          else contextlib.nullcontext()):
        with pytest.raises(SystemExit) as exit_:
            run_as_main(module)
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage:")
