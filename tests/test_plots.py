"""The shared figure style (crmlab.plots): what a reader sees in every figure of the kit.

* the "synthetic data" note is drawn once per figure, in its margin, and overlaps no tick label,
  axis label, title or legend (it used to sit on the x tick labels of many figures);
* no column name reaches the reader in snake_case: titles, axis labels, category ticks and legend
  entries of the topic modules' plots are in words;
* the entity diagram of notebook 00 keeps a readable type size.
"""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import plots  # noqa: E402
from crmlab.errors import ParameterError  # noqa: E402

SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")


@pytest.fixture(autouse=True)
def _style():
    plots.course_style()
    yield
    plt.close("all")


def _texts(fig):
    """Every visible text of a figure a reader sees, with its bounding box."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        items = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels(), *ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            items += [*legend.get_texts(), legend.get_title()]
        out += [(t.get_text(), t.get_window_extent(renderer)) for t in items if t.get_visible() and t.get_text()]
    return out


def _note(fig):
    fig.canvas.draw()
    notes = [t for t in fig.texts if t.get_text() == plots.SYNTHETIC_NOTE]
    return notes, fig.canvas.get_renderer()


def _assert_note_clear(fig):
    notes, renderer = _note(fig)
    assert len(notes) == 1, f"{len(notes)} synthetic-data notes: the figure needs exactly one"
    box = notes[0].get_window_extent(renderer)
    for text, other in _texts(fig):
        assert not box.overlaps(other), f"the note overlaps {text!r}"


def test_note_stays_clear_of_long_tick_labels_and_a_legend_below():
    # the figures where it used to overlap: wide x tick labels at the bottom right, rotated
    # category labels, a legend under the axes, two panels
    fig, axes = plots.subplots(1, 2)
    pd.Series({"b2b_sales": 1450.0, "store_walk_in": 30.0}).plot.barh(ax=axes[0])
    plots.finish(axes[0], title="Average acquisition cost by channel", xlabel="CNY per customer")
    axes[1].bar(["Vendor A (full suite)", "Vendor D (lite)"], [0.5, 0.7], label="rank_1")
    axes[1].tick_params(axis="x", labelrotation=20)
    plots.finish(axes[1], title="Rank acceptability", legend=False)
    axes[1].legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2)
    _assert_note_clear(fig)


def test_note_is_added_once_and_not_for_real_data():
    fig, ax = plots.subplots()
    ax.plot([0, 1], [0, 1])
    plots.finish(ax)
    plots.finish(ax)
    assert len(_note(fig)[0]) == 1
    fig2, ax2 = plots.subplots()
    plots.finish(ax2, title="CDNOW", synthetic=False)
    assert _note(fig2)[0] == []
    fig3, ax3 = plt.subplots()  # a figure made without the course's layout gets one
    plots.finish(ax3, xlabel="x")
    assert fig3.get_layout_engine() is not None
    _assert_note_clear(fig3)


def test_finish_puts_names_into_words():
    fig, ax = plots.subplots()
    pd.DataFrame({"missing_birth_year": [1, 2], "records": [3, 4]}, index=["after_sale", "pre_sale"]).plot.bar(ax=ax)
    ax.plot([0, 1], [1, 2], label="plan_premium")
    plots.finish(ax, title="Event study: retention_rate", xlabel="acquisition_channel", ylabel="lead_time_days")
    texts = [t for t, _ in _texts(fig)]
    assert "Event study: retention rate" in texts and "acquisition channel" in texts and "lead time (days)" in texts
    assert {"after-sale", "pre-sale", "missing birth year", "premium plan"} <= set(texts)
    assert not [t for t in texts if SNAKE.search(t)]
    assert plots.humanize("P(alive) and H0(t) stay") == "P(alive) and H0(t) stay"
    assert plots.label("cac") == "CAC (CNY per new customer)" and plots.label("B01") == "B01"


def test_entity_diagram_is_readable_and_checks_its_input():
    entities = {"branches": ["branch_id PK"], "customers": ["customer_id PK", "branch_id FK"],
                "silo_web": ["record_id PK"]}
    links = [("branches", "customers", "branch_id"), ("customers", "silo_web", "no shared key", "dashed")]
    ax = plots.entity_diagram(entities, links, title="Data model")
    sizes = [t.get_fontsize() for t in ax.texts]
    assert min(sizes) >= 8, "the diagram's text must stay readable"
    assert _note(ax.figure)[0] == []  # a schema, not data
    with pytest.raises(ParameterError, match="not in entities"):
        plots.entity_diagram(entities, [("branches", "tickets")])
    with pytest.raises(ParameterError, match="no place for"):
        plots.entity_diagram(entities, links, positions={"branches": (0, 0)})


# ------------------------------------------------------------------------------------------------
# the topic modules' figures on the shipped world
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world():
    from crmlab import datasets

    return datasets.load_world()


def _topic_figures(world):
    from crmlab import churn, kpi, segmentation, strategy

    rfm = segmentation.rfm_table(world.transactions, world.meta["observation_end"], profit_col="gross_margin")
    yield segmentation.plot_rfm_treemap(segmentation.rfm_segments(rfm), rfm["profit"]).figure
    yield segmentation.plot_rfm_heatmap(rfm, value_col="monetary").figure
    ax = segmentation.plot_pareto(rfm["profit"], label="consumers")
    yield segmentation.plot_pareto(rfm["monetary"], ax=ax, label="spend").figure
    yield strategy.plot_equity_sensitivity(35.0, 0.975, 0.008).figure
    sf = churn.survival_frame(world.memberships, window_start=world.meta["window_start"], as_of=world.meta["window_end"])
    sf = sf.merge(world.customers[["customer_id", "loyalty_member"]], on="customer_id")
    sf["loyalty_member"] = sf["loyalty_member"].astype(int)
    sf["plan_premium"] = (sf["plan"] == "premium").astype(int)
    yield churn.ChurnCox().fit(sf, ["plan_premium", "loyalty_member"]).plot_hazard_ratios().figure
    company = kpi.indicator_system(world, level="company")
    yield kpi.plot_scorecard(company)[0, 0].figure
    year = kpi.indicator_system(world, freq="all", period_start="2025-01-01", period_end="2025-12-31")
    yield kpi.plot_benchmark(year, "B06", ["retention_rate", "cac", "profit_per_customer"]).figure
    did = kpi.StaggeredDiD().fit(world.branch_kpis, outcome_col="retention_rate")
    yield did.plot_event_study(truth=world.truth["golive"]["expected_att_retention"]).figure


def test_topic_figures_speak_words_and_keep_the_note_clear(world):
    for fig in _topic_figures(world):
        texts = [t for t, _ in _texts(fig)] + [t.get_text() for t in fig.texts]
        snake = [t for t in texts if SNAKE.search(t)]
        assert not snake, f"{fig.axes[0].get_title()!r}: snake_case reaches the reader: {snake}"
        _assert_note_clear(fig)
        plt.close(fig)


def test_event_study_of_a_share_is_in_percentage_points_like_the_tables(world):
    from crmlab import kpi

    did = kpi.StaggeredDiD().fit(world.branch_kpis, outcome_col="retention_rate")
    ax = did.plot_event_study(truth=0.0095)
    assert "percentage points" in ax.get_ylabel()
    planted = [c for c in ax.collections if c.get_label() == "planted effect"][0]
    assert np.allclose(planted.get_segments()[0][:, 1], 0.95)
    es = did.event_study_.query("rel_time <= 12")
    drawn = np.concatenate([np.asarray(ln.get_ydata(), dtype=float) for ln in ax.get_lines()])
    assert np.isclose(np.nanmax(np.abs(drawn)), 100 * es[["estimate", "ci_lower", "ci_upper"]].abs().to_numpy().max())
    assert kpi.plot_scorecard(kpi.indicator_system(world, level="company"))[0, 0].figure._suptitle.get_text() \
        == "CRM balanced scorecard: whole company"
