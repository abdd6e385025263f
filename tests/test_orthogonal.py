"""The parallel orthogonal-matrix kernel against a slow NumPy reference."""
import numba
import numpy as np
import pytest
import threadpoolctl

from fastinit.kernels.orthogonal import orthogonal_batch, orthogonal_matrices
from fastinit.kernels.sampling import fill_normal

SHAPES = [(1, 1), (5, 3), (3, 5), (16, 16), (33, 17), (17, 33), (128, 128)]


def naive_orthogonal(rows, cols, seed, trial, tensor):
    """The definition: the stream's first rows * cols normals as a C-ordered (max, min) matrix,
    Q of its reduced QR times sign(diag R) (sign 0 -> 1), transposed when rows < cols."""
    big, small = max(rows, cols), min(rows, cols)
    g = np.empty(big * small)
    fill_normal(g, seed, trial, tensor)
    q, r = np.linalg.qr(g.reshape(big, small))
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0
    q = q * d
    return q if rows >= cols else q.T


def _gaussian(rows, cols, seed, trial, tensor):
    g = np.empty(rows * cols)
    fill_normal(g, seed, trial, tensor)
    return g.reshape(max(rows, cols), min(rows, cols))


@pytest.mark.parametrize("shape", SHAPES)
def test_matches_reference(shape):
    rows, cols = shape
    (q,) = orthogonal_matrices([shape], 7, 2, [3])
    assert q.shape == shape and q.dtype == np.float64 and q.flags.c_contiguous
    ref = naive_orthogonal(rows, cols, 7, 2, 3)
    np.testing.assert_allclose(q, ref, rtol=1e-12, atol=1e-14)
    # sign convention: R = Q^T A has a positive diagonal
    r = (q if rows >= cols else q.T).T @ _gaussian(rows, cols, 7, 2, 3)
    assert (np.diag(r) > 0).all()


def test_batch_matches_reference_and_is_orthogonal():
    shapes = SHAPES + [(256, 256), (256, 40), (40, 256), (1, 9), (9, 1)]
    ids = list(range(10, 10 + len(shapes)))
    qs = orthogonal_matrices(shapes, 123, 0, ids)
    assert len(qs) == len(shapes)
    for (rows, cols), t, q in zip(shapes, ids, qs):
        assert q.shape == (rows, cols) and q.flags.c_contiguous
        gram = q.T @ q if rows >= cols else q @ q.T
        assert np.abs(gram - np.eye(min(rows, cols))).max() < 1e-13
        np.testing.assert_allclose(q, naive_orthogonal(rows, cols, 123, 0, t), rtol=1e-12, atol=1e-14)


def _mixed_batch():
    shapes = [(32, 32)] * 6 + [(128, 128)] * 3 + [(33, 17), (17, 33), (1, 1), (64, 96)]
    return shapes, list(range(1, len(shapes) + 1))


def test_same_bits_for_any_thread_count():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 Numba threads")
    shapes, ids = _mixed_batch()
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = orthogonal_matrices(shapes, 5, 1, ids)
        numba.set_num_threads(2)
        two = orthogonal_matrices(shapes, 5, 1, ids)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


def test_same_bits_whatever_the_batch():
    shapes, ids = _mixed_batch()
    batch = orthogonal_matrices(shapes, 9, 0, ids)
    for i in (0, 7, 9, 10, 12):
        (alone,) = orthogonal_matrices([shapes[i]], 9, 0, [ids[i]])
        assert np.array_equal(alone, batch[i])
    order = np.arange(len(shapes))[::-1]
    reversed_batch = orthogonal_matrices([shapes[i] for i in order], 9, 0, [ids[i] for i in order])
    for j, i in enumerate(order):
        assert np.array_equal(reversed_batch[j], batch[i])


def test_kernel_workers_and_streams():
    shapes = np.array([[16, 16], [8, 24], [24, 8], [16, 16]], dtype=np.int64)
    seeds = np.array([1, 1, 2, 1], dtype=np.uint64)
    trials = np.array([0, 3, 0, 0], dtype=np.uint64)
    tensors = np.array([4, 5, 6, 7], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(shapes[:, 0] * shapes[:, 1])].astype(np.int64)
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        outs = [orthogonal_batch(shapes, seeds, trials, tensors, offsets, workers, np.empty(offsets[-1]))
                for workers in (1, 3, 8)]
    assert all(np.array_equal(outs[0], o) for o in outs[1:])
    for i, (rows, cols) in enumerate(shapes.tolist()):
        got = outs[0][offsets[i]:offsets[i + 1]].reshape(rows, cols)
        ref = naive_orthogonal(rows, cols, int(seeds[i]), int(trials[i]), int(tensors[i]))
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
    assert not np.allclose(outs[0][:256], outs[0][-256:])       # tensor ids 4 and 7 differ


def test_empty_and_invalid():
    assert orthogonal_matrices(np.zeros((0, 2), dtype=np.int64), 0, 0, []) == []
    with pytest.raises(ValueError):
        orthogonal_matrices([(0, 3)], 0, 0, [1])
    with pytest.raises(ValueError):
        orthogonal_matrices([(2, 3), (3, 3)], 0, 0, [1])
