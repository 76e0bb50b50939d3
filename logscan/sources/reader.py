"""Reading append-only files from a stored position, complete lines only.

A file's identity is (dev, inode) plus a hash of its first 256 bytes. Reading restarts at 0 when
the file was replaced (new inode), truncated (smaller than the stored offset) or rewritten in
place (head changed). Only bytes up to the last newline are handed on; a partial trailing line
stays in the file until its newline arrives.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from logscan.models import Record

HEAD = 256
SNIFF_BYTES = 64 * 1024
CHUNK = 8 * 1024 * 1024


def head_hash(head: bytes) -> str | None:
    if len(head) < HEAD:
        return None  # not yet long enough to identify the file
    return hashlib.blake2b(head[:HEAD], digest_size=8).hexdigest()


@dataclass(frozen=True)
class Start:
    offset: int
    reset: str | None  # why reading restarts at 0: replaced | truncated | rewritten | None


def start_position(
    size: int, dev: int, inode: int, head: bytes, prev_dev: int | None, prev_inode: int | None, prev_offset: int, prev_head: str | None
) -> Start:
    """Where to resume reading, given the file now and what was stored for it."""
    if prev_inode is not None and (prev_dev, prev_inode) != (dev, inode):
        return Start(0, "replaced")
    if size < prev_offset:
        return Start(0, "truncated")
    now_head = head_hash(head)
    if prev_head is not None and now_head is not None and now_head != prev_head:
        return Start(0, "rewritten")
    return Start(prev_offset, None)


def _open_regular(path: str) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file. It is opened non-blocking and
    checked with fstat before anything is read: a FIFO named like a log (or one swapped in after
    a stat) raises OSError instead of blocking the reader forever."""
    import errno
    import fcntl
    import stat

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, socket or device)", path)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_binary(path: str) -> BinaryIO:
    """Open a regular log file for reading; ``.zst`` files are decompressed transparently."""
    if path.endswith(".zst"):
        import zstandard

        raw = _open_regular(path)  # closed by the stream reader
        return zstandard.ZstdDecompressor().stream_reader(raw, closefd=True)  # type: ignore[return-value]
    return _open_regular(path)


def complete_blocks(f: BinaryIO, start: int, chunk: int = CHUNK) -> Iterator[tuple[int, bytes]]:
    """Yield (offset, data) blocks of whole lines from ``start``; each ``data`` ends with b"\\n".
    The bytes after the last newline are not yielded."""
    if start:
        if hasattr(f, "seekable") and f.seekable():
            f.seek(start)
        else:  # compressed stream: skip forward by reading
            remaining = start
            while remaining:
                got = f.read(min(remaining, chunk))
                if not got:
                    return
                remaining -= len(got)
    pos = start
    carry = b""
    while True:
        data = f.read(chunk)
        if not data:
            return
        if carry:
            data = carry + data
            carry = b""
        end = data.rfind(b"\n")
        if end < 0:
            carry = data  # one line longer than a chunk: keep reading
            continue
        if end + 1 < len(data):
            carry = data[end + 1 :]
            data = data[: end + 1]
        yield pos, data
        pos += len(data)


def records(path: str, base: int, data: bytes) -> Iterator[Record]:
    """Split a block of complete lines into records with their byte offsets."""
    pos = base
    for line in data.split(b"\n")[:-1]:
        yield Record(path, pos, line)
        pos += len(line) + 1


def read_head(path: str, n: int = SNIFF_BYTES) -> bytes:
    with open_binary(path) as f:
        return f.read(n)
