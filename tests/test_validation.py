"""Shared validators: each bad input raises a CrmlabError that names the column and the fix."""

import numpy as np
import pandas as pd
import pytest

from crmlab import validation as v
from crmlab.errors import (
    ColumnError,
    CrmlabError,
    DataValidationError,
    NotFittedError,
    ParameterError,
)


@pytest.fixture
def tx():
    return pd.DataFrame({"customer_id": [1, 2, 3], "amount": [10.0, 5.0, 7.5],
                         "date": ["2024-01-01", "2024-02-01", "2024-03-01"]})


def test_good_frame_passes(tx):
    assert v.check_frame(tx, "transactions", required=["customer_id"], numeric=["amount"],
                         no_nan=["amount"], non_negative=["amount"], dates=["date"]) is tx


def test_missing_column(tx):
    with pytest.raises(ColumnError, match=r"transactions is missing required column\(s\) \['spend'\].*Fix"):
        v.require_columns(tx, ["spend"], "transactions")


def test_not_a_frame():
    with pytest.raises(ParameterError, match="must be a pandas DataFrame"):
        v.check_frame([1, 2], "transactions")


def test_empty(tx):
    with pytest.raises(DataValidationError, match="transactions is empty"):
        v.check_not_empty(tx.iloc[:0], "transactions")


def test_negative(tx):
    tx.loc[1, "amount"] = -3
    with pytest.raises(DataValidationError, match=r"transactions\['amount'\] has 1 negative.*Fix: drop or correct"):
        v.check_non_negative(tx, "amount", "transactions")


def test_nan(tx):
    tx.loc[0, "amount"] = np.nan
    with pytest.raises(DataValidationError, match=r"1 missing value.*dropna"):
        v.check_no_nan(tx, "amount", "transactions")


def test_non_numeric(tx):
    # numbers stored as text: pd.to_numeric is the right fix
    tx["amount"] = ["1.5", "2", "x"]
    with pytest.raises(ColumnError, match="must be numeric.*to_numeric"):
        v.check_numeric(tx, "amount", "transactions")
    # labels: pd.to_numeric would make every value NaN, so it must not be the advice
    tx["amount"] = ["a", "b", "c"]
    with pytest.raises(ColumnError, match="must be numeric.*get_dummies") as info:
        v.check_numeric(tx, "amount", "transactions")
    assert "to_numeric" not in str(info.value)
    tx["amount"] = ["Yes", "No", "Yes"]
    with pytest.raises(ColumnError, match=r"map\(\{'Yes': 1, 'No': 0\}\)"):
        v.check_numeric(tx, "amount", "transactions")


def test_inf_is_refused_wherever_nan_is(tx):
    tx["amount"] = [1.0, np.inf, 2.0]
    with pytest.raises(DataValidationError, match=r"1 infinite value.*row 1"):
        v.check_no_nan(tx, "amount", "transactions")
    with pytest.raises(DataValidationError, match="infinite"):
        v.check_numeric(tx, "amount", "transactions")
    with pytest.raises(DataValidationError, match="infinite"):
        v.check_frame(tx, "transactions", numeric=["amount"])
    with pytest.raises(DataValidationError, match="infinite"):
        v.check_array([1.0, -np.inf], "t")


@pytest.mark.parametrize("values, advice", [
    (["Yes", "No", "No"], r"map\(\{'Yes': 1, 'No': 0\}\)"),
    ([1, 2, 2], r"== 2\)\.astype\(int\)"),
    (["churned", "active", "active"], r"== 'churned'\)"),
    (["active", "churned", "active"], r"== 'churned'\)"),
    ([0, 1, 5], r"recode it to 0/1"),
])
def test_binary_advice_fits_the_coding(values, advice):
    df = pd.DataFrame({"churn": values})
    with pytest.raises(DataValidationError, match=advice) as info:
        v.check_binary(df, "churn", "customers")
    assert "to_numeric" not in str(info.value)


def test_dates_refuse_numbers_read_as_1970():
    df = pd.DataFrame({"date": [20240131, 20240201]})
    with pytest.raises(DataValidationError, match="holds numbers.*not dates.*format='%Y%m%d'"):
        v.check_dates(df, "date", "transactions")
    # a column that is entirely missing is reported as missing dates, not as numbers
    with pytest.raises(DataValidationError, match="2 missing date"):
        v.check_dates(pd.DataFrame({"date": [np.nan, np.nan]}), "date", "transactions")


@pytest.mark.parametrize("value, match", [
    (20251231, "must be a date"), (True, "must be a date"), (None, "is missing"),
    ("next tuesday", "is not a date"), (pd.NaT, "missing"), (float("nan"), "must be a date"),
])
def test_check_timestamp(value, match):
    with pytest.raises(ParameterError, match=match):
        v.check_timestamp(value, "as_of")
    assert v.check_timestamp(None, "as_of", allow_none=True) is None
    assert v.check_timestamp("2025-12-31", "as_of") == pd.Timestamp("2025-12-31")


def test_option_count_level_length():
    with pytest.raises(ParameterError, match="did you mean method='bootstrap'"):
        v.check_option("bootstrp", "method", ["analytic", "bootstrap"])
    with pytest.raises(ParameterError, match="one of"):
        v.check_option(["x"], "method", ["analytic"])  # unhashable input is refused, not a TypeError
    with pytest.raises(ParameterError, match="one of"):
        v.check_option(True, "direction", [1, -1])
    with pytest.raises(ParameterError, match="<= 100000"):
        v.check_count(10**9, "n_boot", 1, 100_000)
    with pytest.raises(ParameterError, match="whole number"):
        v.check_count(2.5, "n_boot", 1, 100)
    assert v.check_count(np.int64(3), "k", 1, 10) == 3
    with pytest.raises(ParameterError, match="did you mean ci_level=0.95"):
        v.check_ci_level(0.05)
    for bad in (0, 1, 1.5, float("nan"), "0.95"):
        with pytest.raises(ParameterError):
            v.check_ci_level(bad)
    with pytest.raises(ParameterError, match="durations has 2, events has 3"):
        v.check_same_length(durations=[1, 2], events=[0, 1, 1])
    with pytest.raises(ParameterError, match="got None"):
        v.check_frame(None, "transactions")


def test_dates_unparseable_future_and_missing(tx):
    bad = tx.assign(date=["2024-01-01", "yesterday", "2024-03-01"])
    with pytest.raises(DataValidationError, match="not dates.*'yesterday'"):
        v.check_dates(bad, "date", "transactions")
    with pytest.raises(DataValidationError, match="after 2024-02-15.*future"):
        v.check_dates(tx, "date", "transactions", not_after="2024-02-15")
    with pytest.raises(DataValidationError, match="before 2024-01-15"):
        v.check_dates(tx, "date", "transactions", not_before="2024-01-15")
    with pytest.raises(DataValidationError, match="missing date"):
        v.check_dates(tx.assign(date=[None, "2024-01-01", "2024-01-02"]), "date", "transactions")


def test_date_order():
    df = pd.DataFrame({"start": ["2024-01-01", "2024-05-01"], "stop": ["2024-02-01", "2024-04-01"]})
    with pytest.raises(DataValidationError, match="'stop' is before 'start'"):
        v.check_date_order(df, "start", "stop", "memberships")


def test_binary_range_set_unique():
    df = pd.DataFrame({"event": [0, 1, 2], "score": [1, 5, 11], "plan": ["a", "b", "z"], "k": [1, 1, 2]})
    with pytest.raises(DataValidationError, match="must be 0/1, found \\[2\\]"):
        v.check_binary(df, "event", "memberships")
    with pytest.raises(DataValidationError, match=r"outside \[0, 10\]"):
        v.check_in_range(df, "score", 0, 10, "survey", "NPS scores")
    with pytest.raises(DataValidationError, match="unexpected value"):
        v.check_in_set(df, "plan", ["a", "b"], "memberships")
    with pytest.raises(DataValidationError, match="duplicated key"):
        v.check_unique(df, "k", "customers")


def test_scalars_weights_and_seeds():
    assert v.check_scalar(3, "k", int, 1, 10) == 3
    with pytest.raises(ParameterError, match="k must be >= 1"):
        v.check_scalar(0, "k", int, 1)
    with pytest.raises(ParameterError, match="must be int"):
        v.check_scalar(2.5, "k", int)
    with pytest.raises(ParameterError, match="finite"):
        v.check_scalar(float("nan"), "alpha")
    assert v.check_probability(0.3, "p") == 0.3
    with pytest.raises(ParameterError, match="sum to 1.*normalise"):
        v.check_weights([0.5, 0.4])
    with pytest.raises(ParameterError, match="non-negative"):
        v.check_weights([1.5, -0.5])
    assert isinstance(v.check_random_state(3), np.random.Generator)
    with pytest.raises(ParameterError, match="seed"):
        v.check_random_state(None)


def test_check_named_weights_aligns_and_refuses_mismatches():
    names = ["size", "strength", "reputation"]
    want = np.array([0.2, 0.3, 0.5])
    for w in ({"reputation": 0.5, "size": 0.2, "strength": 0.3},
              pd.Series([0.3, 0.5, 0.2], index=["strength", "reputation", "size"]), [0.2, 0.3, 0.5]):
        np.testing.assert_array_equal(v.check_named_weights(w, names), want)
    with pytest.raises(ParameterError, match=r"missing \['reputation'\], unknown \['price'\].*Fix: give one"):
        v.check_named_weights({"size": 0.5, "strength": 0.3, "price": 0.2}, names)
    with pytest.raises(ParameterError, match=r"2 weights for 3 criteria.*in this order"):
        v.check_named_weights([0.5, 0.5], names)
    with pytest.raises(ParameterError, match="must sum to 1"):
        v.check_named_weights({"size": 0.5, "strength": 0.3, "reputation": 0.5}, names)
    with pytest.raises(ParameterError, match=r"1 shares for 2 columns"):
        v.check_named_weights([1.0], ["a", "b"], name="shares", plural="columns")


def test_errors_are_value_errors_and_carry_the_fix():
    err = CrmlabError("bad thing", fix="do this")
    assert isinstance(err, ValueError) and str(err) == "bad thing. Fix: do this" and err.fix == "do this"


def test_check_fitted_names_the_object_and_the_fit_call():
    from crmlab.validation import check_fitted

    class Model:
        pass

    m = Model()
    with pytest.raises(NotFittedError, match="this Model is not fitted yet") as info:
        check_fitted(m, "params_", "fit(summary)")
    assert "Fix: call .fit(summary) first" in str(info.value)
    m.params_ = [1.0]
    check_fitted(m, "params_", "fit(summary)")  # fitted: no error


def test_shared_checks_never_leak_raw_errors():
    df = pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-03-01"]).tz_localize("Asia/Shanghai"),
                       "x": [1.0, 2.0]})
    parsed = v.check_dates(df, "date", "transactions", not_after="2024-12-31")  # tz-aware: no TypeError
    assert parsed.dt.tz is None
    with pytest.raises(ParameterError, match="one of"):
        v.check_option(df, "method", ["a", "b"])  # a frame: no ambiguous-truth ValueError
    with pytest.raises(ParameterError, match="must name one column"):
        v.require_columns(df, [["date", "x"]], "transactions")
