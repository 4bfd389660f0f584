"""The command line: `crmlab generate` writes a world; bad arguments give clear errors; no
command overwrites or deletes what it did not write; every failure is one line."""

import os
import subprocess
import sys

import pytest

from crmlab import datasets
from crmlab.cli import main


def test_generate_writes_a_loadable_world(tmp_path, capsys):
    assert main(["generate", "--customers", "1000", "--months", "24", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out
    assert len(datasets.load("customers", data_dir=tmp_path)) == 1000
    assert datasets.load_meta(tmp_path)["months"] == 24
    assert (tmp_path / "README.md").read_text(encoding="utf-8").startswith("# crmlab synthetic world")


def test_set_overrides_a_parameter(tmp_path):
    main(["generate", "--customers", "300", "--months", "12", "--out", str(tmp_path),
          "--set", "churn.log_hr.satisfaction=-0.9", "--set", "purchase.r=0.5"])
    truth = datasets.load_truth(tmp_path)
    assert truth["membership"]["log_hazard_ratios"]["satisfaction"] == -0.9 and truth["bgnbd"]["r"] == 0.5


@pytest.mark.parametrize("argv,message", [
    (["generate", "--customers", "-5", "--out", "x"], "must be positive"),
    (["generate", "--customers", "many", "--out", "x"], "whole number"),
    (["generate", "--seed", "-1", "--out", "x"], "must be >= 0"),
    (["generate"], "--out"),
    (["generate", "--out", "x", "--set", "nonsense"], "KEY=VALUE"),
])
def test_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["--customers", "50"], "n_customers must be >= 200"),
    (["--set", "purchase.rr=1"], "unknown world parameter"),
    (["--start", "2023-03-03"], "first day of a month"),
])
def test_invalid_values_report_the_fix(tmp_path, argv, message, capsys):
    assert main(["generate", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Fix:" in err


def test_help_and_entry_point():
    out = subprocess.run([sys.executable, "-m", "crmlab.cli", "generate", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--customers" in out.stdout and "--set" in out.stdout


def test_progress_bar_for_large_worlds(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    main(["generate", "--customers", "300", "--months", "12", "--out", str(tmp_path), "--progress"])
    assert "generate_world" in capsys.readouterr().err


# --- the CLI never loses data ---------------------------------------------------------------

def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


SMALL = ["--customers", "300", "--months", "12"]


def test_generate_refuses_a_non_empty_folder_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "README.md").write_text("# my project\n")
    (tmp_path / "customers.csv").write_text("my,own,data\n")
    before = _snapshot(tmp_path)
    assert main(["generate", *SMALL, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not empty" in err and "--force" in err
    assert _snapshot(tmp_path) == before


def test_generate_into_the_current_folder_spares_the_readme(tmp_path, monkeypatch, capsys):
    """`crmlab generate --out .` in a project folder used to overwrite its README.md."""
    (tmp_path / "README.md").write_text("# my project\n")
    monkeypatch.chdir(tmp_path)
    assert main(["generate", *SMALL, "--out", "."]) == 2
    assert (tmp_path / "README.md").read_text() == "# my project\n"
    assert "is not empty" in capsys.readouterr().err


def test_force_overwrites_the_world_files_and_deletes_nothing_else(tmp_path):
    assert main(["generate", *SMALL, "--seed", "1", "--out", str(tmp_path)]) == 0
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "data.csv").write_text("a\n1\n")
    assert main(["generate", *SMALL, "--seed", "2", "--out", str(tmp_path)]) == 2
    assert datasets.load_meta(tmp_path)["seed"] == 1
    assert main(["generate", *SMALL, "--seed", "2", "--out", str(tmp_path), "--force"]) == 0
    assert datasets.load_meta(tmp_path)["seed"] == 2
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "real" / "data.csv").read_text() == "a\n1\n"


def test_make_data_passes_force():
    """`make data` rewrites datasets/ (which also holds datasets/real/) on purpose."""
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "crmlab generate --out datasets --force" in makefile


@pytest.mark.parametrize("argv,message", [
    (["--start", "1500-01-01"], "start must lie between 1900-01-01 and 2100-12-01"),
    (["--start", "2300-01-01"], "start must lie between"),
    (["--start", "yesterday"], "start must be a date"),
    (["--set", "churn=1"], "'churn' is a group of parameters"),
    (["--set", "churn.log_hr=1"], "'churn.log_hr' is a group of parameters"),
    (["--set", "campaign.fraction=1.5"], "campaign.fraction must be < 1"),
    (["--set", "spend.q=inf"], "'spend.q' must be finite"),
    (["--set", "spend.q=Infinity"], "'spend.q' must be finite"),
    (["--set", "supply_chain.noise_sd=NaN"], "'supply_chain.noise_sd' must be finite"),
    (["--set", "purchase.r=true"], "'purchase.r' must be a number"),
    (["--set", "purchase.r="], "'purchase.r' must be a number"),
    (["--set", "customers.legacy_months=2.5"], "must be a whole number"),
    (["--set", "customers.legacy_months=-3"], "customers.legacy_months must be >= 1"),
    (["--set", "service.sla_hours=[1,2]"], "list of 4 values"),
    (["--set", "customers.segment_shares=[0.5,0.5,0.5,0.5]"], "sum to 1"),
    (["--set", "purchase.channel_probs.0=1"], "goes too deep"),
    (["--set", "=3"], "unknown world parameter"),
])
def test_bad_values_are_one_line_and_nothing_is_written(tmp_path, argv, message, capsys):
    out = tmp_path / "world"
    assert main(["generate", *SMALL, "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Fix:" in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists(), "nothing may be written for a refused world"


def test_out_that_cannot_be_a_folder(tmp_path, capsys):
    clash = tmp_path / "taken.csv"
    clash.write_text("x")
    assert main(["generate", *SMALL, "--out", str(clash)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert main(["generate", *SMALL, "--out", str(clash / "world")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert clash.read_text() == "x"


def test_unwritable_out_is_one_line(tmp_path, capsys):
    # /proc refuses new folders even for root, where permission bits would not
    assert main(["generate", *SMALL, "--out", "/proc/crmlab-test-world"]) in (1, 2)
    err = capsys.readouterr().err
    assert err.startswith("crmlab generate: error: ") and "/proc/crmlab-test-world" in err
    assert err.count("\n") == 1 and "Fix:" in err
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        code = main(["generate", *SMALL, "--out", str(locked / "world")])
        if os.geteuid() != 0:  # root writes anyway: the /proc case above covers it
            assert code == 2 and "no write permission" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_unexpected_errors_are_one_line_unless_debugging(tmp_path, monkeypatch, capsys):
    import crmlab.synth

    def broken(**kwargs):
        raise RuntimeError("the generator broke\nsecond line")

    monkeypatch.setattr(crmlab.synth, "generate_world", broken)
    assert main(["generate", *SMALL, "--out", str(tmp_path / "w")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected RuntimeError: the generator broke" in err
    assert "CRMLAB_DEBUG=1" in err
    monkeypatch.setenv("CRMLAB_DEBUG", "1")
    with pytest.raises(RuntimeError, match="the generator broke"):
        main(["generate", *SMALL, "--out", str(tmp_path / "w")])


def test_truth_json_is_strict_json(tmp_path):
    import json

    assert main(["generate", *SMALL, "--out", str(tmp_path), "--set", "survey.response_rate=0.0001"]) == 0
    text = (tmp_path / "truth.json").read_text(encoding="utf-8")

    def refuse(token):
        raise AssertionError(f"truth.json holds {token}")

    truth = json.loads(text, parse_constant=refuse)
    assert truth["survey"]["nps"]["wave1"]["respondents_expected"] is None  # nobody answered: undefined


# --- crmlab generate --format: CSV stays the default and byte-identical, Parquet on request ----

def _json(path):
    import json

    return json.loads(path.read_text(encoding="utf-8"))


def test_default_csv_is_the_shipped_world_byte_for_byte(tmp_path):
    from pathlib import Path

    shipped_dir = Path(__file__).resolve().parents[1] / "datasets"
    assert main(["generate", "--out", str(tmp_path / "default")]) == 0
    assert main(["generate", "--format", "csv", "--out", str(tmp_path / "csv")]) == 0
    shipped = {p.relative_to(shipped_dir).as_posix(): p.read_bytes() for p in sorted(shipped_dir.rglob("*"))
               if p.is_file() and "real" not in p.relative_to(shipped_dir).parts}
    assert _snapshot(tmp_path / "default") == shipped
    assert _snapshot(tmp_path / "csv") == shipped


def test_parquet_holds_the_csv_world_of_the_same_seed(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    from crmlab.synth import TABLE_NAMES
    from crmlab.synth.parquet import load_parquet

    assert main(["generate", *SMALL, "--seed", "4", "--out", str(tmp_path / "csv")]) == 0
    assert main(["generate", *SMALL, "--seed", "4", "--format", "parquet", "--out", str(tmp_path / "pq")]) == 0
    assert "as Parquet" in capsys.readouterr().out
    assert not list((tmp_path / "pq").glob("*.csv"))
    for table in TABLE_NAMES:
        import pandas as pd

        pd.testing.assert_frame_equal(load_parquet(table, tmp_path / "pq"),
                                      datasets.load(table, data_dir=tmp_path / "csv"), check_names=True)
    assert _json(tmp_path / "pq" / "truth.json") == datasets.load_truth(tmp_path / "csv")
    # and the same files every time
    assert main(["generate", *SMALL, "--seed", "4", "--format", "parquet", "--out", str(tmp_path / "again")]) == 0
    assert _snapshot(tmp_path / "again") == _snapshot(tmp_path / "pq")


def test_parquet_streams_a_log_of_a_given_length(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    import pandas as pd

    out = tmp_path / "log"
    assert main(["generate", "--format", "parquet", "--transactions", "1000", "--months", "12", "--out", str(out)]) == 0
    assert "streamed" in capsys.readouterr().out
    meta = _json(out / "world.json")
    tx = pd.read_parquet(out / "transactions.parquet")
    assert meta["mode"] == "stream" and meta["rows"]["transactions"] == len(tx) >= 1000
    assert {"customers.parquet", "memberships.parquet"} <= {p.name for p in out.iterdir()}
    assert main(["generate", "--format", "parquet", "--stream", *SMALL, "--out", str(tmp_path / "s")]) == 0
    assert _json(tmp_path / "s" / "world.json")["rows"]["customers"] == 300
    assert pd.read_parquet(tmp_path / "s" / "customers.parquet")["customer_id"].is_unique


@pytest.mark.parametrize("argv,message", [
    (["--transactions", "1000"], "add --format parquet to --transactions"),
    (["--stream"], "add --format parquet to --stream"),
    (["--format", "parquet", "--transactions", "1000", "--customers", "300"], "both size the world"),
    (["--format", "parquet", "--set", "purchase.rr=1"], "unknown world parameter"),
    (["--format", "parquet", "--transactions", "1000", "--start", "2023-03-03"], "first day of a month"),
])
def test_parquet_bad_combinations_are_one_line_and_write_nothing(tmp_path, argv, message, capsys):
    if "--set" in argv or "--start" in argv:  # checked after the pyarrow check
        pytest.importorskip("pyarrow")
    out = tmp_path / "world"
    assert main(["generate", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Fix:" in err and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("argv,message", [
    (["--format", "feather"], "invalid choice: 'feather'"),
    (["--format", "parquet", "--transactions", "0"], "must be positive"),
])
def test_parquet_bad_arguments_exit_2(tmp_path, argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--out", str(tmp_path / "w"), *argv])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a))
    assert main(["generate", "--format", "parquet", *SMALL, "--out", str(tmp_path / "w")]) == 2
    assert "crmlab[scale]" in capsys.readouterr().err
    assert not (tmp_path / "w").exists()


def test_parquet_force_overwrites_its_files_and_deletes_nothing_else(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    assert main(["generate", "--format", "parquet", *SMALL, "--seed", "1", "--out", str(tmp_path)]) == 0
    (tmp_path / "notes.txt").write_text("keep me")
    before = _snapshot(tmp_path)
    assert main(["generate", "--format", "parquet", *SMALL, "--seed", "2", "--out", str(tmp_path)]) == 2
    assert "is not empty" in capsys.readouterr().err and _snapshot(tmp_path) == before
    assert main(["generate", "--format", "parquet", *SMALL, "--seed", "2", "--out", str(tmp_path), "--force"]) == 0
    assert _json(tmp_path / "world.json")["seed"] == 2
    assert (tmp_path / "notes.txt").read_text() == "keep me"


# --- crmlab notebooks -------------------------------------------------------------------------

def test_notebooks_broken_file_is_one_line_and_untouched(tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    assert main(["notebooks", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "is not a readable Jupyter notebook" in err and err.count("\n") == 1
    assert broken.read_text() == "{not json"
    assert main(["notebooks", str(tmp_path / "missing.ipynb")]) == 2
    assert "is not an existing .ipynb file" in capsys.readouterr().err


def test_notebooks_failing_cell_is_one_line_and_the_file_unchanged(tmp_path, capsys):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("1 / 0")])
    path = tmp_path / "fails.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    assert main(["notebooks", str(path)]) == 2
    err = capsys.readouterr().err
    assert "cell 2 raised ZeroDivisionError: division by zero" in err and "not saved" in err
    assert err.count("\n") == 1
    assert path.read_bytes() == before
