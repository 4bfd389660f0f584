"""Shared plot style and small figure helpers (topic modules keep their own ``plot_*``).

Call :func:`course_style` once at the top of a notebook: it fixes the figure format
(PNG), sizes, fonts, pandas display options and warning filters so that notebooks
produce the same outputs run after run (nbval compares them).

Every figure of the kit goes through :func:`finish`, which applies the shared rules:

* the "synthetic data" note sits in the figure's bottom margin, below every axis label and
  tick (:func:`mark_synthetic`), so it never covers a number;
* column names never reach a reader in snake_case: titles, axis labels, category tick labels
  and legend entries pass through :func:`label` / :func:`humanize` (``store_walk_in`` ->
  "store walk-in", ``cac`` -> "CAC (CNY per new customer)").

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from crmlab import plots
>>> plots.course_style()
>>> fig, ax = plots.subplots()
>>> ax = plots.finish(ax, title="Monthly churn", xlabel="month", ylabel="churn rate")
>>> plots.label("median_first_response_hours")
'median first response (hours)'
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["course_style", "subplots", "finish", "mark_synthetic", "label", "humanize", "entity_diagram",
           "PALETTE", "SYNTHETIC_NOTE", "LABELS"]

PALETTE = ["#1f5f8b", "#e07a1f", "#3a9e5a", "#c4413c", "#7d5ba6", "#8c6d31", "#d45fa0", "#6b6b6b"]
SYNTHETIC_NOTE = "synthetic data (crmlab)"

#: Human labels, with units, for the column names that appear in the kit's figures. Names not
#: listed here are turned into words by :func:`label` (underscores to spaces, acronyms kept).
LABELS: dict[str, str] = {
    # kpi indicators
    "retention_rate": "retention rate", "churn_rate": "churn rate", "nps": "NPS (points)",
    "cac": "CAC (CNY per new customer)", "clv": "CLV (CNY per customer)", "clv_cac": "CLV / CAC",
    "profit_per_customer": "profit per active customer (CNY)", "profit_contribution": "profit contribution (CNY)",
    "maintenance_cost_per_customer": "maintenance cost per active customer (CNY)",
    "complaint_rate": "complaints per active customer", "median_first_response_hours": "median first response (hours)",
    "median_resolution_hours": "median resolution time (hours)", "sla_met_rate": "SLA attainment",
    "fcr_rate": "first-contact resolution", "satisfaction_ticket": "post-ticket satisfaction (1-5)",
    "satisfaction_survey": "survey satisfaction (1-5)", "repeat_purchase_rate": "repeat-purchase rate",
    "referral_rate": "referral rate", "crm_live": "CRM system live",
    # churn covariates
    "recent_complaint": "recent complaint", "early_complaint": "early complaint", "plan_plus": "plus plan",
    "plan_premium": "premium plan", "loyalty_member": "loyalty-programme member", "campaign_offer": "retention offer",
    "survey_satisfaction": "survey satisfaction", "tenure_months": "tenure (months)",
    # supply chain
    "lead_time_days": "lead time (days)", "on_time_rate": "on-time delivery (%)", "fill_rate": "fill rate (%)",
    "defect_rate": "defect rate (%)", "account_satisfaction": "account satisfaction (0-100)",
    "share_of_wallet": "share of wallet",
    # categories of the world
    "store_walk_in": "store walk-in", "pre_sale": "pre-sale", "in_sale": "in-sale", "after_sale": "after-sale",
    "online_chat": "online chat", "birth_year": "birth year", "email": "e-mail",
    "coupon_users": "coupon users", "other_members": "other members", "all_members": "all members",
    # purchase-mix features and RFM
    "discount_share": "discount share", "monetary": "spend (CNY)", "profit": "gross profit (CNY)",
    # the five cases of notebook 12
    "securities_a": "Securities Company A", "ecommerce_churn": "e-commerce churn",
    "log_first_response_hours": "log first-response hours", "first_contact_resolution": "first-contact resolution",
}

_ACRONYMS = {"b2b": "B2B", "b2c": "B2C", "crm": "CRM", "nps": "NPS", "cac": "CAC", "clv": "CLV", "sla": "SLA",
             "fcr": "FCR", "csat": "CSAT", "rfm": "RFM", "att": "ATT", "hr": "HR", "ipa": "IPA", "ahp": "AHP",
             "sms": "SMS", "kpi": "KPI", "roi": "ROI", "npv": "NPV"}
_SNAKE = re.compile(r"(?<![\w.])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?![\w(])")


def label(name) -> str:
    """A reader's label for a column or category name: ``LABELS`` first, then words.

    >>> label("store_walk_in"), label("b2b_sales"), label("ch_web"), label("cat_baby"), label("Vendor A")
    ('store walk-in', 'B2B sales', 'web (channel share)', 'baby (category share)', 'Vendor A')
    """
    s = str(name)
    if s in LABELS:
        return LABELS[s]
    if s.lower() in _ACRONYMS:
        return _ACRONYMS[s.lower()]
    if "_" not in s or not re.fullmatch(r"[A-Za-z0-9_]+", s):
        return s
    for prefix, form in (("ch_", "{} (channel share)"), ("cat_", "{} (category share)"),
                         ("share_", "{} share")):
        if s.startswith(prefix) and len(s) > len(prefix):
            return form.format(label(s[len(prefix):]))
    return " ".join(_ACRONYMS.get(w.lower(), w) for w in s.split("_") if w)


def humanize(text) -> str:
    """``text`` with every snake_case word replaced by its :func:`label`.

    >>> humanize("Event study: retention_rate"), humanize("electronics + discount_share")
    ('Event study: retention rate', 'electronics + discount share')
    """
    return _SNAKE.sub(lambda m: label(m.group(0)), str(text))


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


def mark_synthetic(fig, note: str = SYNTHETIC_NOTE):
    """Put ``note`` once in the bottom-right margin of the figure (of ``fig`` or an Axes' figure).

    The note is the figure's ``supxlabel``: the constrained layout reserves a row for it below
    every axis, tick label and legend, so it cannot overlap them. A figure without a layout
    engine gets the constrained one. Returns the figure.
    """
    fig = getattr(fig, "figure", fig)
    if getattr(fig, "_crmlab_note", None) == note:
        return fig
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    fig.supxlabel(note, x=0.995, ha="right", fontsize=7, color="#888888")
    fig._crmlab_note = note
    return fig


class _HumanizedFormatter:
    """Wraps a tick formatter and passes its labels through :func:`humanize`."""

    def __new__(cls, inner):
        from matplotlib.ticker import Formatter

        class Humanized(Formatter):
            def __init__(self, inner):
                self.inner = inner

            def __call__(self, x, pos=None):
                return humanize(self.inner(x, pos))

            def format_ticks(self, values):
                return [humanize(t) for t in self.inner.format_ticks(values)]

            def set_locs(self, locs):
                self.inner.set_locs(locs)

            def set_axis(self, axis):
                self.axis = axis
                self.inner.set_axis(axis)

            def get_offset(self):
                return self.inner.get_offset()

            def format_data(self, value):
                return self.inner.format_data(value)

            def format_data_short(self, value):
                return self.inner.format_data_short(value)

        return Humanized(inner)


def _humanize_ticks(axis) -> None:
    """Category tick labels in words; numeric and date formatters are left alone."""
    from matplotlib.category import StrCategoryFormatter
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    fmt = axis.get_major_formatter()
    if isinstance(fmt, FixedFormatter | FuncFormatter | StrCategoryFormatter) and not getattr(fmt, "_crmlab", False):
        wrapped = _HumanizedFormatter(fmt)
        wrapped._crmlab = True
        axis.set_major_formatter(wrapped)


def finish(ax, *, title: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
           synthetic: bool = True, legend: bool | None = None):
    """Label an axis in the shared style and, by default, mark the figure as synthetic data.

    Titles, axis labels, category tick labels and legend entries are passed through
    :func:`humanize`; the synthetic-data note goes into the figure margin
    (:func:`mark_synthetic`). Returns ``ax``.
    """
    if title is not None:
        ax.set_title(humanize(title))
    elif ax.get_title():
        ax.set_title(humanize(ax.get_title()))
    if xlabel is not None:
        ax.set_xlabel(humanize(xlabel))
    elif ax.get_xlabel():
        ax.set_xlabel(humanize(ax.get_xlabel()))
    if ylabel is not None:
        ax.set_ylabel(humanize(ylabel))
    elif ax.get_ylabel():
        ax.set_ylabel(humanize(ax.get_ylabel()))
    _humanize_ticks(ax.xaxis)
    _humanize_ticks(ax.yaxis)
    for artist in [*ax.get_children(), *ax.containers]:
        text = artist.get_label() if hasattr(artist, "get_label") else ""
        if isinstance(text, str) and text and not text.startswith("_") and "_" in text:
            artist.set_label(humanize(text))
    if legend or (legend is None and ax.get_legend_handles_labels()[0]):
        ax.legend(frameon=False)
    elif ax.get_legend() is not None:
        for t in ax.get_legend().get_texts():
            t.set_text(humanize(t.get_text()))
    if synthetic:
        mark_synthetic(ax.figure)
    return ax


def entity_diagram(entities: Mapping[str, Sequence[str]], links: Sequence[tuple], *,
                   positions: Mapping[str, tuple[float, float]] | None = None, title: str | None = None, ax=None):
    """Draw tables as boxes and the keys that join them as arrows (an entity-relationship diagram).

    Parameters
    ----------
    entities : dict
        ``{table: [lines]}``; the table name is drawn in bold, the lines (key columns such as
        ``"customer_id PK"``) below it.
    links : list of tuples
        ``(parent, child)``, ``(parent, child, label)`` or ``(parent, child, label, "dashed")``:
        one parent row joins many child rows. A dashed link marks records with no shared key.
    positions : dict, optional
        ``{table: (x, y)}``, box centres in inches. Without it the tables are laid out as a tree:
        each table one row below the first table that links to it, a parent centred over its
        children, so no two arrows cross.
    title : str, optional
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    One unit of the layout is one inch of the figure that the function creates, so the text
    keeps its point size (9-10 pt) however many tables there are.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = entity_diagram({"branches": ["branch_id PK"], "customers": ["customer_id PK", "branch_id FK"]},
    ...                     [("branches", "customers", "branch_id")])
    >>> len(ax.patches)
    3
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    from .errors import ParameterError

    names = list(entities)
    norm = [(lk[0], lk[1], lk[2] if len(lk) > 2 else None, lk[3] if len(lk) > 3 else "solid") for lk in links]
    unknown = sorted({n for lk in norm for n in lk[:2]} - set(names))
    if unknown:
        raise ParameterError(f"links name tables that are not in entities: {unknown}",
                             fix="add them to entities or correct the link")
    name_pt, line_pt = 10.0, 8.5
    char_in = 0.6 / 72  # a monospace character is about 0.6 em wide
    size = {n: (max(len(n) * name_pt, *(len(x) * line_pt for x in entities[n]), 1) * char_in + 0.3,
                0.42 + 0.19 * len(entities[n])) for n in names}
    if positions is None:
        parent: dict[str, str] = {}
        children: dict[str, list[str]] = {n: [] for n in names}
        for p, c, *_ in norm:
            if c not in parent and c != p:
                parent[c] = p
                children[p].append(c)
        depth = {}
        for n in names:
            d, m, seen = 0, n, set()
            while m in parent and m not in seen:
                seen.add(m)
                m, d = parent[m], d + 1
            depth[n] = d
        step_x = max(w for w, _ in size.values()) + 0.35
        step_y = max(h for _, h in size.values()) + 0.9
        xpos: dict[str, float] = {}
        slot = [0.0]

        def place(n):
            for c in children[n]:
                place(c)
            if children[n]:
                xpos[n] = float(np.mean([xpos[c] for c in children[n]]))
            else:
                xpos[n] = slot[0] * step_x
                slot[0] += 1.0

        for root in (n for n in names if n not in parent):
            place(root)
        positions = {n: (xpos[n], -depth[n] * step_y) for n in names}
    missing = [n for n in names if n not in positions]
    if missing:
        raise ParameterError(f"positions has no place for {missing}", fix="give every table an (x, y)")
    xs = [positions[n][0] + s * size[n][0] / 2 for n in names for s in (-1, 1)]
    ys = [positions[n][1] + s * size[n][1] / 2 for n in names for s in (-1, 1)]
    if ax is None:
        _, ax = subplots(figsize=(max(xs) - min(xs) + 0.6, max(ys) - min(ys) + 0.9))
    boxes = {}
    for n in names:
        (x, y), (w, h) = positions[n], size[n]
        box = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.06",
                             facecolor="#eaf1f7", edgecolor=PALETTE[0], lw=1.2, zorder=2)
        ax.add_patch(box)
        boxes[n] = box
        ax.text(x, y + h / 2 - 0.2, n, ha="center", va="center", fontsize=name_pt, fontweight="bold", zorder=3)
        for k, line in enumerate(entities[n]):
            ax.text(x, y + h / 2 - 0.42 - 0.19 * k, line, ha="center", va="center", fontsize=line_pt,
                    family="monospace", color="#333333", zorder=3)
    for p, c, text, style in norm:
        dashed = style == "dashed"
        ax.add_patch(FancyArrowPatch(positions[p], positions[c], patchA=boxes[p], patchB=boxes[c],
                                     arrowstyle="-|>", mutation_scale=14, lw=1.2, zorder=1,
                                     color="#888888" if dashed else PALETTE[0], linestyle="--" if dashed else "-"))
        if text:
            (xp, yp), (xc, yc) = positions[p], positions[c]
            ax.text(xp + 0.55 * (xc - xp), yp + 0.55 * (yc - yp), text, ha="center", va="center",
                    fontsize=line_pt, color="#555555" if dashed else "#1f3f5b", zorder=4,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    ax.set_xlim(min(xs) - 0.1, max(xs) + 0.1)
    ax.set_ylim(min(ys) - 0.1, max(ys) + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    return finish(ax, title=title, synthetic=False)
