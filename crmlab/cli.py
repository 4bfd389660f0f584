"""Command line: ``crmlab generate`` writes a synthetic world; see ``crmlab --help``.

Examples::

    crmlab generate --out my_world                      # the default world (seed 2024, 5,000 customers)
    crmlab generate --seed 7 --customers 1000000 --out big_world
    crmlab generate --out strong_churn --set churn.log_hr.satisfaction=-0.9
    crmlab generate --format parquet --transactions 100000000 --out big_log   # streamed, bounded memory

No command overwrites or deletes what it did not write: an output folder must be new or empty
and an output file new, unless ``--force`` (which overwrites the command's own files and
deletes nothing). Every error is one line on stderr and a non-zero exit status (2: bad input,
1: the command failed); set ``CRMLAB_DEBUG=1`` to see the Python traceback instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .errors import CrmlabError, ParameterError

__all__ = ["main", "build_parser"]

_FORCE_HELP = "overwrite the files this command writes in an existing, non-empty --out (nothing else is deleted)"


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _setting(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE such as purchase.r=0.5, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmlab",
        description="crmlab: CRM analytics teaching and research kit. All generated data are SYNTHETIC.",
    )
    parser.add_argument("--version", action="version", version=f"crmlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gen = sub.add_parser(
        "generate",
        help="write a synthetic company world (CSV tables, truth.json, data dictionary) or Parquet logs",
        description="Generate the synthetic company world and write it to a folder. The same seed "
                    "and settings always give byte-identical files. --format parquet writes one Parquet "
                    "file per table instead (the same world); with --transactions or --stream, or above "
                    "2,000,000 customers, it streams the customers, transactions and memberships of a "
                    "world of any size to disk block by block (its own random stream, bounded memory).",
        epilog="Examples: crmlab generate --seed 7 --customers 100000 --months 48 --out big_world; "
               "crmlab generate --format parquet --transactions 100000000 --out big_log",
    )
    gen.add_argument("--seed", type=_nonneg_int, default=None, help="random seed (default: 2024, the shipped world)")
    gen.add_argument("--customers", type=_positive_int, default=None, help="number of customers (default 5000)")
    gen.add_argument("--months", type=_positive_int, default=36, help="window length in months (default 36)")
    gen.add_argument("--start", default="2023-01-01", help="first day of the window (default 2023-01-01)")
    gen.add_argument("--out", required=True, help="output folder: new or empty (created if needed)")
    gen.add_argument("--force", action="store_true", help=_FORCE_HELP)
    gen.add_argument("--set", dest="settings", type=_setting, action="append", default=[], metavar="KEY=VALUE",
                     help="override a planted parameter, e.g. --set churn.log_hr.satisfaction=-0.8 "
                          "(repeatable; see crmlab.synth.params)")
    gen.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar (default: on for 100,000+ customers or 1,000,000+ transactions)")
    gen.add_argument("--format", dest="file_format", choices=["csv", "parquet"], default="csv",
                     help="csv (default: the course's files, byte-identical for a seed) or parquet (one file per "
                          "table; needs pyarrow: pip install 'crmlab[scale]')")
    gen.add_argument("--transactions", type=_positive_int, default=None, metavar="N",
                     help="with --format parquet: stream customers until the transaction log has at least N rows "
                          "(instead of --customers)")
    gen.add_argument("--stream", action="store_true",
                     help="with --format parquet: write customers, transactions and memberships block by block "
                          "(automatic with --transactions and above 2,000,000 customers)")
    nbk = sub.add_parser("notebooks", help="re-execute course notebooks in place, deterministically",
                         description="Execute notebooks top to bottom in a fresh kernel and save their outputs.")
    nbk.add_argument("paths", nargs="*", help="notebooks (default: every notebook under notebooks/, research ones included)")
    nbk.add_argument("--timeout", type=_positive_int, default=600, help="seconds per cell (default 600)")
    _add_exercises_parser(sub)
    _add_case_parser(sub)
    _add_site_parser(sub)
    _add_translate_parser(sub)
    return parser


def _add_translate_parser(sub) -> None:
    tr = sub.add_parser(
        "translate", help="keep the Chinese twins (中文版) of notebooks and exercises in step",
        description="`sync` rebuilds each twin from its English notebook (code and outputs copied, "
                    "translations kept where the English text is unchanged); `status` lists twins that "
                    "are missing, untranslated or stale; `export`/`import` move the markdown cells to "
                    "and from a JSON file for a translator.",
        epilog="Example: crmlab translate sync notebooks/03-customer-classification-and-segmentation.ipynb")
    tr.add_argument("action", choices=["sync", "status", "export", "import"])
    tr.add_argument("paths", nargs="*", help="English notebooks or exercise masters (default: all of them)")
    tr.add_argument("--json", help="the JSON file for export/import")
    tr.add_argument("--all-cells", action="store_true", help="export every markdown cell, not only those to do")


def _translate(args) -> int:
    from .course import translation as tr
    from .errors import ParameterError

    paths = [Path(p) for p in args.paths] or tr.english_notebooks()
    if args.action in ("export", "import"):
        if len(paths) != 1 or not args.json:
            raise ParameterError(f"{args.action} takes one notebook and --json FILE",
                                 fix=f"crmlab translate {args.action} notebooks/NN-topic.ipynb --json cells.json")
        if args.action == "export":
            rows = tr.export_markdown(paths[0], args.json, only_todo=not args.all_cells)
            print(f"wrote {len(rows)} markdown cell(s) of {tr.twin_path(paths[0])} to {args.json}")
        else:
            n = tr.import_markdown(paths[0], args.json)
            print(f"updated {n} cell(s) of {tr.twin_path(paths[0])}")
        return 0
    if args.action == "sync":
        for p in paths:
            tr.sync_twin(p)
            print(f"synced {tr.twin_path(p)}")
        return 0
    problems = [q for p in paths for q in tr.check_twin(p)]
    for q in problems:
        print(f"  - {q}")
    print(f"{len(paths)} notebook(s): {len(problems)} problem(s) in their Chinese twins")
    return 1 if problems else 0


def _add_site_parser(sub) -> None:
    site = sub.add_parser(
        "site", help="build the course site (HTML, offline, English + 中文) and check it in a browser",
        description="`build` renders the notebooks (stored outputs), the exercises' student copies, the "
                    "data dictionary, glossary, sources and API reference into a static site; `check` "
                    "checks its links and that nothing is fetched from the network, then takes headless "
                    "Chromium screenshots (skipped, with a message, when Chromium is absent).",
        epilog="Examples: crmlab site build; crmlab site build --fast; crmlab site check; "
               "python -m http.server -d build/site")
    actions = site.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="build the site (make site)",
                               description="Build the course site; warnings are errors.")
    build.add_argument("--out", default="build/site", help="output folder (default build/site)")
    build.add_argument("--fast", action="store_true",
                       help="leave out the exercises' student copies (no otter-grader run)")
    build.add_argument("--lang", dest="languages", action="append", choices=["en", "zh"], default=None,
                       help="build only this language (repeatable; default: both)")
    check = actions.add_parser("check", help="check a built site and take screenshots (make site-check)",
                               description="Check links and offline use of a built site, then take "
                                           "screenshots of key pages at desktop and phone widths.")
    check.add_argument("--site", default="build/site", help="the built site (default build/site)")
    check.add_argument("--out", default="build/site-check", help="screenshot folder (default build/site-check)")
    check.add_argument("--no-screenshots", action="store_true", help="only check links and offline use")


def _site(args) -> int:
    from .course import site

    if args.action == "build":
        built = site.build_site(args.out, languages=args.languages or ("en", "zh"), fast=args.fast)
        pages = ", ".join(f"{lang} {n}" for lang, n in built.pages.items())
        print(f"built the course site in {built.out} ({pages} pages) in {built.seconds:.0f} s; "
              f"serve it with: python -m http.server -d {args.out}")
        return 0
    from .course import site_check

    problems = site.check_site(args.site)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    print(f"{args.site}: {len(problems)} problem(s) with links or offline use")
    if not args.no_screenshots:
        seen = site_check.take_screenshots(args.site, args.out)
        for problem in seen.problems:
            print(f"  - {problem}", file=sys.stderr)
        if seen.screenshots:
            print(f"{len(seen.screenshots)} screenshot(s) in {args.out}: look at them; "
                  f"{len(seen.problems)} problem(s) seen in the browser")
        problems += seen.problems
    return 1 if problems else 0


def _add_case_parser(sub) -> None:
    case = sub.add_parser(
        "case", help="run one of the source texts' cases as a SYNTHETIC replication",
        description="Regenerate a case's world variant, run its analysis and print the question, the key "
                    "figures, the estimates against the planted truth and the decision. Every figure is "
                    "SYNTHETIC (the source texts give no data).",
        epilog="Examples: crmlab case --list; crmlab case retailer; "
               "crmlab case ecommerce_churn --seed 7 --customers 20000 --out results/ecommerce_seed7")
    case.add_argument("name", nargs="?", metavar="NAME", help="case name (see --list)")
    case.add_argument("--list", action="store_true", help="list the cases and exit")
    case.add_argument("--seed", type=_nonneg_int, default=None, help="world seed (default: the case's own)")
    case.add_argument("--customers", type=_positive_int, default=None,
                      help="number of customers (default: the case's own)")
    case.add_argument("--out", default=None,
                      help="new or empty folder for case.json, report.txt, recovery.csv and the result tables")
    case.add_argument("--force", action="store_true", help=_FORCE_HELP)


def _case(args) -> int:
    from . import cases
    from .validation import check_output_dir

    if args.list:
        table = cases.list_cases()
        for name, row in table.iterrows():
            print(f"{name:<16} {row['title']} ({row['title_zh']}; {row['source']})")
            print(f"{'':<16} seed {row['seed']}, {row['n_customers']:,} customers. {row['question']}")
        return 0
    if args.name is None:
        raise ParameterError("no case named", fix="pass a case name, e.g. `crmlab case retailer`, or `crmlab case --list`")
    if args.out:  # before the run: a clash found after minutes of work helps nobody
        check_output_dir(args.out, "--out", force=args.force)
    result = cases.run_case(args.name, seed=args.seed, n_customers=args.customers)
    print(result.report())
    if args.out:
        print(f"wrote {result.save(args.out)}")
    return 0


def _add_exercises_parser(sub) -> None:
    exe = sub.add_parser(
        "exercises", help="build, check and grade the auto-graded exercises (otter-grader, offline)",
        description="Exercises are otter-grader master notebooks in exercises/NN-topic/ (instructors only: "
                    "they hold the solutions). `build` writes student copies, grading specs and autograders, "
                    "`check` proves the student copies give nothing away, `publish` refreshes the committed "
                    "student copies in notebooks/exercises/, `grade` grades a folder of submitted notebooks "
                    "(sandboxed, no Docker).",
        epilog="Examples: crmlab exercises build; crmlab exercises check 00; crmlab exercises publish; "
               "crmlab exercises grade submissions --out grades --seed-map seeds.csv")
    actions = exe.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (("build", "write student copies, grading specs and autograders (make exercises)"),
                         ("check", "build, then check that no student copy holds solutions or hidden tests"),
                         ("publish", "build, check, and copy the clean student copies to --to (make student-copies)")):
        act = actions.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        act.add_argument("names", nargs="*", metavar="NAME",
                         help="exercises to build: folder names or their numbers (default: all)")
        act.add_argument("--out", default="build/exercises",
                         help="build folder; each exercise goes to OUT/NAME (default build/exercises)")
        act.add_argument("--exercises-dir", default="exercises",
                         help="folder of the master notebooks (default exercises)")
        if action == "check":
            act.add_argument("--no-build", action="store_true",
                             help="check the copies already in --out instead of building first")
        if action == "publish":
            act.add_argument("--to", default="notebooks/exercises",
                             help="folder of the student copies students open (default notebooks/exercises)")
    grade = actions.add_parser(
        "grade", help="grade a folder of submitted notebooks, each in its own sandbox (make grade)",
        description="Grade every notebook under SUBMISSIONS. Each runs in an isolated sandbox (Linux "
                    "namespaces: no access to other submissions, the masters, the builds, the grades or the "
                    "network; time, memory and process limits); its answers come back as plain data and are "
                    "checked outside the sandbox against the build's hidden tests, on the student's own world. "
                    "Writes OUT/grades.csv as results complete, then per-question summary, feedback files, "
                    "Canvas and Moodle gradebooks and a hand-grading sheet. A re-run skips what is already "
                    "graded; pass one file of the folder to regrade only its row.",
        epilog="Examples: crmlab exercises grade submissions --out grades --seed-map seeds.csv --jobs 2; "
               "crmlab exercises grade submissions/bob/ex03.ipynb --out grades --regrade")
    grade.add_argument("submissions", help="folder of submissions (searched recursively), or one file in it")
    grade.add_argument("--out", default="grades",
                       help="grades folder: new, empty, or one this command wrote (resumed) (default grades)")
    grade.add_argument("--build", default="build/exercises",
                       help="where `crmlab exercises build` wrote the exercises (default build/exercises)")
    grade.add_argument("--seed-map", default=None, metavar="CSV",
                       help="CSV with columns submission,seed (submission: the file's path in the folder, its "
                            "name, its name without extension, or the student's folder): grade each listed "
                            "submission on the world generated with its seed")
    grade.add_argument("--worlds", default="build/worlds",
                       help="cache of the worlds generated for --seed-map (default build/worlds); only "
                            "folders crmlab wrote there are ever replaced")
    grade.add_argument("--timeout", type=_positive_int, default=120,
                       help="seconds one notebook may run in total; at the limit the answers computed so far "
                            "are graded (default 120)")
    grade.add_argument("--memory", type=_positive_int, default=2048, metavar="MB",
                       help="memory (address space) of a notebook's process in MB (default 2048)")
    grade.add_argument("--jobs", type=_positive_int, default=1,
                       help="submissions graded at once (default 1; up to the CPU cores)")
    grade.add_argument("--regrade", action="store_true",
                       help="grade again submissions already graded in --out (default: skip them)")
    grade.add_argument("--unsafe", action="store_true",
                       help="grade without a sandbox where none can be built (the notebooks can then read and "
                            "write whatever you can: only for submissions you trust)")


def _generate(args) -> int:
    from .synth import DEFAULT_SEED, WorldParams
    from .validation import check_output_dir

    parquet = args.file_format == "parquet"
    for flag, given in (("--transactions", args.transactions is not None), ("--stream", args.stream)):
        if given and not parquet:
            raise ParameterError(f"{flag} writes Parquet logs", fix=f"add --format parquet to {flag}")
    if args.transactions is not None and args.customers is not None:
        raise ParameterError("--customers and --transactions both size the world",
                             fix="give one: --transactions N streams customers until the log has N rows")
    if parquet:
        import importlib.util

        if importlib.util.find_spec("pyarrow") is None:
            raise ParameterError("--format parquet needs pyarrow, which is not installed",
                                 fix="install it with `pip install \"crmlab[scale]\"` (or `pip install pyarrow`), "
                                     "or write CSV (the default)")
    n_customers = 5000 if args.customers is None else args.customers
    params = WorldParams()
    if args.settings:
        params = params.override(dict(args.settings))
    seed = DEFAULT_SEED if args.seed is None else args.seed
    progress = args.progress if args.progress is not None else (
        args.transactions >= 1_000_000 if args.transactions is not None else n_customers >= 100_000)
    out = check_output_dir(args.out, "--out", force=args.force)
    if parquet:
        from .synth import parquet as pq_world

        if args.transactions is not None:
            meta = pq_world.stream_transactions_parquet(out, seed=seed, n_transactions=args.transactions,
                                                        months=args.months, start=args.start, params=params,
                                                        progress=progress)
        else:
            meta = pq_world.generate_world_parquet(out, seed=seed, n_customers=n_customers, months=args.months,
                                                   start=args.start, params=params, progress=progress,
                                                   mode="stream" if args.stream else "auto")
        rows = ", ".join(f"{k} {v:,}" for k, v in meta["rows"].items())
        how = (" (streamed: customers, transactions and memberships only, drawn from the stream's own random "
               "numbers, not the rows of this seed's CSV world)" if meta.get("mode") == "stream" else "")
        print(f"wrote a SYNTHETIC world (seed {seed}) as Parquet to {out}: {rows}{how}")
        return 0
    from .synth import generate_world

    world = generate_world(seed=seed, n_customers=n_customers, months=args.months, start=args.start,
                           params=params, progress=progress)
    world.save(out, force=args.force)
    rows = ", ".join(f"{k} {v:,}" for k, v in world.meta["rows"].items())
    print(f"wrote a SYNTHETIC world (seed {seed}) to {out}: {rows}")
    return 0


def _notebooks(args) -> int:
    from .course.notebooks import execute_notebooks

    # the course and research notebooks; the student exercises and the Chinese twins are not
    # executed (twins take their outputs from the English notebook: crmlab translate sync)
    paths = args.paths or sorted(str(p) for p in Path("notebooks").rglob("*.ipynb")
                                 if not {".ipynb_checkpoints", "exercises", "zh"} & set(p.parts))
    if not paths:
        raise ParameterError("no notebooks to execute", fix="pass notebook paths or run from the repository root")
    execute_notebooks(paths, timeout=args.timeout, on_done=lambda path: print(f"executed {path}", flush=True))
    return 0


def _exercises(args) -> int:
    from .course import grading

    if args.action == "grade":
        return _grade(args)
    if args.action == "check" and args.no_build:
        masters = grading.discover_masters(args.exercises_dir, args.names or None)
        builds = []
        for master in masters:
            name = grading.read_assignment_config(master)["name"]
            student = Path(args.out) / name / "student" / f"{master.stem}.ipynb"
            if not student.exists():
                raise ParameterError(f"{student} does not exist", fix="build first: drop --no-build")
            builds.append((name, master, student))
    else:
        built = grading.build_all(args.exercises_dir, args.out, args.names or None)
        builds = [(b.name, b.master, b.student_notebook) for b in built]
        for b in built:
            hand = f" + {sum(b.manual_points.values()):g} hand-graded" if b.manual_points else ""
            print(f"built {b.name}: {b.student_notebook} (student copy), {b.spec_path} (grading spec), "
                  f"{b.possible:g} auto-graded points{hand}")
    # the translated masters (exercises/NN-topic/zh/): built to OUT/zh/NAME, published to TO/zh/
    copies = [(name, master, student, Path(args.to) if args.action == "publish" else None)
              for name, master, student in builds]
    for name, master, _student in builds:
        for lang, twin in grading.twin_masters(master).items():
            out = Path(args.out) / lang / name
            if args.action == "check" and args.no_build:
                student = out / "student" / f"{twin.stem}.ipynb"
                if not student.exists():
                    raise ParameterError(f"{student} does not exist", fix="build first: drop --no-build")
            else:
                student = grading.build_twin(master, out, lang).student_notebook
                if args.action == "build":
                    print(f"built {name} ({lang}): {student} (student copy; graded with the English build)")
            copies.append((f"{name} ({lang})", twin, student,
                           Path(args.to) / lang if args.action == "publish" else None))
    leaky = 0
    for name, master, student, _to in copies:
        problems = grading.check_student_copy(student, master)
        if problems:
            leaky += 1
            print(f"{name}: {len(problems)} problem(s) in the student copy:", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
        elif args.action == "check":
            print(f"{name}: student copy clean (no solutions, no hidden tests, no markers)")
    if leaky:
        print(f"crmlab exercises {args.action}: {leaky} student copy(ies) give answers away; "
              "do not distribute them (see exercises/README.md)", file=sys.stderr)
        return 1
    if args.action == "publish":
        for name, _master, student, to in copies:
            target = grading.publish_student_copy(student, to)
            print(f"published {name}: {target}")
    return 0


def _grade(args) -> int:
    from .course import grading

    fresh: list = []
    table = grading.grade_submissions(args.submissions, build_dir=args.build, out_dir=args.out,
                                      seed_map=args.seed_map, worlds_dir=args.worlds, timeout=args.timeout,
                                      memory_mb=args.memory, jobs=args.jobs, regrade=args.regrade,
                                      unsafe=args.unsafe, on_result=fresh.append)
    out = Path(args.out)
    graded = table[table["status"] == "graded"]
    other = table[table["status"] != "graded"]
    mean = f"; mean {graded['percent'].mean():.1f}%" if len(graded) else ""
    print(f"{len(table)} submission(s) in {out}/grades.csv: {len(graded)} graded{mean}, "
          f"{len(other)} not gradable; {len(fresh)} graded in this run (the others were already graded: "
          "--regrade to grade them again)")
    print(f"wrote {out}/summary.csv (per question), {out}/feedback/ (one file per student and exercise), "
          f"{out}/gradebook-canvas.csv, {out}/gradebook-moodle.csv")
    if args.unsafe:
        print("warning: graded WITHOUT a sandbox (--unsafe)", file=sys.stderr)
    dupes = table[table["notes"].str.contains("duplicate student id", regex=False)]
    if len(dupes):
        print(f"warning: {len(dupes)} submission(s) share a student id with another one for the same exercise "
              f"(left out of the gradebooks): {', '.join(dupes['submission'].head(6))}", file=sys.stderr)
    pending = int(table["hand_pending"].fillna(0).sum())
    if pending:
        print(f"{pending} hand-graded answer(s) to mark: fill in {out}/hand-grading.csv (answers and rubrics in "
              f"{out}/hand-grading-*.md), then run this command again")
    for row in table.itertuples():
        for note in str(row.notes).split("; "):
            if note.startswith("hand-grading.csv line"):
                print(f"warning: {note}", file=sys.stderr)
    for row in other.itertuples():
        if row.status == "grader error":
            print(f"grader error on {row.submission}: {row.error} (it is retried by the next run)", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    commands = {"notebooks": _notebooks, "exercises": _exercises, "case": _case, "generate": _generate,
                "site": _site, "translate": _translate}
    debug = os.environ.get("CRMLAB_DEBUG", "").strip() not in ("", "0")
    try:
        return commands[args.command](args)
    except CrmlabError as err:  # bad input: what is wrong and the fix
        if debug:
            raise
        print(f"crmlab {args.command}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # the disk said no: unwritable, full, vanished
        if debug:
            raise
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        print(f"crmlab {args.command}: error: cannot read or write{where}: {err.strerror or err}. "
              "Fix: check the path, its permissions and the free space", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"crmlab {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: still one line, with the way to the traceback
        if debug:
            raise
        first = str(err).splitlines()[0] if str(err) else ""
        print(f"crmlab {args.command}: error: unexpected {type(err).__name__}: {first}. Fix: please report "
              "it; run again with CRMLAB_DEBUG=1 for the traceback", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
