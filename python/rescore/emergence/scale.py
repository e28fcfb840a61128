"""Where each model sits on the scale axis: the model sizes, name parsing, sizes files.

A model is placed, in order of precedence, by

1. a column of the data (``scale_col``, e.g. a results table's own ``params``),
2. a sizes file (``--sizes``, CSV or JSON with columns ``model``, ``params`` and optionally
   ``tokens``, ``flops``, ``family``),
3. the built-in model sizes (:mod:`rescore.emergence.model_sizes`, a data file with a source
   for every row),
4. a size written in the name (``pythia-1.4b``, ``opt-125m``, ``llama-2-7b-chat``).

Training compute is ``flops`` when given, else estimated as ``6 * params * tokens`` (Kaplan et
al. 2020) when both are known. A model that none of these places is kept and reported with
``placed = False``; it is never silently dropped.

>>> parse_size("pythia-1.4b-deduped")
1400000000.0
>>> parse_size("mixtral-8x7b") is None  # a mixture of experts is not 56B: look it up instead
True
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from rescore.emergence.model_sizes import lookup, normalize_name
from rescore.emergence.settings import AXES, Axis
from rescore.exceptions import InvalidInputError, InvalidOptionError, MissingColumnError

_UNITS = {"m": 1e6, "b": 1e9, "t": 1e12}
# A number followed by m/b/t, standing alone between separators: "1.4b", "125M", "7b".
# Not preceded by a letter or digit ("8x7b" is a mixture of experts, "gpt2" has no size) and not
# followed by one ("bloom-1b1" means 1.1B: the model sizes know it). "k" is left out on purpose:
# "4k"/"32k" in names are context lengths and "143k" checkpoint steps, never parameter counts.
_SIZE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)([mbt])(?![a-z0-9])", re.IGNORECASE)
_SEPARATORS = re.compile(r"[-_ ]{2,}")


def parse_size_token(token: str) -> float:
    """The parameter count written as ``token`` (``"1.4b"``, ``"125M"``).

    >>> parse_size_token("125M")
    125000000.0
    """
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([mbt])", token.strip(), flags=re.IGNORECASE)
    if m is None:
        msg = f"cannot read a parameter count from {token!r}; expected e.g. '125m', '1.4b', '7B'"
        raise InvalidInputError(msg)
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def parse_size(model: str) -> float | None:
    """The parameter count written in a model name, or ``None`` if there is not exactly one.

    >>> parse_size("llama-2-7b-chat"), parse_size("opt-125m"), parse_size("gpt2")
    (7000000000.0, 125000000.0, None)
    >>> parse_size("distil-7b-from-70b") is None  # two sizes: ambiguous
    True
    """
    found = {float(m.group(1)) * _UNITS[m.group(2).lower()] for m in _SIZE.finditer(model)}
    return found.pop() if len(found) == 1 else None


def family_from_name(model: str) -> str:
    """The family a model name implies: the name without its size (``sim-1.4b`` -> ``sim``).

    >>> family_from_name("EleutherAI/pythia-1.4b-deduped")
    'pythia-deduped'
    """
    name = normalize_name(model)
    stripped = _SIZE.sub("", name) if parse_size(name) is not None else name
    stripped = _SEPARATORS.sub("-", stripped).strip("-_ ")
    return stripped or name


def _number(value: Any, column: str, model: str) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            return parse_size_token(text)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value <= 0:
            msg = f"sizes file: `{column}` of model {model!r} must be positive, got {value}"
            raise InvalidInputError(msg)
        return float(value)
    msg = f"sizes file: `{column}` of model {model!r} must be a number, got {value!r}"
    raise InvalidInputError(msg)


def read_sizes_file(path: str | Path) -> pl.DataFrame:
    """Read a model sizes file (CSV or JSON) into ``model, params, tokens, flops, family``.

    JSON may be a list of records, ``{"models": [records]}``, or ``{model: params}``. Sizes may
    be numbers or strings such as ``"7B"``. Missing optional columns come back null.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        raw = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and "models" in raw:
            raw = raw["models"]
        if isinstance(raw, dict):
            raw = [{"model": k, "params": v} for k, v in raw.items()]
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            msg = f"{path}: expected a list of records with `model` and `params`"
            raise InvalidInputError(msg)
        records: list[dict[str, Any]] = raw
    elif path.suffix.lower() in {".csv", ".tsv"}:
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        records = pl.read_csv(path, separator=sep, infer_schema=False).to_dicts()
    else:
        msg = f"{path}: a sizes file must be .csv, .tsv or .json"
        raise InvalidOptionError(msg)
    rows = []
    for r in records:
        if "model" not in r or "params" not in r:
            msg = f"{path}: every record needs `model` and `params`; got columns {sorted(r)}"
            raise MissingColumnError(msg)
        model = str(r["model"])
        family = r.get("family")
        rows.append(
            {
                "model": model,
                "params": _number(r["params"], "params", model),
                "tokens": _number(r.get("tokens"), "tokens", model),
                "flops": _number(r.get("flops"), "flops", model),
                "family": None if family in (None, "") else str(family),
            }
        )
    schema = {
        "model": pl.String,
        "params": pl.Float64,
        "tokens": pl.Float64,
        "flops": pl.Float64,
        "family": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def place_models(
    models: Iterable[str],
    *,
    sizes: pl.DataFrame | None = None,
    data_scale: Mapping[str, float] | None = None,
    data_family: Mapping[str, str] | None = None,
    axis: Axis = "params",
    builtin_sizes: bool = True,
) -> pl.DataFrame:
    """Place each model on the scale axis.

    Parameters
    ----------
    models
        Model names as they appear in the data.
    sizes
        A frame from :func:`read_sizes_file` (exact names first, then normalised names).
    data_scale
        Scale values read from a column of the data (the ``axis`` value itself).
    data_family
        Families read from a column of the data.
    axis
        ``"params"``, ``"flops"`` (given, else ``6 * params * tokens``) or ``"tokens"``.
    builtin_sizes
        Whether to consult the built-in model sizes and parse sizes written in names.

    Returns
    -------
    polars.DataFrame
        One row per model: ``model, family, params, non_embedding_params, tokens, flops,
        flops_estimated, scale, source, placed, note``. ``flops_estimated`` marks
        ``6 * params * tokens`` with the *total* ``params`` (Kaplan et al. 2020 count
        non-embedding parameters; the table keeps both where known). ``scale`` is the axis
        value; unplaced models have a null ``scale``, ``placed = False`` and a note saying why.

    Examples
    --------
    >>> df = place_models(["sim-70m", "gpt2-medium", "my-model"])
    >>> df.select("model", "family", "scale", "placed").rows()
    [('sim-70m', 'sim', 70000000.0, True), ('gpt2-medium', 'gpt2', 355000000.0, True), \
('my-model', 'my-model', None, False)]
    """
    if axis not in AXES:
        msg = f"`axis` must be one of {', '.join(AXES)}; got {axis!r}"
        raise InvalidOptionError(msg)
    by_exact: dict[str, dict[str, Any]] = {}
    by_norm: dict[str, dict[str, Any]] = {}
    if sizes is not None:
        for r in sizes.to_dicts():
            by_exact[r["model"]] = r
            by_norm.setdefault(normalize_name(r["model"]), r)
    rows = []
    for model in dict.fromkeys(models):
        params = tokens = flops = non_embedding = None
        family: str | None = None
        source: str | None = None
        mapped = by_exact.get(model) or by_norm.get(normalize_name(model))
        entry = lookup(model) if builtin_sizes else None
        if mapped is not None:
            params, tokens, flops = mapped["params"], mapped["tokens"], mapped["flops"]
            family, source = mapped["family"], "sizes file"
        if entry is not None:
            if params is None:
                params, source = entry.params, f"model sizes: {entry.source}"
            tokens = tokens if tokens is not None else entry.tokens
            non_embedding = entry.non_embedding_params if params == entry.params else None
            flops = flops if flops is not None or mapped is not None else entry.flops
            family = family or entry.family
        if params is None and builtin_sizes:
            params = parse_size(model)
            source = "size in name" if params is not None else source
        family = (data_family or {}).get(model) or family or family_from_name(model)
        estimated = flops is None and params is not None and tokens is not None
        if estimated:
            assert params is not None  # for mypy: `estimated` checked it
            assert tokens is not None
            flops = 6.0 * params * tokens
        scale = {"params": params, "flops": flops, "tokens": tokens}[axis]
        note = ""
        if data_scale is not None and model in data_scale:
            scale, source = data_scale[model], "data column"
        if scale is None:
            note = (
                "unknown size: add it to a --sizes file"
                if params is None
                else f"no {axis} known (need tokens for 6ND, or flops, in a --sizes file)"
            )
        elif not scale > 0:
            note, scale = f"non-positive scale {scale}", None
        rows.append(
            {
                "model": model,
                "family": family,
                "params": params,
                "non_embedding_params": non_embedding,
                "tokens": tokens,
                "flops": flops,
                "flops_estimated": estimated,
                "scale": scale,
                "source": source,
                "placed": scale is not None,
                "note": note,
            }
        )
    schema = {
        "model": pl.String,
        "family": pl.String,
        "params": pl.Float64,
        "non_embedding_params": pl.Float64,
        "tokens": pl.Float64,
        "flops": pl.Float64,
        "flops_estimated": pl.Boolean,
        "scale": pl.Float64,
        "source": pl.String,
        "placed": pl.Boolean,
        "note": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def format_count(value: float | None) -> str:
    """A compact human form of a count (``1.4e9`` -> ``"1.4B"``).

    >>> format_count(1.4e9), format_count(70e6), format_count(3.14e23)
    ('1.4B', '70M', '3.1e+23')
    """
    if value is None or not math.isfinite(value):
        return ""
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= size:
            scaled = value / size
            if scaled >= 1000:
                return f"{value:.2g}"
            return f"{scaled:.3g}{unit}"
    return f"{value:g}"


__all__ = [
    "AXES",
    "Axis",
    "family_from_name",
    "format_count",
    "parse_size",
    "parse_size_token",
    "place_models",
    "read_sizes_file",
]
