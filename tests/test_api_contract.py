"""One contract for every fitter and one vocabulary for every public function.

The idea of scikit-learn's ``check_estimator``: each fitter in crmlab is fitted on a small
slice of the shipped world and must keep the kit's results contract (``crmlab.base``):

- it derives from :class:`crmlab.base.Fitter` and stores its constructor settings unchanged;
- before ``fit``: ``summary`` (and the methods its case lists) raise ``NotFittedError``, a
  ``CrmlabError``, and ``repr`` says "not fitted";
- ``fit`` returns ``self``, leaves the settings alone, and everything it learns ends in ``_``;
- ``summary`` is a non-empty DataFrame; where it reports estimates, the columns start with
  ``estimate, std_error, ci_lower, ci_upper`` (then ``p_value``) and no estimate is NaN/inf
  silently; ``summary.attrs["ci_level"]`` is the model's ``ci_level``;
- ``repr`` is readable (class name and settings, no memory address).

How to fit each fitter lives in ``tests/contract_cases/*.py``: each file defines ``CASES``,
a dict ``{class: function(world) -> (model, args, kwargs)}`` and optionally ``CALLS``,
``{class: [(method, args, kwargs), ...]}`` of calls that need a fitted model. A fitter
without a case fails ``test_every_fitter_has_a_case``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab.base import SUMMARY_COLUMNS, Fitter, TestResult
from crmlab.errors import CrmlabError, NotFittedError

# the analytics library; course machinery (grading, notebooks) is not part of the contract
SKIP_MODULES = {"crmlab.cli", "crmlab.course", "crmlab.grading", "crmlab.teaching", "crmlab._threads"}


def _public_modules():
    mods = []
    for info in pkgutil.walk_packages(crmlab.__path__, "crmlab."):
        name = info.name
        if any(name == s or name.startswith(s + ".") for s in SKIP_MODULES) or "._" in name:
            continue
        try:
            mods.append(importlib.import_module(name))
        except ImportError as err:  # optional extras (duckdb, pyspark) may be absent
            if "crmlab" in str(err):
                raise
    return mods


MODULES = _public_modules()


def _public_classes():
    seen = {}
    for mod in MODULES:
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if inspect.isclass(obj) and obj.__module__.startswith("crmlab") and not name.startswith("_"):
                seen[obj] = f"{obj.__module__}.{obj.__qualname__}"
    return seen


CLASSES = _public_classes()
FITTERS = sorted((c for c in CLASSES if callable(getattr(c, "fit", None))), key=lambda c: CLASSES[c])

CASES: dict = {}
CALLS: dict = {}
for _path in sorted((Path(__file__).parent / "contract_cases").glob("*.py")):
    _ns = runpy.run_path(str(_path))
    CASES.update(_ns.get("CASES", {}))
    CALLS.update(_ns.get("CALLS", {}))


def _ids(classes):
    return [c.__name__ for c in classes]


@pytest.fixture(scope="module")
def world(shipped):
    return shipped


def test_every_fitter_derives_from_the_base():
    offenders = [CLASSES[c] for c in FITTERS if not issubclass(c, Fitter)]
    assert not offenders, f"fitters outside the results contract (derive from crmlab.base.Fitter): {offenders}"


def test_every_fitter_has_a_case():
    missing = [CLASSES[c] for c in FITTERS if c not in CASES]
    assert not missing, f"add a case to tests/contract_cases/ for: {missing}"


@pytest.mark.parametrize("cls", FITTERS, ids=_ids(FITTERS))
def test_fitter_contract(cls, world):
    if cls not in CASES:
        pytest.fail(f"no contract case for {cls.__name__}")
    model, args, kwargs = CASES[cls](world)
    assert type(model) is cls

    # settings are stored unchanged under their constructor names
    params = model.get_params()
    sig = inspect.signature(cls.__init__)
    assert set(params) == {p for p in sig.parameters if p != "self"
                           and sig.parameters[p].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                              inspect.Parameter.VAR_KEYWORD)}

    # before fit: one error type, a readable repr
    assert "not fitted" in repr(model) and "object at 0x" not in repr(model)
    with pytest.raises(NotFittedError) as err:
        model.summary  # noqa: B018
    assert isinstance(err.value, CrmlabError) and cls.__name__ in str(err.value)
    assert not hasattr(model, "summary")
    for method, m_args, m_kwargs in CALLS.get(cls, []):
        with pytest.raises(NotFittedError):
            getattr(model, method)(*m_args(world) if callable(m_args) else m_args, **m_kwargs)

    before = dict(vars(model))
    out = model.fit(*args, **kwargs)
    assert out is model, "fit must return self"
    assert model.get_params().keys() == params.keys()
    for k, v in params.items():
        assert model.get_params()[k] is v or _same(model.get_params()[k], v), f"fit changed setting {k}"
    learned = [k for k in vars(model) if k not in before and not k.startswith("_")]
    assert learned, "fit learned nothing"
    bad = [k for k in learned if not k.endswith("_")]
    assert not bad, f"learned attributes must end in '_': {bad}"

    summary = model.summary
    assert isinstance(summary, pd.DataFrame) and len(summary) > 0
    if "estimate" in summary.columns:
        assert tuple(summary.columns[:4]) == SUMMARY_COLUMNS, list(summary.columns)
        if "p_value" in summary.columns:
            assert summary.columns[4] == "p_value"
        est = summary["estimate"].to_numpy(dtype=float)
        assert np.isfinite(est).all(), "an estimate is NaN/inf without an error or a warning"
        lo, hi = summary["ci_lower"].to_numpy(float), summary["ci_upper"].to_numpy(float)
        both = np.isfinite(lo) & np.isfinite(hi)
        assert (lo[both] <= est[both] + 1e-9).all() and (est[both] <= hi[both] + 1e-9).all()
        if "ci_level" in params:
            assert summary.attrs.get("ci_level") == params["ci_level"]
    for col in ("coef", "se", "se(coef)", "ci_low", "ci_high", "lower 0.95", "upper 0.95", "p"):
        assert col not in summary.columns, f"old summary column {col!r}: use {SUMMARY_COLUMNS}"

    text = repr(model)
    assert cls.__name__ in text and "object at 0x" not in text and "not fitted" not in text
    assert len(text) < 600
    for method, m_args, m_kwargs in CALLS.get(cls, []):
        getattr(model, method)(*m_args(world) if callable(m_args) else m_args, **m_kwargs)


def _same(a, b):
    try:
        return bool(np.all(a == b))
    except Exception:  # noqa: BLE001
        return False


# ------------------------------------------------------------------------------------
# one vocabulary (CONTRIBUTING.md, "Conventions")
# ------------------------------------------------------------------------------------
# argument names that the conventions replaced, with the name to use instead
RETIRED = {
    "ci": "ci_level", "confidence": "ci_level", "alpha": "ci_level",
    "observation_end": "as_of", "window_end": "as_of",
    "id": "id_col", "id_column": "id_col", "entity": "id_col", "customer_id": "customer_id_col",
    "date": "date_col", "amount": "amount_col", "duration": "duration_col", "event": "event_col",
    "entry": "entry_col", "treatment": "treatment_col", "unit": "unit_col",
    "time": "time_col", "treated": "treated_col", "responded": "responded_col",
    "n_sim": "n_sims", "n_samples": "n_draws", "random_state": "seed",
}
# where a retired name is the model's own parameter, not the vocabulary's (BG/NBD's alpha...);
# the world's parameters (crmlab.synth.params) are model parameters throughout
ALLOWED = {
    ("crmlab.clv", "simulate_bgnbd", "alpha"),
    ("crmlab.clv", "simulate_bgbb", "alpha"),
    ("crmlab.clv", "simulate_pareto_nbd", "alpha"),
    ("crmlab.kpi", "Indicator", "unit"),                 # a unit of measurement ("%", "CNY")
    # arrays, scikit-learn style, not column names
    ("crmlab.experiments", "TLearner", "treatment"),
    ("crmlab.experiments", "cross_fit_uplift", "treatment"),
    ("crmlab.experiments", "targeting_table", "treatment"),
}


def _callables():
    for mod in MODULES:
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if inspect.isfunction(obj) and obj.__module__.startswith("crmlab"):
                yield mod.__name__, name, obj
            elif inspect.isclass(obj) and obj.__module__.startswith("crmlab"):
                for attr, fn in inspect.getmembers(obj, inspect.isfunction):
                    if not attr.startswith("_") or attr == "__init__":
                        yield mod.__name__, f"{name}.{attr}" if attr != "__init__" else name, fn


def test_one_vocabulary_for_arguments():
    offenders = []
    for mod, name, fn in _callables():
        for p in inspect.signature(fn).parameters:
            if p in RETIRED and (mod, name.split(".")[0], p) not in ALLOWED and mod != "crmlab.synth.params":
                offenders.append(f"{mod}.{name}({p}=) -> {RETIRED[p]}")
    assert not offenders, "retired argument names:\n" + "\n".join(sorted(set(offenders)))


# names that mean the same thing in each module that has them (each compares its own model)
SAME_MEANING = {"compare_with_truth"}


def test_no_twin_public_names():
    """One meaning per public name: a name exported by two modules must be the same object."""
    owners: dict[str, list] = {}
    for mod in MODULES:
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                owners.setdefault(name, []).append((mod.__name__, obj))
    twins = {n: [m for m, _ in v] for n, v in owners.items()
             if len({id(o) for _, o in v}) > 1 and n not in SAME_MEANING}
    assert not twins, f"the same public name means different things: {twins}"


def test_result_types_are_exported():
    assert TestResult.__test__ is False
    assert issubclass(NotFittedError, CrmlabError) and issubclass(NotFittedError, AttributeError)
