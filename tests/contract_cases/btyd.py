"""Contract cases for the BG/BB and Pareto/NBD fitters (see tests/test_api_contract.py).

Both are fitted on small data simulated from known parameters, so the cases need nothing
from the shipped world.
"""

from crmlab.clv import BetaGeoBetaBinomFitter, ParetoNBDFitter, simulate_bgbb, simulate_pareto_nbd


def _bgbb_case(world):
    sim = simulate_bgbb(2000, n_periods=6, alpha=1.2, beta=0.75, gamma=0.66, delta=2.8, seed=3)
    return BetaGeoBetaBinomFitter(ci_level=0.9), (sim,), {}


def _pnbd_case(world):
    sim = simulate_pareto_nbd(600, T=39, r=0.55, alpha=10.6, s=0.61, beta=11.7, seed=3)
    return ParetoNBDFitter(), (sim,), {}


CASES = {
    BetaGeoBetaBinomFitter: _bgbb_case,
    ParetoNBDFitter: _pnbd_case,
}

CALLS = {
    BetaGeoBetaBinomFitter: [
        ("conditional_probability_alive", (2, 4, 6), {}),
        ("conditional_expected_number_of_purchases_up_to_time", (5, 2, 4, 6), {}),
        ("expected_number_of_purchases_up_to_time", (6,), {}),
        ("discounted_expected_residual_transactions", (0.1, 2, 4, 6), {}),
    ],
    ParetoNBDFitter: [
        ("conditional_probability_alive", (2, 30.4, 38.9), {}),
        ("conditional_expected_number_of_purchases_up_to_time", (39, 2, 30.4, 38.9), {}),
        ("expected_number_of_purchases_up_to_time", (39,), {}),
        ("probability_of_purchases", (39, 1), {}),
    ],
}
