"""Hypothesis strategies for the inputs users hand over."""

from __future__ import annotations

from hypothesis import strategies as st

# Small alphabets make matches (and so interesting alignments) likely; the large one checks ids
# above 2**16 and 2**32 are compared exactly.
small_ids = st.integers(min_value=0, max_value=5)
large_ids = st.integers(min_value=0, max_value=2**40)


def token_lists(
    max_size: int = 80, elements: st.SearchStrategy[int] = small_ids
) -> st.SearchStrategy[list[int]]:
    return st.lists(elements, max_size=max_size)


long_token_lists = st.lists(small_ids, min_size=60, max_size=1_200)

texts = st.text(
    alphabet=st.sampled_from(list("abcé ñ字\t\n.,!?AB12")) | st.characters(codec="utf-8"),
    max_size=40,
)
words = st.lists(st.sampled_from(["the", "cat", "sat", "on", "mat", "ünï", "42"]), max_size=20).map(
    " ".join
)


# Lengths at each 64-symbol word boundary of the bit-parallel kernels (one word, then the wide
# SIMD lanes up to 6 words, then the scalar kernel past 384).
WORD_BOUNDARIES = (63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 256, 257, 383, 384, 385)


@st.composite
def boundary_pairs(draw: st.DrawFn, alphabet: list[str]) -> tuple[list[str], list[str]]:
    """A sequence of a boundary length whose ends differ from its partner's (so trimming keeps
    the length), and that sequence with a few edits: close pairs and, with many edits, far ones."""
    n = draw(st.sampled_from(WORD_BOUNDARIES))
    symbol = st.sampled_from(alphabet)
    a = ["<", *draw(st.lists(symbol, min_size=n - 2, max_size=n - 2)), ">"]
    b = a[1:-1]
    for _ in range(draw(st.integers(0, 60))):
        pos, kind, sym = draw(st.integers(0, len(b))), draw(st.integers(0, 2)), draw(symbol)
        if kind == 0 and pos < len(b):
            b[pos] = sym
        elif kind == 1 and pos < len(b):
            del b[pos]
        else:
            b.insert(pos, sym)
    return a, ["[", *b, "]"]
