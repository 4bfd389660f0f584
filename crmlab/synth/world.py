"""The ``World`` container returned by ``generate_world`` and read by ``crmlab.datasets``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DataValidationError, ParameterError
from ..validation import check_output_dir

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

    def save(self, out_dir: str | Path, *, force: bool = False) -> Path:
        """Write the world: every table as CSV, ``world.json``, ``truth.json``, ``truth/`` and
        the data dictionary ``README.md``. The same world always produces byte-identical files.

        ``out_dir`` must be new or empty; ``force=True`` overwrites the world's own files in a
        non-empty folder and leaves every other file there alone. ``truth.json`` and
        ``world.json`` never hold NaN or Infinity (refused before anything is written).

        >>> import tempfile
        >>> from crmlab.synth import generate_world
        >>> world = generate_world(seed=1, n_customers=300, months=12)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     sorted(p.name for p in world.save(tmp).glob("*.json"))
        ['truth.json', 'world.json']
        """
        out = check_output_dir(out_dir, "out_dir", force=force)
        # serialise first: a non-finite number must stop the save before any file is written
        meta_text = _json_text(self.meta, "world.json")
        truth_text = _json_text(self.truth, "truth.json")
        readme = _data_dictionary(self.meta)
        out.mkdir(parents=True, exist_ok=True)
        for name, df in self.tables.items():
            write_csv(df, out / f"{name}.csv")
        (out / "world.json").write_text(meta_text, encoding="utf-8")
        (out / "truth.json").write_text(truth_text, encoding="utf-8")
        tdir = out / "truth"
        tdir.mkdir(exist_ok=True)
        if self.latent is not None:
            write_csv(self.latent, tdir / "customers_latent.csv")
        if self.silo_matches is not None:
            write_csv(self.silo_matches, tdir / "silo_matches.csv")
        (out / "README.md").write_text(readme, encoding="utf-8")
        return out


def _non_finite(obj, path: str = "") -> str | None:
    """Dotted path of the first NaN/Infinity in a JSON-like object, or None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return path or "(top level)"
    if isinstance(obj, dict):
        for k, v in obj.items():
            if (hit := _non_finite(v, f"{path}.{k}" if path else str(k))) is not None:
                return hit
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            if (hit := _non_finite(v, f"{path}[{i}]")) is not None:
                return hit
    return None


def _json_text(obj, what: str) -> str:
    """Strict JSON (no NaN/Infinity, which other JSON readers refuse)."""
    if (where := _non_finite(obj)) is not None:
        raise DataValidationError(f"{what} would hold a non-finite number at {where}",
                                  fix="check the world parameters that feed it (crmlab.synth.params); "
                                      "nothing was written")
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def _data_dictionary(meta: dict) -> str:
    """``README.md`` of a saved world: provenance, then every table and column."""
    from ..datasets import data_dictionary_markdown

    m = {k: meta.get(k, "?") for k in ("seed", "months", "window_start", "observation_end")}
    n = meta.get("n_customers")
    n_text = f"{n:,}" if isinstance(n, int) else "?"
    preface = f"""# crmlab synthetic world — data dictionary

**SYNTHETIC DATA.** Every table here was generated by `crmlab.synth.generate_world`
(seed {m['seed']}, {n_text} customers, {m['months']} months from
{m['window_start']} to {m['observation_end']}). The people, companies, phone numbers and
e-mails are random and belong to nobody. The Chinese source texts of the course give no numbers:
every figure is an assumption of the kit, planted so that estimates can be checked against it.

Regenerate this folder with `crmlab generate --seed {m['seed']} --customers {n if n is not None else '?'}
--months {m['months']} --out DIR` (the shipped copy: `make data`). Load it with
`crmlab.datasets.load("customers")`, or `load(..., data_dir=DIR)` for another world.

- `world.json` — window dates, survey-wave and campaign dates, row counts.
- `truth.json` — every planted parameter and the quantities they imply (the answer key).
- `truth/customers_latent.csv` — per-customer latent truth (segment, latent satisfaction,
  BG/NBD purchase rate and dropout probability, spend rate, uncensored membership duration, ...).
- `truth/silo_matches.csv` — which silo record belongs to which customer.

Conventions: dates are ISO `YYYY-MM-DD`; `opened_at` has minutes; empty cells are missing values;
one tenure month = 30.4375 days; amounts are CNY. Keys join with no orphans:
`customer_id` everywhere, `branch_id` to `branches`, `b2b_accounts.account_id` to
`customers.customer_id`.

## Tables

"""
    return preface + data_dictionary_markdown(meta)
