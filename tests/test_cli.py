"""The command line: `crmlab generate` writes a world; bad arguments give clear errors."""

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
