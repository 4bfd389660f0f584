"""Errors raised by crmlab.

Every public function in crmlab checks its inputs and raises a :class:`CrmlabError`
(or a subclass) whose message says *what* is wrong and *how to fix it*, in the spirit
of scikit-learn's input checks. Catch ``CrmlabError`` to handle any of them.

>>> from crmlab.errors import CrmlabError
>>> try:
...     raise ColumnError("missing column 'amount' in transactions",
...                       fix="pass the spend column as amount=")
... except CrmlabError as err:
...     print(err)
missing column 'amount' in transactions. Fix: pass the spend column as amount=
"""

from __future__ import annotations

__all__ = [
    "CrmlabError",
    "ColumnError",
    "DataValidationError",
    "ParameterError",
    "ConvergenceError",
    "DatasetNotFoundError",
    "NotFittedError",
    "OutputExistsError",
    "ImproperSolutionError",
    "CrmlabWarning",
    "ImproperSolutionWarning",
    "SmallSampleWarning",
]


class CrmlabError(ValueError):
    """Base class of every error crmlab raises on purpose.

    Subclasses ``ValueError`` so that code written against scikit-learn-style
    ``except ValueError`` keeps working. ``fix`` is appended as a hint.
    """

    def __init__(self, message: str, *, fix: str | None = None):
        self.problem = message
        self.fix = fix
        text = message if fix is None else f"{message.rstrip('.')}. Fix: {fix}"
        super().__init__(text)


class ColumnError(CrmlabError, KeyError):
    """A required column is missing or has the wrong type."""

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return self.args[0]


class DataValidationError(CrmlabError):
    """Values in a frame break a rule (NaN, negative, out of range, bad dates...)."""


class ParameterError(CrmlabError):
    """A function argument is invalid (wrong type, out of range, inconsistent)."""


class ConvergenceError(CrmlabError):
    """A model fit did not converge; the message says what to try."""


class DatasetNotFoundError(CrmlabError, FileNotFoundError):
    """A shipped dataset could not be found on disk."""

    def __str__(self) -> str:
        return self.args[0]


class NotFittedError(CrmlabError, AttributeError):
    """A fitter's result was asked for before ``fit`` was called.

    Also an ``AttributeError`` (as scikit-learn's), so ``hasattr(model, "summary")`` is
    ``False`` on an unfitted model instead of raising.
    """

    def __str__(self) -> str:
        return self.args[0]


class OutputExistsError(CrmlabError, FileExistsError):
    """A command would overwrite or delete files it did not create."""

    def __str__(self) -> str:
        return self.args[0]


class ImproperSolutionError(ConvergenceError):
    """A model converged to an improper solution (a Heywood case, a standardised path beyond +-1,
    R² = 1, indistinguishable constructs, a singular information matrix) and strict checking
    was asked for. The message lists each problem and what to do about it."""


class CrmlabWarning(UserWarning):
    """Base class of the warnings crmlab issues on purpose (the result is still returned)."""


class ImproperSolutionWarning(CrmlabWarning):
    """A model's solution is improper: its estimates are returned but should not be
    interpreted as they stand. The message lists each problem and what to do about it."""


class SmallSampleWarning(CrmlabWarning):
    """A model was fitted on fewer observations than its rule of thumb asks for; the
    estimates are returned, with wide intervals. The message says how to silence it knowingly."""
