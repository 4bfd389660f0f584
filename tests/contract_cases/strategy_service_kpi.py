"""Contract cases for the fitters of crmlab.data_quality, crmlab.service and crmlab.kpi.

(crmlab.strategy has no fitter: ``RetentionEconomics``, ``DecisionMatrix`` and ``GoalTree``
are calculators built from their arguments, with nothing to fit.)

Each case fits on a small slice of the shipped world so that the whole contract test stays fast.
"""

from crmlab.data_quality import RecordLinker, standardize_records
from crmlab.kpi import AHP, StaggeredDiD
from crmlab.service import CsatOrderedLogit, ResponseTimeModel, SupplyChainPanel


def _records(world):
    extracts = {"sales": world.silo_sales.head(400), "service": world.silo_service.head(300),
                "web": world.silo_web.head(300)}
    aliases = dict(zip(world.branches["city_en"], world.branches["city"], strict=True))
    return standardize_records(extracts, city_aliases=aliases)


def _truth(world):
    return world.silo_matches


def _x_csat(world):
    return (CsatOrderedLogit.design(world.tickets.head(20)),)


CASES = {
    RecordLinker: lambda world: (RecordLinker(threshold=0.5, n_random_pairs=5_000, seed=0), (_records(world),), {}),
    ResponseTimeModel: lambda world: (ResponseTimeModel(ci_level=0.9),
                                      (world.tickets.iloc[::3], world.customers, world.branches), {}),
    CsatOrderedLogit: lambda world: (CsatOrderedLogit(ci_level=0.9), (world.tickets.iloc[::3],), {}),
    SupplyChainPanel: lambda world: (SupplyChainPanel(ci_level=0.9), (world.b2b_accounts,),
                                     {"drivers": ["on_time_rate", "lead_time_days"], "id_col": "account_id"}),
    AHP: lambda world: (AHP(max_cr=0.1), ([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]],),
                        {"criteria": ["satisfaction", "retention", "cost"]}),
    StaggeredDiD: lambda world: (StaggeredDiD(ci_level=0.9, pre_periods=3), (world.branch_kpis,),
                                 {"outcome_col": "retention_rate", "unit_col": "branch_id", "time_col": "month",
                                  "treated_col": "crm_live"}),
}

CALLS = {
    RecordLinker: [("predict", (), {}), ("blocking_recall", lambda w: (_truth(w),), {}),
                   ("evaluate", lambda w: (_truth(w),), {"threshold": 0.9})],
    CsatOrderedLogit: [("predict_proba", _x_csat, {}), ("predict_top2", _x_csat, {})],
    SupplyChainPanel: [("satisfaction_change", ({"lead_time_days": -1},), {})],
    StaggeredDiD: [("pretrend_test", (), {})],
}
