"""Read a line-oriented text file (JSONL) in blocks of whole lines, checking it is UTF-8.

Memory stays bounded by the block size whatever the file size; the line number of each block's
first line is known, so errors can name the line.
"""

from __future__ import annotations

from collections.abc import Iterator

from rescore.batch.storage import AnyPath
from rescore.exceptions import InputFormatError

BLOCK_BYTES = 4 << 20
"""Bytes read at a time (a block grows to hold a longer line whole)."""


def _check_utf8(block: bytes, path: AnyPath, first_line: int) -> None:
    try:
        block.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + block.count(b"\n", 0, e.start)
        byte = block[e.start]
        msg = f"{path}: line {line}: invalid UTF-8 (byte {byte:#04x}); re-encode it as UTF-8"
        raise InputFormatError(msg) from None


def iter_line_blocks(path: AnyPath, block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line number of the first line, 1-based; bytes of whole lines)``.

    Every yielded block ends with a newline (one is added after a last line without it) and is
    valid UTF-8; invalid UTF-8 raises :class:`~rescore.exceptions.InputFormatError` naming the
    line.
    """
    line = 1
    rest = b""
    with path.open("rb") as f:
        while True:
            chunk = f.read(block_bytes)
            if not chunk:
                break
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            _check_utf8(block, path, line)
            yield line, block
            line += block.count(b"\n")
    if rest:
        _check_utf8(rest, path, line)
        yield line, rest + b"\n"


def count_lines(path: AnyPath, block_bytes: int = BLOCK_BYTES) -> int:
    """Lines in ``path``: a fast pass (no decoding) for progress totals."""
    return sum(block.count(b"\n") for _, block in iter_line_blocks_raw(path, block_bytes))


def iter_line_blocks_raw(
    path: AnyPath, block_bytes: int = BLOCK_BYTES
) -> Iterator[tuple[int, bytes]]:
    """Like :func:`iter_line_blocks` without the UTF-8 check."""
    rest = b""
    with path.open("rb") as f:
        while chunk := f.read(block_bytes):
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            yield 0, data[:cut]
            rest = data[cut:]
    if rest:
        yield 0, rest + b"\n"


__all__ = ["BLOCK_BYTES", "count_lines", "iter_line_blocks"]
