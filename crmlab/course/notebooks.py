"""Course maintenance: re-execute notebooks deterministically (``make notebooks``).

Executed notebooks keep no timings and no kernel-specific metadata, so re-running an
unchanged notebook leaves the file byte-identical and nbval's stored outputs stable.

>>> from crmlab.course.notebooks import execute_notebook   # doctest: +SKIP
>>> execute_notebook("notebooks/00-welcome-and-data-tour.ipynb")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from ..errors import CrmlabError, ParameterError

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


def _read(path: Path):
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises JSON, validation, reader and decoding errors
        first = str(err).splitlines()[0] if str(err) else ""
        raise ParameterError(f"{path} is not a readable Jupyter notebook ({type(err).__name__}: {first[:120]})",
                             fix="restore it from git (git checkout -- FILE) or re-save it from Jupyter") from None


def _failed_cell(err) -> str:
    """'cell N raised Name: message' from an nbclient error."""
    name = getattr(err, "ename", None) or type(err).__name__
    value = (getattr(err, "evalue", None) or str(err)).strip().splitlines()
    return f"{name}: {value[-1][:200] if value else ''}"


def execute_notebook(path: str | Path, timeout: int = 600, write: bool = True):
    """Run every cell of ``path`` in a fresh kernel (cwd = its folder); save it in place.

    Raises :class:`~crmlab.errors.ParameterError` if the file is missing or not a readable
    notebook, and :class:`~crmlab.errors.CrmlabError` naming the cell if a cell raises or
    passes ``timeout`` seconds (the file is then left unchanged).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    if path.suffix != ".ipynb" or not path.is_file():
        raise ParameterError(f"{path} is not an existing .ipynb file", fix="pass a notebook path")
    nb = _read(path)
    with deterministic_env():
        client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME, record_timing=False,
                                resources={"metadata": {"path": str(path.parent.resolve())}})
        try:
            client.execute()
        except CellTimeoutError:
            raise CrmlabError(f"{path}: a cell ran longer than {timeout} s; the notebook was not saved",
                              fix="make the cell faster or pass a larger --timeout") from None
        except CellExecutionError as err:
            cell = next((i for i, c in enumerate(nb.cells, start=1) if c.cell_type == "code"
                         and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
            where = f"cell {cell}" if cell is not None else "a cell"
            raise CrmlabError(f"{path}: {where} raised {_failed_cell(err)}; the notebook was not saved",
                              fix="fix that cell (open the notebook in Jupyter to see the traceback) and run again") from None
        except DeadKernelError:
            raise CrmlabError(f"{path}: the kernel died (out of memory?); the notebook was not saved",
                              fix="run it in Jupyter to see which cell kills the kernel") from None
        except Exception as err:
            if type(err).__name__ == "NoSuchKernel":
                raise CrmlabError(f"no Jupyter kernel named {KERNEL_NAME!r} in this environment",
                                  fix="install ipykernel into it (make install does)") from None
            raise
    _clean(nb)
    if write:
        nbformat.write(nb, path)
    return nb


def execute_notebooks(paths: Iterable[str | Path], timeout: int = 600, on_done=None) -> list[Path]:
    """Execute several notebooks in order; returns the paths written.

    Every path is checked before the first notebook runs; the first failing notebook stops
    the run (those before it are saved). ``on_done(path)`` is called after each one.
    """
    paths = [Path(p) for p in paths]
    for p in paths:
        if p.suffix != ".ipynb" or not p.is_file():
            raise ParameterError(f"{p} is not an existing .ipynb file", fix="pass notebook paths")
    done = []
    for p in paths:
        execute_notebook(p, timeout=timeout)
        done.append(p)
        if on_done is not None:
            on_done(p)
    return done
