"""Contract cases for the satisfaction and loyalty fitters (crmlab.satisfaction,
crmlab.satisfaction_index, crmlab.loyalty): each is fitted on a small slice of the shipped
world, as tests/test_api_contract.py expects."""

import numpy as np

from crmlab.loyalty import ThresholdPoisson
from crmlab.satisfaction import DriverAnalysis
from crmlab.satisfaction_index import SatisfactionIndexModel


def _referrals(world):
    """Latent satisfaction, referral counts and exposure of the first 1,000 B2C customers."""
    lat = world.latent.set_index("customer_id")
    refs = world.customers.set_index("customer_id")["referrals"]
    ok = lat["satisfaction"].notna() & (lat["relationship_exposure_years"] > 0)
    ids = lat.index[ok.to_numpy()][:1000]
    return (lat.loc[ids, "satisfaction"].to_numpy(), refs.loc[ids].to_numpy(),
            lat.loc[ids, "relationship_exposure_years"].to_numpy())


CASES = {
    DriverAnalysis: lambda world: (DriverAnalysis(n_boot=0, ci_level=0.9), (world.survey.head(400),), {}),
    SatisfactionIndexModel: lambda world: (SatisfactionIndexModel("acsi", ci_level=0.9),
                                           (world.survey.head(600),), {}),
    ThresholdPoisson: lambda world: (ThresholdPoisson(below_slope=False, n_grid=15, ci_level=0.9),
                                     _referrals(world), {}),
}

CALLS = {
    DriverAnalysis: [("ipa", (), {})],
    SatisfactionIndexModel: [("index_table", lambda world: (world.survey.head(50),), {"by": "wave"}),
                             ("driver_importance", ("SAT",), {})],
    ThresholdPoisson: [("predict_rate", (np.array([-1.0, 0.0, 1.0]),), {}),
                       ("linearity_test", (), {"n_boot": 19, "seed": 1})],
}
