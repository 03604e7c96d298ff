"""Thread pools of the native libraries: who may use the two cores, and when.

NumPy's OpenBLAS, MKL (PARDISO) and CHOLMOD's OpenMP each keep their own
pool; on a 2-core machine they compete when their calls alternate quickly.
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def openblas_single_threaded():
    """NumPy's and SciPy's OpenBLAS limited to one thread for the duration (MKL untouched).

    Idle OpenBLAS threads keep spinning for a while after each call (the
    dot products of the BFGS update are OpenBLAS calls), on the two cores
    PARDISO's threads need next: a 200 k-dof PARDISO solve right after five
    vector dot products took 18-26 ms, 6-8 ms with OpenBLAS at one thread
    (``bench/bench_kernels.py``); one cycle of the fan-out case went from
    24.5 to 20.2 s.  NumPy's work there is batched small
    products and vector operations, which OpenBLAS threads do not speed up.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        yield
        return
    with ThreadpoolController().select(internal_api="openblas").limit(limits=1):
        yield


class Threads:
    """Limit the BLAS/OpenMP thread pools around a call (``None``: leave them).

    CHOLMOD's BLAS and OpenMP pools and NumPy's own OpenBLAS pool spin on the
    same two cores; for the many small factorizations of an incremental run,
    one thread each measured faster (threadpoolctl).
    """

    def __init__(self, threads: int | None):
        self.threads = threads
        self._ctx = None

    def __enter__(self):
        if self.threads is not None:
            try:
                from threadpoolctl import threadpool_limits
            except ImportError:
                return self
            self._ctx = threadpool_limits(limits=self.threads)
        return self

    def __exit__(self, *exc):
        if self._ctx is not None:
            self._ctx.restore_original_limits()
            self._ctx = None
        return False
