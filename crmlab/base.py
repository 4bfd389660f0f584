"""The results contract every crmlab fitter and statistical test follows.

Fitters (one class per model family, as in lifelines) derive from :class:`Fitter`:

- the constructor stores its arguments unchanged as attributes of the same name (settings:
  what the model *is*); ``fit(data, ...)`` takes the data and which of its columns play
  which role, and returns ``self``;
- everything learned from the data is an attribute ending in ``_`` (``params_``,
  ``n_obs_``...); asking for a result before ``fit`` raises :class:`NotFittedError`;
- ``summary`` is a DataFrame whose estimates and intervals sit in the columns
  :data:`SUMMARY_COLUMNS` (``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, then
  ``p_value`` where the model has one, then model-specific extras), with the interval's
  level in ``summary.attrs["ci_level"]``;
- ``repr(model)`` shows the non-default settings and, once fitted, what it was fitted on.

Statistical tests return a :class:`TestResult` (statistic, df, p-value, table), readable
as it is in a notebook.

>>> import numpy as np
>>> class MeanFitter(Fitter):
...     def __init__(self, ci_level=0.95):
...         self.ci_level = ci_level
...     def fit(self, x):
...         x = np.asarray(x, float)
...         self.mean_, self.se_, self.n_obs_ = x.mean(), x.std(ddof=1) / np.sqrt(len(x)), len(x)
...         return self
...     def _summary(self):
...         return wald_summary([self.mean_], [self.se_], index=["mean"], ci_level=self.ci_level)
>>> MeanFitter()
MeanFitter() (not fitted)
>>> MeanFitter().summary
Traceback (most recent call last):
...
crmlab.errors.NotFittedError: this MeanFitter is not fitted yet. Fix: call .fit(...) first
>>> MeanFitter(ci_level=0.9).fit([1.0, 2.0, 3.0, 4.0])
MeanFitter(ci_level=0.9), fitted on 4 observations: mean=2.5
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .errors import NotFittedError

__all__ = ["Fitter", "TestResult", "SUMMARY_COLUMNS", "summary_frame", "wald_summary", "normal_quantile"]

#: The leading columns of every fitter's ``summary`` (then ``p_value`` where there is one).
SUMMARY_COLUMNS = ("estimate", "std_error", "ci_lower", "ci_upper")


def normal_quantile(ci_level: float) -> float:
    """The two-sided normal critical value for a ``ci_level`` interval (1.96 for 0.95).

    >>> round(normal_quantile(0.95), 3)
    1.96
    """
    return float(stats.norm.ppf(0.5 + ci_level / 2))


def summary_frame(estimate, std_error=None, ci_lower=None, ci_upper=None, *, index=None,
                  ci_level: float = 0.95, p_value=None, **extra) -> pd.DataFrame:
    """A summary table in the kit's one layout; missing parts are NaN.

    ``extra`` columns follow the standard ones in the order given.

    >>> summary_frame([1.0], [0.5], [0.0], [2.0], index=["b"]).columns.tolist()
    ['estimate', 'std_error', 'ci_lower', 'ci_upper']
    """
    est = np.asarray(estimate, dtype=float).ravel()
    nan = np.full(est.shape, np.nan)

    def col(values):
        return nan if values is None else np.asarray(values, dtype=float).ravel()

    data = {"estimate": est, "std_error": col(std_error), "ci_lower": col(ci_lower), "ci_upper": col(ci_upper)}
    if p_value is not None:
        data["p_value"] = col(p_value)
    for name, values in extra.items():
        data[name] = values.to_numpy() if isinstance(values, pd.Series) else values
    out = pd.DataFrame(data, index=index)
    out.attrs["ci_level"] = ci_level
    return out


def wald_summary(estimate, std_error, *, index=None, ci_level: float = 0.95, p_value: bool = True,
                 **extra) -> pd.DataFrame:
    """Estimates with normal (Wald) intervals and two-sided p-values for H0: parameter = 0.

    >>> wald_summary([2.0], [1.0], index=["b"]).round(3).to_dict("records")
    [{'estimate': 2.0, 'std_error': 1.0, 'ci_lower': 0.04, 'ci_upper': 3.96, 'p_value': 0.046}]
    """
    est = np.asarray(estimate, dtype=float).ravel()
    se = np.asarray(std_error, dtype=float).ravel()
    z = normal_quantile(ci_level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.norm.sf(np.abs(est / se)) if p_value else None
    return summary_frame(est, se, est - z * se, est + z * se, index=index, ci_level=ci_level, p_value=p, **extra)


def _short(value) -> str:
    if isinstance(value, np.generic):
        value = value.item()  # np.int64(3) -> 3
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    if isinstance(value, pd.DataFrame):
        return f"<DataFrame {value.shape[0]}x{value.shape[1]}>"
    if isinstance(value, (pd.Series, np.ndarray)):
        return f"<{type(value).__name__} of {len(value)}>"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Fitter:
    """Base class of crmlab's fitters (see the module docstring for the contract)."""

    #: what one row of the data is, for ``repr`` ("customers", "respondents"...)
    _unit = "observations"

    # -- parameters ------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self) -> dict:
        """The constructor's settings, as stored on the object (scikit-learn's convention)."""
        return {name: getattr(self, name) for name in self._param_names()}

    # -- fitted state ----------------------------------------------------------------
    def _is_fitted(self) -> bool:
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def _check_fitted(self) -> None:
        if not self._is_fitted():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet", fix="call .fit(...) first")

    # -- summary ---------------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        """Estimates and intervals in the kit's one layout (see :data:`SUMMARY_COLUMNS`)."""
        self._check_fitted()
        return self._summary()

    def _summary(self) -> pd.DataFrame:  # pragma: no cover - every fitter overrides it
        raise NotImplementedError

    # -- repr ------------------------------------------------------------------------
    def _settings_repr(self) -> str:
        sig = inspect.signature(type(self).__init__)
        shown = []
        for name in self._param_names():
            value = getattr(self, name, None)
            default = sig.parameters[name].default
            try:
                same = default is not inspect.Parameter.empty and bool(np.all(value == default))
            except Exception:  # noqa: BLE001 - uncomparable settings are simply shown
                same = False
            if not same:
                shown.append(f"{name}={_short(value)}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def _repr_fitted(self) -> str:
        """What the fit learned, in one line; fitters may override."""
        n = getattr(self, "n_obs_", None)
        text = f"fitted on {n:,} {self._unit}" if isinstance(n, (int, np.integer)) else "fitted"
        try:
            table = self._summary()
        except Exception:  # noqa: BLE001 - a repr must never raise
            return text
        if "estimate" in table.columns and 0 < len(table) <= 6:
            pairs = ", ".join(f"{k if not isinstance(k, tuple) else '~'.join(map(str, k))}={v:.4g}"
                              for k, v in table["estimate"].items())
            text += f": {pairs}"
        return text

    def __repr__(self) -> str:
        head = self._settings_repr()
        return f"{head}, {self._repr_fitted()}" if self._is_fitted() else f"{head} (not fitted)"


@dataclass(frozen=True, repr=False, eq=False)
class TestResult:
    """The result of a statistical test: one type for every test in the kit.

    >>> r = TestResult("log-rank test", statistic=6.1, p_value=0.047, df=2, statistic_name="chi2",
    ...                null_hypothesis="the three plans have the same retention curve")
    >>> r
    log-rank test: chi2 = 6.1 on 2 df, p = 0.047
    H0: the three plans have the same retention curve
    >>> r.significant(0.95)
    True
    """

    __test__ = False  # a result type, not a pytest test class

    name: str
    statistic: float
    p_value: float
    df: float | None = None
    table: pd.DataFrame | None = None
    null_hypothesis: str = ""
    statistic_name: str = "statistic"
    details: Mapping[str, object] = field(default_factory=dict)

    def significant(self, ci_level: float = 0.95) -> bool:
        """Whether H0 is rejected at the level ``1 - ci_level``."""
        return bool(self.p_value < 1 - ci_level)

    def to_series(self) -> pd.Series:
        """statistic, df, p_value and the details as one Series (for tables of many tests)."""
        out = {"statistic": self.statistic, "df": self.df, "p_value": self.p_value, **dict(self.details)}
        return pd.Series(out, name=self.name)

    def __repr__(self) -> str:
        df = "" if self.df is None else f" on {self.df:g} df"
        lines = [f"{self.name}: {self.statistic_name} = {self.statistic:.4g}{df}, p = {self.p_value:.3g}"]
        if self.null_hypothesis:
            lines.append(f"H0: {self.null_hypothesis}")
        for key, value in dict(self.details).items():
            lines.append(f"{key}: {_short(value) if not isinstance(value, str) else value}")
        if self.table is not None:
            lines.append(self.table.to_string())
        return "\n".join(lines)

