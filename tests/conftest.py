"""Shared fixtures: the default world generated in memory and the shipped copy on disk."""

import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ["TQDM_DISABLE"] = "1"
# one BLAS thread per pytest worker: on 2 cores, xdist workers times BLAS threads oversubscribe
# (small SVDs ran 15x slower) and one thread also fixes the order of floating-point reductions
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
from threadpoolctl import threadpool_limits  # noqa: E402  (after the variables, before any fit)

threadpool_limits(1)

# property tests are deterministic (same examples every run) and leave no database behind
from hypothesis import settings  # noqa: E402

settings.register_profile("crmlab", derandomize=True, database=None, deadline=None, print_blob=True)
settings.load_profile("crmlab")


@pytest.fixture(scope="session")
def world():
    """The default world (seed 2024, 5,000 customers, 36 months), generated in memory."""
    from crmlab.synth import generate_world

    return generate_world()


@pytest.fixture(scope="session")
def shipped():
    """The world shipped in datasets/, read through crmlab.datasets."""
    from crmlab import datasets

    return datasets.load_world()


@pytest.fixture(scope="session")
def big_world():
    """A larger world (seed 11, 30,000 customers) for tighter sanity checks against truth."""
    from crmlab.synth import generate_world

    return generate_world(seed=11, n_customers=30_000)
