"""Course maintenance: re-execute notebooks deterministically (``make notebooks``).

Executed notebooks keep no timings and no kernel-specific metadata, so re-running an
unchanged notebook leaves the file byte-identical and nbval's stored outputs stable.

>>> from crmlab.teaching import execute_notebook   # doctest: +SKIP
>>> execute_notebook("notebooks/00-welcome-and-data-tour.ipynb")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from .errors import ParameterError

__all__ = ["execute_notebook", "execute_notebooks", "deterministic_env", "DETERMINISTIC_ENV",
           "apply_environ", "KERNEL_NAME"]

KERNEL_NAME = "python3"
_VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


# What every kernel that runs course material gets (None = unset): a fixed hash seed, no
# progress bars, the inline backend, the shipped world, and one BLAS thread so reductions sum
# in a fixed order and printed floats never wobble. nbval (notebooks/conftest.py), make
# notebooks and the grader all apply this one dict.
DETERMINISTIC_ENV: dict[str, str | None] = {
    "PYTHONHASHSEED": "0",
    "TQDM_DISABLE": "1",
    "MPLBACKEND": None,
    "CRMLAB_DATA": None,
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


def apply_environ(values: dict[str, str | None]) -> dict[str, str | None]:
    """Set (or, for None, unset) environment variables; returns the previous values."""
    saved = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    return saved


@contextmanager
def deterministic_env(**overrides: str | None):
    """Environment in which kernels start: :data:`DETERMINISTIC_ENV` plus ``overrides``
    (e.g. ``CRMLAB_DATA=dir`` to grade against another world); restored on exit.

    >>> with deterministic_env(CRMLAB_DATA="worlds/seed7"):
    ...     os.environ["CRMLAB_DATA"], os.environ["OMP_NUM_THREADS"]
    ('worlds/seed7', '1')
    """
    saved = apply_environ({**DETERMINISTIC_ENV, **overrides})
    try:
        yield
    finally:
        apply_environ(saved)


def _clean(nb) -> None:
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": KERNEL_NAME}
    nb.metadata.get("language_info", {}).pop("version", None)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)


def execute_notebook(path: str | Path, timeout: int = 600, write: bool = True):
    """Run every cell of ``path`` in a fresh kernel (cwd = its folder); save it in place.

    Raises :class:`~crmlab.errors.ParameterError` if the file is not a notebook; cell
    errors propagate as ``nbclient`` exceptions naming the failing cell.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    if path.suffix != ".ipynb" or not path.exists():
        raise ParameterError(f"{path} is not an existing .ipynb file", fix="pass a notebook path")
    nb = nbformat.read(path, as_version=4)
    with deterministic_env():
        client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME, record_timing=False,
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        client.execute()
    _clean(nb)
    if write:
        nbformat.write(nb, path)
    return nb


def execute_notebooks(paths: Iterable[str | Path], timeout: int = 600) -> list[Path]:
    """Execute several notebooks in order; returns the paths written."""
    done = []
    for p in paths:
        execute_notebook(p, timeout=timeout)
        done.append(Path(p))
    return done
