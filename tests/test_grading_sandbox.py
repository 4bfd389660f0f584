"""The grading sandbox and the plain-data channel, probed from the inside.

Each probe is a notebook cell run by :func:`crmlab.course.sandbox.run_notebook_cells`; what it
found comes back as an exported answer. The class-level attacks (hostile submissions graded in
one batch with honest ones) are in ``test_grading_hostile.py``.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmlab import datasets
from crmlab.course import plain, sandbox
from crmlab.course.sandbox import SandboxLimits, run_notebook_cells

REPO = Path(__file__).resolve().parents[1]
WORLD = datasets.find_data_dir()

pytestmark = pytest.mark.skipif(sandbox.isolation_status().mode == "unavailable",
                                reason=f"no sandbox here: {sandbox.isolation_status().reason}")


def run(cells, answers, limits=None, **kw):
    limits = limits or SandboxLimits(timeout=60)
    result = run_notebook_cells([textwrap.dedent(c) for c in cells], answers, WORLD, limits=limits, **kw)
    doc = json.loads(result.export) if result.export else None
    values = {}
    if doc is not None:
        for name, tree in doc["answers"].items():
            values[name] = plain.decode(tree) if tree["t"] not in ("missing", "unsupported", "unanswered") else tree
    return result, doc, values


def _pids_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def probes(tmp_path_factory):
    """One sandbox run probing the isolation from the inside (the values it could see)."""
    secret = tmp_path_factory.mktemp("secret") / "classmate.ipynb"
    secret.write_text('{"answer": 42}')
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    site = next(p for p in sys.path if p.endswith("site-packages"))
    cells = [f"""
    import os, socket, subprocess, pathlib, crmlab
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    cap_eff = status["CapEff"].strip()
    no_new_privs = status["NoNewPrivs"].strip()
    uid = os.getuid()
    root_entries = sorted(os.listdir("/"))
    repo_entries = sorted(os.listdir(pathlib.Path(crmlab.__file__).resolve().parent.parent))
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())

    def attempt(action):
        try:
            action()
            return "succeeded"
        except Exception as err:
            return type(err).__name__

    read_classmate = attempt(lambda: open({str(secret)!r}).read())
    read_master = attempt(lambda: open({str(REPO / 'exercises' / '00-welcome-and-data-tour' / '00-welcome-and-data-tour.ipynb')!r}).read())
    write_pth = attempt(lambda: open({site!r} + "/zz_crmlab_probe.pth", "w").write("import os"))
    write_crmlab = attempt(lambda: open(pathlib.Path(crmlab.__file__).parent / "zz_probe.py", "w").write("x = 1"))
    write_root = attempt(lambda: open("/zz_probe", "w").write("x"))
    write_home = attempt(lambda: open("notes.txt", "w").write("x"))
    connect = attempt(lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2))
    mount = subprocess.run(["umount", "/data/world"], capture_output=True).returncode
    chroot_escape = attempt(lambda: os.chroot("/tmp"))
    kill_all = attempt(lambda: os.kill(-1, 0))
    """, """
    from crmlab import datasets
    seed_with_env = int(datasets.load_meta()["seed"])
    del os.environ["CRMLAB_DATA"]
    seed_without_env = int(datasets.load_meta()["seed"])
    """]
    names = ["cap_eff", "no_new_privs", "uid", "root_entries", "repo_entries", "pids", "read_classmate",
             "read_master", "write_pth", "write_crmlab", "write_root", "write_home", "connect", "mount",
             "chroot_escape", "seed_with_env", "seed_without_env"]
    try:
        result, doc, values = run(cells, names)
    finally:
        listener.close()
    assert result.status == "ok", (result.status, result.detail, result.log)
    assert doc["errors"] == [], doc["errors"]
    return values, site


def _venv_top() -> str:
    """The repository's top-level entry holding the running venv (".venv" unless it lies elsewhere)."""
    try:
        return Path(sys.prefix).resolve().relative_to(REPO.resolve()).parts[0]
    except ValueError:
        return ".venv"


class TestIsolation:
    def test_no_privileges(self, probes):
        values, _ = probes
        assert values["cap_eff"] == "0000000000000000" and values["no_new_privs"] == "1"
        if sandbox.isolation_status().mode == "root":
            assert values["uid"] >= sandbox.SANDBOX_UID_BASE, "as root the notebook runs as an unprivileged uid"
        assert values["mount"] != 0 and values["chroot_escape"] != "succeeded"

    def test_sees_only_its_own_processes(self, probes):
        values, _ = probes
        assert values["pids"][0] == 1 and len(values["pids"]) <= 3, values["pids"]

    def test_sees_nothing_of_the_repository_but_the_package(self, probes):
        values, _ = probes
        # the package, its data and the interpreter's venv (.venv, or build/venv-min under make test-min)
        allowed = {"crmlab", "datasets", _venv_top()}
        assert set(values["repo_entries"]) <= allowed, values["repo_entries"]
        assert "exercises" not in values["repo_entries"] and "tests" not in values["repo_entries"]
        assert values["read_master"] in ("FileNotFoundError", "PermissionError")
        assert values["read_classmate"] in ("FileNotFoundError", "PermissionError")

    def test_cannot_write_outside_its_home(self, probes):
        values, site = probes
        for key in ("write_pth", "write_crmlab", "write_root"):
            assert values[key] in ("OSError", "PermissionError"), (key, values[key])
        assert values["write_home"] == "succeeded"
        assert not (Path(site) / "zz_crmlab_probe.pth").exists()

    def test_no_network(self, probes):
        values, _ = probes
        assert values["connect"] != "succeeded"

    def test_world_cannot_be_bypassed_by_unsetting_crmlab_data(self, probes):
        values, _ = probes
        assert values["seed_with_env"] == values["seed_without_env"] == int(datasets.load_meta(WORLD)["seed"])


def test_memory_cap_stops_a_3gb_allocation():
    result, doc, values = run(["x = 1", "big = bytearray(3 * 2**30)\nsize = len(big)", "after = 2"],
                              ["x", "size", "after"], SandboxLimits(timeout=60, memory_mb=1024))
    assert result.status == "ok"
    assert [e["ename"] for e in doc["errors"]] == ["MemoryError"]
    assert values["x"] == 1 and values["after"] == 2 and values["size"]["t"] == "missing"


def test_fork_bomb_is_capped_and_cleaned_up():
    marker = "987654"
    cells = [f"""
    import os, time
    children = 0
    try:
        for _ in range(2000):
            if os.fork() == 0:
                os.execvp("sleep", ["sleep", "{marker}"])
            children += 1
    except OSError as err:
        stopped_by = type(err).__name__
    """, "done = True"]
    result, doc, values = run(cells, ["children", "stopped_by", "done"], SandboxLimits(timeout=60, processes=32))
    assert result.status == "ok", result.detail
    assert values["children"] < 32 and values["stopped_by"] == "BlockingIOError" and values["done"] is True
    assert _pids_with(f"sleep\0{marker}") == [], "the sandbox's processes outlived it"


def test_no_process_outlives_its_sandbox():
    marker = "86399"
    cells = [f"""
    import subprocess, os
    subprocess.Popen(["sleep", "{marker}"], start_new_session=True)
    if os.fork() == 0:          # a daemon: double fork, new session
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "{marker}"])
        os._exit(0)
    spawned = True
    """]
    result, doc, values = run(cells, ["spawned"])
    assert result.status == "ok" and values["spawned"] is True
    assert _pids_with(f"sleep\0{marker}") == []


def test_deadline_exports_what_was_computed_then_hard_kill():
    limits = SandboxLimits(timeout=4, grace=3)
    result, doc, values = run(["before = 1", "while True:\n    pass", "after = 2"], ["before", "after"], limits)
    assert result.status == "ok" and doc["deadline"] is True
    assert values["before"] == 1 and values["after"]["t"] == "missing"
    # a loop that swallows the deadline is killed with its sandbox: nothing comes back
    stubborn = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    result, doc, values = run(["before = 1", stubborn], ["before"], limits)
    assert result.status == "timeout" and doc is None
    assert 6 <= result.elapsed < 20


@pytest.mark.parametrize("attack", ["import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
                                    "import os, signal\nos.kill(-1, signal.SIGKILL)",
                                    "import os\nos._exit(0)"])
def test_killing_the_parent_or_exiting_costs_only_this_run(attack):
    result, doc, values = run(["x = 1", attack, "y = 2"], ["x", "y"])
    # either the signal cannot reach anything outside the sandbox (the notebook's first process is
    # the PID namespace's init, which ignores signals from inside) or the run ends with no answers
    if result.status == "ok":
        assert values == {"x": 1, "y": 2}
    else:
        assert result.status in ("killed", "exited") and doc is None
    # the grader (this process) is alive and the next sandbox works
    again, doc, values = run(["x = 1"], ["x"])
    assert again.status == "ok" and values["x"] == 1


def test_refuses_without_isolation_unless_unsafe(monkeypatch, tmp_path):
    from crmlab.course import grading

    (tmp_path / "build" / "ex").mkdir(parents=True)
    (tmp_path / "build" / "ex" / "grading.json").write_text("{}")
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "a.txt").write_text("x")
    monkeypatch.setattr(sandbox, "isolation_status", lambda: sandbox.IsolationStatus("unavailable", "no unshare"))
    with pytest.raises(sandbox.SandboxUnavailableError, match="no unshare") as err:
        grading.grade_submissions(tmp_path / "subs", build_dir=tmp_path / "build", out_dir=None)
    assert "--unsafe" in str(err.value)
    table = grading.grade_submissions(tmp_path / "subs", build_dir=tmp_path / "build", out_dir=None, unsafe=True)
    assert table["status"].tolist() == ["not gradable"]


# --------------------------------------------------------------------------------------------
# plain data
# --------------------------------------------------------------------------------------------

def test_plain_round_trips():
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, np.nan], "c": ["x", None],
                          "d": pd.to_datetime(["2024-01-01", None]), "e": pd.Categorical(["u", "v"]),
                          "f": pd.array([1, None], dtype="Int64")}, index=pd.Index(["r1", "r2"], name="row"))
    values = [None, True, 3, 2.5, float("nan"), "text", [1, "a"], (1, 2), {"k": [1.5]}, {1, 2},
              np.int64(7), np.float32(1.5), np.array([[1, 2], [3, 4]]), pd.Timestamp("2024-05-01"),
              pd.Series([1.0, 2.0], index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)]), name="s"),
              frame, pd.RangeIndex(3), pd.Timedelta("2D")]
    for value in values:
        back = plain.decode(json.loads(json.dumps(plain.encode(value))))
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(back, value)
        elif isinstance(value, pd.Series):
            pd.testing.assert_series_equal(back, value)
        elif isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and (back == value).all()
        elif isinstance(value, pd.Index):
            assert back.equals(value) and type(back) is type(value)
        elif isinstance(value, float) and value != value:
            assert back != back
        else:
            assert back == value and type(back) is type(value), (value, back)


def test_plain_carries_no_behaviour():
    class Anything:
        def __eq__(self, other):
            return True

    class LiarFloat(float):
        def __eq__(self, other):
            return True

        def __sub__(self, other):
            return 0.0

    class LiarStr(str):
        def __eq__(self, other):
            return True

        def strip(self):
            return self

    with pytest.raises(plain.NotPlainData):
        plain.encode(Anything())
    with pytest.raises(plain.NotPlainData):
        plain.encode([1, object()])
    back = plain.decode(plain.encode(LiarFloat(0.25)))
    assert type(back) is float and back == 0.25 and back != 0.5
    back = plain.decode(plain.encode(LiarStr("z")))
    assert type(back) is str and back != "b"


@pytest.mark.parametrize("tree", [
    {"t": "pickle", "v": "gASV..."}, {"t": "int", "v": 5}, {"t": "float", "v": 1.5}, {"t": "str", "v": 3},
    {"t": "list", "v": {"t": "int"}}, {"t": "array", "dtype": "object_code", "v": []},
    {"t": "frame", "index": {"t": "range", "start": 0, "stop": 2, "step": 1}, "columns": {"t": "range", "start": 0,
                                                                                        "stop": 1, "step": 1},
     "v": [{"t": "array", "dtype": "int64", "v": ["1"]}]},
    {"t": "ndarray", "shape": [3], "v": {"t": "array", "dtype": "int64", "v": ["1"]}},
    {"t": "int", "v": "9" * 5000}, "not a dict", {"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "none"}]]},
])
def test_plain_rejects_anything_outside_the_schema(tree):
    with pytest.raises(plain.NotPlainData):
        plain.decode(tree)


def test_plain_rejects_deep_nesting():
    tree = {"t": "none"}
    for _ in range(100):
        tree = {"t": "list", "v": [tree]}
    with pytest.raises(plain.NotPlainData):
        plain.decode(tree)
