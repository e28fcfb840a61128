"""Slow, obvious reference implementations: the oracles the Rust kernels are checked against.

Each follows its source literally (the textbook DP; lm-eval-harness's exact_match steps; the Brier
formula), with no cleverness, so a disagreement points at the kernel.
"""

from __future__ import annotations

import collections
import math
import re
import string
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def levenshtein(a: Sequence[T], b: Sequence[T]) -> int:
    """Wagner-Fischer dynamic programme with unit costs."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def normalized(d: int, len_pred: int, len_ref: int, normalize: str | None) -> float:
    """rescore's documented normalisations of a raw distance."""
    if normalize is None:
        return d
    if normalize == "max":
        longest = max(len_pred, len_ref)
        return 0.0 if longest == 0 else d / longest
    return d / max(len_ref, 1)


def lm_eval_exact_match(
    pred: str,
    ref: str,
    *,
    regexes_to_ignore: Sequence[str] = (),
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
    strip: bool = False,
) -> bool:
    """lm-eval-harness / HF evaluate ``exact_match`` on one pair, step by step."""

    def norm(s: str) -> str:
        for r in regexes_to_ignore:
            s = re.sub(r, "", s)
        if ignore_case:
            s = s.lower()
        if ignore_punctuation:
            s = s.translate(str.maketrans("", "", string.punctuation))
        if ignore_numbers:
            s = s.translate(str.maketrans("", "", string.digits))
        if strip:
            s = s.strip()
        return s

    return norm(pred) == norm(ref)


def softmax(x: Sequence[float]) -> list[float]:
    m = max(x)
    e = [math.exp(v - m) for v in x]
    t = sum(e)
    return [v / t for v in e]


def brier(p: Sequence[float], label: int, convention: str = "sum") -> float:
    """sum_k (p_k - [k == label])^2, or that over K."""
    s = sum((pk - (1.0 if k == label else 0.0)) ** 2 for k, pk in enumerate(p))
    return s if convention == "sum" else s / len(p)


def squad_normalize_answer(s: str) -> str:
    """The SQuAD v2.0 official evaluation script's ``normalize_answer``, step by step."""
    s = s.lower()
    exclude = set(string.punctuation)
    s = "".join(ch for ch in s if ch not in exclude)
    s = re.sub(re.compile(r"\b(a|an|the)\b", re.UNICODE), " ", s)
    return " ".join(s.split())


def squad_f1(gold: str, prediction: str) -> float:
    """The script's ``compute_f1`` (its ``get_tokens``: no tokens for an empty string)."""
    gold_toks = squad_normalize_answer(gold).split() if gold else []
    pred_toks = squad_normalize_answer(prediction).split() if prediction else []
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return float(gold_toks == pred_toks)
    if num_same == 0:
        return 0.0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)
