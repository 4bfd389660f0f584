"""Keep notebook runs under nbval deterministic (the kernel inherits this environment)."""

import os

# fixed hash seed, no progress bars, no interactive backends, and the shipped world
os.environ["PYTHONHASHSEED"] = "0"
os.environ["TQDM_DISABLE"] = "1"
os.environ.pop("MPLBACKEND", None)
os.environ.pop("CRMLAB_DATA", None)
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
# one BLAS thread: reductions then sum in a fixed order, so printed floats never wobble
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
