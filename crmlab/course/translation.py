"""Chinese twins (中文版) of the course notebooks and the exercise masters.

A twin holds the English notebook's cells in the same order, with the same cell ids: code and
raw cells are identical (source, outputs, execution counts), markdown cells are translated.
Each translated markdown cell records the SHA-256 of the English text it translates
(``cell.metadata["crmlab"]["en_sha"]``), so an English cell edited later shows up as *stale*
until its translation is brought up to date. Nothing here translates: translators write the
Chinese text; these functions keep the twins in step with the English notebooks.

Where twins live (parallel names, one folder per language):

- ``notebooks/NN-topic.ipynb``            -> ``notebooks/zh/NN-topic.ipynb``
- ``notebooks/research/name.ipynb``       -> ``notebooks/zh/research/name.ipynb``
- ``exercises/NN-topic/NN-topic.ipynb``   -> ``exercises/NN-topic/zh/NN-topic.ipynb``

Workflow: ``crmlab translate sync`` after re-executing English notebooks (copies code and
outputs into the twins, keeps translations whose English text is unchanged, marks the rest);
``crmlab translate export`` / ``import`` move the markdown cells to and from a JSON file that a
translator edits; ``crmlab translate status`` lists what is missing, untranslated or stale
(``tests/test_translation.py`` fails on any of it).

>>> twin_path("notebooks/03-customer-classification-and-segmentation.ipynb").as_posix()
'notebooks/zh/03-customer-classification-and-segmentation.ipynb'
>>> twin_path("exercises/04-customer-lifetime-value/04-customer-lifetime-value.ipynb").as_posix()
'exercises/04-customer-lifetime-value/zh/04-customer-lifetime-value.ipynb'
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import DatasetNotFoundError, DataValidationError, ParameterError

__all__ = ["twin_path", "english_notebooks", "sync_twin", "check_twin", "export_markdown",
           "import_markdown", "en_sha", "has_chinese"]

_CJK = re.compile(r"[\u3400-\u9fff]")
_META = "crmlab"


def en_sha(text: str) -> str:
    """SHA-256 of an English markdown cell's text (how a translation names what it translates)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def has_chinese(text: str, min_share: float = 0.5) -> bool:
    """Whether ``text`` reads as Chinese: CJK characters are at least ``min_share`` of the
    CJK characters plus English words (code spans, maths and link targets left out).

    >>> has_chinese("客户流失率（churn rate）是每月流失的会员比例。")
    True
    >>> has_chinese("Churn rate (流失率) is the share of members who leave each month.")
    False
    """
    plain = re.sub(r"`[^`]*`|\$[^$]*\$|\]\([^)]*\)|https?://\S+", " ", text)
    cjk = len(_CJK.findall(plain))
    words = len(re.findall(r"[A-Za-z]{2,}", plain))
    if cjk + words == 0:
        return True  # a cell of symbols, numbers or formulae needs no translation
    return cjk / (cjk + words) >= min_share


def twin_path(en_path: str | Path) -> Path:
    """Where the Chinese twin of an English notebook or exercise master lives."""
    p = Path(en_path)
    if "zh" in p.parts:
        raise ParameterError(f"{p} is already a Chinese twin", fix="pass the English notebook")
    if p.parent.name == "research":
        return p.parent.parent / "zh" / "research" / p.name
    return p.parent / "zh" / p.name


def english_notebooks(root: str | Path = ".", *, exercises: bool = True) -> list[Path]:
    """The English course notebooks, research notebooks and (optionally) exercise masters."""
    root = Path(root)
    found = sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    found += sorted((root / "notebooks" / "research").glob("*.ipynb"))
    if exercises:
        found += sorted(p for p in (root / "exercises").glob("[0-9][0-9]-*/[0-9][0-9]-*.ipynb"))
    return found


def _read(path: Path):
    import nbformat

    if not path.is_file():
        raise DatasetNotFoundError(f"notebook {path} does not exist", fix="check the path")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 - any parse failure is a broken notebook
        raise DataValidationError(f"{path} is not a readable notebook: {err}",
                                  fix="restore it from git or repair the JSON") from None


def _write(nb, path: Path) -> None:
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _ids(nb, path: Path) -> list[str]:
    ids = [c.get("id") for c in nb.cells]
    if any(i is None for i in ids) or len(set(ids)) != len(ids):
        raise DataValidationError(f"{path} has cells without unique ids",
                                  fix="open and save it with nbformat >= 5.1 (nbformat.validator.normalize)")
    return ids


def _status(cell) -> tuple[str, str | None]:
    meta = cell.get("metadata", {}).get(_META, {})
    return meta.get("zh_status", "untranslated"), meta.get("en_sha")


def sync_twin(en_path: str | Path, *, write: bool = True):
    """Rebuild the twin of ``en_path`` from the English notebook and the twin's translations.

    Code and raw cells (and their outputs) are copied from English. A markdown cell keeps its
    translation when the twin has a cell with the same id whose ``en_sha`` matches the English
    text; otherwise it holds the English text marked ``untranslated`` (new cell) or keeps the old
    translation marked ``stale`` (English edited since). Returns the twin notebook.
    """
    en_path = Path(en_path)
    en = _read(en_path)
    en_ids = _ids(en, en_path)
    tpath = twin_path(en_path)
    old = {}
    if tpath.is_file():
        zh = _read(tpath)
        old = {c.get("id"): c for c in zh.cells if c.cell_type == "markdown"}
    twin = copy.deepcopy(en)
    for cell, cid in zip(twin.cells, en_ids, strict=True):
        if cell.cell_type != "markdown":
            continue
        sha = en_sha(cell.source)
        prev = old.get(cid)
        meta = cell.setdefault("metadata", {}).setdefault(_META, {})
        if prev is not None and _status(prev)[0] in ("translated", "stale"):
            cell.source = prev.source
            meta["zh_status"] = "translated" if _status(prev)[1] == sha else "stale"
            meta["en_sha"] = _status(prev)[1]
            if meta["zh_status"] == "stale":
                meta["en_source"] = en.cells[en_ids.index(cid)].source
        else:
            meta["zh_status"] = "untranslated"
            meta["en_sha"] = sha
    twin.metadata.setdefault(_META, {})["english"] = en_path.name
    if write:
        _write(twin, tpath)
    return twin


def check_twin(en_path: str | Path) -> list[str]:
    """Problems of the twin of ``en_path``: missing, cells out of step, code or outputs that
    differ, markdown untranslated, stale or not Chinese. Empty list = in step."""
    en_path = Path(en_path)
    tpath = twin_path(en_path)
    if not tpath.is_file():
        return [f"{tpath}: missing (crmlab translate sync {en_path})"]
    en, zh = _read(en_path), _read(tpath)
    problems = []
    if [c.get("id") for c in en.cells] != [c.get("id") for c in zh.cells]:
        return [f"{tpath}: its cells are not the English notebook's cells (run crmlab translate sync {en_path})"]
    for k, (a, b) in enumerate(zip(en.cells, zh.cells, strict=True)):
        where = f"{tpath} cell {k}"
        if a.cell_type != b.cell_type:
            problems.append(f"{where}: {b.cell_type} where English has {a.cell_type}")
        elif a.cell_type != "markdown":
            if a.source != b.source:
                problems.append(f"{where}: code differs from the English notebook (run crmlab translate sync)")
            elif a.cell_type == "code" and (json.dumps(a.get("outputs", []), sort_keys=True)
                                            != json.dumps(b.get("outputs", []), sort_keys=True)):
                problems.append(f"{where}: outputs differ from the English notebook (run crmlab translate sync)")
        else:
            status, sha = _status(b)
            if status != "translated":
                problems.append(f"{where}: markdown {status}")
            elif sha != en_sha(a.source):
                problems.append(f"{where}: stale, the English text changed since it was translated")
            elif not has_chinese(b.source):
                problems.append(f"{where}: marked translated but does not read as Chinese")
    return problems


def export_markdown(en_path: str | Path, out: str | Path | None = None, *, only_todo: bool = True) -> list[dict]:
    """The twin's markdown cells as ``[{id, status, en, zh}]`` for a translator (and to ``out``).

    Run :func:`sync_twin` first. ``only_todo`` keeps the cells that are untranslated or stale.
    """
    en_path = Path(en_path)
    tpath = twin_path(en_path)
    if not tpath.is_file():
        raise DatasetNotFoundError(f"no twin at {tpath}", fix=f"run crmlab translate sync {en_path} first")
    en = {c.get("id"): c.source for c in _read(en_path).cells}
    rows = []
    for c in _read(tpath).cells:
        if c.cell_type != "markdown":
            continue
        status, _ = _status(c)
        if only_todo and status == "translated":
            continue
        rows.append({"id": c.get("id"), "status": status, "en": en.get(c.get("id"), ""),
                     "zh": c.source if status != "untranslated" else ""})
    if out is not None:
        Path(out).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return rows


def import_markdown(en_path: str | Path, translations: Mapping[str, str] | Iterable[Mapping] | str | Path) -> int:
    """Write translations (``{cell id: Chinese markdown}``, the rows of :func:`export_markdown`,
    or a JSON file of either) into the twin; returns how many cells were updated.

    Each updated cell is marked ``translated`` against the English text it now translates.
    """
    en_path = Path(en_path)
    if isinstance(translations, (str, Path)):
        translations = json.loads(Path(translations).read_text(encoding="utf-8"))
    if not isinstance(translations, Mapping):
        translations = {r["id"]: r["zh"] for r in translations if r.get("zh")}
    tpath = twin_path(en_path)
    if not tpath.is_file():
        sync_twin(en_path)
    en = {c.get("id"): c for c in _read(en_path).cells}
    zh = _read(tpath)
    cells = {c.get("id"): c for c in zh.cells}
    unknown = [k for k in translations if k not in cells or cells[k].cell_type != "markdown"]
    if unknown:
        raise ParameterError(f"no markdown cells with ids {unknown[:5]} in {tpath}",
                             fix="export the cells again after crmlab translate sync")
    n = 0
    for cid, text in translations.items():
        if not isinstance(text, str) or not text.strip():
            continue
        cell = cells[cid]
        cell.source = text
        meta = cell.setdefault("metadata", {}).setdefault(_META, {})
        meta.update(zh_status="translated", en_sha=en_sha(en[cid].source))
        meta.pop("en_source", None)
        n += 1
    _write(zh, tpath)
    return n
