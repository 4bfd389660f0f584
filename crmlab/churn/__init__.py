"""Survival-based churn, retention curves and the churn early-warning mechanism (客户流失预警机制).

The source texts treat churn as a key risk (客户流失风险, S000 §9.1) to be caught early by "using
data analysis to spot signs of churn and act in time" (S000 §9.2(4)), and name customer
retention time (客户保持时间, S002 Ch8 §2) as a loyalty indicator. They give no numbers: every
figure here comes from the SYNTHETIC world (planted Cox model with a Weibull baseline) or from
assumptions the user supplies.

The subpackage's modules follow the steps of an analysis: :mod:`~crmlab.churn.frames`,
:mod:`~crmlab.churn.curves`, :mod:`~crmlab.churn.cox`, :mod:`~crmlab.churn.value`,
:mod:`~crmlab.churn.evaluation` and :mod:`~crmlab.churn.early_warning`; every public name is
also available here (``from crmlab import churn; churn.ChurnCox``).

Data preparation

* :func:`survival_frame` - one row per membership spell: tenure, event, right-censoring at
  ``as_of``, left truncation (``entry``) for spells already running at ``window_start``. The
  window is taken from the data given: ``window_start`` must be passed (it cannot be read off
  a table), ``as_of`` defaults to the day after the latest date in the tables;
* :func:`start_stop_frame` - the long (start-stop) format on the calendar-month grid, with
  time-varying ``recent_complaint``, ``crm_live``, ``campaign_offer`` and optional survey
  satisfaction; :func:`split_spells` cuts spells on a tenure grid and
  :func:`add_time_interaction` adds covariate x log(t) terms (a PH remedy).

Description and tests

* :class:`RetentionCurves` - Kaplan-Meier curves by segment (lifelines) with confidence bands,
  medians, survival at chosen tenures and restricted mean survival time (RMST);
* :func:`logrank_test` - the log-rank test, honouring delayed entry (a
  :class:`~crmlab.base.TestResult`).

Models

* :class:`ChurnCox` - Cox proportional hazards for one-row-per-spell or start-stop data,
  with delayed entry, strata and time-varying covariates: hazard-ratio table with CIs,
  Schoenfeld proportional-hazards test, Breslow baseline, survival predictions;
* :func:`compare_with_truth` - estimated vs planted hazard ratios.

Value and evaluation

* :func:`expected_remaining_lifetime`, :func:`survival_clv`, :func:`discounted_survival_value`;
* :func:`concordance`, :func:`brier_score`, :func:`integrated_brier_score`,
  :func:`time_dependent_auc`, :func:`calibration_table` (+ :func:`plot_calibration`).

Early warning

* :func:`landmark_frame` (features at a landmark date, churn within a horizon),
  :class:`ChurnRiskScore` (scikit-learn classifier or Cox on a time split), :func:`lift_table`
  with :func:`plot_lift` / :func:`plot_gain`, :func:`profit_curve` (offer cost vs CLV saved) and
  :func:`watch_list`.

Why crmlab has its own Cox engine: lifelines' ``CoxTimeVaryingFitter`` (and ``CoxPHFitter``
with ``entry_col``) loops over death times, O(deaths x rows) per Newton step (about 15 s for
44,000 rows); and in lifelines 0.30 ``CoxPHFitter`` ignores ``entry_col`` when it computes the
baseline hazard and the Schoenfeld residuals. :class:`ChurnCox` maximises the same Efron
partial likelihood with sorted cumulative sums, O(rows log rows), honours delayed entry
everywhere, and is checked against lifelines in the tests (``engine="lifelines"`` runs
``CoxTimeVaryingFitter`` instead, for cross-checks).

>>> import pandas as pd
>>> ms = pd.DataFrame({"membership_id": [1, 2, 3], "customer_id": [1, 2, 3],
...                    "plan": ["basic", "plus", "basic"],
...                    "start_date": pd.to_datetime(["2022-06-01", "2023-03-01", "2023-05-01"]),
...                    "end_date": pd.to_datetime([None, "2023-09-15", None])})
>>> sf = survival_frame(ms, window_start="2023-01-01", as_of="2024-01-01")
>>> sf[["entry", "duration", "event"]].round(2)
   entry  duration  event
0   7.03     19.02      0
1   0.00      6.52      1
2   0.00      8.05      0
"""

from ._common import MONTH_DAYS
from .cox import ChurnCox, compare_with_truth
from .curves import RetentionCurves, logrank_test
from .early_warning import (
    LANDMARK_FEATURES,
    ChurnRiskScore,
    landmark_frame,
    lift_table,
    plot_gain,
    plot_lift,
    plot_profit_curve,
    profit_curve,
    time_split,
    watch_list,
)
from .evaluation import (
    brier_score,
    calibration_table,
    concordance,
    integrated_brier_score,
    plot_calibration,
    time_dependent_auc,
)
from .frames import add_time_interaction, split_spells, start_stop_frame, survival_frame
from .value import discounted_survival_value, expected_remaining_lifetime, survival_clv

__all__ = [
    "MONTH_DAYS",
    "survival_frame",
    "start_stop_frame",
    "split_spells",
    "add_time_interaction",
    "RetentionCurves",
    "logrank_test",
    "ChurnCox",
    "compare_with_truth",
    "expected_remaining_lifetime",
    "discounted_survival_value",
    "survival_clv",
    "concordance",
    "brier_score",
    "integrated_brier_score",
    "time_dependent_auc",
    "calibration_table",
    "plot_calibration",
    "LANDMARK_FEATURES",
    "landmark_frame",
    "time_split",
    "ChurnRiskScore",
    "lift_table",
    "plot_lift",
    "plot_gain",
    "profit_curve",
    "plot_profit_curve",
    "watch_list",
]
