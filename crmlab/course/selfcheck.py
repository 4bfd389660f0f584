"""``grader.check("q1")`` for students: run a question's public format checks in the notebook.

The student copy of an exercise starts with::

    from crmlab.course.selfcheck import Notebook
    grader = Notebook("00-welcome-and-data-tour")

and has a ``grader.check("qN")`` cell under each question. The checks come from the student
copy's own metadata (written by the build): they test the *format* of an answer (type, shape,
range), never its value, and they are worth no points. The message says so, so that nobody
mistakes "format checks passed" for a score. Grading runs elsewhere (a sandbox and a trusted
checker), where this class does nothing.

The notebook holding the checks is found in the current folder by its exercise name, so other
notebooks beside it (an executed copy, a scratch notebook) do not confuse it.

>>> r = CheckResult("q1", [])
>>> print(r)
q1: format checks passed (type and shape). This is not a score: the value is checked when your instructor grades the notebook.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

__all__ = ["Notebook", "CheckResult"]


class CheckResult:
    """Outcome of ``grader.check``: the failed format checks' messages (empty: all passed)."""

    def __init__(self, question: str, failures: list[str]):
        self.question = question
        self.failures = list(failures)

    @property
    def passed(self) -> bool:
        return not self.failures

    def __repr__(self) -> str:
        if self.passed:
            return (f"{self.question}: format checks passed (type and shape). This is not a score: the value "
                    "is checked when your instructor grades the notebook.")
        lines = [f"{self.question}: {len(self.failures)} format check(s) failed:"]
        lines += [f"  - {f}" for f in self.failures]
        return "\n".join(lines)

    __str__ = __repr__


def _strip_prompts(code: str) -> str:
    """Test code as otter stores it (doctest-style ``>>>``/``...`` prompts) as plain Python."""
    out = []
    for line in code.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(">>> ") or stripped == ">>>":
            out.append(stripped[4:])
        elif stripped.startswith("... ") or stripped == "...":
            out.append(stripped[4:])
        else:
            out.append(line)
    return "\n".join(out)


class Notebook:
    """The self-check of one exercise (``exercise`` = its name, e.g. ``"00-welcome-and-data-tour"``)."""

    def __init__(self, exercise: str | None = None, folder: str | os.PathLike | None = None):
        self.exercise = exercise
        self.folder = Path(folder) if folder is not None else None
        self._tests: dict | None = None

    def _find_tests(self) -> dict:
        folder = self.folder or Path.cwd()
        candidates = []
        session = os.environ.get("JPY_SESSION_NAME")
        paths = sorted(folder.glob("*.ipynb"), key=lambda p: p.stat().st_mtime, reverse=True)
        if session and Path(session).suffix == ".ipynb" and Path(session).is_file():
            paths.insert(0, Path(session))
        for path in paths:
            try:
                meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("otter", {})
            except (OSError, ValueError, AttributeError):
                continue
            if not isinstance(meta, dict) or not isinstance(meta.get("tests"), dict):
                continue
            if self.exercise is None or meta.get("assignment_name") == self.exercise:
                candidates.append(meta["tests"])
        if not candidates:
            which = f"exercise {self.exercise!r}" if self.exercise else "an exercise"
            raise FileNotFoundError(
                f"grader.check found no notebook of {which} in {folder}: open the student copy of the exercise "
                "(notebooks/exercises/) and run it from its own folder")
        return candidates[0]

    def check(self, question: str, env: dict | None = None) -> CheckResult | None:
        """Run the public format checks of ``question`` against the notebook's variables."""
        if os.environ.get("CRMLAB_GRADING") == "1":
            return None
        if self._tests is None:
            self._tests = self._find_tests()
        test = self._tests.get(question)
        if not isinstance(test, dict):
            known = ", ".join(sorted(self._tests)) or "none"
            raise KeyError(f"no question {question!r} in this exercise (questions: {known})")
        if env is None:
            env = inspect.currentframe().f_back.f_globals
        failures = []
        for suite in test.get("suites", []):
            for case in suite.get("cases", []):
                if case.get("hidden"):
                    continue
                try:
                    exec(_strip_prompts(str(case.get("code", ""))), dict(env))  # noqa: S102 - the student's own checks
                except AssertionError as err:
                    failures.append(str(err) or "a format check failed")
                except NameError as err:
                    failures.append(f"{err} (run the cell that computes the answer first)")
                except Exception as err:
                    failures.append(f"{type(err).__name__}: {err}")
        return CheckResult(question, failures)

    def check_all(self) -> list[CheckResult]:
        env = inspect.currentframe().f_back.f_globals
        if self._tests is None:
            self._tests = self._find_tests()
        return [self.check(q, env) for q in sorted(self._tests)]
