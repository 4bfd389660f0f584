"""The trusted checker: scores a submission's exported answers against the exercise's tests.

Runs in the grader's own process, never in the student's. For one submission it takes the
grading spec the build wrote (:func:`crmlab.course.grading.grading_spec`: set-up code, public and
hidden tests, points), the student's world, and the answers that came out of the sandbox as
plain data (:mod:`crmlab.course.plain`). It runs the master's set-up code on that world (once
per exercise and world, cached), puts the decoded answers into a copy of that namespace, and
runs each question's tests there, in order, as otter would: public tests give feedback only,
hidden tests carry the points. Expected values are therefore computed by the instructor's code
on the student's own world, and nothing the student's code did can reach this process: the
answers are data, the tests and the points come from the build.

>>> from crmlab.course.checker import failure_message
>>> failure_message("assert x == 1, 'x must be one'", AssertionError("x must be one"), ["x"], {})
'x must be one'
>>> failure_message("assert abs(x - y) < 1e-6", AssertionError(), ["x"], {})
'the value of `x` is not the expected one for your world'
"""

from __future__ import annotations

import ast
import contextlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from . import plain
from .notebooks import deterministic_env

__all__ = ["QuestionResult", "Checker", "failure_message", "describe_answer"]


@dataclass
class QuestionResult:
    """Score and feedback of one question of one submission."""

    name: str
    points: float | None          # None: hand-graded, not scored here
    possible: float
    manual: bool = False
    format_ok: bool = True
    messages: list[str] = field(default_factory=list)


def describe_answer(tree) -> str | None:
    """Why an exported answer cannot be used (None when it can)."""
    if not isinstance(tree, dict):
        return "was not exported"
    if tree.get("t") == "missing":
        return "is not defined when the notebook has run (was its cell run, or did it raise?)"
    if tree.get("t") == "unanswered":
        return "is still `...`: the question is not answered"
    if tree.get("t") == "unsupported":
        why = str(tree.get("why", ""))[:120]
        return f"is not a plain value (number, string, list, dict, array or table): {why}"
    return None


def _literal_strings(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _loaded(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    seen = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in seen:
            seen.append(node.id)
    return seen


def failure_message(code: str, error: BaseException, answers: list[str], problems: dict) -> str:
    """What a failed check tells the student, without giving the expected value away.

    The test's own assertion message is used only if it is a string literal of the test (an
    f-string could carry the expected number); otherwise a message naming the variables.
    """
    used = [n for n in _loaded(code) if n in answers] or list(answers)
    for name in used:
        if name in problems:
            return f"`{name}` {problems[name]}"
    if isinstance(error, AssertionError):
        text = str(error).strip()
        if text and text in _literal_strings(code):
            return text
        shown = ", ".join(f"`{n}`" for n in used) or "your answer"
        return f"the value of {shown} is not the expected one for your world"
    if isinstance(error, NameError):
        return f"a variable the check needs is not defined: {str(error)[:80]}"
    shown = ", ".join(f"`{n}`" for n in used) or "your answer"
    return f"{shown} could not be checked ({type(error).__name__}: is it of the type the question asks for?)"


class Checker:
    """Runs exercises' tests on decoded answers; caches the set-up namespace per (exercise, world).

    Thread-safe: checks run one at a time (the tests read ``CRMLAB_DATA`` from the environment).
    """

    def __init__(self, cache_size: int = 4):
        self._bases: OrderedDict = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _base(self, spec: dict, world: str) -> dict:
        key = (spec["name"], spec.get("master_sha256"), str(world))
        if key in self._bases:
            self._bases.move_to_end(key)
            return self._bases[key]
        namespace: dict = {"__name__": "__crmlab_check__"}
        for number, code in enumerate(spec["setup"], start=1):
            exec(compile(code, f"<{spec['name']} set-up {number}>", "exec"), namespace)  # noqa: S102 - instructor code
        self._bases[key] = namespace
        while len(self._bases) > self._cache_size:
            self._bases.popitem(last=False)
        return namespace

    def check(self, spec: dict, world, answers: dict) -> list[QuestionResult]:
        """Score ``answers`` (``{name: encoded tree}``) on ``world``; one result per question."""
        import matplotlib

        matplotlib.use("Agg")
        # the instructor's code prints (set-up summaries); nobody reads that while grading
        quiet = io.StringIO()
        with self._lock, deterministic_env(CRMLAB_DATA=str(world), MPLBACKEND="Agg"), \
                contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            base = self._base(spec, str(world))
            namespace = {k: (v.copy() if hasattr(v, "copy") and type(v).__module__.startswith(("pandas", "numpy"))
                             else v) for k, v in base.items()}
            problems: dict[str, str] = {}
            for name in spec["answers"]:
                tree = answers.get(name) if isinstance(answers, dict) else None
                why = describe_answer(tree)
                if why is None:
                    try:
                        namespace[name] = plain.decode(tree)
                    except (plain.NotPlainData, RecursionError, ValueError, TypeError, OverflowError) as err:
                        why = f"could not be read back as plain data ({str(err)[:80]})"
                if why is not None:
                    problems[name] = why
                    namespace.pop(name, None)
            return [self._question(q, namespace, problems) for q in spec["questions"]]

    @staticmethod
    def _run(code: str, label: str, namespace: dict) -> BaseException | None:
        try:
            exec(compile(code, label, "exec"), namespace)  # noqa: S102 - instructor code on plain data
        except Exception as err:
            return err
        return None

    def _question(self, q: dict, namespace: dict, problems: dict) -> QuestionResult:
        if q["manual"]:
            return QuestionResult(q["name"], None, float(q["points"]), manual=True,
                                  messages=["graded by hand by your instructor"])
        result = QuestionResult(q["name"], 0.0, float(q["points"]))
        unusable = [name for name in q["answers"] if name in problems]
        if unusable:  # no test can pass without the answer: say why, once per variable
            result.format_ok = False
            result.messages = [f"`{name}` {problems[name]}" for name in unusable]
            return result
        for number, code in enumerate(q["public"], start=1):
            error = self._run(code, f"<{q['name']} format check {number}>", namespace)
            if error is not None:
                result.format_ok = False
                result.messages.append("format: " + failure_message(code, error, q["answers"], problems))
        earned = 0.0
        for number, test in enumerate(q["hidden"], start=1):
            error = self._run(test["code"], f"<{q['name']} hidden test {number}>", namespace)
            if error is None:
                earned += float(test["points"])
            else:
                message = failure_message(test["code"], error, q["answers"], problems)
                if message not in result.messages and "format: " + message not in result.messages:
                    result.messages.append(message)
        result.points = round(min(earned, result.possible), 6)
        return result

