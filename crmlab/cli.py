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
        description="Exercises are otter-grader master notebooks in exercises/NN-topic/. `build` writes "
                    "student copies and autograders, `check` proves the student copies give nothing "
                    "away, `grade` grades a folder of submitted notebooks into a CSV (no Docker).",
        epilog="Examples: crmlab exercises build; crmlab exercises check 00; "
               "crmlab exercises grade submissions --out grades.csv --seed-map seeds.csv")
    actions = exe.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (("build", "write student copies and autograders (make exercises)"),
                         ("check", "build, then check that no student copy holds solutions or hidden tests")):
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
    grade = actions.add_parser(
        "grade", help="grade a folder of submitted notebooks into a CSV (make grade)",
        description="Grade every notebook under SUBMISSIONS (one CSV row each; files that are not "
                    "exercise notebooks get a row with the reason). The exercise is read from the "
                    "notebook's metadata, so file names do not matter.")
    grade.add_argument("submissions", help="folder of submissions (searched recursively) or one notebook")
    grade.add_argument("--out", default="grades.csv", help="new .csv file to write (default grades.csv)")
    grade.add_argument("--force", action="store_true", help="replace --out if it exists (a .csv file only)")
    grade.add_argument("--build", default="build/exercises",
                       help="where `crmlab exercises build` wrote the autograders (default build/exercises)")
    grade.add_argument("--seed-map", default=None, metavar="CSV",
                       help="CSV with columns submission,seed: grade each listed submission against "
                            "the world generated with its seed")
    grade.add_argument("--worlds", default="build/worlds",
                       help="cache of the worlds generated for --seed-map (default build/worlds); only "
                            "folders crmlab wrote there are ever replaced")
    grade.add_argument("--timeout", type=_positive_int, default=300,
                       help="seconds one cell may run before grading of that notebook stops (default 300)")
    grade.add_argument("--jobs", type=_positive_int, default=1,
                       help="submissions graded at once, in worker processes (default 1; up to the CPU cores)")


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

    paths = args.paths or sorted(str(p) for p in Path("notebooks").rglob("*.ipynb")
                                   if ".ipynb_checkpoints" not in p.parts)
    if not paths:
        raise ParameterError("no notebooks to execute", fix="pass notebook paths or run from the repository root")
    execute_notebooks(paths, timeout=args.timeout, on_done=lambda path: print(f"executed {path}", flush=True))
    return 0


def _exercises(args) -> int:
    from .course import grading

    if args.action == "grade":
        table = grading.grade_submissions(args.submissions, build_dir=args.build, out_csv=args.out,
                                          seed_map=args.seed_map, worlds_dir=args.worlds,
                                          timeout=args.timeout, jobs=args.jobs, force=args.force)
        failed = int((table["error"] != "").sum())
        graded = table["percent"].dropna()
        mean = f"; mean score {graded.mean():.1f}%" if len(graded) else ""
        print(f"graded {len(table)} submission(s) into {args.out} ({len(graded)} scored, "
              f"{failed} with an error or note){mean}")
        return 0
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
            print(f"built {b.name}: {b.student_notebook} (student copy), {b.autograder_zip} (autograder), "
                  f"{b.possible:g} points")
    leaky = 0
    for name, master, student in builds:
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
