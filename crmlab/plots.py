"""Shared plot styling and small figure helpers (topic modules keep their own ``plot_*``).

Call :func:`course_style` once at the top of a notebook: it fixes the figure format
(PNG), sizes, fonts, pandas display options and warning filters so that notebooks
produce the same outputs run after run (nbval compares them).

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from crmlab import plots
>>> plots.course_style()
>>> fig, ax = plots.subplots()
>>> ax = plots.finish(ax, title="Monthly churn", xlabel="month", ylabel="churn rate")
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["course_style", "subplots", "finish", "PALETTE", "SYNTHETIC_NOTE"]

PALETTE = ["#1f5f8b", "#e07a1f", "#3a9e5a", "#c4413c", "#7d5ba6", "#8c6d31", "#d45fa0", "#6b6b6b"]
SYNTHETIC_NOTE = "synthetic data (crmlab)"


def course_style(seed: int = 0) -> None:
    """Deterministic, readable defaults for course notebooks.

    * figures: PNG only (no SVG timestamps), 100 dpi, 7 x 4 inches, seaborn "whitegrid";
    * pandas: 3 decimals, wide frames shown without wrapping;
    * numpy: global legacy seed fixed (crmlab itself always passes explicit seeds);
    * warnings: library deprecation and font-glyph warnings are silenced so that stored
      outputs do not change with library versions. Figure text stays in English (the
      Chinese terms live in the prose and tables), so no CJK font is needed.
    """
    import seaborn as sns

    sns.set_theme(style="whitegrid", palette=PALETTE, rc={
        "figure.figsize": (7, 4), "figure.dpi": 100, "savefig.dpi": 100,
        "axes.titlesize": 12, "axes.labelsize": 10, "legend.fontsize": 9,
        "svg.hashsalt": "crmlab", "figure.max_open_warning": 0,
    })
    try:  # inside IPython: PNG only
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except Exception:  # noqa: BLE001 - plain Python has no inline backend
        pass
    pd.set_option("display.precision", 3)
    pd.set_option("display.width", 120)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_colwidth", 60)
    np.set_printoptions(precision=4, suppress=True)
    np.random.seed(seed)  # noqa: NPY002 - for third-party code that uses the global state
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", message="Glyph .* missing from font")


def subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """``plt.subplots`` with the course size scaled to the grid."""
    kwargs.setdefault("figsize", (min(4.2 * ncols + 1.5, 14), 3.4 * nrows + 0.6))
    kwargs.setdefault("constrained_layout", True)
    return plt.subplots(nrows, ncols, **kwargs)


def finish(ax, *, title: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
           synthetic: bool = True, legend: bool | None = None):
    """Label an axis and, by default, mark it as synthetic data; returns ``ax``."""
    if title is not None:
        ax.set_title(title)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if legend or (legend is None and ax.get_legend_handles_labels()[0]):
        ax.legend(frameon=False)
    if synthetic:
        ax.text(1.0, -0.02, SYNTHETIC_NOTE, transform=ax.transAxes, ha="right", va="top",
                fontsize=7, color="#888888")
    return ax
