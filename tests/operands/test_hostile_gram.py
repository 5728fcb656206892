"""The prepared Gram product ``Operand.gram_product``: checked once, then one check per product."""

import numpy as np
import pytest
import scipy.sparse as sp

from randopt.operands import as_operand

RNG = np.random.default_rng(0)
A = RNG.standard_normal((40, 5))
COEF = RNG.random(40)
IDX = np.array([3, 3, 17, 39, 0])


@pytest.mark.parametrize("data", [A, np.asfortranarray(A), A.astype(np.float32),
                                  sp.csr_matrix(A), sp.csc_matrix(A)], ids=repr)
@pytest.mark.parametrize("idx", [None, IDX], ids=["all", "sample"])
def test_gram_product_matches_the_dense_reference(data, idx):
    op = as_operand(data)
    rows = A if idx is None else A[idx]
    c = COEF[: rows.shape[0]]
    Af = rows.astype(np.float32).astype(np.float64) if data.dtype == np.float32 else rows
    v = np.cos(np.arange(5.0))
    ref = Af.T @ (c * (Af @ v))
    product = op.gram_product(idx, c)
    tol = 1e-5 if data.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(product(v), ref, rtol=tol, atol=tol)
    np.testing.assert_array_equal(product(v), op.gram_matvec(idx, c, v))
    np.testing.assert_allclose(op.gram(idx, c) @ v, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("data", [A, sp.csr_matrix(A)], ids=["dense", "csr"])
def test_gram_product_refuses_bad_arguments(data):
    op = as_operand(data)
    with pytest.raises(ValueError, match="coef"):
        op.gram_product(None, COEF[:-1])
    with pytest.raises(ValueError, match="coef"):
        op.gram_product(IDX, COEF)
    with pytest.raises(ValueError, match="idx"):
        op.gram_product(np.array([0, 40]), COEF[:2])
    with pytest.raises(TypeError, match="idx"):
        op.gram_product(np.array([0.5]), COEF[:1])
    product = op.gram_product(None, COEF)
    for v in (np.ones(4), np.ones((5, 2)), np.ones(6)):
        with pytest.raises(ValueError, match=r"\bv\b"):
            product(v)
