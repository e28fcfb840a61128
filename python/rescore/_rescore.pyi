# Hand-written stub of the native module (checked by `python -m mypy.stubtest rescore._rescore`).
from typing import Final, Literal, final

from rescore._typing import ArrowArrayExportable, ArrowStreamExportable

_Column = ArrowArrayExportable | ArrowStreamExportable
_OnError = Literal["raise", "null"]

__all__ = [
    "DEBUG_BUILD",
    "ArrowArray",
    "InvalidInputError",
    "InvalidOptionError",
    "LengthMismatchError",
    "UnsupportedTypeError",
    "__version__",
    "bleu",
    "bleu_statistics",
    "brier_score",
    "char_edit_distance",
    "choice_probability",
    "chrf",
    "chrf_statistics",
    "exact_match",
    "majority_vote",
    "multiple_choice_grade",
    "porter_stem",
    "quasi_exact_match",
    "rolling_statistics",
    "rouge",
    "sample_estimate",
    "token_edit_distance",
    "token_f1",
]

__version__: Final[str]
DEBUG_BUILD: Final[bool]

class InvalidInputError(ValueError): ...
class LengthMismatchError(InvalidInputError): ...
class InvalidOptionError(ValueError): ...
class UnsupportedTypeError(TypeError): ...

@final
class ArrowArray:
    """A result column, read through the Arrow PyCapsule interface (pyarrow, polars)."""

    def __arrow_c_array__(
        self, requested_schema: object | None = None
    ) -> tuple[object, object]: ...
    def __arrow_c_schema__(self) -> object: ...
    def __len__(self) -> int: ...

def token_edit_distance(
    predictions: _Column,
    references: _Column,
    *,
    normalize: Literal["max", "reference"] | None = None,
    tokenizer: Literal["whitespace", "characters"] = "whitespace",
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def char_edit_distance(
    predictions: _Column,
    references: _Column,
    *,
    normalize: Literal["max", "reference"] | None = None,
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def exact_match(
    predictions: _Column,
    references: _Column,
    *,
    strip: bool = False,
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
    ignore_articles: bool = False,
    collapse_whitespace: bool = False,
    regexes_to_ignore: list[str] = ...,
    punctuation: Literal["ascii", "unicode"] = "ascii",
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def quasi_exact_match(
    predictions: _Column,
    references: _Column,
    *,
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def bleu(
    predictions: _Column,
    references: _Column,
    *,
    tokenize: Literal["13a", "intl", "char", "none"] = "13a",
    smooth_method: Literal["exp", "floor", "add-k", "none"] = "exp",
    lowercase: bool = False,
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def bleu_statistics(
    predictions: _Column,
    references: _Column,
    *,
    tokenize: Literal["13a", "intl", "char", "none"] = "13a",
    smooth_method: Literal["exp", "floor", "add-k", "none"] = "exp",
    lowercase: bool = False,
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def chrf(
    predictions: _Column,
    references: _Column,
    *,
    char_order: int = 6,
    word_order: int = 0,
    beta: int = 2,
    lowercase: bool = False,
    whitespace: bool = False,
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def chrf_statistics(
    predictions: _Column,
    references: _Column,
    *,
    char_order: int = 6,
    word_order: int = 0,
    beta: int = 2,
    lowercase: bool = False,
    whitespace: bool = False,
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def token_f1(
    predictions: _Column,
    references: _Column,
    *,
    ignore_case: bool = True,
    ignore_punctuation: bool = True,
    ignore_articles: bool = True,
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def rouge(
    predictions: _Column,
    references: _Column,
    *,
    variant: Literal["rouge1", "rouge2", "rougeL", "rougeLsum"] = "rougeL",
    use_stemmer: bool = False,
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def porter_stem(words: list[str]) -> list[str]: ...  # rouge's stemmer, for tests
def brier_score(
    probabilities: _Column,
    labels: _Column,
    *,
    convention: Literal["sum", "class_mean"] = "sum",
    from_logprobs: bool = False,
    tolerance: float = ...,  # 1e-4
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def multiple_choice_grade(
    scores: _Column,
    labels: _Column,
    *,
    choices: _Column | None = None,
    length_normalize: Literal["chars", "bytes"] | None = None,
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def choice_probability(
    scores: _Column,
    labels: _Column,
    *,
    which: Literal["gold", "top"] = "gold",
    from_logprobs: bool = True,
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def sample_estimate(
    samples: _Column,
    references: _Column | None = None,
    *,
    k: int | None = None,
    strip: bool = False,
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
    ignore_articles: bool = False,
    collapse_whitespace: bool = False,
    regexes_to_ignore: list[str] = ...,
    punctuation: Literal["ascii", "unicode"] = "ascii",
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def majority_vote(
    samples: _Column,
    references: _Column,
    *,
    k: int | None = None,
    strip: bool = False,
    ignore_case: bool = False,
    ignore_punctuation: bool = False,
    ignore_numbers: bool = False,
    ignore_articles: bool = False,
    collapse_whitespace: bool = False,
    regexes_to_ignore: list[str] = ...,
    punctuation: Literal["ascii", "unicode"] = "ascii",
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
def rolling_statistics(
    loglikelihoods: _Column,
    documents: _Column,
    *,
    unit: Literal["words", "bytes"],
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
