"""What grading writes for the instructor and the students, from the results store.

All files are rebuilt from ``results/*.json`` (one record per submission) whenever grading
runs, so regrading one submission changes only its row:

- ``grades.csv``: one row per submission (points per question, total, possible, percent,
  status, error, notes); written again each time a result completes;
- ``summary.csv``: per exercise and question, how the class did (mean, full marks, zero, format
  failures, the most common reason for lost points);
- ``feedback/STUDENT/EXERCISE.md``: for each student, each question's points and, for each
  failed check, what was expected (never the expected number);
- ``gradebook-canvas.csv`` and ``gradebook-moodle.csv``: one row per student id, one column per
  exercise (auto-graded points plus the hand-graded points entered so far);
- ``hand-grading.csv``: one row per submission of an exercise with hand-graded questions, one
  column per such question to fill in (never overwritten: new rows are added, filled values
  kept) and ``hand-grading-EXERCISE.md`` with the rubric and every student's answer text.

>>> safe_name("Zoë / s047 (1)")
'Zoë_s047_1'
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

__all__ = ["class_table", "write_all", "write_class_csv", "flag_duplicates", "manual_answers", "safe_name",
           "read_hand_grades"]

HAND_SHEET = "hand-grading.csv"
_BASE = ["submission", "student", "exercise", "seed", "status"]
_TAIL = ["total", "possible", "percent", "hand_pending", "error", "notes"]


def safe_name(text: str) -> str:
    """A file-name-safe version of a student id or exercise name."""
    return re.sub(r"[^\w.-]+", "_", str(text)).strip("._")[:80] or "unnamed"


def _natural(name: str):
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", str(name))]


def _questions(specs: Mapping) -> list[str]:
    names: list[str] = []
    for spec in specs.values():
        for q in spec["questions"]:
            if q["name"] not in names:
                names.append(q["name"])
    return sorted(names, key=_natural)


def _manual(spec: Mapping | None) -> dict:
    return {q["name"]: float(q["points"]) for q in (spec or {}).get("questions", []) if q["manual"]}


_PLACEHOLDER = "_Type your answer here, replacing this text._"


def manual_answers(nb, spec: Mapping) -> dict:
    """``{question: the student's text}`` for the hand-graded questions of ``spec``: the markdown
    cells that follow the question's prompt in the submitted notebook (otter's placeholder,
    left as it is, counts as no answer)."""
    out: dict = {}
    cells = [c for c in nb.cells if isinstance(c, Mapping)]
    for q in spec["questions"]:
        if not q["manual"] or not q.get("prompt"):
            continue
        first = q["prompt"].strip().split("\n\n")[0].strip()[:200]
        begin = next((i for i, c in enumerate(cells) if c.get("cell_type") == "markdown"
                      and first in str(c.get("source", ""))), None)
        if begin is None:
            continue
        text = []
        for cell in cells[begin + 1:]:
            source = str(cell.get("source", "")).strip()
            if cell.get("cell_type") != "markdown" or "<!-- END QUESTION -->" in source or \
                    re.match(r"\*\*Question \d+", source):
                break
            if source and source != _PLACEHOLDER:
                text.append(source)
        out[q["name"]] = "\n\n".join(text)[:20_000]
    return out


def read_hand_grades(out_dir: Path | None, specs: Mapping) -> tuple[dict, dict]:
    """``{(submission, exercise): {question: points}}`` filled in ``hand-grading.csv``, and the
    problems found per row (values that are not numbers from 0 to the question's points)."""
    if out_dir is None or not (Path(out_dir) / HAND_SHEET).is_file():
        return {}, {}
    grades: dict = {}
    problems: dict = defaultdict(list)
    with open(Path(out_dir) / HAND_SHEET, newline="", encoding="utf-8-sig") as f:
        for number, row in enumerate(csv.DictReader(f), start=2):
            key = (row.get("submission", ""), row.get("exercise", ""))
            manual = _manual(specs.get(key[1]))
            for column, value in row.items():
                match = re.match(r"(\w+) \(/", column or "")
                if not match or match.group(1) not in manual or not str(value or "").strip():
                    continue
                q = match.group(1)
                try:
                    points = float(str(value).strip().replace(",", "."))
                except ValueError:
                    points = math.nan
                if not 0 <= points <= manual[q]:
                    problems[key].append(f"{HAND_SHEET} line {number}: {q} = {str(value).strip()!r} is not a number "
                                         f"from 0 to {manual[q]:g}; ignored")
                    continue
                grades.setdefault(key, {})[q] = points
    return grades, dict(problems)


def flag_duplicates(records: list[dict]) -> None:
    """Add ``class_notes`` to records of one student id (up to case, spaces and a ` (1)`
    copy suffix) handing in the same exercise twice, and to identical files handed in by
    different students."""
    from .grading import same_student_key

    groups: dict = defaultdict(list)
    files: dict = defaultdict(list)
    for r in records:
        r["class_notes"] = []
        if r.get("exercise"):
            groups[(same_student_key(str(r.get("student", ""))), r["exercise"])].append(r)
        if r.get("status") == "graded" and r.get("sha256"):
            files[r["sha256"]].append(r)
    for group in groups.values():
        if len(group) > 1:
            for r in group:
                others = ", ".join(o["submission"] for o in group if o is not r)
                r["class_notes"].append(f"duplicate student id: the same student ({r['student']}) also handed in "
                                        f"{others} for this exercise; decide which counts (left out of the gradebooks)")
                r["duplicate"] = True
    for group in files.values():
        students = {same_student_key(str(r.get("student", ""))) for r in group}
        earned = any(sum(q["points"] or 0 for q in r.get("questions", {}).values()) > 0 for r in group)
        if len(students) > 1 and earned:
            for r in group:
                others = ", ".join(o["submission"] for o in group if o is not r)
                r["class_notes"].append(f"byte-identical to {others}")


def class_table(records: list[dict], specs: Mapping, out_dir: Path | None = None) -> pd.DataFrame:
    """The class table: one row per submission (what ``grades.csv`` holds)."""
    hand, hand_problems = read_hand_grades(out_dir, specs)
    questions = _questions(specs)
    rows = []
    for r in records:
        row = {k: r.get(k) for k in ("submission", "student", "exercise", "seed", "status")}
        spec = specs.get(r.get("exercise"))
        manual = _manual(spec)
        filled = hand.get((r.get("submission"), r.get("exercise")), {})
        got = r.get("questions") or {}
        total, possible, pending = None, None, None
        if spec is not None:
            possible = sum(float(q["points"]) for q in spec["questions"])
        if r.get("status") == "graded":
            total, pending = 0.0, 0
            for q, res in got.items():
                if res.get("manual"):
                    if q in filled:
                        row[q] = filled[q]
                        total += filled[q]
                    else:
                        pending += 1
                else:
                    row[q] = float(res["points"])
                    total += float(res["points"])
            possible = sum(float(res["possible"]) for res in got.values())
        row.update(total=total, possible=possible, hand_pending=pending if manual else (0 if total is not None else None))
        row["percent"] = round(100 * total / possible, 2) if total is not None and possible else None
        row["error"] = r.get("error", "") or ""
        row["notes"] = "; ".join([*r.get("notes", []), *r.get("class_notes", []),
                                  *hand_problems.get((r.get("submission"), r.get("exercise")), [])])
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=[*_BASE, *questions, *_TAIL])
    table["seed"] = table["seed"].astype("Int64")
    for col in [*questions, "total", "possible", "percent"]:
        table[col] = pd.to_numeric(table[col], errors="coerce")
    table["hand_pending"] = table["hand_pending"].astype("Int64")
    for col in ("error", "notes", "status"):
        table[col] = table[col].fillna("")
    return table


def _atomic_csv(frame: pd.DataFrame, path: Path, **kwargs) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, **kwargs)
    tmp.replace(path)


def write_class_csv(out_dir: Path, records: list[dict], specs: Mapping) -> Path:
    path = Path(out_dir) / "grades.csv"
    _atomic_csv(class_table(records, specs, out_dir), path)
    return path


def _summary(table: pd.DataFrame, records: list[dict], specs: Mapping) -> pd.DataFrame:
    rows = []
    by_exercise: dict = defaultdict(list)
    for r in records:
        if r.get("status") == "graded":
            by_exercise[r["exercise"]].append(r)
    for name in sorted(by_exercise, key=_natural):
        spec = specs.get(name)
        if spec is None:
            continue
        graded = by_exercise[name]
        for q in spec["questions"]:
            if q["manual"]:
                values = table.loc[(table["exercise"] == name) & (table["status"] == "graded"), q["name"]].dropna()
                rows.append({"exercise": name, "question": q["name"], "kind": "hand-graded",
                             "points": q["points"], "graded": int(len(values)),
                             "mean_points": round(values.mean(), 3) if len(values) else None,
                             "mean_percent": round(100 * values.mean() / q["points"], 1) if len(values) else None,
                             "full_marks": None, "zero": None, "format_failed": None,
                             "most_common_problem": f"{len(graded) - len(values)} still to grade by hand"})
                continue
            results = [r["questions"][q["name"]] for r in graded if q["name"] in r.get("questions", {})]
            if not results:
                continue
            points = [float(x["points"]) for x in results]
            messages = Counter(m for x in results for m in x["messages"])
            n = len(points)
            rows.append({"exercise": name, "question": q["name"],
                         "kind": "multiple choice" if q.get("choice") else "value",
                         "points": q["points"], "graded": n, "mean_points": round(sum(points) / n, 3),
                         "mean_percent": round(100 * sum(points) / n / q["points"], 1) if q["points"] else None,
                         "full_marks": round(sum(p >= q["points"] - 1e-9 for p in points) / n, 3),
                         "zero": round(sum(p <= 1e-9 for p in points) / n, 3),
                         "format_failed": round(sum(not x["format_ok"] for x in results) / n, 3),
                         "most_common_problem": (f"{messages.most_common(1)[0][0]} ({messages.most_common(1)[0][1]}x)"
                                                 if messages else "")})
    return pd.DataFrame(rows, columns=["exercise", "question", "kind", "points", "graded", "mean_points",
                                       "mean_percent", "full_marks", "zero", "format_failed", "most_common_problem"])


def _feedback(r: dict, spec: Mapping | None, row: pd.Series) -> str:
    name = r.get("exercise") or "(unknown exercise)"
    lines = [f"# Feedback: {name}", "",
             f"Submission `{r['submission']}` of **{r.get('student')}**"
             + (f", graded on the world of seed {r['seed']}" if r.get("seed") is not None else "") + ".", ""]
    if r.get("status") != "graded":
        lines += [f"**Not graded:** {r.get('error') or 'see your instructor'}.", ""]
        return "\n".join(lines)
    total, possible = row.get("total"), row.get("possible")
    lines += [f"**Score: {total:g} / {possible:g}**" + (f" ({row.get('percent'):g} %)" if pd.notna(row.get("percent")) else "")
              + (f"; {int(row['hand_pending'])} hand-graded question(s) still to be marked"
                 if pd.notna(row.get("hand_pending")) and row.get("hand_pending") else ""), "",
              "| question | points | out of | |", "|---|---|---|---|"]
    for q in (spec or {}).get("questions", []):
        res = r.get("questions", {}).get(q["name"])
        if res is None:
            continue
        if res.get("manual"):
            value = row.get(q["name"])
            shown = f"{value:g}" if pd.notna(value) else "to be marked"
            lines.append(f"| {q['name']} | {shown} | {q['points']:g} | graded by hand |")
        else:
            mark = "full marks" if res["points"] >= res["possible"] - 1e-9 else ""
            lines.append(f"| {q['name']} | {res['points']:g} | {res['possible']:g} | {mark} |")
    failed = [(q, m) for q, res in r.get("questions", {}).items() if not res.get("manual") for m in res["messages"]]
    if failed:
        lines += ["", "## What to look at", ""]
        lines += [f"- **{q}**: {m}." if not m.endswith(".") else f"- **{q}**: {m}" for q, m in failed]
        lines += ["", "Each check recomputes the answer from *your* world (your seed), so an answer is right "
                      "only if it was computed from the data, not typed in."]
    if r.get("notes"):
        lines += ["", "## About your notebook", ""] + [f"- {n}" for n in r["notes"]]
    return "\n".join(lines) + "\n"


def write_all(out_dir: Path, records: list[dict], specs: Mapping) -> dict:
    """Write every output file; returns ``{what: path}``."""
    out_dir = Path(out_dir)
    _merge_hand_sheet(out_dir, records, specs)
    table = class_table(records, specs, out_dir)
    paths = {"grades": out_dir / "grades.csv"}
    _atomic_csv(table, paths["grades"])
    paths["summary"] = out_dir / "summary.csv"
    _atomic_csv(_summary(table, records, specs), paths["summary"])
    feedback = out_dir / "feedback"
    feedback.mkdir(exist_ok=True)
    written: set = set()
    for r, (_, row) in zip(records, table.iterrows(), strict=True):
        folder = feedback / safe_name(r.get("student") or "unknown")
        stem = safe_name(r.get("exercise") or Path(r["submission"]).stem)
        target, n = folder / f"{stem}.md", 1
        while target in written:
            n += 1
            target = folder / f"{stem} ({n}).md"
        written.add(target)
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(_feedback(r, specs.get(r.get("exercise")), row), encoding="utf-8")
    paths["feedback"] = feedback
    canvas, moodle = _gradebooks(table, records, specs)
    paths["canvas"] = out_dir / "gradebook-canvas.csv"
    _atomic_csv(canvas, paths["canvas"])
    paths["moodle"] = out_dir / "gradebook-moodle.csv"
    _atomic_csv(moodle, paths["moodle"])
    _hand_answers(out_dir, records, specs)
    return paths


def _gradebooks(table: pd.DataFrame, records: list[dict], specs: Mapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canvas and Moodle gradebook imports: one row per student, one column per exercise."""
    exercises = sorted({e for e in table["exercise"].dropna() if e in specs}, key=_natural)
    usable = [not r.get("duplicate") for r in records]
    scores: dict = defaultdict(dict)
    students: list[str] = []
    for keep, (_, row) in zip(usable, table.iterrows(), strict=True):
        student = row["student"]
        if student not in students:
            students.append(student)
        if keep and row["status"] == "graded" and pd.notna(row["exercise"]):
            scores[student][row["exercise"]] = row["total"]
    possible = {e: sum(float(q["points"]) for q in specs[e]["questions"]) for e in exercises if e in specs}
    canvas_rows = [{"Student": "Points Possible", "ID": "", "SIS User ID": "", "SIS Login ID": "", "Section": "",
                    **{e: possible.get(e) for e in exercises}}]
    moodle_rows = []
    for student in sorted(students, key=_natural):
        canvas_rows.append({"Student": student, "ID": "", "SIS User ID": student, "SIS Login ID": "", "Section": "",
                            **{e: scores[student].get(e) for e in exercises}})
        moodle_rows.append({"ID number": student, **{e: scores[student].get(e) for e in exercises}})
    canvas = pd.DataFrame(canvas_rows, columns=["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *exercises])
    moodle = pd.DataFrame(moodle_rows, columns=["ID number", *exercises])
    return canvas, moodle


def _merge_hand_sheet(out_dir: Path, records: list[dict], specs: Mapping) -> None:
    """Add a row for each graded submission with hand-graded questions; keep what is filled."""
    manual_q: list[str] = []
    for spec in specs.values():
        manual_q += [q for q in _manual(spec) if q not in manual_q]
    if not manual_q:
        return
    path = out_dir / HAND_SHEET
    existing: dict = {}
    columns_seen: list[str] = []
    if path.is_file():
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns_seen = list(reader.fieldnames or [])
            for row in reader:
                existing[(row.get("submission", ""), row.get("exercise", ""))] = row
    columns = ["submission", "student", "exercise"]
    max_points: dict = {}
    for spec in specs.values():
        for q, p in _manual(spec).items():
            max_points[q] = max(max_points.get(q, 0.0), p)
    q_columns = [f"{q} (/{max_points[q]:g})" for q in sorted(max_points, key=_natural)]
    extra = [c for c in columns_seen if c not in columns + q_columns + ["comment"]]
    columns += q_columns + ["comment"] + extra
    rows = dict(existing)
    for r in records:
        if r.get("status") != "graded" or not _manual(specs.get(r.get("exercise"))):
            continue
        key = (r["submission"], r["exercise"])
        if key not in rows:
            rows[key] = {"submission": r["submission"], "student": r.get("student", ""), "exercise": r["exercise"]}
    ordered = [rows[k] for k in sorted(rows, key=lambda k: (_natural(k[1]), _natural(k[0])))]
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in ordered:
            writer.writerow({c: row.get(c, "") or "" for c in columns})
    tmp.replace(path)


def _hand_answers(out_dir: Path, records: list[dict], specs: Mapping) -> None:
    for name, spec in specs.items():
        manual = [q for q in spec["questions"] if q["manual"]]
        mine = [r for r in records if r.get("exercise") == name and r.get("status") == "graded"]
        if not manual or not mine:
            continue
        lines = [f"# Hand grading: {name}", "",
                 f"Fill in the points in `{HAND_SHEET}` (one row per submission), then run the grading again: "
                 "the totals, feedback and gradebooks take them up. Answers below are the students' own text.", ""]
        for q in manual:
            lines += [f"## {q['name']} ({q['points']:g} points)", "", "### Question", "", q["prompt"], "",
                      "### Rubric", "", q.get("rubric") or "(no rubric in the master)", ""]
            for r in mine:
                text = (r.get("manual_text") or {}).get(q["name"], "").strip()
                lines += [f"### `{r['submission']}` ({r.get('student')})", "",
                          text if text else "*(no answer found below the question)*", ""]
        (out_dir / f"hand-grading-{safe_name(name)}.md").write_text("\n".join(lines), encoding="utf-8")
