"""Hostile input for randopt.operands (issue 10; moved beside the module by issue 17).

Every operand constructor and product is fed NaN and infinity, empty and wrong-ndim
arrays, every dtype, malformed CSR/COO and wrong lengths. Required: a ValueError or
TypeError naming the argument; never a crash, a silently wrong number or a write to
the caller's data. The shared helpers are in ``tests/hostile.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from randopt.operands import (
    DenseOperand,
    LinearOperatorOperand,
    SparseOperand,
    as_operand,
    validated_sparse,
)
from tests.hostile import A0, B0, D, bad_matrices, malformed_csr

ENTRY = {
    "as_operand": lambda M: as_operand(M),
    "DenseOperand": lambda M: DenseOperand(M),
}
BAD_MATRICES = bad_matrices(A0, B0)


@pytest.mark.parametrize("entry", sorted(ENTRY))
@pytest.mark.parametrize("case", sorted(BAD_MATRICES))
def test_bad_matrix_is_refused_with_its_name(entry, case):
    make, exc = BAD_MATRICES[case]
    if entry == "DenseOperand" and case.startswith("csr"):
        pytest.skip("DenseOperand takes dense data; SparseOperand is tested below")
    with pytest.raises(exc, match=r"\bA\b"):
        ENTRY[entry](make())


@pytest.mark.parametrize("index", [10**6, D, -1])
def test_malformed_csr_never_reaches_a_kernel(index):
    # Built by hand, a SparseOperand used to skip validation and segfault.
    with pytest.raises(ValueError, match="A is malformed"):
        SparseOperand(malformed_csr(A0, index))
    with pytest.raises(ValueError, match="A is malformed"):
        validated_sparse(malformed_csr(A0, index))


def test_malformed_coo():
    coo = sp.coo_matrix(A0.copy())
    coo.col[0] = 10**6
    with pytest.raises(ValueError, match="A is malformed"):
        as_operand(coo)


def test_operand_constructors_validate():
    with pytest.raises(ValueError, match="A contains NaN"):
        DenseOperand(A0 * np.nan)
    with pytest.raises(TypeError, match="A must be array-like"):
        DenseOperand("abc")
    with pytest.raises(TypeError, match="A must be a scipy.sparse"):
        SparseOperand(A0)
    with pytest.raises(TypeError, match="A must be a scipy LinearOperator"):
        LinearOperatorOperand(A0)
    with pytest.raises(TypeError, match="A must be a scipy.sparse"):
        validated_sparse(A0)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"name": 3}, "name"),
        ({"check_finite": "no"}, "check_finite"),
        ({"accept_operator": 1}, "accept_operator"),
    ],
)
def test_as_operand_options(kwargs, name):
    with pytest.raises(TypeError, match=name):
        as_operand(A0, **kwargs)


@pytest.mark.parametrize("fmt", ["dense", "fortran", "csr", "csc", "operator"])
def test_operand_products_check_lengths(fmt):
    data = {"dense": A0, "fortran": np.asfortranarray(A0), "csr": sp.csr_matrix(A0),
            "csc": sp.csc_matrix(A0), "operator": aslinearoperator(A0)}[fmt]
    op = as_operand(data)
    with pytest.raises(ValueError, match=r"\bx\b"):
        op.matvec(np.ones(3))
    with pytest.raises(ValueError, match=r"\bu\b"):
        op.rmatvec(np.ones(3))
    with pytest.raises(ValueError, match=r"\bV\b"):
        op.normal_matvec(np.ones(3))
    with pytest.raises(ValueError, match=r"\bV\b"):
        op.normal_matvec(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\bx\b"):
        op.residual_normal(np.ones(3), B0)
    with pytest.raises(ValueError, match=r"\bb\b"):
        op.residual_normal(np.ones(D), B0[:3])  # the kernel used to read past b
    with pytest.raises(ValueError, match="idx"):
        op.take_rows(np.array([10**6]))
    with pytest.raises(ValueError, match="idx"):
        op.gram(np.array([-1]), np.ones(1))
    with pytest.raises(ValueError, match="coef"):
        op.gram(np.array([0, 1, 2]), np.ones(1))
    with pytest.raises(ValueError, match=r"\bv\b"):
        op.gram_matvec(np.array([0]), np.ones(1), np.ones(2))


def test_linear_operator_returning_complex_is_refused_by_name():
    # np.asarray(out, dtype=float64) would keep only the real part: a silently wrong
    # product (and norm) instead of an error.
    M = np.arange(20.0).reshape(5, 4)
    L = LinearOperator((5, 4), matvec=lambda x: (M @ x) * (1 + 1j),
                       rmatvec=lambda y: M.T @ y, dtype=np.float64)
    op = as_operand(L, "L")
    with pytest.raises(TypeError, match=r"L\.matvec returned complex"):
        op.matvec(np.ones(4))
    np.testing.assert_array_equal(op.rmatvec(np.ones(5)), M.T @ np.ones(5))
