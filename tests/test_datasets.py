"""The shipped datasets: byte-identical to the generator, loaded offline with the right dtypes."""

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from crmlab import datasets
from crmlab.errors import CrmlabError, DatasetNotFoundError, DataValidationError, ParameterError
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


# --- strict parsing: a bad cell is named, never read as something else ------------------------

@pytest.fixture(scope="module")
def small_world(tmp_path_factory):
    from crmlab.synth import generate_world

    return generate_world(seed=5, n_customers=300, months=12).save(tmp_path_factory.mktemp("small"))


@pytest.fixture
def copy_world(small_world, tmp_path):
    import shutil

    shutil.copytree(small_world, tmp_path / "w")
    return tmp_path / "w"


def _edit(path: Path, column: str, row: int, value: str) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[row, column] = value
    df.to_csv(path, index=False, lineterminator="\n")


@pytest.mark.parametrize("spellings,expected", [
    (("True", "False"), (True, False)), (("true", "false"), (True, False)), (("TRUE", "FALSE"), (True, False)),
    (("1", "0"), (True, False)), (("yes", "no"), (True, False)), (("Yes", "No"), (True, False)),
    ((" true ", " no"), (True, False)),
])
def test_booleans_accept_the_usual_spellings(copy_world, spellings, expected):
    path = copy_world / "customers.csv"
    _edit(path, "loyalty_member", 0, spellings[0])
    _edit(path, "loyalty_member", 1, spellings[1])
    got = datasets.load("customers", data_dir=copy_world)["loyalty_member"]
    assert got.dtype == bool and (got.iloc[0], got.iloc[1]) == expected


@pytest.mark.parametrize("value,shown", [
    ("", "an empty cell"), ("maybe", "'maybe'"), ("2", "'2'"), ("Flase", "'Flase'"), ("nan", "'nan'"),
])
def test_any_other_boolean_is_an_error_naming_column_and_line(copy_world, value, shown):
    """Before, every cell but the exact text 'False' (including 'false', '0', 'no', empty) was True."""
    path = copy_world / "memberships.csv"
    _edit(path, "churned", 3, value)
    with pytest.raises(DataValidationError) as err:
        datasets.load("memberships", data_dir=copy_world)
    text = str(err.value)
    assert f"column 'churned' has {shown} on line 5 (row 3)" in text and "Fix:" in text


def test_a_boolean_the_dictionary_allows_to_be_missing(copy_world, monkeypatch):
    monkeypatch.setattr(datasets, "_NULLABLE_BOOL", frozenset({("silo_service", "vip")}))
    path = copy_world / "silo_service.csv"
    _edit(path, "vip", 0, "")
    vip = datasets.load("silo_service", data_dir=copy_world)["vip"]
    assert pd.isna(vip.iloc[0]) and vip.iloc[1:].isin([True, False]).all()
    _edit(path, "vip", 0, "perhaps")
    with pytest.raises(DataValidationError, match="or empty"):
        datasets.load("silo_service", data_dir=copy_world)


@pytest.mark.parametrize("table,column,value,expected", [
    ("transactions", "amount", "12,50", "a number"),
    ("transactions", "customer_id", "x7", "a whole number"),
    ("transactions", "customer_id", "", "a whole number"),
    ("transactions", "customer_id", "3.5", "a whole number"),
    ("transactions", "date", "31/12/2023", "a date like '2024-03-31'"),
    ("tickets", "opened_at", "2023-05-01", "a date like '2024-03-31 09:30'"),
])
def test_garbled_numbers_and_dates_name_the_cell(copy_world, table, column, value, expected):
    _edit(copy_world / f"{table}.csv", column, 0, value)
    with pytest.raises(DataValidationError, match=f"column '{column}' .* on line 2 .*expected {expected}"):
        datasets.load(table, data_dir=copy_world)


def test_missing_and_garbled_files(copy_world):
    (copy_world / "tickets.csv").unlink()
    with pytest.raises(DatasetNotFoundError, match="tickets.csv is missing") as err:
        datasets.load("tickets", data_dir=copy_world)
    assert "make data" in str(err.value)
    (copy_world / "survey.csv").write_text("")
    with pytest.raises(DataValidationError, match="is empty"):
        datasets.load("survey", data_dir=copy_world)
    (copy_world / "campaigns.csv").write_bytes(b"campaign_id,customer_id\n\xff\xfe\x00,1\n")
    with pytest.raises(DataValidationError, match="not UTF-8"):
        datasets.load("campaigns", data_dir=copy_world)
    (copy_world / "branches.csv").write_text('branch_id,city\n"B01,unterminated\n')
    with pytest.raises(DataValidationError, match="not a well-formed CSV"):
        datasets.load("branches", data_dir=copy_world)
    (copy_world / "truth.json").write_text('{"bgnbd": {"r": 0.75,}}')
    with pytest.raises(DataValidationError, match=r"truth.json is not valid JSON \(line 1"):
        datasets.load_truth(copy_world)
    (copy_world / "world.json").unlink()
    with pytest.raises(DatasetNotFoundError, match="world.json"):
        datasets.load_meta(copy_world)
    (copy_world / "truth" / "silo_matches.csv").unlink()
    with pytest.raises(DatasetNotFoundError, match="silo_matches.csv is missing"):
        datasets.load_silo_matches(copy_world)
    _edit(copy_world / "truth" / "customers_latent.csv", "purchase_dropout_date", 0, "soon")
    with pytest.raises(DataValidationError, match="purchase_dropout_date"):
        datasets.load_latent(copy_world)


# --- installed without the repository: the package's own copy (crmlab/_data) -----------------

@pytest.fixture
def installed_only(tmp_path, monkeypatch):
    """As after `pip install crmlab` from a wheel: no repository datasets/, the copy in the package."""
    import shutil

    package_copy = tmp_path / "site-packages" / "crmlab" / "_data"
    shutil.copytree(SHIPPED, package_copy)
    monkeypatch.setattr(datasets, "_REPO_DATA", tmp_path / "site-packages" / "datasets")
    monkeypatch.setattr(datasets, "_PACKAGE_DATA", package_copy)
    monkeypatch.delenv("CRMLAB_DATA", raising=False)
    return package_copy


def test_without_the_repository_the_installed_copy_is_read(installed_only):
    assert datasets.find_data_dir() == installed_only
    assert datasets.load_meta()["seed"] == 2024
    assert datasets.load("branches").shape == (12, 6)
    assert datasets.load_cdnow().shape == (6919, 5)
    assert int(datasets.load_donations()["weights"].sum()) == 11104
    assert datasets.load_ecsi_mobile().shape == (250, 24)


def test_argument_and_environment_still_come_first(installed_only, tmp_path, monkeypatch):
    from crmlab.synth import generate_world

    other = generate_world(seed=5, n_customers=300, months=12).save(tmp_path / "other")
    assert datasets.find_data_dir(other) == other
    monkeypatch.setenv("CRMLAB_DATA", str(other))
    assert datasets.load_meta()["seed"] == 5
    # a named folder without a world is an error, not a silent switch to the default world
    monkeypatch.setenv("CRMLAB_DATA", str(tmp_path / "typo"))
    with pytest.raises(DatasetNotFoundError, match="typo"):
        datasets.load_meta()
    with pytest.raises(DatasetNotFoundError, match="typo"):
        datasets.find_data_dir(tmp_path / "typo")


def test_the_repository_copy_wins_over_the_installed_one(tmp_path, monkeypatch):
    monkeypatch.delenv("CRMLAB_DATA", raising=False)
    monkeypatch.setattr(datasets, "_PACKAGE_DATA", tmp_path / "elsewhere")
    assert datasets.find_data_dir() == SHIPPED
    assert datasets.load_meta()["seed"] == 2024


def test_neither_copy_names_both_places_and_the_reinstall(tmp_path, monkeypatch):
    monkeypatch.delenv("CRMLAB_DATA", raising=False)
    monkeypatch.setattr(datasets, "_REPO_DATA", tmp_path / "repo" / "datasets")
    monkeypatch.setattr(datasets, "_PACKAGE_DATA", tmp_path / "pkg" / "_data")
    with pytest.raises(DatasetNotFoundError) as err:
        datasets.load("customers")
    text = str(err.value)
    assert "repo/datasets" in text and "pkg/_data" in text and "pip install --force-reinstall crmlab" in text
    for loader in (datasets.load_cdnow, datasets.load_donations, datasets.load_ecsi_mobile):
        with pytest.raises(DatasetNotFoundError, match="reinstall crmlab"):
            loader()


@pytest.mark.parametrize("loader,name", [("load_cdnow", "CDNOW_sample.txt"), ("load_donations", "donations.csv"),
                                         ("load_ecsi_mobile", "mobi_250.txt")])
def test_real_data_loaders_name_the_missing_file_and_the_fix(loader, name, tmp_path):
    load = getattr(datasets, loader)
    with pytest.raises(DatasetNotFoundError, match=rf"{name}.* is missing.*Fix: pass path= the folder holding"):
        load(path=tmp_path)
    with pytest.raises(ParameterError, match=r"path must be a folder or a file name, got int.*Fix: pass e\.g\."):
        load(path=3)
