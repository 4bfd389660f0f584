"""Answer values as plain data: the only thing that leaves a grading sandbox.

:func:`encode` (run inside the sandbox) turns a value into a JSON-compatible tree with a strict
schema; :func:`decode` (run by the trusted grader) rebuilds it from that tree alone, with
numpy/pandas constructors and a whitelist of dtypes. Nothing is unpickled, imported or
evaluated, so a value can carry no behaviour: an object that claims to equal everything, a
subclass with a patched ``__eq__`` or a forged result file can only ever arrive as the plain
numbers, strings and tables it really holds — or as "not plain data", which scores 0.

Supported: ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``list``, ``tuple``, ``set``,
``frozenset``, ``dict``, numpy scalars and arrays (bool, int, uint, float, complex, str,
datetime64, timedelta64), pandas ``Timestamp``/``Timedelta``/``NaT``/``NA``, ``Series``,
``DataFrame``, ``Index``/``RangeIndex``/``MultiIndex``/``DatetimeIndex``/``CategoricalIndex``,
categorical and nullable (``Int64``, ``boolean``, ``string``, ``Float64``) arrays.

>>> import pandas as pd
>>> decode(encode(pd.Series([1.5, 2.0], index=["a", "b"], name="x"))).to_dict()
{'a': 1.5, 'b': 2.0}
>>> decode(encode({"k": (1, "two", None)}))
{'k': (1, 'two', None)}
>>> class Liar(float):
...     def __eq__(self, other):
...         return True
>>> value = decode(encode(Liar(0.25)))
>>> type(value).__name__, value == 0.5
('float', False)
"""

from __future__ import annotations

import math

__all__ = ["encode", "decode", "NotPlainData", "MAX_ITEMS"]

MAX_ITEMS = 5_000_000     # elements in one answer, all arrays together
MAX_DEPTH = 32
MAX_STR = 1_000_000
MAX_INT_DIGITS = 400

_NUMERIC_KINDS = {"b": "bool", "i": "int", "u": "uint", "f": "float", "c": "complex"}
_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "complex64", "complex128", "object", "str"}
_EXT_DTYPES = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
               "Float32", "Float64", "boolean", "string"}


class NotPlainData(ValueError):
    """A value (or an encoded tree) outside the plain-data schema."""


class _Budget:
    def __init__(self):
        self.items = 0

    def spend(self, n: int) -> None:
        self.items += n
        if self.items > MAX_ITEMS:
            raise NotPlainData(f"more than {MAX_ITEMS:,} elements")


# --------------------------------------------------------------------------------------------
# encode (inside the sandbox: the student's process)
# --------------------------------------------------------------------------------------------

def _float_text(x: float) -> str:
    return repr(float(x))


def encode(value, _budget: _Budget | None = None, _depth: int = 0):
    """Plain-data tree of ``value``; raises :class:`NotPlainData` for anything else.

    Subclasses of the builtin types are reduced to the builtin value they hold (their own
    methods are never called), so a value cannot smuggle behaviour out.
    """
    budget = _budget or _Budget()
    if _depth > MAX_DEPTH:
        raise NotPlainData(f"nested deeper than {MAX_DEPTH} levels")
    budget.spend(1)
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": bool(int.__int__(value))}
    if isinstance(value, int):
        number = int.__int__(value)
        if len(str(abs(number))) > MAX_INT_DIGITS:
            raise NotPlainData("an integer with too many digits")
        return {"t": "int", "v": str(number)}
    if isinstance(value, float):
        return {"t": "float", "v": _float_text(float.__float__(value))}
    if isinstance(value, complex):
        z = complex.__complex__(value) if hasattr(complex, "__complex__") else complex(value.real, value.imag)
        return {"t": "complex", "v": [_float_text(z.real), _float_text(z.imag)]}
    if isinstance(value, str):
        text = str.__str__(value)
        if len(text) > MAX_STR:
            raise NotPlainData(f"a string longer than {MAX_STR:,} characters")
        return {"t": "str", "v": text}
    if isinstance(value, list | tuple | set | frozenset):
        kind = ("list" if isinstance(value, list) else "tuple" if isinstance(value, tuple)
                else "set" if isinstance(value, set) else "frozenset")
        items = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value) \
            if isinstance(value, tuple) else iter(frozenset(value) if kind == "set" else value)
        items = [encode(v, budget, _depth + 1) for v in items]
        if kind in ("set", "frozenset"):
            items.sort(key=lambda e: repr(e))
        return {"t": kind, "v": items}
    if isinstance(value, dict):
        pairs = [[encode(k, budget, _depth + 1), encode(v, budget, _depth + 1)] for k, v in dict.items(value)]
        return {"t": "dict", "v": pairs}
    return _encode_scientific(value, budget, _depth)


def _encode_scientific(value, budget: _Budget, depth: int):
    import numpy as np
    import pandas as pd

    if value is pd.NaT:
        return {"t": "nat"}
    if value is pd.NA:
        return {"t": "na"}
    if isinstance(value, np.generic):
        return {"t": "np", "v": _encode_array(np.asarray(value).reshape(1), budget)}
    if isinstance(value, pd.Timestamp):
        return {"t": "timestamp", "v": pd.Timestamp.isoformat(value), "tz": str(value.tz) if value.tz else None}
    if isinstance(value, pd.Timedelta):
        return {"t": "timedelta", "v": str(int(pd.Timedelta.value.__get__(value)))}
    if isinstance(value, np.ndarray):
        return {"t": "ndarray", "shape": [int(n) for n in value.shape],
                "v": _encode_array(np.ndarray.reshape(np.asarray(value), -1), budget)}
    if isinstance(value, pd.Series):
        series = pd.Series(value, copy=False)
        return {"t": "series", "name": encode(series.name, budget, depth + 1),
                "index": _encode_index(series.index, budget, depth), "v": _encode_values(series.array, budget)}
    if isinstance(value, pd.DataFrame):
        frame = pd.DataFrame(value, copy=False)
        return {"t": "frame", "index": _encode_index(frame.index, budget, depth),
                "columns": _encode_index(frame.columns, budget, depth),
                "v": [_encode_values(frame.iloc[:, j].array, budget) for j in range(frame.shape[1])]}
    if isinstance(value, pd.Index):
        return _encode_index(value, budget, depth)
    raise NotPlainData(f"a {type(value).__module__}.{type(value).__qualname__} object")


def _encode_index(index, budget: _Budget, depth: int):
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        return {"t": "range", "start": int(index.start), "stop": int(index.stop), "step": int(index.step),
                "name": encode(index.name, budget, depth + 1)}
    if isinstance(index, pd.MultiIndex):
        return {"t": "multiindex", "levels": [_encode_values(index.get_level_values(i).array, budget)
                                              for i in range(index.nlevels)],
                "names": [encode(n, budget, depth + 1) for n in index.names]}
    return {"t": "index", "v": _encode_values(index.array, budget), "name": encode(index.name, budget, depth + 1)}


def _encode_values(array, budget: _Budget):
    """A pandas ExtensionArray / numpy-backed array of one column."""
    import numpy as np
    import pandas as pd

    dtype = array.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cat = pd.Categorical(array)
        return {"t": "categorical", "categories": _encode_values(cat.categories.array, budget),
                "codes": [int(c) for c in cat.codes], "ordered": bool(cat.ordered)}
    if isinstance(dtype, pd.DatetimeTZDtype):
        return {"t": "datetime", "tz": str(dtype.tz),
                "v": [None if pd.isna(x) else str(pd.Timestamp(x).value) for x in array]}
    if str(dtype) in _EXT_DTYPES:
        budget.spend(len(array))
        obj = array.to_numpy(dtype=object, na_value=None)
        return {"t": "ext", "dtype": str(dtype), "v": [None if x is None else _scalar_text(x) for x in obj]}
    return _encode_array(np.asarray(array), budget)


def _scalar_text(x):
    import numpy as np

    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return str(int(x))
    if isinstance(x, float | np.floating):
        return _float_text(float(x))
    if isinstance(x, str):
        return str.__str__(x)
    raise NotPlainData(f"a {type(x).__name__} inside an array")


def _encode_array(arr, budget: _Budget):
    import numpy as np

    budget.spend(arr.size)
    kind = arr.dtype.kind
    if kind in "biu":
        return {"t": "array", "dtype": str(arr.dtype), "v": [bool(x) if kind == "b" else str(int(x)) for x in arr.tolist()]}
    if kind == "f":
        return {"t": "array", "dtype": str(arr.dtype), "v": [_float_text(x) for x in arr.tolist()]}
    if kind == "c":
        return {"t": "array", "dtype": str(arr.dtype),
                "v": [[_float_text(z.real), _float_text(z.imag)] for z in arr.tolist()]}
    if kind in "US":
        return {"t": "array", "dtype": "str", "v": [str(x) for x in arr.tolist()]}
    if kind in "mM":
        unit = np.datetime_data(arr.dtype)[0]
        ints = arr.astype("int64")
        nat = np.isnat(arr)
        return {"t": "array", "dtype": f"{'datetime64' if kind == 'M' else 'timedelta64'}[{unit}]",
                "v": [None if n else str(int(i)) for i, n in zip(ints.tolist(), nat.tolist(), strict=True)]}
    if kind == "O":
        return {"t": "array", "dtype": "object", "v": [encode(x, budget, 1) for x in arr.tolist()]}
    raise NotPlainData(f"an array of dtype {arr.dtype}")


# --------------------------------------------------------------------------------------------
# decode (in the trusted grader)
# --------------------------------------------------------------------------------------------

def _need(cond: bool, what: str) -> None:
    if not cond:
        raise NotPlainData(what)


def _float(text) -> float:
    _need(isinstance(text, str) and len(text) < 64, "a float must be given as text")
    try:
        return float(text)
    except ValueError:
        raise NotPlainData(f"not a float: {text[:20]!r}") from None


def _int(text) -> int:
    _need(isinstance(text, str) and 0 < len(text) <= MAX_INT_DIGITS + 1, "an int must be given as text")
    try:
        return int(text, 10)
    except ValueError:
        raise NotPlainData("not an integer") from None


def decode(tree, _budget: _Budget | None = None, _depth: int = 0):
    """The value an :func:`encode` tree describes; raises :class:`NotPlainData` on anything
    outside the schema (unknown tags, wrong types, too large, too deep)."""
    budget = _budget or _Budget()
    _need(_depth <= MAX_DEPTH + 4, "nested too deeply")
    _need(isinstance(tree, dict) and isinstance(tree.get("t"), str), "not an encoded value")
    budget.spend(1)
    t = tree["t"]
    v = tree.get("v")
    if t == "none":
        return None
    if t == "bool":
        _need(isinstance(v, bool), "bool")
        return v
    if t == "int":
        return _int(v)
    if t == "float":
        return _float(v)
    if t == "complex":
        _need(isinstance(v, list) and len(v) == 2, "complex")
        return complex(_float(v[0]), _float(v[1]))
    if t == "str":
        _need(isinstance(v, str) and len(v) <= MAX_STR, "str")
        return v
    if t in ("list", "tuple", "set", "frozenset"):
        _need(isinstance(v, list), t)
        items = [decode(x, budget, _depth + 1) for x in v]
        try:
            return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[t](items)
        except TypeError:
            raise NotPlainData("unhashable set member") from None
    if t == "dict":
        _need(isinstance(v, list) and all(isinstance(p, list) and len(p) == 2 for p in v), "dict")
        try:
            return {decode(k, budget, _depth + 1): decode(x, budget, _depth + 1) for k, x in v}
        except TypeError:
            raise NotPlainData("unhashable dict key") from None
    return _decode_scientific(t, tree, budget, _depth)


def _decode_scientific(t: str, tree: dict, budget: _Budget, depth: int):
    import pandas as pd

    if t == "nat":
        return pd.NaT
    if t == "na":
        return pd.NA
    if t == "np":
        arr = _decode_array(tree.get("v"), budget)
        _need(arr.shape == (1,), "numpy scalar")
        return arr[0]
    if t == "timestamp":
        _need(isinstance(tree.get("v"), str) and len(tree["v"]) < 64, "timestamp")
        tz = tree.get("tz")
        _need(tz is None or (isinstance(tz, str) and len(tz) < 64), "timezone")
        try:
            stamp = pd.Timestamp(tree["v"])
        except (ValueError, TypeError):
            raise NotPlainData("timestamp") from None
        return stamp
    if t == "timedelta":
        return pd.Timedelta(_int(tree.get("v")), unit="ns")
    if t == "ndarray":
        shape = tree.get("shape")
        _need(isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape) and len(shape) <= 8,
              "ndarray shape")
        arr = _decode_array(tree.get("v"), budget)
        _need(math.prod(shape) == arr.size, "ndarray size")
        return arr.reshape(shape)
    if t == "series":
        index = _decode_index(tree.get("index"), budget, depth)
        values = _decode_values(tree.get("v"), budget)
        _need(len(values) == len(index), "series length")
        return pd.Series(values, index=index, name=decode(tree.get("name"), budget, depth + 1), copy=False)
    if t == "frame":
        index = _decode_index(tree.get("index"), budget, depth)
        columns = _decode_index(tree.get("columns"), budget, depth)
        data = tree.get("v")
        _need(isinstance(data, list) and len(data) == len(columns), "frame columns")
        cols = [_decode_values(c, budget) for c in data]
        _need(all(len(c) == len(index) for c in cols), "frame column length")
        frame = pd.DataFrame({j: c for j, c in enumerate(cols)}, index=index)
        frame.columns = columns
        return frame
    if t in ("index", "range", "multiindex"):
        return _decode_index(tree, budget, depth)
    raise NotPlainData(f"unknown tag {t[:20]!r}")


def _decode_index(tree, budget: _Budget, depth: int):
    import pandas as pd

    _need(isinstance(tree, dict), "index")
    t = tree.get("t")
    if t == "range":
        for key in ("start", "stop", "step"):
            _need(isinstance(tree.get(key), int) and not isinstance(tree.get(key), bool), "range index")
        _need(tree["step"] != 0, "range step")
        n = len(range(tree["start"], tree["stop"], tree["step"]))
        budget.spend(n)
        return pd.RangeIndex(tree["start"], tree["stop"], tree["step"], name=decode(tree.get("name"), budget, depth + 1))
    if t == "multiindex":
        levels, names = tree.get("levels"), tree.get("names")
        _need(isinstance(levels, list) and isinstance(names, list) and len(levels) == len(names) and levels,
              "multiindex")
        arrays = [_decode_values(lv, budget) for lv in levels]
        _need(len({len(a) for a in arrays}) == 1, "multiindex level lengths")
        return pd.MultiIndex.from_arrays(arrays, names=[decode(n, budget, depth + 1) for n in names])
    _need(t == "index", "index tag")
    values = _decode_values(tree.get("v"), budget)
    return pd.Index(values, name=decode(tree.get("name"), budget, depth + 1), tupleize_cols=False)


def _decode_values(tree, budget: _Budget):
    import pandas as pd

    _need(isinstance(tree, dict), "values")
    t = tree.get("t")
    if t == "categorical":
        categories = _decode_values(tree.get("categories"), budget)
        codes = tree.get("codes")
        _need(isinstance(codes, list) and all(isinstance(c, int) and -1 <= c < len(categories) for c in codes),
              "categorical codes")
        budget.spend(len(codes))
        return pd.Categorical.from_codes(codes, categories=pd.Index(categories), ordered=bool(tree.get("ordered")))
    if t == "datetime":
        values = tree.get("v")
        tz = tree.get("tz")
        _need(isinstance(values, list) and isinstance(tz, str) and len(tz) < 64, "datetime values")
        budget.spend(len(values))
        ints = [None if x is None else _int(x) for x in values]
        try:
            return pd.DatetimeIndex(pd.to_datetime([pd.NaT if i is None else i for i in ints], unit="ns", utc=True)
                                    ).tz_convert(tz).array
        except Exception:
            raise NotPlainData("timezone") from None
    if t == "ext":
        dtype, values = tree.get("dtype"), tree.get("v")
        _need(dtype in _EXT_DTYPES and isinstance(values, list), "extension array")
        budget.spend(len(values))
        parse = (lambda x: x) if dtype in ("boolean", "string") else (_float if dtype.startswith("Float") else _int)
        items = [None if x is None else parse(x) for x in values]
        if dtype == "boolean":
            _need(all(x is None or isinstance(x, bool) for x in items), "boolean values")
        if dtype == "string":
            _need(all(x is None or isinstance(x, str) for x in items), "string values")
        return pd.array(items, dtype=dtype)
    return _decode_array(tree, budget)


def _decode_array(tree, budget: _Budget):
    import numpy as np

    _need(isinstance(tree, dict) and tree.get("t") == "array", "array")
    dtype, values = tree.get("dtype"), tree.get("v")
    _need(isinstance(values, list), "array values")
    budget.spend(len(values))
    if dtype in ("bool",):
        _need(all(isinstance(x, bool) for x in values), "bool array")
        return np.array(values, dtype=bool)
    if dtype in _DTYPES and dtype.startswith(("int", "uint")):
        try:
            return np.array([_int(x) for x in values], dtype=dtype)
        except OverflowError:
            raise NotPlainData(f"value out of range for {dtype}") from None
    if dtype in ("float16", "float32", "float64"):
        return np.array([_float(x) for x in values], dtype=dtype)
    if dtype in ("complex64", "complex128"):
        _need(all(isinstance(z, list) and len(z) == 2 for z in values), "complex array")
        return np.array([complex(_float(a), _float(b)) for a, b in values], dtype=dtype)
    if dtype == "str":
        _need(all(isinstance(x, str) and len(x) <= MAX_STR for x in values), "str array")
        return np.array(values, dtype=str) if values else np.array([], dtype=str)
    if dtype == "object":
        out = np.empty(len(values), dtype=object)
        for i, x in enumerate(values):
            out[i] = decode(x, budget, 1)
        return out
    if isinstance(dtype, str) and (dtype.startswith("datetime64[") or dtype.startswith("timedelta64[")):
        unit = dtype[dtype.index("[") + 1:-1]
        _need(unit in {"Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns"}, "datetime unit")
        kind = "datetime64" if dtype.startswith("datetime") else "timedelta64"
        nat = np.datetime64("NaT") if kind == "datetime64" else np.timedelta64("NaT")
        return np.array([nat if x is None else getattr(np, kind)(_int(x), unit) for x in values], dtype=dtype)
    raise NotPlainData(f"array dtype {str(dtype)[:20]!r}")
