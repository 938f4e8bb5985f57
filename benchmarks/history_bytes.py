"""Where the trades array sits in a trades_history.json written by ``json.dump(indent=2)``.

Shared by the floor (floor.py copies the array out for DuckDB's
read_json_objects) and by the history-rewrite night (benchmark.py rewrites the
array's last trades). Both stream the file: a 3 GB history file read whole
would not fit beside DuckDB at 10M orders.

The loader keeps its own single-pass splitter (scripts/load_raw.py,
split_history): it also reads gzip streams, which cannot seek, validates the
document around the array and accepts other layouts; and the floor must not
depend on the project's loader, whose cost it is there to bound.
"""
from __future__ import annotations

from pathlib import Path
from typing import IO

OPEN, CLOSE = b'\n  "trades": [', b"\n  ]"  # indent=2: the array's closing bracket alone on a line
CHUNK = 1 << 24


def find(handle: IO[bytes], needle: bytes, offset: int) -> int:
    """Offset of the first ``needle`` at or after ``offset``, -1 when there is none."""
    handle.seek(offset)
    carry = b""
    while chunk := handle.read(CHUNK):
        buffer = carry + chunk
        if (found := buffer.find(needle)) >= 0:
            return offset - len(carry) + found
        carry = buffer[-(len(needle) - 1):]  # a needle split across two chunks
        offset += len(chunk)
    return -1


def trades_array_span(path: Path) -> tuple[int, int] | None:
    """``(begin, end)``: the array's bytes are ``[begin, end)``, brackets included;
    None when the file is not in the indent=2 layout."""
    with path.open("rb") as handle:
        key = find(handle, OPEN, 0)
        if key < 0:
            return None
        begin = key + len(OPEN) - 1
        handle.seek(begin)
        if handle.read(2) == b"[]":
            return begin, begin + 2
        close = find(handle, CLOSE, begin)
        return None if close < 0 else (begin, close + len(CLOSE))


def copy_span(path: Path, begin: int, end: int, out: IO[bytes]) -> None:
    """Copy bytes ``[begin, end)`` of ``path`` to ``out``."""
    with path.open("rb") as source:
        source.seek(begin)
        remaining = end - begin
        while remaining and (chunk := source.read(min(remaining, CHUNK))):
            out.write(chunk)
            remaining -= len(chunk)
