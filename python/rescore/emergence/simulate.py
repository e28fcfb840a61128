"""Simulate a model family's generations under the mirage model of Schaeffer et al. 2023.

**Generation task.** Each model of size ``N`` has per-token cross-entropy
``L_CE(N) = (N / c) ** alpha`` (``alpha < 0``) and so gets each target token right with
probability ``p(N) = exp(-L_CE(N))``, independently. A wrong token is replaced by an id outside
the reference vocabulary, so the token edit distance is the number of wrong tokens: its
expectation is ``L * (1 - p)``, smooth in ``N``, while exact match has expectation ``p ** L``,
which stays near zero and then rises sharply on a log-scale axis: the mirage.

**Multiple-choice task.** Each example has a distractor of difficulty ``d_i ~ N(0, spread)``;
a model's logit margin for the correct choice grows smoothly, ``slope * ln(N / midpoint)``.
The model picks the correct choice once the margin passes the distractor, so with a small
``spread`` the multiple-choice grade jumps within one or two model sizes while the Brier score
of the softmax probabilities improves gradually.

Everything is vectorised with NumPy and seeded: the same arguments give the same frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from rescore.emergence.scale import parse_size
from rescore.exceptions import InvalidOptionError

EXAMPLE_FAMILY: Mapping[str, float] = {
    "sim-70m": 70e6,
    "sim-160m": 160e6,
    "sim-410m": 410e6,
    "sim-1.4b": 1.4e9,
    "sim-2.8b": 2.8e9,
    "sim-6.9b": 6.9e9,
    "sim-12b": 12e9,
}
"""The embedded example's family: Pythia's sizes, written in the names so parsing places them."""


def per_token_probability(
    params: npt.ArrayLike, *, c: float, alpha: float
) -> npt.NDArray[np.float64]:
    """``p(N) = exp(-(N / c) ** alpha)``: the chance of getting one target token right.

    >>> per_token_probability([1e8, 1e10], c=1e8, alpha=-0.5).round(4).tolist()
    [0.3679, 0.9048]
    """
    n = np.asarray(params, dtype=np.float64)
    if c <= 0 or not np.all(n > 0):
        msg = "`c` and every model size must be positive"
        raise InvalidOptionError(msg)
    out: npt.NDArray[np.float64] = np.exp(-((n / c) ** alpha))
    return out


def _sizes(models: Mapping[str, float] | Sequence[str]) -> dict[str, float]:
    if isinstance(models, Mapping):
        return {str(k): float(v) for k, v in models.items()}
    sizes = {m: parse_size(m) for m in models}
    unknown = [m for m, s in sizes.items() if s is None]
    if unknown:
        msg = f"no size in the name of {', '.join(unknown)}; pass a mapping name -> parameters"
        raise InvalidOptionError(msg)
    return {m: float(s) for m, s in sizes.items() if s is not None}


def _lists(values: npt.NDArray[np.int64], offsets: npt.NDArray[np.int64]) -> pl.Series:
    arr = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), pa.array(values, pa.int64()))
    series = pl.Series(arr)
    assert isinstance(series, pl.Series)  # for mypy: a ListArray gives a Series
    return series


def _text(ids: pl.Series) -> pl.Series:
    return ids.list.eval(pl.format("t{}", pl.element())).list.join(" ")


def simulate_generations(
    models: Mapping[str, float] | Sequence[str] = EXAMPLE_FAMILY,
    *,
    c: float,
    alpha: float,
    target_lengths: int | Sequence[int],
    n_examples: int,
    task: str = "sim_generate",
    vocab_size: int = 1000,
    with_logprobs: bool = False,
    difficulty: float = 0.0,
    n_samples: int = 1,
    seed: int = 0,
) -> pl.DataFrame:
    """Generations of a model family for one task, under ``L_CE(N) = (N / c) ** alpha``.

    Parameters
    ----------
    models
        Model name -> parameter count, or names with their size in them (``"sim-1.4b"``).
    c, alpha
        The per-token loss power law (``alpha < 0``: loss falls with size).
    target_lengths
        Target length of every example, or the lengths to draw from (uniformly, per example).
    n_examples
        Examples per model; the references are shared by all models (same ``doc_id``).
    task
        Value of the ``task`` column.
    vocab_size
        Reference token ids are drawn from ``[0, vocab_size)``; wrong tokens from
        ``[vocab_size, 2 * vocab_size)``, so a wrong token never matches a reference token.
    with_logprobs
        Add ``token_logprobs``: the per-token log-probability of each reference token
        (``log p(N)``, or ``log p_i(N)`` with ``difficulty``), as a teacher-forced scoring run
        would log it.
    difficulty
        Heterogeneous examples: example ``i`` has a difficulty ``h_i ~ N(0, difficulty)``,
        shared by every model, and per-token loss ``L_CE(N) * exp(h_i)``, so its per-token
        probability is ``p_i(N) = p(N) ** exp(h_i)``. ``0``: every example alike.
    n_samples
        Generations per example and model (a ``sample`` column ``0..n_samples-1`` is added when
        above 1), as repeated sampling would give.
    seed
        Seed for all randomness.

    Returns
    -------
    polars.DataFrame
        ``model, task, doc_id, prediction, reference, prediction_ids, reference_ids,
        target_length`` (text is the ids as space-separated ``t<id>`` tokens).

    Examples
    --------
    >>> df = simulate_generations(["a-1b", "a-10b"], c=1e8, alpha=-0.5, target_lengths=3,
    ...                           n_examples=2)
    >>> df.columns
    ['model', 'task', 'doc_id', 'prediction', 'reference', 'prediction_ids', 'reference_ids', \
'target_length']
    >>> df.height
    4
    """
    sizes = _sizes(models)
    if n_examples < 1 or vocab_size < 1 or n_samples < 1:
        msg = "`n_examples`, `n_samples` and `vocab_size` must be positive"
        raise InvalidOptionError(msg)
    rng = np.random.default_rng(seed)
    choices = np.atleast_1d(np.asarray(target_lengths, dtype=np.int64))
    if choices.size == 0 or np.any(choices < 1):
        msg = "`target_lengths` must be positive"
        raise InvalidOptionError(msg)
    lengths = (
        rng.choice(choices, size=n_examples)
        if choices.size > 1
        else np.full(n_examples, choices[0])
    )
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    reference = rng.integers(0, vocab_size, size=int(offsets[-1]), dtype=np.int64)
    # Drawn after the references, so difficulty=0 leaves every other draw as it was.
    hardness = np.exp(rng.normal(0.0, difficulty, size=n_examples)) if difficulty > 0 else None
    token_example = np.repeat(np.arange(n_examples), lengths)
    p = per_token_probability(list(sizes.values()), c=c, alpha=alpha)
    frames = []
    for (name, _), p_model in zip(sizes.items(), p, strict=True):
        p_token = p_model ** hardness[token_example] if hardness is not None else p_model
        for sample in range(n_samples):
            correct = rng.random(reference.size) < p_token
            wrong = vocab_size + rng.integers(0, vocab_size, size=reference.size, dtype=np.int64)
            prediction = np.where(correct, reference, wrong)
            pred_ids, ref_ids = _lists(prediction, offsets), _lists(reference, offsets)
            frame = pl.DataFrame(
                {
                    "model": pl.Series([name] * n_examples, dtype=pl.String),
                    "task": pl.Series([task] * n_examples, dtype=pl.String),
                    "doc_id": pl.Series(np.arange(n_examples, dtype=np.int64)),
                    "prediction": _text(pred_ids),
                    "reference": _text(ref_ids),
                    "prediction_ids": pred_ids.cast(pl.List(pl.Int64)),
                    "reference_ids": ref_ids.cast(pl.List(pl.Int64)),
                    "target_length": pl.Series(lengths, dtype=pl.Int64),
                }
            )
            if n_samples > 1:
                frame = frame.with_columns(pl.lit(sample, pl.Int64).alias("sample"))
            if with_logprobs:
                logp = np.broadcast_to(np.log(p_token), reference.shape).astype(np.float64)
                arr = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), pa.array(logp))
                frame = frame.with_columns(
                    pl.Series("token_logprobs", arr).cast(pl.List(pl.Float64))
                )
            frames.append(frame)
    return pl.concat(frames)


def expected_generation_curves(
    models: Mapping[str, float] | Sequence[str] = EXAMPLE_FAMILY,
    *,
    c: float,
    alpha: float,
    target_lengths: int | Sequence[int],
    difficulty: float = 0.0,
    n_draws: int = 400_000,
    seed: int = 12345,
) -> dict[str, npt.NDArray[np.float64]]:
    """The population means that :func:`simulate_generations` samples from, per model.

    ``exact_match`` is ``E[p_i(N) ** L]`` and ``token_edit_distance`` ``E[L (1 - p_i(N))]`` over
    the target lengths (uniform over ``target_lengths``) and, with ``difficulty``, over the
    example difficulties (by Monte Carlo with ``n_draws`` examples; exact without difficulty).
    These are the "true" curves a bootstrap interval should cover.

    >>> out = expected_generation_curves(["a-1b"], c=1e8, alpha=-0.5, target_lengths=2)
    >>> round(float(out["exact_match"][0]), 4), round(float(out["token_edit_distance"][0]), 4)
    (0.5313, 0.5422)
    """
    sizes = _sizes(models)
    lengths = np.atleast_1d(np.asarray(target_lengths, dtype=np.float64))
    p = per_token_probability(list(sizes.values()), c=c, alpha=alpha)
    if difficulty > 0:
        rng = np.random.default_rng(seed)
        hard = np.exp(rng.normal(0.0, difficulty, size=n_draws))
        length = rng.choice(lengths, size=n_draws)
        p_i = p[:, np.newaxis] ** hard[np.newaxis, :]
        em = (p_i ** length[np.newaxis, :]).mean(axis=1)
        ted = (length[np.newaxis, :] * (1.0 - p_i)).mean(axis=1)
    else:
        em = (p[:, np.newaxis] ** lengths[np.newaxis, :]).mean(axis=1)
        ted = lengths.mean() * (1.0 - p)
    return {"exact_match": em, "token_edit_distance": ted}


def simulate_choices(
    models: Mapping[str, float] | Sequence[str] = EXAMPLE_FAMILY,
    *,
    midpoint: float,
    slope: float = 0.5,
    spread: float = 0.2,
    gap: float = 2.0,
    noise: float = 0.1,
    n_examples: int,
    n_choices: int = 4,
    task: str = "sim_choice",
    seed: int = 0,
) -> pl.DataFrame:
    """Multiple-choice log-likelihoods of a model family for one task.

    The correct choice's logit is ``slope * ln(N / midpoint)``; the main distractor's is the
    example's difficulty ``d_i ~ N(0, spread)``; the others sit ``gap`` below it; every logit
    gets ``N(0, noise)`` per model. ``choice_logprobs`` are the log-softmax of the logits.

    Returns
    -------
    polars.DataFrame
        ``model, task, doc_id, choice_logprobs, label``.

    Examples
    --------
    >>> df = simulate_choices(["a-1b", "a-10b"], midpoint=3e9, n_examples=3)
    >>> df.columns, df.height
    (['model', 'task', 'doc_id', 'choice_logprobs', 'label'], 6)
    """
    sizes = _sizes(models)
    if n_choices < 2 or n_examples < 1:
        msg = "`n_choices` must be at least 2 and `n_examples` positive"
        raise InvalidOptionError(msg)
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.0, spread, size=n_examples)
    # Column j of the simulated logits goes to choice position order[i, j]; column 0 is correct.
    order = np.argsort(rng.random((n_examples, n_choices)), axis=1)
    label = order[:, 0].astype(np.int64)
    rows = np.arange(n_examples)[:, np.newaxis]
    frames = []
    for name, size in sizes.items():
        logits = np.empty((n_examples, n_choices))
        logits[:, 0] = slope * np.log(size / midpoint)
        logits[:, 1] = difficulty
        logits[:, 2:] = (difficulty - gap)[:, np.newaxis]
        logits += rng.normal(0.0, noise, size=logits.shape)
        placed = np.empty_like(logits)
        placed[rows, order] = logits
        shifted = placed - placed.max(axis=1, keepdims=True)
        logprobs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        flat = pa.FixedSizeListArray.from_arrays(pa.array(logprobs.reshape(-1)), n_choices)
        frames.append(
            pl.DataFrame(
                {
                    "model": pl.Series([name] * n_examples, dtype=pl.String),
                    "task": pl.Series([task] * n_examples, dtype=pl.String),
                    "doc_id": pl.Series(np.arange(n_examples, dtype=np.int64)),
                    "choice_logprobs": pl.Series(flat).cast(pl.List(pl.Float64)),
                    "label": pl.Series(label, dtype=pl.Int64),
                }
            )
        )
    return pl.concat(frames)


def simulate_family(
    models: Mapping[str, float] | Sequence[str] = EXAMPLE_FAMILY,
    *,
    c: float = 2e8,
    alpha: float = -0.9,
    target_lengths: int | Sequence[int] = tuple(range(30, 51)),
    n_generate: int = 200,
    n_choice: int = 150,
    midpoint: float = 3e9,
    seed: int = 0,
) -> pl.DataFrame:
    """Both simulated tasks in one frame, with the columns of the embedded example.

    Generation rows have null choice columns and multiple-choice rows null text and id
    columns, as a mixed results file would.
    """
    gen = simulate_generations(
        models, c=c, alpha=alpha, target_lengths=target_lengths, n_examples=n_generate, seed=seed
    ).drop("target_length")
    choice = simulate_choices(models, midpoint=midpoint, n_examples=n_choice, seed=seed + 1)
    return pl.concat([gen, choice], how="diagonal").select(
        "model",
        "task",
        "doc_id",
        "prediction",
        "reference",
        "prediction_ids",
        "reference_ids",
        "choice_logprobs",
        "label",
    )


__all__ = [
    "EXAMPLE_FAMILY",
    "expected_generation_curves",
    "per_token_probability",
    "simulate_choices",
    "simulate_family",
    "simulate_generations",
]
