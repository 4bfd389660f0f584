"""Benchmark: grade a class of 200 submissions in one run (issue 11: < 8 minutes on 2 cores).

Not a test. Run ``.venv/bin/python benchmarks/bench_grading.py [--n 200] [--jobs 2]
[--timeout 120] [--exercises 00 03 05 10] [--keep DIR]``.

The class mixes the kinds an instructor meets, round-robin over the exercises, each with the
score it deserves known in advance:

=============  ====  =========================================================================
kind           n     expected score
=============  ====  =========================================================================
correct        70    full marks (the solution notebook)
blank          30    0 (the student copy as handed out)
wrong          30    0 (the solution, then every answer replaced by a wrong value of its type)
guess          20    the multiple-choice points whose key is "a" (every letter "a", the rest blank)
raises         15    full marks (a cell raising after the answers)
partial        10    full marks minus the last question (its answer cell left blank)
loop            2    full marks (an endless loop after the answers: stopped at --timeout)
memory          2    full marks (a 3 GB allocation after the answers: refused by the memory cap)
tampering       6    0 (wrong values + patched builtins / forged export / solutions via crmlab.__file__)
hostile         2    full marks (kills its parent / forks 500 processes after the answers)
malformed       6    not gradable (not JSON, empty, text, zip of two, foreign notebook, unknown exercise)
odd names       4    full marks (spaces, unicode, shell characters, a long name)
duplicate ids   3    full marks, flagged as duplicates
=============  ====  =========================================================================

A "wrong score" is a row whose total differs from the expected one (or a gradable file not
graded, or the reverse). Prints the wall time of the grading run (the build is timed apart),
the figures by kind, and a JSON summary on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crmlab.course import grading, plain, sandbox  # noqa: E402

KINDS = [("correct", 70), ("blank", 30), ("wrong", 30), ("guess", 20), ("raises", 15), ("partial", 10),
         ("loop", 2), ("memory", 2), ("tampering", 6), ("hostile", 2), ("malformed", 6), ("odd names", 4),
         ("duplicate ids", 3)]

WRONG = """
import numbers as _numbers
import pandas as _pd
for _n in {names!r}:
    _v = globals().get(_n)
    if isinstance(_v, bool):
        globals()[_n] = not _v
    elif isinstance(_v, _numbers.Integral):
        globals()[_n] = int(_v) + 7
    elif isinstance(_v, _numbers.Real):
        globals()[_n] = float(_v) * 1.5 + 1
    elif isinstance(_v, str):
        globals()[_n] = ("b" if _v.strip().lower() == "a" else "a") if len(_v.strip()) == 1 else "no idea"
    elif isinstance(_v, _pd.Series):
        globals()[_n] = _v * 2 + 1 if _pd.api.types.is_numeric_dtype(_v) else _v.iloc[:0]
    elif isinstance(_v, _pd.DataFrame):
        globals()[_n] = _v.select_dtypes("number") * 2 + 1
    elif isinstance(_v, (list, tuple, set)):
        globals()[_n] = ["nonsense"]
    else:
        globals()[_n] = None
"""

TAMPER = [
    "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.isinstance = lambda *a: True\nbuiltins.all = lambda *a: True",
    "import json\n_dumps = json.dumps\njson.dumps = lambda d, *a, **k: _dumps(dict(d, total=999, possible=1) "
    "if isinstance(d, dict) else d, *a, **k)",
    "import json, pathlib, crmlab\n"
    "for _p in pathlib.Path(crmlab.__file__).resolve().parents[1].glob('exercises/*/*.ipynb'):\n"
    "    for _c in json.loads(_p.read_text())['cells']:\n"
    "        if _c['cell_type'] == 'code' and 'SOLUTION' in ''.join(_c['source']):\n"
    "            exec(''.join(_c['source']))",
]


def _nb(cells: list[str], meta) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata = json.loads(json.dumps(meta))
    return nb


def _decoded(tree):
    try:
        return plain.decode(tree)
    except plain.NotPlainData:
        return None


def make_class(build: Path, names: list[str], n: int, folder: Path, world: Path) -> dict:
    """Write the class into ``folder``; returns {label: (kind, exercise, expected total or None)}."""
    info = {}
    for name in names:
        spec = json.loads((build / name / grading.SPEC_FILE).read_text())
        solution = nbformat.read(build / name / "autograder" / f"{name}.ipynb", as_version=4)
        student = nbformat.read(build / name / "student" / f"{name}.ipynb", as_version=4)
        S = [c.source for c in solution.cells if c.cell_type == "code"]
        B = [c.source for c in student.cells if c.cell_type == "code"]
        assert len(S) == len(B), name
        run = sandbox.run_notebook_cells(S, spec["answers"], world)
        answers = json.loads(run.export)["answers"]
        auto = [q for q in spec["questions"] if not q["manual"]]
        possible = sum(q["points"] for q in auto)
        guess_points = sum(q["points"] for q in auto if q["choice"] and
                           all(_decoded(answers[a]) == "a" for a in q["answers"]))
        last = auto[-1]
        blank_of_last = [i for i, c in enumerate(B) if any(c.lstrip().startswith(f"{a} = ...") for a in last["answers"])]
        partial = [B[i] if i in blank_of_last else c for i, c in enumerate(S)]
        letters = [a for q in auto if q["choice"] for a in q["answers"]]
        guess = B + ["\n".join(f'{a} = "a"' for a in letters)]
        info[name] = dict(spec=spec, S=S, B=B, meta=student.metadata, possible=possible, guess=guess,
                          guess_points=guess_points, partial=partial, partial_points=possible - last["points"])
    plan = [kind for kind, count in KINDS for _ in range(count)]
    scale = n / len(plan)
    plan = [plan[int(i / scale)] for i in range(n)] if n != len(plan) else plan
    out: dict = {}
    counters: dict = defaultdict(int)
    for i, kind in enumerate(plan):
        name = names[i % len(names)]
        x = info[name]
        counters[kind] += 1
        k = counters[kind]
        label = f"{kind.replace(' ', '-')}-{k:03d}-{name[:2]}.ipynb"
        full, S, meta = x["possible"], x["S"], x["meta"]
        cells, expected = None, full
        if kind == "correct":
            cells = S
        elif kind == "blank":
            cells, expected = x["B"], 0
        elif kind == "wrong":
            cells, expected = S + [WRONG.format(names=x["spec"]["answers"])], 0
        elif kind == "guess":
            cells, expected = x["guess"], x["guess_points"]
        elif kind == "raises":
            cells = S + ["raise ValueError('I give up here')"]
        elif kind == "partial":
            cells, expected = x["partial"], x["partial_points"]
        elif kind == "loop":
            cells = S + ["while True:\n    pass"]
        elif kind == "memory":
            cells = S + ["big = bytearray(3 * 2**30)"]
        elif kind == "tampering":
            cells, expected = S + [WRONG.format(names=x["spec"]["answers"]), TAMPER[k % len(TAMPER)]], 0
        elif kind == "hostile":
            cells = S + (["import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)"]
                         if k % 2 else ["import os\nfor _ in range(500):\n    if os.fork() == 0:\n"
                                        "        os.execvp('sleep', ['sleep', '86396'])"])
        elif kind == "malformed":
            expected = None
            target = folder / label
            variant = k % 6
            if variant == 0:
                target.write_text("{not json")
            elif variant == 1:
                target.write_text("")
            elif variant == 2:
                target = target.with_suffix(".txt")
                target.write_text("my answer is 42")
            elif variant == 3:
                target = target.with_suffix(".zip")
                with zipfile.ZipFile(target, "w") as zf:
                    zf.writestr("a.ipynb", nbformat.writes(_nb(x["B"], meta)))
                    zf.writestr("b.ipynb", nbformat.writes(_nb(x["B"], meta)))
            elif variant == 4:
                nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), target)
            else:
                other = json.loads(json.dumps(meta))
                other["otter"]["assignment_name"] = "99-not-built"
                nbformat.write(_nb(x["B"], other), target)
            out[target.relative_to(folder).as_posix()] = (kind, name, None)
            continue
        elif kind == "odd names":
            label = [f"Zoë Ünïcode {k}.ipynb", f"-rf ;$(touch pwned) {k}.ipynb", f"{'n' * 120}{k}.ipynb",
                     f"homework final ({k}).ipynb"][k % 4]
            cells = S
        elif kind == "duplicate ids":
            label = f"CORRECT-{k:03d}-{name[:2]}.ipynb"   # the same id as correct-00k-NN up to case
            cells = S
        nbformat.write(_nb(cells, meta), folder / label)
        out[label] = (kind, name, expected)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--exercises", nargs="*", default=["00", "03", "05", "10"])
    parser.add_argument("--keep", default=None, help="keep the class and its grades in this folder")
    args = parser.parse_args(argv)
    mode = sandbox.isolation_status().mode
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, "
          f"sandbox mode: {mode}", flush=True)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="crmlab-bench-grading-"))
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    builds = grading.build_all(REPO / "exercises", root / "build", args.exercises, progress=False)
    names = [b.name for b in builds]
    subs = root / "submissions"
    subs.mkdir(exist_ok=True)
    from crmlab import datasets

    expected = make_class(root / "build", names, args.n, subs, datasets.find_data_dir())
    print(f"built {', '.join(names)} and wrote {len(expected)} submissions in {time.monotonic() - t0:.0f} s",
          flush=True)
    start = time.monotonic()
    table = grading.grade_submissions(subs, build_dir=root / "build", out_dir=root / "grades", jobs=args.jobs,
                                      timeout=args.timeout, progress=False)
    wall = time.monotonic() - start
    rows = table.set_index("submission")
    records = {json.loads(p.read_text())["submission"]: json.loads(p.read_text())
               for p in (root / "grades" / "results").glob("*.json")}
    by_kind: dict = defaultdict(lambda: {"n": 0, "wrong": 0, "seconds": []})
    wrong = []
    for label, (kind, _name, exp) in expected.items():
        row = rows.loc[label]
        entry = by_kind[kind]
        entry["n"] += 1
        entry["seconds"].append(records.get(label, {}).get("seconds", 0))
        ok = (row["status"] != "graded") if exp is None else (row["status"] == "graded" and abs(row["total"] - exp) < 1e-9)
        if not ok:
            entry["wrong"] += 1
            wrong.append((label, exp, row["status"], row["total"], row["notes"][:120], row["error"][:120]))
    print(f"\ngraded {len(rows)} submissions in {wall:.1f} s wall ({wall / 60:.2f} min) with --jobs {args.jobs}, "
          f"timeout {args.timeout:g} s; target < 480 s")
    print(f"{'kind':<15}{'n':>5}{'wrong':>7}{'median s':>10}{'max s':>8}")
    for kind, _ in KINDS:
        e = by_kind[kind]
        secs = sorted(e["seconds"]) or [0]
        print(f"{kind:<15}{e['n']:>5}{e['wrong']:>7}{secs[len(secs) // 2]:>10.1f}{secs[-1]:>8.1f}")
    for item in wrong:
        print("WRONG:", item)
    stray = [p for p in os.listdir("/proc") if p.isdigit() and b"86396" in Path(f"/proc/{p}/cmdline").read_bytes()] \
        if Path("/proc").is_dir() else []
    summary = {"submissions": len(rows), "wall_seconds": round(wall, 1), "jobs": args.jobs, "timeout": args.timeout,
               "wrong_scores": len(wrong), "stray_processes": len(stray), "mode": mode,
               "by_kind": {k: {"n": v["n"], "wrong": v["wrong"]} for k, v in by_kind.items()}}
    print(json.dumps(summary))
    return 0 if not wrong and wall < 480 else 1


if __name__ == "__main__":
    sys.exit(main())
