"""Contract case of crmlab.scale's fitter (read by tests/test_api_contract.py)."""

import pandas as pd

from crmlab import scale


def _cells(world):
    m = world.memberships.assign(plan_plus=(world.memberships["plan"] == "plus").astype(int),
                                 plan_premium=(world.memberships["plan"] == "premium").astype(int))
    return scale.life_table(m, window_start=world.meta["window_start"], as_of=world.meta["window_end"],
                            by=["plan_plus", "plan_premium"])


CASES = {
    scale.PiecewiseExponentialCox: lambda world: (scale.PiecewiseExponentialCox(),
                                                  (_cells(world), ["plan_plus", "plan_premium"]), {}),
}
CALLS = {
    scale.PiecewiseExponentialCox: [
        ("survival_function", (pd.DataFrame({"plan_plus": [0, 1], "plan_premium": [0, 0]}), [6.0]), {}),
    ],
}
