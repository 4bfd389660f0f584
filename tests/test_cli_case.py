"""`crmlab case`: list the cases, run one with another seed, write its results; clear errors."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from crmlab import cases
from crmlab.cli import main


def test_case_list(capsys):
    assert main(["case", "--list"]) == 0
    out = capsys.readouterr().out
    for name, case in cases.CASES.items():
        assert name in out and case.source in out and case.title_zh in out


def test_case_runs_with_seed_and_size_and_writes_results(tmp_path, capsys):
    out_dir = tmp_path / "ecommerce"
    argv = ["case", "ecommerce_churn", "--seed", "7", "--customers", "2000", "--out", str(out_dir)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    case = cases.get_case("ecommerce_churn")
    for part in ("SYNTHETIC", case.question, "Key figures:", "Estimate vs planted truth:", "Decision:",
                 "seed 7, 2,000 customers", f"wrote {out_dir}"):
        assert part in out, part
    doc = json.loads((out_dir / "case.json").read_text(encoding="utf-8"))
    assert (doc["seed"], doc["n_customers"], doc["case"]) == (7, 2000, "ecommerce_churn")
    # the printed decision is the one run_case gives for the same arguments
    res = cases.run_case("ecommerce_churn", seed=7, n_customers=2000)
    assert res.decision in out and doc["decision"] == res.decision
    assert len(pd.read_csv(out_dir / "levers.csv")) == 3


def test_case_default_seed_printed(capsys):
    assert main(["case", "retailer"]) == 0
    assert f"seed {cases.get_case('retailer').seed}, 5,000 customers" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["case", "retail"], "unknown case 'retail'"),
    (["case"], "no case named"),
    (["case", "retailer", "--customers", "300"], "n_customers must be a whole number >= 2000"),
])
def test_case_errors_exit_2_with_fix(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Fix:" in err


@pytest.mark.parametrize("argv,message", [
    (["case", "retailer", "--seed", "-3"], "must be >= 0"),
    (["case", "retailer", "--customers", "many"], "whole number"),
])
def test_case_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_case_out_must_be_a_folder(tmp_path, capsys):
    clash = tmp_path / "taken"
    clash.write_text("x")
    assert main(["case", "ecommerce_churn", "--customers", "1500", "--out", str(clash)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_case_help():
    out = subprocess.run([sys.executable, "-m", "crmlab.cli", "case", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--seed" in out.stdout and "--list" in out.stdout


def test_case_out_refuses_a_non_empty_folder_before_running(tmp_path, capsys, monkeypatch):
    (tmp_path / "README.md").write_text("# my project\n")

    def never(*args, **kwargs):
        raise AssertionError("the case ran although its output folder was refused")

    monkeypatch.setattr(cases, "run_case", never)
    assert main(["case", "retailer", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and "--force" in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]
    assert (tmp_path / "README.md").read_text() == "# my project\n"


def test_case_out_with_force_keeps_other_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("keep me")
    argv = ["case", "ecommerce_churn", "--customers", "2000", "--out", str(tmp_path), "--force"]
    assert main(argv) == 0
    assert (tmp_path / "case.json").is_file() and (tmp_path / "notes.txt").read_text() == "keep me"
