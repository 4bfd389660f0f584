"""The shipped datasets: byte-identical to the generator, loaded offline with the right dtypes."""

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from crmlab import datasets
from crmlab.errors import CrmlabError, DatasetNotFoundError
from crmlab.synth import TABLE_NAMES

SHIPPED = Path(__file__).resolve().parent.parent / "datasets"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_generator_reproduces_shipped_files_byte_for_byte(world, tmp_path):
    world.save(tmp_path)
    produced = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(SHIPPED) for p in SHIPPED.rglob("*")
                     if p.is_file() and "real" not in p.relative_to(SHIPPED).parts)
    assert produced == shipped
    for rel in produced:
        assert _digest(tmp_path / rel) == _digest(SHIPPED / rel), f"{rel} differs: run `make data`"


def test_loaded_world_equals_generated_world(world, shipped):
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(shipped[name], world[name].reset_index(drop=True))
    assert shipped.truth == world.truth
    assert shipped.meta == world.meta


def test_load_parses_dates_and_booleans():
    m = datasets.load("memberships")
    assert m["start_date"].dtype.kind == "M" and m["end_date"].dtype.kind == "M"
    assert m["churned"].dtype == bool
    tk = datasets.load("tickets")
    assert tk["opened_at"].dt.minute.nunique() > 1
    assert tk["post_ticket_csat"].isna().any()


def test_every_table_and_column_is_documented():
    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme
    for table, cols in datasets.SCHEMA.items():
        assert f"`{table}`" in readme
        for col, (_kind, _unit, meaning, zh, _gen) in cols.items():
            assert f"`{col}`" in readme
            assert meaning and zh, (table, col)


def test_meta_and_truth_load():
    meta = datasets.load_meta()
    assert meta["synthetic"] is True and meta["seed"] == 2024
    assert datasets.load_truth()["bgnbd"]["r"] == pytest.approx(0.75)
    lat = datasets.load_latent()
    assert len(lat) == meta["n_customers"]
    assert set(datasets.load_silo_matches()["system"]) == {"sales", "service", "web"}


def test_other_world_via_argument_and_environment(tmp_path, monkeypatch):
    from crmlab.synth import generate_world

    generate_world(seed=5, n_customers=300, months=12).save(tmp_path)
    assert len(datasets.load("customers", data_dir=tmp_path)) == 300
    monkeypatch.setenv("CRMLAB_DATA", str(tmp_path))
    assert datasets.load_meta()["seed"] == 5


def test_unknown_table_raises():
    with pytest.raises(CrmlabError, match="unknown table 'customer'"):
        datasets.load("customer")


def test_missing_folder_raises_with_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="crmlab generate"):
        datasets.load("customers", data_dir=tmp_path / "nowhere")


def test_missing_column_raises(tmp_path):
    from crmlab.synth import generate_world

    generate_world(seed=5, n_customers=300, months=12).save(tmp_path)
    df = pd.read_csv(tmp_path / "branches.csv").drop(columns=["region"])
    df.to_csv(tmp_path / "branches.csv", index=False)
    with pytest.raises(CrmlabError, match="region"):
        datasets.load("branches", data_dir=tmp_path)
