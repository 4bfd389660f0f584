"""Shared input checks for crmlab's public functions.

Each check either returns the (possibly converted) input or raises a
:class:`~crmlab.errors.CrmlabError` subclass naming the table, the column and the fix.
Topic modules call these instead of writing their own ``if`` chains.

>>> import pandas as pd
>>> from crmlab.validation import check_frame
>>> tx = pd.DataFrame({"customer_id": [1, 2], "amount": [10.0, -3.0]})
>>> check_frame(tx, "transactions", required=["customer_id", "amount"],
...             non_negative=["amount"])
Traceback (most recent call last):
...
crmlab.errors.DataValidationError: transactions['amount'] has 1 negative value(s) (first at row 1: -3.0). Fix: drop or correct refunds/negative rows before calling, e.g. df = df[df['amount'] >= 0]
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import (
    ColumnError,
    DataValidationError,
    NotFittedError,
    OutputExistsError,
    ParameterError,
)

__all__ = [
    "require_columns",
    "check_fitted",
    "check_frame",
    "check_not_empty",
    "check_numeric",
    "check_no_nan",
    "check_non_negative",
    "check_in_range",
    "check_binary",
    "check_in_set",
    "check_dates",
    "check_date_order",
    "check_unique",
    "check_scalar",
    "check_probability",
    "check_weights",
    "check_named_weights",
    "check_random_state",
    "check_option",
    "check_count",
    "check_ci_level",
    "check_timestamp",
    "check_array",
    "check_same_length",
    "coding_advice",
    "check_output_dir",
    "check_output_file",
    "check_column_name",
    "check_column_list",
]


def _listify(columns: str | Iterable[str] | None) -> list[str]:
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def _check_is_frame(df, name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        got = "None (did an earlier step return nothing?)" if df is None else type(df).__name__
        hint = (f"crmlab.datasets.load({name!r})" if name in _TABLES else "pd.DataFrame(...)")
        raise ParameterError(f"{name} must be a pandas DataFrame, got {got}", fix=f"pass a DataFrame, e.g. {hint}")


_TABLES = {"customers", "transactions", "memberships", "survey", "tickets", "campaigns", "branch_kpis",
           "b2b_accounts", "branches", "silo_sales", "silo_service", "silo_web"}


def require_columns(df: pd.DataFrame, columns: str | Iterable[str], name: str = "data") -> None:
    """Raise :class:`ColumnError` if any of ``columns`` is absent from ``df``."""
    _check_is_frame(df, name)
    cols = _listify(columns)
    for c in cols:
        if not isinstance(c, (str, int, np.integer)):
            raise ParameterError(f"a column argument must name one column of {name}, got {type(c).__name__} {c!r}",
                                 fix="pass the column's name as a string, e.g. 'customer_id'")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns[:12])) + (" ..." if df.shape[1] > 12 else "")
        raise ColumnError(
            f"{name} is missing required column(s) {missing}; it has [{have}]",
            fix="rename your columns to these names or pass the column names as arguments",
        )


def check_not_empty(df: pd.DataFrame, name: str = "data", min_rows: int = 1) -> None:
    """Raise :class:`DataValidationError` if ``df`` has fewer than ``min_rows`` rows."""
    _check_is_frame(df, name)
    if len(df) < min_rows:
        what = "is empty" if len(df) == 0 else f"has only {len(df)} row(s)"
        raise DataValidationError(
            f"{name} {what}; at least {min_rows} row(s) are needed",
            fix="check the filters applied before this call (dates, segment, branch)",
        )


def _plain(value):
    """numpy scalars print as np.float64(...) since numpy 2; show the plain value."""
    return value.item() if isinstance(value, np.generic) else value


def _first_bad(series: pd.Series, mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)[0]
    return f"first at row {_plain(series.index[idx])!r}: {_plain(series.iloc[idx])!r}"


_YES = {"yes", "y", "true", "t", "1", "是", "churned", "event", "positive"}
_NO = {"no", "n", "false", "f", "0", "否", "retained", "censored", "negative"}


def coding_advice(series: pd.Series, column: str, want: str = "numeric") -> str:
    """A fix that works for how ``series`` is actually coded (want = "numeric" or "binary").

    Yes/No-style text gets a ``map``; R-style 1/2 codes get ``== 2``; numbers stored as text
    get ``pd.to_numeric``; other text is named as a category, since ``pd.to_numeric`` would
    turn every value into NaN.

    >>> coding_advice(pd.Series(["Yes", "No"]), "churn", "binary")
    "map the two labels to 1/0, e.g. df['churn'] = df['churn'].map({'Yes': 1, 'No': 0})"
    """
    values = pd.unique(series.dropna())
    labels = [str(v).strip() for v in values[:50]]
    lower = {v.lower() for v in labels}
    if len(values) == 2 and lower <= (_YES | _NO) and lower & _YES and lower & _NO:
        yes = next(v for v in labels if v.lower() in _YES)
        no = next(v for v in labels if v.lower() in _NO)
        return f"map the two labels to 1/0, e.g. df[{column!r}] = df[{column!r}].map({{{yes!r}: 1, {no!r}: 0}})"
    if want == "binary":
        nums = pd.to_numeric(pd.Series(values), errors="coerce")
        if len(values) == 2 and nums.notna().all():
            lo, hi = sorted(nums.tolist())
            return (f"it is coded {_plain(lo)}/{_plain(hi)}: if {_plain(hi)} marks the event, recode it with "
                    f"df[{column!r}] = (df[{column!r}] == {_plain(hi)}).astype(int)")
        if len(values) == 2:
            a, b = labels
            # prefer the label that reads as the event ("churned", "yes"); otherwise say which one is assumed
            event = next((v for v in labels if v.lower() in _YES), None)
            if event is None:
                event = next((v for v in labels if v.lower() not in _NO), b)
            return (f"it has two labels ({a!r}, {b!r}): map the event to 1 and the other to 0, "
                    f"e.g. df[{column!r}] = (df[{column!r}] == {event!r}).astype(int) if {event!r} is the event")
        return f"recode it to 0/1 (1 = the event), e.g. df[{column!r}] = (df[{column!r}] == <event label>).astype(int)"
    parsed = pd.to_numeric(pd.Series(labels), errors="coerce")
    if len(labels) and parsed.notna().mean() >= 0.5:
        return (f"the numbers are stored as text: df[{column!r}] = pd.to_numeric(df[{column!r}], errors='coerce') "
                f"(check the {int(parsed.isna().sum())} value(s) that are not numbers first)")
    shown = ", ".join(repr(v) for v in labels[:4]) + (" ..." if len(values) > 4 else "")
    return (f"it holds labels ({shown}), not numbers: turn them into indicator columns, "
            f"e.g. pd.get_dummies(df, columns=[{column!r}], drop_first=True, dtype=float), or drop the column")


def check_numeric(df: pd.DataFrame, columns: str | Iterable[str], name: str = "data") -> None:
    """Every column in ``columns`` must have a numeric (or boolean) dtype and no +-inf."""
    for col in _listify(columns):
        s = df[col]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise ColumnError(f"{name}[{col!r}] must be numeric, got dtype {s.dtype}",
                              fix=coding_advice(s, col, "numeric"))
        _check_no_inf(s, col, name)


def _check_no_inf(s: pd.Series, col, name: str) -> None:
    if pd.api.types.is_float_dtype(s):
        mask = np.isinf(s.to_numpy(dtype=float, na_value=np.nan))
        if mask.any():
            raise DataValidationError(
                f"{name}[{col!r}] has {int(mask.sum())} infinite value(s) ({_first_bad(s, mask)})",
                fix=f"an inf usually comes from a division by zero upstream: fix it there, or drop those rows "
                    f"(df = df[np.isfinite(df[{col!r}])])")


def check_no_nan(df: pd.DataFrame, columns: str | Iterable[str], name: str = "data") -> None:
    """Raise if any of ``columns`` contains a missing or infinite value."""
    for col in _listify(columns):
        mask = df[col].isna().to_numpy()
        if mask.any():
            raise DataValidationError(
                f"{name}[{col!r}] has {int(mask.sum())} missing value(s) "
                f"(first at row {_plain(df.index[np.flatnonzero(mask)[0]])!r})",
                fix=f"drop them (df.dropna(subset=[{col!r}])) or impute them before calling",
            )
        _check_no_inf(df[col], col, name)


def check_non_negative(df: pd.DataFrame, columns: str | Iterable[str], name: str = "data") -> None:
    """Raise if any of ``columns`` holds a negative value (NaN is checked separately)."""
    for col in _listify(columns):
        s = df[col]
        mask = (s < 0).fillna(False).to_numpy(dtype=bool)
        if mask.any():
            raise DataValidationError(
                f"{name}[{col!r}] has {int(mask.sum())} negative value(s) ({_first_bad(s, mask)})",
                fix=f"drop or correct refunds/negative rows before calling, e.g. df = df[df[{col!r}] >= 0]",
            )


def check_in_range(
    df: pd.DataFrame,
    column: str,
    low: float | None = None,
    high: float | None = None,
    name: str = "data",
    what: str = "values",
) -> None:
    """Raise if ``df[column]`` has values outside ``[low, high]`` (NaN ignored)."""
    s = df[column]
    mask = np.zeros(len(s), dtype=bool)
    if low is not None:
        mask |= (s < low).fillna(False).to_numpy(dtype=bool)
    if high is not None:
        mask |= (s > high).fillna(False).to_numpy(dtype=bool)
    if mask.any():
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise DataValidationError(
            f"{name}[{column!r}] has {int(mask.sum())} {what} outside [{lo}, {hi}] ({_first_bad(s, mask)})",
            fix=f"recode or drop them; {what} must lie in [{lo}, {hi}]",
        )


def check_binary(df: pd.DataFrame, column: str, name: str = "data") -> None:
    """``df[column]`` must hold only 0/1 (or True/False), no NaN.

    The fix names a recoding that works for what the column holds ("Yes"/"No", 1/2...).
    """
    check_no_nan(df, column, name)
    s = df[column]
    ok = s.isin([0, 1, True, False]).to_numpy() & ~s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if not ok.all():
        bad = [_plain(v) for v in sorted(pd.unique(s[~ok]).tolist(), key=str)[:5]]
        raise DataValidationError(f"{name}[{column!r}] must be 0/1, found {bad}",
                                  fix=coding_advice(s, column, "binary"))


def check_in_set(
    df: pd.DataFrame, column: str, allowed: Iterable, name: str = "data"
) -> None:
    """Every non-missing value of ``df[column]`` must be one of ``allowed``."""
    allowed = list(allowed)
    s = df[column].dropna()
    bad = s[~s.isin(allowed)]
    if len(bad):
        raise DataValidationError(
            f"{name}[{column!r}] has unexpected value(s) {sorted(map(str, pd.unique(bad)))[:5]}",
            fix=f"use only {allowed}",
        )


def check_dates(
    df: pd.DataFrame,
    column: str,
    name: str = "data",
    not_after: str | pd.Timestamp | None = None,
    not_before: str | pd.Timestamp | None = None,
    allow_nat: bool = False,
) -> pd.Series:
    """Parse ``df[column]`` to datetimes and check it; returns the parsed series.

    Unparseable strings, missing dates (unless ``allow_nat``) and dates outside
    ``[not_before, not_after]`` raise :class:`DataValidationError`.
    """
    raw = df[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    elif (pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw)) and raw.notna().any():
        # pd.to_datetime would read 20240131 or 45000 as nanoseconds after 1970-01-01
        raise DataValidationError(
            f"{name}[{column!r}] holds numbers (dtype {raw.dtype}), not dates",
            fix=f"convert them explicitly, e.g. pd.to_datetime(df[{column!r}].astype(str), format='%Y%m%d') "
                f"for 20240131, or pd.to_datetime(df[{column!r}], unit='D', origin='1899-12-30') for Excel serials")
    else:
        import warnings

        with warnings.catch_warnings():  # unparseable strings are reported below, with the row
            warnings.filterwarnings("ignore", message="Could not infer format")
            parsed = pd.to_datetime(raw, errors="coerce")
        unparsed = (parsed.isna() & raw.notna()).to_numpy()
        if unparsed.any():
            raise DataValidationError(
                f"{name}[{column!r}] has {int(unparsed.sum())} value(s) that are not dates "
                f"({_first_bad(raw, unparsed)})",
                fix="use ISO dates like '2024-03-31', or parse them with pd.to_datetime(..., format=...)",
            )
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert(None)  # time-zone-aware dates compare as naive UTC
    if not allow_nat:
        nat = parsed.isna().to_numpy()
        if nat.any():
            raise DataValidationError(
                f"{name}[{column!r}] has {int(nat.sum())} missing date(s)",
                fix=f"drop those rows (df.dropna(subset=[{column!r}])) or fill the dates",
            )
    if not_after is not None:
        limit = pd.Timestamp(not_after)
        late = (parsed > limit).fillna(False).to_numpy(dtype=bool)
        if late.any():
            raise DataValidationError(
                f"{name}[{column!r}] has {int(late.sum())} date(s) after {limit.date()} "
                f"({_first_bad(parsed, late)})",
                fix="remove future-dated rows or move the as-of/observation-end date later",
            )
    if not_before is not None:
        limit = pd.Timestamp(not_before)
        early = (parsed < limit).fillna(False).to_numpy(dtype=bool)
        if early.any():
            raise DataValidationError(
                f"{name}[{column!r}] has {int(early.sum())} date(s) before {limit.date()} "
                f"({_first_bad(parsed, early)})",
                fix="remove those rows or move the window start earlier",
            )
    return parsed


def check_date_order(
    df: pd.DataFrame, start: str, end: str, name: str = "data", strict: bool = False,
    meaning: str | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Raise if ``df[end]`` is before ``df[start]`` (rows with a missing end are ignored).

    ``meaning`` says what such a row is in the caller's terms (e.g. "a negative duration").
    Returns the parsed ``(start, end)`` columns.
    """
    s = check_dates(df, start, name)
    e = check_dates(df, end, name, allow_nat=True)
    bad = ((e < s) if not strict else (e <= s)).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        i = np.flatnonzero(bad)[0]
        why = f"{meaning}; " if meaning else ""
        raise DataValidationError(
            f"{name} has {int(bad.sum())} row(s) where {end!r} is {'not after' if strict else 'before'} "
            f"{start!r} ({why}first at row {df.index[i]!r}: {s.iloc[i].date()} -> {e.iloc[i].date()})",
            fix=f"swap or correct those dates; {end!r} must come after {start!r}",
        )
    return s, e


def check_unique(df: pd.DataFrame, columns: str | Sequence[str], name: str = "data") -> None:
    """Raise if the key ``columns`` has duplicate rows."""
    cols = _listify(columns)
    dup = df.duplicated(subset=cols, keep=False).to_numpy()
    if dup.any():
        raise DataValidationError(
            f"{name} has {int(dup.sum())} rows with a duplicated key {cols}",
            fix="aggregate or de-duplicate first, e.g. df.drop_duplicates(subset=...)",
        )


def check_frame(
    df: pd.DataFrame,
    name: str = "data",
    *,
    required: Iterable[str] = (),
    numeric: Iterable[str] = (),
    no_nan: Iterable[str] = (),
    non_negative: Iterable[str] = (),
    dates: Iterable[str] = (),
    min_rows: int = 1,
) -> pd.DataFrame:
    """Run the common checks in one call and return ``df`` unchanged.

    ``numeric`` and ``non_negative`` columns are also checked for NaN when listed in
    ``no_nan``; ``dates`` columns must parse and may not be missing.
    """
    _check_is_frame(df, name)
    required = list(required)
    all_cols = list(dict.fromkeys([*required, *numeric, *no_nan, *non_negative, *dates]))
    require_columns(df, all_cols, name)
    check_not_empty(df, name, min_rows)
    check_numeric(df, list(dict.fromkeys([*numeric, *non_negative])), name)
    check_no_nan(df, no_nan, name)
    check_non_negative(df, non_negative, name)
    for col in dates:
        check_dates(df, col, name)
    return df


# plain-language names of the abstract number types in check_scalar's messages
_KIND_NAMES = {numbers.Integral: "a whole number (int)", numbers.Real: "a real number",
               numbers.Number: "a number"}


def check_scalar(
    x,
    name: str,
    kind: type | tuple[type, ...] = numbers.Real,
    low: float | None = None,
    high: float | None = None,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
):
    """Check a scalar argument's type and range; returns it.

    >>> check_scalar(0.5, "alpha", low=0, high=1)
    0.5
    """
    if isinstance(x, bool) and kind is not bool or not isinstance(x, kind):
        kinds = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ParameterError(f"{name} must be {kinds}, got {x!r} ({type(x).__name__})",
                             fix=f"pass {name} as {kinds}")
    # an int is always finite, and np.isfinite raises TypeError on one past the int64 range
    if isinstance(x, numbers.Real) and not isinstance(x, numbers.Integral) and not np.isfinite(x):
        raise ParameterError(f"{name} must be finite, got {x!r}", fix=f"pass a finite {name}")
    if low is not None and (x < low or (x == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ParameterError(f"{name} must be {op} {low}, got {x!r}", fix=f"choose {name} {op} {low}")
    if high is not None and (x > high or (x == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ParameterError(f"{name} must be {op} {high}, got {x!r}", fix=f"choose {name} {op} {high}")
    return x


def check_probability(x, name: str, *, open_interval: bool = False) -> float:
    """A number in [0, 1] (or (0, 1) with ``open_interval``)."""
    return float(check_scalar(x, name, numbers.Real, 0, 1,
                              low_inclusive=not open_interval, high_inclusive=not open_interval))


def check_weights(weights, name: str = "weights", tol: float = 1e-6) -> np.ndarray:
    """Non-negative finite weights that sum to one; returns them as a float array.

    >>> check_weights([0.5, 0.3, 0.2])
    array([0.5, 0.3, 0.2])
    """
    try:
        w = np.asarray(list(weights.values()) if isinstance(weights, dict) else weights, dtype=float)
    except (TypeError, ValueError):  # text or None among the weights
        raise ParameterError(f"{name} must be numbers, got {weights!r}", fix="pass one number per criterion") from None
    if w.ndim != 1 or w.size == 0:
        raise ParameterError(f"{name} must be a non-empty 1-D list of numbers",
                             fix="pass one weight per criterion")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ParameterError(f"{name} must be finite and non-negative, got {w.tolist()}",
                             fix="use weights >= 0")
    total = w.sum()
    if abs(total - 1.0) > tol:
        raise ParameterError(
            f"{name} must sum to 1, they sum to {total:.6g}",
            fix=f"normalise them first: w / w.sum() (here: {np.round(w / total, 4).tolist() if total > 0 else 'all zero'})",
        )
    return w


def check_named_weights(weights, names, *, name: str = "weights", what: str = "criterion",
                        plural: str = "criteria", tol: float = 1e-6) -> np.ndarray:
    """Weights for the criteria ``names``, in that order, checked by :func:`check_weights`.

    A mapping (dict or Series) must name each criterion once and nothing else; a plain
    sequence must have one weight per criterion, in order.

    >>> check_named_weights({"b": 0.25, "a": 0.75}, ["a", "b"])
    array([0.75, 0.25])
    """
    names = list(names)
    if isinstance(weights, (Mapping, pd.Series)):
        keys = list(weights.keys())
        missing = [c for c in names if c not in keys]
        extra = [k for k in keys if k not in names]
        if missing or extra:
            raise ParameterError(f"{name} do not match the {what} names: missing {missing}, unknown {extra}",
                                 fix=f"give one weight per {what}: {names}")
        weights = [weights[c] for c in names]
    w = check_weights(weights, name, tol=tol)
    if len(w) != len(names):
        raise ParameterError(f"{len(w)} {name} for {len(names)} {plural} ({names})",
                             fix=f"give one weight per {what}, in this order: {names}")
    return w


def check_fitted(model, attribute: str, fit_call: str = "fit(...)") -> None:
    """Raise :class:`~crmlab.errors.NotFittedError` unless ``model`` has the fitted ``attribute``.

    Fitters derived from :class:`crmlab.base.Fitter` use their own ``_check_fitted``; this is
    for objects that are not fitters but still need a ``fit``-like call first.

    >>> class Model: pass
    >>> check_fitted(Model(), "params_", "fit(summary)")
    Traceback (most recent call last):
    ...
    crmlab.errors.NotFittedError: this Model is not fitted yet. Fix: call .fit(summary) first
    """
    if not hasattr(model, attribute):
        raise NotFittedError(f"this {type(model).__name__} is not fitted yet", fix=f"call .{fit_call} first")


def check_random_state(seed) -> np.random.Generator:
    """Turn ``seed`` (int, None or Generator) into a :class:`numpy.random.Generator`.

    ``None`` is refused: crmlab is deterministic, so every random call needs a seed.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ParameterError(
        f"seed must be a non-negative int or a numpy Generator, got {seed!r}",
        fix="pass an integer such as seed=42 so results are reproducible",
    )


def check_option(value, name: str, options: Iterable):
    """``value`` must be one of ``options``; the message lists them and suggests the closest.

    >>> check_option("logistic", "method", ["logistic", "gbm"])
    'logistic'
    >>> check_option("logistc", "method", ["logistic", "gbm"])
    Traceback (most recent call last):
    ...
    crmlab.errors.ParameterError: method must be one of ['logistic', 'gbm'], got 'logistc'. Fix: did you mean method='logistic'?
    """
    import difflib

    options = list(options)
    try:
        ok = value in options
    except (TypeError, ValueError):  # unhashable input, or a frame/array whose truth is ambiguous
        ok = False
    if ok and isinstance(value, (bool, np.bool_)) and not any(o is value for o in options):
        ok = False  # True == 1, but True is not the option 1
    if not ok:
        close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1)
        fix = (f"did you mean {name}={options[[str(o) for o in options].index(close[0])]!r}?" if close
               else f"pass one of {options}")
        raise ParameterError(f"{name} must be one of {options}, got {value!r}", fix=fix)
    return value


def check_count(x, name: str, low: int = 1, high: int | None = None) -> int:
    """A whole number in ``[low, high]``; ``high`` guards against runaway work (n_boot=10**9).

    >>> check_count(200, "n_boot", 1, 100_000)
    200
    """
    if isinstance(x, np.integer):
        x = int(x)
    check_scalar(x, name, numbers.Integral, low, high)
    return int(x)


def check_ci_level(x, name: str = "ci_level") -> float:
    """A confidence level in (0, 1), refusing an error rate passed by mistake (0.05 for 0.95).

    >>> check_ci_level(0.9)
    0.9
    >>> check_ci_level(0.05)
    Traceback (most recent call last):
    ...
    crmlab.errors.ParameterError: ci_level is the confidence level, e.g. 0.95, got 0.05. Fix: did you mean ci_level=0.95? (0.05 looks like the error rate alpha)
    """
    x = check_probability(x, name, open_interval=True)
    if x < 0.5:
        raise ParameterError(f"{name} is the confidence level, e.g. 0.95, got {x!r}",
                             fix=f"did you mean {name}={round(1 - x, 10)!r}? ({x!r} looks like the error rate alpha)")
    return x


def check_timestamp(value, name: str, *, allow_none: bool = False) -> pd.Timestamp | None:
    """A single date argument (``as_of``, ``calibration_end``...) parsed to a Timestamp.

    Numbers and booleans are refused: ``pd.Timestamp(20251231)`` is a moment in 1970.

    >>> check_timestamp("2025-12-31", "as_of")
    Timestamp('2025-12-31 00:00:00')
    >>> check_timestamp(20251231, "as_of")
    Traceback (most recent call last):
    ...
    crmlab.errors.ParameterError: as_of must be a date, got 20251231 (int). Fix: pass as_of as a string like '2025-12-31' or a pd.Timestamp
    """
    fix = f"pass {name} as a string like '2025-12-31' or a pd.Timestamp"
    if value is None:
        if allow_none:
            return None
        raise ParameterError(f"{name} is missing", fix=fix)
    if isinstance(value, (bool, numbers.Number, np.bool_)):
        raise ParameterError(f"{name} must be a date, got {value!r} ({type(value).__name__})", fix=fix)
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError) as err:
        raise ParameterError(f"{name} is not a date: {value!r}", fix=fix) from err
    if pd.isna(ts):
        raise ParameterError(f"{name} is missing (NaT)", fix=fix)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return ts


def check_array(x, name: str, *, finite: bool = True, non_negative: bool = False, min_size: int = 1,
                allow_nan: bool = False) -> np.ndarray:
    """A 1-D float array from a list, Series or scalar-free array; refuses text, None and inf.

    >>> check_array([1, 2.5], "t")
    array([1. , 2.5])
    """
    arr = np.atleast_1d(_float_values(x, name, "a 1-D list or array of numbers",
                                      f"pass {name} as a list, numpy array or Series of numbers"))
    if arr.ndim != 1:
        raise ParameterError(f"{name} must be 1-D, got shape {arr.shape}", fix=f"pass one value per row: {name}.ravel()")
    if arr.size < min_size:
        raise DataValidationError(f"{name} has {arr.size} value(s); at least {min_size} needed",
                                  fix="check the filters applied before this call")
    nan = np.isnan(arr)
    if nan.any() and not allow_nan:
        raise DataValidationError(f"{name} has {int(nan.sum())} missing value(s) (first at position "
                                  f"{int(np.flatnonzero(nan)[0])})", fix="drop or impute them before calling")
    if finite and np.isinf(arr).any():
        raise DataValidationError(f"{name} has {int(np.isinf(arr).sum())} infinite value(s)",
                                  fix="fix the division by zero that made them, or drop those values")
    if non_negative and (arr[~nan] < 0).any():
        raise DataValidationError(f"{name} has {int((arr[~nan] < 0).sum())} negative value(s)",
                                  fix=f"{name} must be >= 0")
    return arr


def check_same_length(**arrays) -> int:
    """All keyword arguments must have the same length; returns it.

    >>> check_same_length(durations=[1, 2], events=[0, 1])
    2
    """
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ParameterError(f"the inputs have different lengths: {shown}",
                             fix="pass one value per customer/row in every argument, aligned in the same order")
    return next(iter(lengths.values()), 0)


def _writable_ancestor(path, name: str) -> None:
    """The nearest existing folder above ``path`` must be a folder this process may write to."""
    import os
    from pathlib import Path

    anc = Path(path).absolute()
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise ParameterError(f"{name} {path} cannot be created: {anc} is a file, not a folder",
                             fix="choose a path inside a folder")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise ParameterError(f"{name} {path} cannot be written: no write permission in {anc}",
                             fix="choose a folder you can write to")


def check_output_dir(path, name: str = "out", *, force: bool = False):
    """A folder to write into: new, empty, or (with ``force``) one whose files may be overwritten.

    Raises :class:`~crmlab.errors.OutputExistsError` for a non-empty folder unless ``force``
    (``force`` only lets a writer overwrite the files it writes: callers never delete anything
    else), and :class:`~crmlab.errors.ParameterError` for a path that is a file or cannot be
    written. Returns the path; nothing is created.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (pathlib.Path(tmp) / "notes.txt").write_text("mine")
    ...     check_output_dir(tmp, "--out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    crmlab.errors.OutputExistsError: --out ... is not empty (it holds notes.txt). Fix: choose a new or empty folder, or pass --force (force=True) to overwrite the files written there; nothing else in it is deleted
    """
    from pathlib import Path

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ParameterError(f"{name} {path} exists and is not a folder",
                             fix="choose a folder path (it is created if needed)")
    if path.is_dir():
        entries = sorted(p.name for p in path.iterdir())
        if entries and not force:
            shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
            raise OutputExistsError(f"{name} {path} is not empty (it holds {shown})",
                                    fix="choose a new or empty folder, or pass --force (force=True) to "
                                        "overwrite the files written there; nothing else in it is deleted")
    _writable_ancestor(path, name)
    return path


def check_output_file(path, name: str = "out", *, force: bool = False, suffix: str | None = None):
    """A file to write: new, or (with ``force``) an existing file of type ``suffix`` to replace.

    A path with another suffix is refused even with ``force`` (``--out bob.ipynb`` must never
    turn a notebook into a CSV); an existing file needs ``force``. Returns the path.

    >>> check_output_file("grades.ipynb", "--out", suffix=".csv")
    Traceback (most recent call last):
    ...
    crmlab.errors.ParameterError: --out grades.ipynb must be a .csv file. Fix: name the output like grades.csv
    """
    from pathlib import Path

    path = Path(path)
    if suffix is not None and path.suffix.lower() != suffix:
        raise ParameterError(f"{name} {path} must be a {suffix} file",
                             fix=f"name the output like grades{suffix}")
    if path.is_dir():
        raise ParameterError(f"{name} {path} is a folder", fix=f"name a file inside it, e.g. {path / ('grades' + (suffix or ''))}")
    if path.exists() and not force:
        raise OutputExistsError(f"{name} {path} already exists",
                                fix="choose another file name, or pass --force (force=True) to replace it")
    _writable_ancestor(path.parent if str(path.parent) else Path("."), name)
    return path


def check_column_name(value, name: str):
    """A one-column argument (``outcome_col``, ``id_col``...): a column label, not None, a list or a float.

    >>> check_column_name("branch_id", "id_col")
    'branch_id'
    >>> check_column_name(["a", "b"], "id_col")
    Traceback (most recent call last):
    ...
    crmlab.errors.ParameterError: id_col must be one column name, got ['a', 'b'] (list). Fix: pass the name of one column, e.g. id_col='a'
    """
    ok = isinstance(value, str) or (isinstance(value, (numbers.Integral, np.integer))
                                    and not isinstance(value, (bool, np.bool_)))
    if not ok or (isinstance(value, str) and not value):
        example = value[0] if isinstance(value, (list, tuple)) and value and isinstance(value[0], str) else "..."
        raise ParameterError(f"{name} must be one column name, got {value!r} ({type(value).__name__})",
                             fix=f"pass the name of one column, e.g. {name}={example!r}")
    return value


def check_column_list(value, name: str, *, allow_empty: bool = False) -> list:
    """A several-columns argument (``covariates``, ``drivers``, ``by``...) as a list of distinct names.

    One name (a string) becomes a one-element list; None, numbers and repeated names are refused.

    >>> check_column_list("channel", "by")
    ['channel']
    """
    if isinstance(value, str) or (isinstance(value, (numbers.Integral, np.integer))
                                  and not isinstance(value, (bool, np.bool_))):
        value = [value]
    if isinstance(value, (pd.Index, pd.Series, np.ndarray)):
        value = list(value)
    if not isinstance(value, (list, tuple)):
        raise ParameterError(f"{name} must be a list of column names, got {value!r} ({type(value).__name__})",
                             fix=f"pass {name}=['column', ...]")
    cols = list(value)
    for c in cols:
        check_column_name(c, f"every entry of {name}")
    if not cols and not allow_empty:
        raise ParameterError(f"{name} is empty", fix=f"name at least one column in {name}")
    dup = sorted({str(c) for c in cols if cols.count(c) > 1})
    if dup:
        raise ParameterError(f"{name} names column(s) {dup} more than once", fix="name each column once")
    return cols


def _check_column_args(optional=(), **cols) -> None:
    """Each ``*_col`` argument names one column: a label such as a string, not a list or None.

    >>> _check_column_args(date_col=["date"])
    Traceback (most recent call last):
    ...
    crmlab.errors.ParameterError: date_col names one column, got list ['date']. Fix: pass the column's name as a string, e.g. date_col='...'
    """
    for arg, col in cols.items():
        if col is None and arg in optional:
            continue
        if col is None or isinstance(col, (list, tuple, set, dict, pd.Index, pd.Series, np.ndarray)) \
                or not isinstance(col, Hashable):
            raise ParameterError(f"{arg} names one column, got {type(col).__name__} {str(col)[:60]}",
                                 fix=f"pass the column's name as a string, e.g. {arg}='...'")


def _check_scalar_option(value, name: str, options: list):
    """:func:`check_option` for one scalar choice (a DataFrame or array would make ``in`` ambiguous).

    >>> _check_scalar_option("sum", "monetary", ["sum", "mean"])
    'sum'
    """
    if isinstance(value, (pd.DataFrame, pd.Series, pd.Index, np.ndarray, list, dict, set)):
        raise ParameterError(f"{name} must be one of {options}, got a {type(value).__name__}",
                             fix=f"pass one of {options}")
    return check_option(value, name, options)


def _tz_naive(dates: pd.Series) -> pd.Series:
    """Time-zone-aware dates compared with a plain as_of would raise in pandas: drop the zone.

    >>> _tz_naive(pd.Series(pd.to_datetime(["2024-01-01 08:00"]).tz_localize("Asia/Shanghai"))).iloc[0]
    Timestamp('2024-01-01 00:00:00')
    """
    return dates.dt.tz_convert(None) if getattr(dates.dt, "tz", None) is not None else dates


def _float_values(x, name: str, what: str, fix: str) -> np.ndarray:
    """``x`` as a float array of any shape, refusing None, text, frames and non-numeric values.

    ``what`` ("a number or an array of numbers") and ``fix`` word the refusal of None, text and frames.

    >>> _float_values(pd.Series(["Yes", "No"]), "churn", "numbers", "pass numbers")
    Traceback (most recent call last):
    ...
    crmlab.errors.ParameterError: churn must be numeric, got dtype object. Fix: map the two labels to 1/0, e.g. df['churn'] = df['churn'].map({'Yes': 1, 'No': 0})
    """
    if x is None or isinstance(x, (str, bytes, pd.DataFrame)):
        raise ParameterError(f"{name} must be {what}, got {type(x).__name__}", fix=fix)
    if isinstance(x, pd.Series) and not (pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x)):
        raise ParameterError(f"{name} must be numeric, got dtype {x.dtype}", fix=coding_advice(x, name, "numeric"))
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must hold numbers only", fix=f"convert {name} with pd.to_numeric first") from err
