"""The kit installs anywhere: a wheel built from this checkout, installed into a fresh venv
outside the repository, runs with its own data (the world, CDNOW) and no repository.

The build is what ``python -m build`` does, offline: an sdist from a clean copy of the checkout,
then the wheel from the unpacked sdist, both with this venv's setuptools (no build isolation,
so no download). The fresh venv has no pip and no crmlab: the wheel goes in with this venv's pip
(``pip --python``), and the dependencies come from this venv's site-packages through a ``.pth``
line. A path listed in a ``.pth`` file is put on ``sys.path`` without its own ``.pth`` files
being run, so the editable install of the repository (``__editable__.crmlab-*.pth``) stays
switched off: ``import crmlab`` finds the wheel's copy or nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT / "datasets"
# what a fresh clone would not have: environments, build output, caches
_NOT_IN_A_CLONE = (".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
                   ".ipynb_checkpoints", ".ruff_cache", "node_modules", "*.pyc")


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kwargs)
    assert out.returncode == 0, f"{cmd} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def _clean_env(**extra) -> dict:
    """The parent's environment without anything that points Python or crmlab at the repository."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "CRMLAB_DATA", "VIRTUAL_ENV")
           and not k.startswith("COVERAGE_")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONNOUSERSITE="1", **extra)
    return env


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """(sdist, wheel) built offline from a clean copy of the checkout, as ``python -m build`` would."""
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*_NOT_IN_A_CLONE))
    dist = work / "dist"
    dist.mkdir()
    hook = "import sys; from setuptools import build_meta as b; print(getattr(b, sys.argv[1])(sys.argv[2]))"
    sdist = dist / _run([sys.executable, "-c", hook, "build_sdist", str(dist)], cwd=src,
                        env=_clean_env()).stdout.split()[-1]
    with tarfile.open(sdist) as tar:  # the "data" filter exists from Python 3.11.4 on
        tar.extractall(work / "unpacked", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    unpacked = next((work / "unpacked").iterdir())
    wheel = dist / _run([sys.executable, "-c", hook, "build_wheel", str(dist)], cwd=unpacked,
                        env=_clean_env()).stdout.split()[-1]
    return sdist, wheel


@pytest.fixture(scope="module")
def fresh(build, tmp_path_factory):
    """A new venv, outside the repository, holding the installed wheel (and no editable crmlab)."""
    _sdist, wheel = build
    home = tmp_path_factory.mktemp("fresh")
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env=_clean_env())
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     env=_clean_env()).stdout.strip())
    # the dependencies: this venv's site-packages, after the fresh one, its .pth files not run
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
          "--no-cache-dir", "--quiet", str(wheel)], env=_clean_env())
    work = home / "work"  # an ordinary folder: no datasets/, no crmlab/ beside it
    work.mkdir()
    return {"venv": venv, "python": python, "site": site, "work": work}


def _fresh_python(fresh, code: str) -> dict:
    """Run ``code`` in the fresh venv from a folder outside the repository; it prints one JSON line."""
    out = _run([str(fresh["python"]), "-c", code], cwd=fresh["work"], env=_clean_env(PYTHONHASHSEED="0"))
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_wheel_carries_the_datasets_byte_for_byte_and_nothing_else(build):
    sdist, wheel = build
    shipped = {p.relative_to(DATASETS).as_posix(): p for p in DATASETS.rglob("*")
               if p.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                          for part in p.relative_to(DATASETS).parts)}
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        data = {n[len("crmlab/_data/"):]: n for n in names if n.startswith("crmlab/_data/")}
        assert set(data) == set(shipped), "the wheel's crmlab/_data differs from datasets/"
        for rel, name in data.items():
            assert hashlib.sha256(zf.read(name)).digest() == hashlib.sha256(shipped[rel].read_bytes()).digest(), rel
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    # the world, its truth and dictionary, and every real data set with its provenance README
    for rel in ("customers.csv", "transactions.csv", "truth.json", "world.json", "README.md",
                "truth/customers_latent.csv", "real/README.md", "real/cdnow/CDNOW_sample.txt",
                "real/cdnow/README.md", "real/donations/README.md", "real/ecsi_mobile/README.md"):
        assert rel in data, rel
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "exercises/", "datasets/"))]
    assert "crmlab/course/site_template/conf.py.in" in names
    assert "Provides-Extra: scale" in meta and "duckdb" in meta and "pyarrow" in meta
    with tarfile.open(sdist) as tar:  # the sdist rebuilds the same wheel: it holds datasets/
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {"setup.py", "MANIFEST.in", "CITATION.cff", "datasets/customers.csv",
            "datasets/real/cdnow/README.md"} <= members


def test_installed_wheel_loads_the_world_and_cdnow_outside_the_repository(fresh):
    got = _fresh_python(fresh, r"""
import json, sys
import crmlab
from crmlab import datasets
from crmlab.clv import BetaGeoFitter
world = datasets.load_world()
summary = datasets.load_cdnow("summary")
bgf = BetaGeoFitter().fit(summary)
readme = (datasets.find_data_dir() / "real" / "cdnow" / "README.md").read_text(encoding="utf-8")
from pathlib import Path
providers = [p for p in sys.path if Path(p or ".", "crmlab", "__init__.py").is_file()]
print(json.dumps({
    "crmlab": crmlab.__file__, "data_dir": str(datasets.find_data_dir()), "providers": providers,
    "customers": len(world.customers), "transactions": len(world.transactions), "meta": world.meta,
    "latent": len(world.latent), "truth_r": world.truth["bgnbd"]["r"],
    "cdnow_tx": list(datasets.load_cdnow().shape), "cdnow_x": int(summary["frequency"].sum()),
    "bgnbd": {k: round(float(v), 3) for k, v in bgf.params_.items()},
    "donors": int(datasets.load_donations()["weights"].sum()), "ecsi": list(datasets.load_ecsi_mobile().shape),
    "provenance": "Licence and terms" in readme,
}))
""")
    package = Path(got["crmlab"]).parent
    assert package.is_relative_to(fresh["site"]), f"crmlab imported from {package}, not from the wheel"
    assert Path(got["data_dir"]) == package / "_data"
    # nothing else on sys.path holds a crmlab package (the repository root would)
    assert [Path(p).resolve() for p in got["providers"]] == [fresh["site"].resolve()], got["providers"]
    meta = json.loads((DATASETS / "world.json").read_text(encoding="utf-8"))
    assert got["meta"] == meta and got["meta"]["seed"] == 2024
    assert (got["customers"], got["transactions"]) == (meta["rows"]["customers"], meta["rows"]["transactions"])
    assert got["latent"] == meta["n_customers"] and got["truth_r"] == 0.75
    # CDNOW as shipped, and the published BG/NBD estimates (Fader, Hardie & Lee 2005)
    assert got["cdnow_tx"] == [6919, 5] and got["cdnow_x"] == 2457
    assert got["bgnbd"] == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert got["donors"] == 11104 and got["ecsi"] == [250, 24] and got["provenance"]


def test_installed_scale_extra_summarises_the_packaged_log(fresh):
    pytest.importorskip("duckdb", reason="the scale extra is not installed here: pip install 'crmlab[scale]'")
    got = _fresh_python(fresh, r"""
import json
import numpy as np
from crmlab import clv, datasets, scale
tx = datasets.find_data_dir() / "transactions.csv"
as_of = datasets.load_meta()["observation_end"]
sql = scale.btyd_summary(str(tx), as_of=as_of)
mem = clv.summary_from_transactions(datasets.load("transactions"), as_of=as_of)
diff = float(np.abs(sql[mem.columns].to_numpy() - mem.loc[sql.index].to_numpy()).max())
print(json.dumps({"rows": len(sql), "same_customers": bool(sql.index.equals(mem.index)), "max_diff": diff,
                  "engine": scale.__file__}))
""")
    assert got["same_customers"] and got["rows"] > 3000 and got["max_diff"] < 1e-9
    assert Path(got["engine"]).is_relative_to(fresh["site"])


def test_installed_command_line_generates_a_world(fresh):
    crmlab = fresh["venv"] / "bin" / "crmlab"
    out = _run([str(crmlab), "generate", "--customers", "300", "--months", "12", "--out", "w"],
               cwd=fresh["work"], env=_clean_env())
    assert "SYNTHETIC" in out.stdout
    assert (fresh["work"] / "w" / "customers.csv").is_file()


def test_citation_file_is_valid_cff():
    import yaml

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "license", "type"):
        assert cff.get(key), key
    assert cff["type"] == "software" and all(a.get("name") or a.get("family-names") for a in cff["authors"])
    import crmlab

    assert str(cff["version"]) == crmlab.__version__, "CITATION.cff names another version than crmlab"
    refs = cff.get("references", [])
    assert {"Fader", "Tenenhaus"} <= {a.get("family-names") for r in refs for a in r["authors"]}


def test_binder_config_installs_the_kit_after_the_repository_is_copied():
    """repo2docker builds .binder/environment.yml before the repository is in the image, so the
    kit is installed by postBuild (which runs in the copied repository), not by the environment."""
    import re
    import tomllib

    import yaml

    env = yaml.safe_load((ROOT / ".binder" / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floor = re.fullmatch(r">=(\d+)\.(\d+)", project["requires-python"]).groups()
    assert tuple(map(int, python.split("=")[1].split(".")[:2])) >= tuple(map(int, floor))
    assert "pip" in deps and not [d for d in deps if isinstance(d, dict)], "no pip section: postBuild installs"
    post = ROOT / ".binder" / "postBuild"
    text = post.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash") and os.access(post, os.X_OK)
    _run(["bash", "-n", str(post)])
    install = next(line for line in text.splitlines() if "pip install" in line)
    assert "--constraint constraints.txt" in install and (ROOT / "constraints.txt").is_file()
    extras = re.search(r'"\.\[([\w,]+)\]"', install).group(1).split(",")
    assert extras == ["scale"] and set(extras) <= set(project["optional-dependencies"])
