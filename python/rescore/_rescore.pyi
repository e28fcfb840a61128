# Hand-written stub of the native module (checked by `python -m mypy.stubtest rescore._rescore`).
from typing import Final, Literal

from rescore._typing import ArrowArrayExportable, ArrowStreamExportable

_Column = ArrowArrayExportable | ArrowStreamExportable
_OnError = Literal["raise", "null"]

__all__ = [
    "DEBUG_BUILD",
    "InvalidInputError",
    "InvalidOptionError",
    "LengthMismatchError",
    "UnsupportedTypeError",
    "__version__",
    "brier_score",
    "char_edit_distance",
    "exact_match",
    "multiple_choice_grade",
    "token_edit_distance",
    "token_f1",
]

__version__: Final[str]
DEBUG_BUILD: Final[bool]

class InvalidInputError(ValueError): ...
class LengthMismatchError(InvalidInputError): ...
class InvalidOptionError(ValueError): ...
class UnsupportedTypeError(TypeError): ...

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
    regexes_to_ignore: list[str] = ...,
    punctuation: Literal["ascii", "unicode"] = "ascii",
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
    workers: int = ...,  # -1: all cores
    on_error: _OnError = "raise",
) -> ArrowArrayExportable: ...
