"""One place for the kit's thread policy: model fits run on one BLAS/OpenMP thread.

The kit's fits use small matrices (SEM covariances, likelihood sums, k-means on a few thousand
customers). There extra threads cost more than they save, they stall on a busy shared machine
(5-15x slower fits measured on 2 cores), and one thread fixes the order of floating-point
sums, so estimates and notebook outputs are identical on every machine.
"""

from __future__ import annotations

_CONTROLLER = None


def single_thread(user_api: str | None = "blas"):
    """Context manager limiting ``user_api`` ("blas", "openmp" or None for both) to one thread.

    >>> with single_thread():
    ...     pass
    """
    global _CONTROLLER
    if _CONTROLLER is None:  # inspecting the loaded libraries costs ~2 ms: do it once
        import sklearn.cluster  # noqa: F401  (load scikit-learn's OpenMP runtime so it is covered)
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api=user_api)
