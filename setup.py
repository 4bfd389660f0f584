"""Build hook: the wheel carries ``datasets/`` as ``crmlab/_data`` (configuration: pyproject.toml).

The course reads the world and the real data sets from the repository's ``datasets/``; a wheel
installed without the repository (``pip install crmlab``, Colab, a lab server) reads the copy
this hook puts inside the package. One source: the files are copied from ``datasets/`` at build
time, byte for byte, so the repository holds them once. Editable installs skip the copy (they
read ``datasets/`` in place). ``crmlab.datasets.find_data_dir`` documents the lookup.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class build_py_with_datasets(build_py):
    """``build_py`` plus ``datasets/`` -> ``<build_lib>/crmlab/_data``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        source = ROOT / "datasets"
        if not (source / "customers.csv").is_file():
            raise SystemExit(f"crmlab build: {source} holds no world (customers.csv); run `make data` first")
        target = Path(self.build_lib) / "crmlab" / "_data"
        if target.exists():  # a reused build folder must not ship files deleted since
            shutil.rmtree(target)
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.pyc"))


setup(cmdclass={"build_py": build_py_with_datasets})
