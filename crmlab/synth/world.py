"""The ``World`` container returned by ``generate_world`` and read by ``crmlab.datasets``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ParameterError

__all__ = ["World", "TABLE_NAMES", "DATETIME_COLUMNS", "write_csv"]

TABLE_NAMES = (
    "customers", "transactions", "memberships", "survey", "tickets", "campaigns",
    "branches", "branch_kpis", "b2b_accounts", "silo_sales", "silo_service", "silo_web",
)
# columns written with a time of day; every other datetime column is a calendar date
DATETIME_COLUMNS = {"opened_at"}


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` deterministically: ISO dates, '' for missing, '\\n' line ends."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            fmt = "%Y-%m-%d %H:%M" if col in DATETIME_COLUMNS else "%Y-%m-%d"
            out[col] = out[col].dt.strftime(fmt)
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


@dataclass
class World:
    """A generated (or loaded) company world.

    Tables are attributes (``world.customers``) and items (``world["customers"]``);
    ``truth`` holds the planted parameters, ``latent`` the per-customer latent truth,
    ``silo_matches`` the true record links and ``meta`` the window and row counts.
    """

    tables: dict[str, pd.DataFrame]
    truth: dict = field(default_factory=dict)
    latent: pd.DataFrame | None = None
    silo_matches: pd.DataFrame | None = None
    meta: dict = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"World has no table {name!r}; tables: {sorted(tables)}")

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise ParameterError(f"World has no table {name!r}", fix=f"use one of {sorted(self.tables)}")
        return self.tables[name]

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"World(seed={self.meta.get('seed')}, months={self.meta.get('months')}; {rows})"

    def save(self, out_dir: str | Path) -> Path:
        """Write every table as CSV, plus ``world.json``, ``truth.json`` and ``truth/``.

        The same world always produces byte-identical files.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, df in self.tables.items():
            write_csv(df, out / f"{name}.csv")
        (out / "world.json").write_text(json.dumps(self.meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
        (out / "truth.json").write_text(json.dumps(self.truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
        tdir = out / "truth"
        tdir.mkdir(exist_ok=True)
        if self.latent is not None:
            write_csv(self.latent, tdir / "customers_latent.csv")
        if self.silo_matches is not None:
            write_csv(self.silo_matches, tdir / "silo_matches.csv")
        return out
