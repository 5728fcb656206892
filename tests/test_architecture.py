"""The architecture contract: layers and forbidden imports (import-linter, `.importlinter`), no
private name imported across subpackages, no module in randopt/ above 400 lines of code
(docstrings, comments and blank lines excluded), helper modules named ``_name.py`` and plain
modules public (exported by their package), and imports of
randopt (the package, and every module outside the operand layer's own) that load no Dask and
compile no Numba kernel (and every kernel has ``cache=True``).

Each checker is also run on a small package written by the test with one violation of each
kind, so that a checker that stopped seeing violations would fail here.
"""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "randopt"
CONFIG = ROOT / ".importlinter"
MAX_CODE_LINES = 400


# --------------------------------------------------------------------------- import-linter


def lint_imports(config: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run `lint-imports` on ``config`` from ``cwd`` (no cache folder written)."""
    code = "from importlinter.cli import lint_imports_command as cli; cli()"
    env = dict(os.environ, PYTHONPATH=str(cwd))
    return subprocess.run(
        [sys.executable, "-c", code, "--no-cache", "--config", str(config)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


def test_import_contracts_kept():
    pytest.importorskip("importlinter", reason="pip install import-linter (in the test extra)")
    proc = lint_imports(CONFIG, ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def write_package(root: Path, modules: dict[str, str]) -> None:
    """Write modules ``{dotted name: source}``; a name with children becomes a package."""
    for name, source in modules.items():
        parts = name.split(".")
        if any(other.startswith(name + ".") for other in modules):
            path = root.joinpath(*parts, "__init__.py")
        else:
            path = root.joinpath(*parts[:-1], parts[-1] + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


LAYER_MODULES = ("_validation", "_deprecation", "operands", "linalg", "sketch", "oracles",
                 "optimize", "norms", "estimators", "datasets")


@pytest.mark.parametrize(
    "offender, source, contract",
    [
        ("sketch", "import randopt.optimize\n", "randopt layers"),
        ("operands", "from randopt import oracles\n", "randopt layers"),
        ("norms", "from randopt.optimize import x\n", "randopt layers"),
        ("linalg", "import randopt.sketch\n", "randopt layers"),
        ("operands", "from randopt.linalg import x\n", "randopt layers"),
        ("linalg", "import dask\n", "Only randopt.operands imports Dask"),
        ("datasets", "import randopt.estimators\n", "randopt layers"),
        ("oracles", "import dask.array\n", "Only randopt.operands imports Dask"),
        # Indirect: sketch -> operands -> dask (an eager import of the Dask backend).
        ("operands", "import distributed\n", "Only randopt.operands imports Dask"),
        ("estimators", "import experiments.papers\n", "does not import the experiments"),
        ("optimize", "import benchmarks.timing\n", "does not import the experiments"),
    ],
)
def test_import_contracts_catch_violations(tmp_path, offender, source, contract):
    pytest.importorskip("importlinter", reason="pip install import-linter (in the test extra)")
    modules = {"randopt": ""}
    for name in LAYER_MODULES:
        modules[f"randopt.{name}"] = "x = 1\n"
    modules["randopt.sketch"] = "import randopt.operands\nx = 1\n"
    modules[f"randopt.{offender}"] += source
    modules.update({"experiments": "", "experiments.papers": "",
                    "benchmarks": "", "benchmarks.timing": ""})
    write_package(tmp_path, modules)
    proc = lint_imports(CONFIG, tmp_path)
    assert proc.returncode != 0, proc.stdout
    broken = [line for line in proc.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line for line in broken), proc.stdout
    assert "1 broken" in proc.stdout, proc.stdout


# --------------------------------------------------------------------------- private names


def subpackage(module: str) -> str:
    """``randopt.X`` for any module inside ``randopt.X`` (``randopt`` for the root)."""
    parts = module.split(".")
    return ".".join(parts[:2])


def resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute name of a relative import ``from <level dots><target> import ...``."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def private_owner(dotted: str) -> str | None:
    """The package a private name in ``dotted`` belongs to, or None when all parts are public.

    ``randopt.oracles._kernels.f`` and ``randopt.oracles.base._fused`` belong to
    ``randopt.oracles``; a private module of the root (``randopt._validation``) is shared by
    the whole package.
    """
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return ".".join(parts[: max(i, 2)]) if i > 1 else "randopt"
    return None


def cross_subpackage_private_imports(module: str, source: str, is_package: bool) -> list[str]:
    """``line: what`` for every import in ``source`` of a private name of another subpackage."""
    found = []
    here = subpackage(module)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, is_package, node.level, node.module)
            targets = [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
        else:
            continue
        for target in targets:
            if not (target == "randopt" or target.startswith("randopt.")):
                continue
            owner = private_owner(target)
            if owner is None or owner == "randopt":
                continue
            if subpackage(owner) != here:
                found.append(f"{node.lineno}: {target}")
    return found


def iter_modules(package_dir: Path):
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir.parent).with_suffix("")
        parts = list(rel.parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        yield path, ".".join(parts), is_package


def test_private_import_checker_catches_violations():
    cases = {
        "from randopt.oracles._kernels import LOSS_CODES": 1,
        "from ..oracles import _kernels": 1,
        "from ..oracles.base import _fused, FiniteSum": 1,
        "import randopt.sketch._kernels as k": 1,
        "from .._validation import check_scalar, _check_dtype": 0,  # the shared module
        "from ..oracles import FiniteSum": 0,
        "from . import _kernels": 0,  # inside its own subpackage
        "from .base import _private_helper": 0,
        "from __future__ import annotations": 0,
    }
    for source, expected in cases.items():
        found = cross_subpackage_private_imports("randopt.estimators.classifier", source, False)
        assert len(found) == expected, (source, found)
    assert cross_subpackage_private_imports(
        "randopt.sketch", "from ._kernels import fwht", True
    ) == []
    assert cross_subpackage_private_imports(
        "randopt.estimators", "from .sketch._kernels import fwht", False
    ) == ["1: randopt.sketch._kernels.fwht"]


def test_no_private_import_across_subpackages():
    violations = []
    for path, module, is_package in iter_modules(PACKAGE):
        for hit in cross_subpackage_private_imports(module, path.read_text(), is_package):
            violations.append(f"{path.relative_to(ROOT)}:{hit}")
    assert not violations, "private names imported across subpackages:\n" + "\n".join(
        violations
    )


# --------------------------------------------------------------------------- file sizes


def code_lines(source: str) -> int:
    """Lines of ``source`` holding code: docstrings, comments and blank lines excluded.

    A line counts when a token other than a comment or a line break starts, ends or
    spans it, and it is not part of a module, class or function docstring.
    """
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - docstrings)


def modules_above_code_limit(package_dir: Path, limit: int = MAX_CODE_LINES) -> dict:
    """``{path: code lines}`` for every module of ``package_dir`` above ``limit``."""
    too_long = {}
    for path in sorted(package_dir.rglob("*.py")):
        n = code_lines(path.read_text(encoding="utf-8"))
        if n > limit:
            too_long[str(path.relative_to(package_dir.parent))] = n
    return too_long


def test_code_line_counter_and_limit_catch_violations(tmp_path):
    source = textwrap.dedent(
        '''
        """Module docstring.

        Two more lines.
        """
        # a comment

        def f(x):
            """Docstring."""
            y = (x +  # trailing comment
                 1)
            return y
        '''
    )
    assert code_lines(source) == 4  # def, the two lines of y = ..., return
    body = "\n".join(f"x{i} = {i}" for i in range(MAX_CODE_LINES + 1))
    doc = '"""' + "\n" * 2000 + '"""\n'  # long docstrings do not count
    write_package(tmp_path, {"fakepkg": "", "fakepkg.big": body + "\n",
                             "fakepkg.wordy": doc + "x = 1\n" + "# c\n" * 2000})
    assert modules_above_code_limit(tmp_path / "fakepkg") == {
        os.path.join("fakepkg", "big.py"): MAX_CODE_LINES + 1
    }


def test_no_module_above_400_code_lines():
    too_long = modules_above_code_limit(PACKAGE)
    assert not too_long, (
        f"modules above {MAX_CODE_LINES} lines of code (two concepts share them? split by "
        f"concept): {too_long}"
    )


# --------------------------------------------------------------------------- import side effects

IMPORT_PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys
    randopt = importlib.import_module(sys.argv[2])
    after_bare = sorted(m for m in ("dask", "distributed", "numba") if m in sys.modules)
    skipped, errors = [], {}
    def record(name):
        errors[name] = repr(sys.exc_info()[1])

    if sys.argv[1] == "all":
        names = [info.name for info in pkgutil.walk_packages(
            randopt.__path__, randopt.__name__ + ".", onerror=record)]
        for name in names:
            if name.startswith(randopt.__name__ + ".operands."):
                # The operand layer's own modules may use Dask (its lazily registered
                # backend and helpers); the package itself, imported by every layer above,
                # must not.
                skipped.append(name)
                continue
            try:
                importlib.import_module(name)
            except Exception as err:  # reported, so the test can say which module failed
                errors[name] = f"{type(err).__name__}: {err}"
    dask_loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
    for name in skipped:  # now the operand layer's own modules, for the Numba checks
        try:
            importlib.import_module(name)
        except Exception as err:
            errors[name] = f"{type(err).__name__}: {err}"
    compiled, uncached = [], []
    try:
        from numba.core.caching import NullCache
        from numba.core.dispatcher import Dispatcher
    except ImportError:
        Dispatcher = None
    if Dispatcher is not None:
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] != randopt.__name__:
                continue
            for attr, value in vars(module).items():
                if not isinstance(value, Dispatcher) or value.py_func.__module__ != name:
                    continue
                if value.signatures:
                    compiled.append(f"{name}.{attr}")
                if isinstance(getattr(value, "_cache", None), NullCache):
                    uncached.append(f"{name}.{attr}")
    print(json.dumps({
        "after_bare_import": after_bare,
        "dask_loaded": dask_loaded,
        "compiled": sorted(compiled), "uncached": sorted(uncached), "errors": errors,
        "skipped": skipped,
    }))
    """
)


def probe_imports(what: str, package: str = "randopt", cwd: Path = ROOT) -> dict:
    """Import ``package`` ("bare") or all its modules ("all") in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env["PYTHONPATH"] = str(cwd)
    proc = subprocess.run([sys.executable, "-c", IMPORT_PROBE, what, package], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_randopt_loads_nothing_heavy():
    report = probe_imports("bare")
    assert report["after_bare_import"] == []  # subpackages load on first use
    assert report["compiled"] == []


def test_importing_every_module_loads_no_dask_and_compiles_nothing():
    report = probe_imports("all")
    assert report["errors"] == {}
    assert "randopt.operands" not in report["skipped"]
    assert report["dask_loaded"] == [], "Dask imported outside the modules of randopt.operands"
    assert report["compiled"] == [], "Numba kernels compiled (or cache-loaded) at import"
    assert report["uncached"] == [], "Numba kernels without cache=True"


def test_import_probe_sees_dask_and_compilation(tmp_path):
    write_package(tmp_path, {
        "fakepkg": "",
        "fakepkg.operands": "",
        "fakepkg.operands.backend": "import dask\n",  # allowed: the operand layer's own
        "fakepkg.kernels": textwrap.dedent(
            """
            import numba

            @numba.njit(cache=False)
            def twice(x):
                return 2 * x

            lazy = numba.njit(cache=False)(lambda x: x + 1)
            twice(1.0)  # compiled at import: what randopt must never do
            """
        ),
        "fakepkg.oracles": "import dask.array\n",
    })
    report = probe_imports("all", "fakepkg", tmp_path)
    assert report["compiled"] == ["fakepkg.kernels.twice"]
    assert report["uncached"] == ["fakepkg.kernels.lazy", "fakepkg.kernels.twice"]
    assert "dask" in report["dask_loaded"] and report["skipped"] == ["fakepkg.operands.backend"]
    assert report["errors"] == {}
    assert probe_imports("bare", "fakepkg", tmp_path)["after_bare_import"] == []


def test_public_names_load_on_first_use():
    import randopt

    for name in randopt.__all__:
        assert getattr(randopt, name) is not None, name
        assert name in dir(randopt)
    assert randopt.lstsq is randopt.sketch.lstsq
    assert randopt.SketchedLinearRegression is randopt.estimators.SketchedLinearRegression
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        randopt.nonexistent  # noqa: B018


def test_wheel_ships_every_randopt_package_and_nothing_else():
    setupcfg = pytest.importorskip("setuptools.config.setupcfg")
    packages = setupcfg.read_configuration(ROOT / "setup.cfg")["options"]["packages"]
    on_disk = sorted(
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in PACKAGE.rglob("__init__.py")
        if "__pycache__" not in path.parts
    )
    # A folder of modules without __init__.py would silently be left out of the wheel.
    folders = sorted(
        ".".join(p.relative_to(ROOT).parts) for p in [PACKAGE, *PACKAGE.rglob("*")]
        if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))
    )
    assert folders == on_disk
    assert sorted(packages) == on_disk  # experiments/ and tests/ are not installed


# --------------------------------------------------------------------------- helper-module names
#: Plain modules that break the naming rule below while their owners rename them (issue 17).
PENDING_RENAMES = {"randopt.operands": {"dask_array", "parallel"}}
NAMING_RULE_PACKAGES = sorted(
    ".".join(path.parent.relative_to(ROOT).parts) for path in PACKAGE.rglob("__init__.py")
    if "__pycache__" not in path.parts
)


def misnamed_modules(package_dir: Path) -> list[str]:
    """Plain modules of ``package_dir`` (a package) that its ``__init__`` does not export from.

    The rule (issue 17): ``_name.py`` is a helper used only inside its subpackage (the
    private-import check above enforces that); a plain ``name.py`` is a public module,
    one the package's ``__init__`` imports names from.  A module whose docstring starts
    with "Deprecated alias" (a renamed module kept for one release) is exempt.
    """
    init = package_dir / "__init__.py"
    exported: set[str] = set()
    for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                exported.add(node.module.split(".")[0])
            else:
                exported.update(alias.name for alias in node.names)
    found = []
    for path in sorted(package_dir.glob("*.py")):
        name = path.stem
        if name.startswith("_") or name in exported:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if doc.startswith("Deprecated alias"):
            continue
        found.append(name)
    return found


def test_helper_module_naming_rule_catches_violations(tmp_path):
    write_package(tmp_path, {
        "fakepkg": "from .public import f\nfrom . import other\n",
        "fakepkg.public": "def f():\n    pass\n",
        "fakepkg.other": "",
        "fakepkg._helper": "",
        "fakepkg.helper": "x = 1\n",  # a helper named as if public: the violation
        "fakepkg.old": '"""Deprecated alias of fakepkg._helper."""\n',
    })
    assert misnamed_modules(tmp_path / "fakepkg") == ["helper"]


@pytest.mark.parametrize("package", NAMING_RULE_PACKAGES)
def test_helper_modules_are_private_and_plain_modules_public(package):
    package_dir = ROOT.joinpath(*package.split("."))
    found = set(misnamed_modules(package_dir)) - PENDING_RENAMES.get(package, set())
    assert not found, (
        f"plain modules of {package} whose names it does not export: rename them _name.py "
        "(helpers) or export their public names"
    )
