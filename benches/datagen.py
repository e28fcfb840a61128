"""Seeded generator of realistic rescoring workloads, written as Parquet.

Each row is one generation of one model: reference and prediction as token ids (``list<int32>``)
and as text (space-joined pseudo-words), plus 4-choice probabilities and a gold label. Shapes
follow what eval logs look like:

- lengths (``--profile``): ``skewed`` (default), most targets 5-60 tokens (log-normal) with a 3%
  tail up to 2,000; ``long``, 200-2,000 tokens; ``short``, short answers of 1-8 words whose text
  is cut to at most 64 characters; ``medium``, 20-40 words (about 150-300 characters), no tail;
- vocabulary: 50,000 ids drawn from a Zipf law (a few ids are very common, as with BPE);
- predictions: the reference corrupted by substitutions, deletions and insertions at a rate
  that falls with model size (bigger models make fewer mistakes);
- choices: Dirichlet probabilities that concentrate on the gold choice as models grow.

Usage: ``python benches/datagen.py OUT.parquet --rows 1000000 [--profile skewed] [--seed 0]``.
Generation is chunked, so 10M rows need a few GB of RAM, not tens.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

VOCAB = 50_000
MODELS = ("sim-70m", "sim-160m", "sim-410m", "sim-1.4b", "sim-2.8b", "sim-6.9b")
CORRUPTION = np.array([0.45, 0.35, 0.25, 0.15, 0.08, 0.04])
CHUNK = 250_000
PROFILES = ("skewed", "long", "short", "medium")
SHORT_CHARS = 64


def zipf_cdf(vocab: int = VOCAB, s: float = 1.07) -> np.ndarray:
    w = 1.0 / np.arange(1, vocab + 1) ** s
    return np.cumsum(w / w.sum())


def words(vocab: int = VOCAB) -> pa.Array:
    """Distinct pseudo-words, 2-9 letters, so text has realistic byte lengths."""
    rng = np.random.default_rng(12345)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    out = []
    for i in range(vocab):
        n = 2 + (i * 7919) % 8
        out.append(bytes(letters[rng.integers(0, 26, n)]).decode() + str(i % 10))
    return pa.array(out, pa.string())


def lengths(rng: np.random.Generator, n: int, profile: str) -> np.ndarray:
    if profile == "long":
        return rng.integers(200, 2_001, n)
    if profile == "short":
        return rng.integers(1, 9, n)
    if profile == "medium":
        return rng.integers(20, 41, n)
    body = np.clip(rng.lognormal(mean=3.1, sigma=0.55, size=n), 5, 60).astype(np.int64)
    tail = rng.random(n) < 0.03
    body[tail] = rng.integers(61, 2_001, tail.sum())
    return body


def lists(values: np.ndarray, lens: np.ndarray) -> pa.ListArray:
    offsets = np.zeros(len(lens) + 1, dtype=np.int32)
    np.cumsum(lens, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.astype(np.int32)))


def corrupt(
    rng: np.random.Generator, ref: np.ndarray, rate_per_token: np.ndarray, cdf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Apply per-token edits; returns the new values and, per original token, tokens emitted."""
    u = rng.random(len(ref))
    edit = u < rate_per_token
    kind = rng.integers(0, 3, len(ref))  # 0 substitute, 1 delete, 2 insert after
    emitted = np.ones(len(ref), dtype=np.int64)
    emitted[edit & (kind == 1)] = 0
    emitted[edit & (kind == 2)] = 2
    out = np.repeat(ref, emitted)
    # Positions in `out` of each token's first copy.
    first = np.cumsum(emitted) - emitted
    random_ids = lambda k: np.searchsorted(cdf, rng.random(k))  # noqa: E731
    sub = edit & (kind == 0)
    out[first[sub]] = random_ids(sub.sum())
    ins = edit & (kind == 2)
    out[first[ins] + 1] = random_ids(ins.sum())
    return out, emitted


def chunk(
    rng: np.random.Generator,
    n: int,
    start: int,
    profile: str,
    cdf: np.ndarray,
    vocab_words: pa.Array,
) -> pa.Table:
    model = rng.integers(0, len(MODELS), n)
    rate = CORRUPTION[model]
    ref_len = lengths(rng, n, profile)
    ref = np.searchsorted(cdf, rng.random(ref_len.sum()))
    pred, emitted = corrupt(rng, ref, np.repeat(rate, ref_len), cdf)
    row_starts = np.zeros(n, dtype=np.int64)
    np.cumsum(ref_len[:-1], out=row_starts[1:])
    pred_len = np.add.reduceat(emitted, row_starts) if n else emitted
    pred_len[ref_len == 0] = 0
    ref_ids, pred_ids = lists(ref, ref_len), lists(pred, pred_len)

    def text(ids: pa.ListArray) -> pa.Array:
        tokens = pa.ListArray.from_arrays(ids.offsets, vocab_words.take(ids.values))
        joined = pc.binary_join(tokens, " ")
        if profile == "short":
            return pc.utf8_slice_codeunits(joined, 0, SHORT_CHARS)
        return joined

    # Choice probabilities sharpen on the gold label as models grow.
    label = rng.integers(0, 4, n)
    alpha = np.ones((n, 4))
    alpha[np.arange(n), label] += 6.0 * (1 - rate)
    probs = rng.gamma(alpha)
    probs /= probs.sum(axis=1, keepdims=True)
    return pa.table(
        {
            "model": pa.array(np.array(MODELS)[model]),
            "task": pa.array(np.where(np.arange(n) % 2 == 0, "gen_a", "gen_b")),
            "doc_id": pa.array(np.arange(start, start + n)),
            "prediction": text(pred_ids),
            "reference": text(ref_ids),
            "prediction_ids": pred_ids,
            "reference_ids": ref_ids,
            "probabilities": pa.FixedSizeListArray.from_arrays(pa.array(probs.reshape(-1)), 4),
            "label": pa.array(label),
        }
    )


def generate(
    path: Path, rows: int, *, long: bool = False, seed: int = 0, profile: str = "skewed"
) -> Path:
    """Write ``rows`` rows of a length ``profile`` (``long=True`` is ``profile="long"``) to
    ``path`` (one row group per 250k rows) and return it."""
    if long:
        profile = "long"
    if profile not in PROFILES:
        msg = f"unknown profile {profile!r}, expected one of {PROFILES}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    cdf = zipf_cdf()
    vocab_words = words()
    writer = None
    try:
        for start in range(0, rows, CHUNK):
            table = chunk(rng, min(CHUNK, rows - start), start, profile, cdf, vocab_words)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("out", type=Path)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--long", action="store_true", help="200-2,000-token sequences")
    ap.add_argument("--profile", choices=PROFILES, default="skewed", help="row lengths")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    generate(a.out, a.rows, long=a.long, seed=a.seed, profile=a.profile)


if __name__ == "__main__":
    main()
