"""Machine-translation metrics as sacrebleu computes them: sentence BLEU and chrF, and their
corpus scores.

Corpus BLEU is not a mean of sentence scores: it is computed from n-gram statistics summed over
the rows. The registry's aggregation for ``bleu`` does exactly that (a ``bleu_stats`` column in
the batch job; ``rescore emergence`` resamples rows and recomputes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from rescore import _rescore
from rescore._arrow import as_arrow, wrap_result
from rescore._typing import ColumnLike, metric_function
from rescore.exceptions import InvalidOptionError
from rescore.metrics.conventions import OnError, call_kernel
from rescore.registry import Metric, options_from_signature, register, statistics_aggregation
from rescore.registry.aggregation import FloatArray

BleuTokenizer = Literal["13a", "intl", "char", "none"]
Smoothing = Literal["exp", "floor", "add-k", "none"]

_ORDERS = 4
BLEU_FIELDS: tuple[str, ...] = (
    "hyp_len",
    "ref_len",
    *(f"matches_{n}" for n in range(1, _ORDERS + 1)),
    *(f"totals_{n}" for n in range(1, _ORDERS + 1)),
)
"""sacrebleu's sufficient statistics per row (its order)."""
_SMOOTHING_CODES: dict[str, int] = {"exp": 0, "floor": 1, "add-k": 2, "none": 3}
# The aggregation's combine sees only summed statistics: the options it needs travel as two
# more fields, "rows" (1 per row) and the option's code per row, so code = sum / rows.
_BLEU_AGGREGATE_FIELDS = (*BLEU_FIELDS, "rows", "smooth_method")


@metric_function
def bleu(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    tokenize: BleuTokenizer = "13a",
    smooth_method: Smoothing = "exp",
    lowercase: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """Sentence BLEU of each prediction, as ``sacrebleu.sentence_bleu`` (0-100 scale).

    sacrebleu 2.x's ``sentence_bleu(prediction, references, tokenize=, smooth_method=,
    lowercase=)`` with its effective order (orders without any n-gram left out): the same
    tokenizers (``13a``, ``intl``, ``char``, ``none``), smoothing (``exp``, ``floor`` with 0.1,
    ``add-k`` with 1, ``none``) and brevity penalty against the closest reference length.
    ``references`` may hold several references per row (a list of strings): n-gram counts are
    clipped by the most any one reference has, as sacrebleu does; null entries are skipped.
    For the corpus score, see :func:`corpus_bleu` (not the mean of these).

    Examples
    --------
    >>> import rescore
    >>> rescore.bleu(["The cat sat on the mat."], ["The cat sat on the mat."]).to_pylist()
    [100.00000000000004]
    >>> round(rescore.bleu(["a cat sat"], [["the cat sat", "a dog sat"]]).to_pylist()[0], 4)
    62.9961
    """
    out = call_kernel(
        _rescore.bleu,
        as_arrow(predictions, "predictions"),
        as_arrow(references, "references"),
        tokenize=tokenize,
        smooth_method=smooth_method,
        lowercase=lowercase,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "bleu", predictions, references)


def bleu_statistics(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    tokenize: BleuTokenizer = "13a",
    smooth_method: Smoothing = "exp",
    lowercase: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> pa.StructArray:
    """BLEU's sufficient statistics per row (:data:`BLEU_FIELDS`, float64), null where
    :func:`bleu` is null; summed over rows they give :func:`corpus_bleu`."""
    out = call_kernel(
        _rescore.bleu_statistics,
        as_arrow(predictions, "predictions"),
        as_arrow(references, "references"),
        tokenize=tokenize,
        smooth_method=smooth_method,
        lowercase=lowercase,
        workers=workers,
        on_error=on_error,
    )
    array: pa.StructArray = pa.Array._import_from_c_capsule(*out.__arrow_c_array__())
    return array


def bleu_from_statistics(
    sums: Mapping[str, FloatArray], smooth_method: Smoothing = "exp"
) -> FloatArray:
    """sacrebleu's ``BLEU.compute_bleu`` without effective order (as ``corpus_bleu``), for
    each of ``m`` sets of summed statistics (field -> shape ``(m,)``); 0-100."""
    sys_len = np.asarray(sums["hyp_len"], np.float64)
    ref_len = np.asarray(sums["ref_len"], np.float64)
    correct = [np.array(sums[f"matches_{n}"], np.float64) for n in range(1, _ORDERS + 1)]
    total = [np.array(sums[f"totals_{n}"], np.float64) for n in range(1, _ORDERS + 1)]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        short = np.where(sys_len > 0, np.exp(1 - ref_len / sys_len), 0.0)
        bp = np.where(sys_len < ref_len, short, 1.0)
        any_correct = np.any(np.stack(correct) != 0, axis=0)
        alive = np.ones_like(sys_len, dtype=bool)
        smooth_mteval = np.ones_like(sys_len)
        log_sum = np.zeros_like(sys_len)
        for n in range(_ORDERS):
            c, t = correct[n], total[n]
            if smooth_method == "add-k" and n > 0:
                c, t = c + 1, t + 1
            alive &= t != 0  # sacrebleu stops at the first order without n-grams
            zero = c == 0
            if smooth_method == "exp":
                smooth_mteval = np.where(alive & zero, smooth_mteval * 2, smooth_mteval)
                smoothed = 100.0 / (smooth_mteval * t)
            elif smooth_method == "floor":
                smoothed = 100.0 * 0.1 / t
            else:
                smoothed = np.zeros_like(t)
            precision = np.where(alive, np.where(zero, smoothed, 100.0 * c / t), 0.0)
            safe = np.where(precision > 0, precision, 1.0)
            log_sum = log_sum + np.where(precision == 0, -9999999999.0, np.log(safe))
        score = bp * np.exp(log_sum / _ORDERS)
    return np.where(any_correct, score, 0.0)


def _summed(stats: pa.StructArray, fields: tuple[str, ...]) -> dict[str, FloatArray]:
    present = stats.is_valid()
    return {
        f: np.asarray([stats.field(f).filter(present).to_numpy(zero_copy_only=False).sum()])
        for f in fields
    }


def corpus_bleu(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    tokenize: BleuTokenizer = "13a",
    smooth_method: Smoothing = "exp",
    lowercase: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> float | None:
    """Corpus BLEU of a whole column, as ``sacrebleu.corpus_bleu`` (0-100).

    The n-gram statistics of every row are summed, then scored once (no effective order, as
    sacrebleu's ``corpus_bleu``). Rows whose :func:`bleu` is null are left out; ``None`` when
    no row is scored. Several references per row are sacrebleu's several reference streams.

    Examples
    --------
    >>> import rescore
    >>> round(rescore.corpus_bleu(["the cat sat on the mat", "hello world"],
    ...                           ["the cat sat on a mat", "hello there world"]), 4)
    45.8585
    """
    stats = bleu_statistics(
        predictions,
        references,
        tokenize=tokenize,
        smooth_method=smooth_method,
        lowercase=lowercase,
        workers=workers,
        on_error=on_error,
    )
    if stats.null_count == len(stats):
        return None
    return float(bleu_from_statistics(_summed(stats, BLEU_FIELDS), smooth_method)[0])


def _bleu_aggregate_statistics(
    predictions: ColumnLike, references: ColumnLike, **options: Any
) -> pa.StructArray:
    stats = bleu_statistics(predictions, references, **options)
    code = float(_SMOOTHING_CODES[options.get("smooth_method", "exp")])
    ones = pa.array(np.ones(len(stats)), pa.float64())
    codes = pa.array(np.full(len(stats), code), pa.float64())
    columns = [stats.field(f) for f in BLEU_FIELDS]
    return pa.StructArray.from_arrays(
        [*columns, ones, codes], names=list(_BLEU_AGGREGATE_FIELDS), mask=stats.is_null()
    )


def _bleu_combine(sums: Mapping[str, FloatArray]) -> FloatArray:
    rows = np.asarray(sums["rows"], np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        codes = np.rint(np.asarray(sums["smooth_method"], np.float64) / rows)
    out = np.full(rows.shape, np.nan)
    for name, code in _SMOOTHING_CODES.items():
        chosen = codes == code
        if chosen.any():
            part = {f: np.asarray(sums[f], np.float64)[chosen] for f in BLEU_FIELDS}
            out[chosen] = bleu_from_statistics(part, name)  # type: ignore[arg-type]
    return out


# The registry's chrF statistics have fixed fields (its combine sees only sums): room for
# these orders, the unused ones zero, and the options as per-row fields (value = sum / rows).
_MAX_CHAR_ORDER = 10
_MAX_WORD_ORDER = 4


def chrf_fields(char_order: int = 6, word_order: int = 0) -> tuple[str, ...]:
    """Names of :func:`chrf_statistics`' fields: (hypothesis n-grams, reference n-grams,
    matches) per order, character orders first (sacrebleu's order)."""
    return tuple(
        f"{kind}_{n}_{what}"
        for kind, orders in (("char", char_order), ("word", word_order))
        for n in range(1, orders + 1)
        for what in ("hyp", "ref", "match")
    )


_CHRF_AGGREGATE_FIELDS = (
    *chrf_fields(_MAX_CHAR_ORDER, _MAX_WORD_ORDER),
    "rows",
    "char_order",
    "word_order",
    "beta",
)


@metric_function
def chrf(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    char_order: int = 6,
    word_order: int = 0,
    beta: int = 2,
    lowercase: bool = False,
    whitespace: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> Any:
    """Sentence chrF (``word_order=2``: chrF++) of each prediction, as sacrebleu (0-100).

    sacrebleu 2.x's ``CHRF(char_order=, word_order=, beta=, lowercase=, whitespace=)
    .sentence_score`` (``sentence_chrf`` for the defaults): character n-grams of orders 1 to
    ``char_order`` over code points, whitespace removed unless ``whitespace``; with
    ``word_order``, word n-grams over sacrebleu's words (a leading or trailing ASCII
    punctuation mark split off); F-beta of the precision and recall averaged over the orders
    present on both sides, without epsilon smoothing. Several references per row: the best
    reference's statistics, as sacrebleu. For the corpus score see :func:`corpus_chrf`.

    Examples
    --------
    >>> import rescore
    >>> round(rescore.chrf(["the cat sat"], ["the cat sat down"]).to_pylist()[0], 4)
    66.0176
    """
    out = call_kernel(
        _rescore.chrf,
        as_arrow(predictions, "predictions"),
        as_arrow(references, "references"),
        char_order=char_order,
        word_order=word_order,
        beta=beta,
        lowercase=lowercase,
        whitespace=whitespace,
        workers=workers,
        on_error=on_error,
    )
    return wrap_result(out, "chrf", predictions, references)


def chrf_statistics(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    char_order: int = 6,
    word_order: int = 0,
    beta: int = 2,
    lowercase: bool = False,
    whitespace: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> pa.StructArray:
    """chrF's statistics per row (:func:`chrf_fields`, the best reference's, float64), null
    where :func:`chrf` is null; summed over rows they give :func:`corpus_chrf`."""
    out = call_kernel(
        _rescore.chrf_statistics,
        as_arrow(predictions, "predictions"),
        as_arrow(references, "references"),
        char_order=char_order,
        word_order=word_order,
        beta=beta,
        lowercase=lowercase,
        whitespace=whitespace,
        workers=workers,
        on_error=on_error,
    )
    array: pa.StructArray = pa.Array._import_from_c_capsule(*out.__arrow_c_array__())
    return array


def chrf_from_statistics(
    sums: Mapping[str, FloatArray], char_order: int = 6, word_order: int = 0, beta: int = 2
) -> FloatArray:
    """sacrebleu's ``CHRF._compute_f_score`` (no epsilon smoothing) for each of ``m`` sets of
    summed statistics (field -> shape ``(m,)``); 0-100."""
    eps = 1e-16
    factor = beta**2
    first = np.asarray(sums[chrf_fields(1, 0)[0]], np.float64)
    avg_prec = np.zeros_like(first)
    avg_rec = np.zeros_like(first)
    effective = np.zeros_like(first)
    names = chrf_fields(char_order, word_order)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(0, len(names), 3):
            n_hyp, n_ref, n_match = (np.asarray(sums[f], np.float64) for f in names[i : i + 3])
            prec = np.where(n_hyp > 0, n_match / n_hyp, eps)
            rec = np.where(n_ref > 0, n_match / n_ref, eps)
            both = (n_hyp > 0) & (n_ref > 0)
            avg_prec = np.where(both, avg_prec + prec, avg_prec)
            avg_rec = np.where(both, avg_rec + rec, avg_rec)
            effective = effective + both
        avg_prec = np.where(effective > 0, avg_prec / effective, 0.0)
        avg_rec = np.where(effective > 0, avg_rec / effective, 0.0)
        score = (1 + factor) * avg_prec * avg_rec
        score = score / ((factor * avg_prec) + avg_rec)
    return np.where(avg_prec + avg_rec != 0, 100 * score, 0.0)


def corpus_chrf(
    predictions: ColumnLike,
    references: ColumnLike,
    *,
    char_order: int = 6,
    word_order: int = 0,
    beta: int = 2,
    lowercase: bool = False,
    whitespace: bool = False,
    workers: int = -1,
    on_error: OnError = "raise",
) -> float | None:
    """Corpus chrF of a whole column, as sacrebleu's ``corpus_chrf`` / ``CHRF.corpus_score``.

    The best reference's statistics of every row are summed, then scored once. Rows whose
    :func:`chrf` is null are left out; ``None`` when no row is scored.

    Examples
    --------
    >>> import rescore
    >>> round(rescore.corpus_chrf(["the cat sat", "hello"], ["the cat sat down", "hello"]), 4)
    71.5622
    """
    stats = chrf_statistics(
        predictions,
        references,
        char_order=char_order,
        word_order=word_order,
        beta=beta,
        lowercase=lowercase,
        whitespace=whitespace,
        workers=workers,
        on_error=on_error,
    )
    if stats.null_count == len(stats):
        return None
    sums = _summed(stats, chrf_fields(char_order, word_order))
    return float(chrf_from_statistics(sums, char_order, word_order, beta)[0])


def _chrf_aggregate_statistics(
    predictions: ColumnLike, references: ColumnLike, **options: Any
) -> pa.StructArray:
    char_order = options.get("char_order", 6)
    word_order = options.get("word_order", 0)
    for name, value, most in (
        ("char_order", char_order, _MAX_CHAR_ORDER),
        ("word_order", word_order, _MAX_WORD_ORDER),
    ):
        if isinstance(value, int) and value > most:
            msg = f"`{name}`: corpus chrF statistics hold orders up to {most}, got {value}"
            raise InvalidOptionError(msg)
    stats = chrf_statistics(predictions, references, **options)
    n = len(stats)
    present = set(stats.type.names)
    zeros = pa.array(np.zeros(n), pa.float64())
    columns = [stats.field(f) if f in present else zeros for f in _CHRF_AGGREGATE_FIELDS[:-4]]
    constants = [1.0, char_order, word_order, options.get("beta", 2)]
    columns += [pa.array(np.full(n, float(c)), pa.float64()) for c in constants]
    return pa.StructArray.from_arrays(
        columns, names=list(_CHRF_AGGREGATE_FIELDS), mask=stats.is_null()
    )


def _chrf_combine(sums: Mapping[str, FloatArray]) -> FloatArray:
    rows = np.asarray(sums["rows"], np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        settings = np.stack(
            [
                np.rint(np.asarray(sums[f], np.float64) / rows)
                for f in ("char_order", "word_order", "beta")
            ]
        )
    out = np.full(rows.shape, np.nan)
    valid = np.all(np.isfinite(settings), axis=0)
    for c, w, b in {tuple(int(x) for x in col) for col in settings[:, valid].T}:
        chosen = valid & (settings[0] == c) & (settings[1] == w) & (settings[2] == b)
        part = {f: np.asarray(sums[f], np.float64)[chosen] for f in chrf_fields(c, w)}
        out[chosen] = chrf_from_statistics(part, c, w, b)
    return out


register(
    Metric(
        name="bleu",
        higher_is_better=True,
        inputs="text",
        continuous=True,
        definition="sacrebleu sentence BLEU (0-100); groups: corpus BLEU from summed n-gram counts",
        range=(0.0, 100.0),
        function=bleu,
        options=options_from_signature(
            bleu,
            {
                "tokenize": "sacrebleu tokenizer: 13a, intl, char or none",
                "smooth_method": "exp, floor (0.1), add-k (1) or none",
                "lowercase": "lower-case both sides first",
            },
        ),
        output_type=lambda _options: pa.float64(),
        aggregation=statistics_aggregation(
            "corpus_bleu",
            "sacrebleu corpus BLEU from the group's summed n-gram statistics",
            fields=_BLEU_AGGREGATE_FIELDS,
            statistics=_bleu_aggregate_statistics,
            combine=_bleu_combine,
        ),
    )
)

register(
    Metric(
        name="chrf",
        higher_is_better=True,
        inputs="text",
        continuous=True,
        definition="sacrebleu sentence chrF (0-100); groups: corpus chrF from summed n-gram counts",
        range=(0.0, 100.0),
        function=chrf,
        options=options_from_signature(
            chrf,
            {
                "char_order": "character n-gram orders 1..char_order",
                "word_order": "word n-gram orders (2: chrF++)",
                "beta": "recall weighs beta times precision",
                "lowercase": "lower-case both sides first",
                "whitespace": "keep whitespace in character n-grams",
            },
        ),
        output_type=lambda _options: pa.float64(),
        aggregation=statistics_aggregation(
            "corpus_chrf",
            "sacrebleu corpus chrF from the group's summed n-gram statistics",
            fields=_CHRF_AGGREGATE_FIELDS,
            statistics=_chrf_aggregate_statistics,
            combine=_chrf_combine,
        ),
    )
)

__all__ = [
    "BLEU_FIELDS",
    "bleu",
    "bleu_from_statistics",
    "bleu_statistics",
    "chrf",
    "chrf_fields",
    "chrf_from_statistics",
    "chrf_statistics",
    "corpus_bleu",
    "corpus_chrf",
]
