"""Execute a submitted notebook inside the grading sandbox and export its answers as plain data.

Started by the sandbox's first process (``python -I -B -m crmlab.course.runner RUN.json``) in a
fresh IPython shell (no Jupyter kernel, no ZeroMQ: the same cell semantics, magics included,
without a kernel's start-up cost). Every code cell runs in order; a cell that raises is
recorded and the next cell runs, as in "Restart & Run All" with errors allowed. At the end
(or at the notebook's deadline) the variables the exercise grades are encoded by
:func:`crmlab.course.plain.encode` and written as one JSON document to the answers pipe.

Everything in here runs in the student's process and can be subverted by the student's code.
That is by design: the only thing this process can influence is the plain-data value of its
own answers, which the trusted checker then compares with the values it computes itself.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import types


class _Deadline(BaseException):
    """Raised in the running cell when the notebook's time is up."""


def _otter_stub() -> types.ModuleType:
    """``import otter`` in a submission made from an older student copy: ``grader.check`` does
    nothing while grading (the public checks are re-run by the trusted checker), and otter's
    seconds of import time are not paid for every submission."""
    module = types.ModuleType("otter")

    class Notebook:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    module.Notebook = Notebook
    return module


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Plain"
    return InteractiveShell.instance(config=config)


def _short(text: str, width: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def main(path: str) -> int:
    started = time.monotonic()
    with open(path, encoding="utf-8") as f:
        run = json.load(f)
    os.remove(path)
    out_fd = int(run.get("fd", 3))
    out = os.fdopen(os.dup(out_fd), "wb")
    os.close(out_fd)
    # the notebook's own prints and warnings go nowhere: nobody reads them while grading
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    sys.modules["otter"] = _otter_stub()
    state = {"deadline": False}

    def on_deadline(signum, frame):
        state["deadline"] = True
        raise _Deadline(f"the notebook ran out of its {run['deadline']:g} s")

    errors: list[dict] = []
    executed = 0
    shell = None
    try:
        signal.signal(signal.SIGALRM, on_deadline)
        signal.setitimer(signal.ITIMER_REAL, max(float(run["deadline"]) - (time.monotonic() - started), 0.5))
        shell = _shell()
        for number, source in enumerate(run["cells"], start=1):
            if state["deadline"]:
                break
            result = shell.run_cell(source, store_history=False, silent=False)
            executed = number
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                name = type(error).__name__
                errors.append({"cell": number, "ename": name, "evalue": _short(str(error))})
    except _Deadline:
        pass
    except BaseException as err:  # SystemExit and friends outside a cell
        errors.append({"cell": executed + 1, "ename": type(err).__name__, "evalue": _short(str(err))})
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    from crmlab.course import plain

    namespace = shell.user_ns if shell is not None else {}
    answers: dict = {}
    for name in run["answers"]:
        if name not in namespace:
            answers[name] = {"t": "missing"}
            continue
        if namespace[name] is Ellipsis:
            answers[name] = {"t": "unanswered"}
            continue
        try:
            answers[name] = plain.encode(namespace[name])
        except plain.NotPlainData as err:
            answers[name] = {"t": "unsupported", "why": _short(str(err), 120)}
        except BaseException as err:  # the value's own code raised while being read
            answers[name] = {"t": "unsupported", "why": f"reading it raised {type(err).__name__}"}
    document = {"format": "crmlab-answers-1", "cells": len(run["cells"]), "executed": executed,
                "deadline": state["deadline"], "errors": errors[:50], "answers": answers,
                "seconds": round(time.monotonic() - started, 3), "complete": True}
    out.write(json.dumps(document, allow_nan=False).encode("utf-8"))
    out.close()
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv[1]))
