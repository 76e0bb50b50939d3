"""The normalized records every parser produces.

An ``Event`` is one billed model call. Token buckets are Anthropic-style and disjoint:

- ``input_tokens``: uncached input only;
- ``cache_read_tokens``, ``cache_write_5m_tokens``, ``cache_write_1h_tokens``: cache traffic;
- ``output_tokens``: everything generated, reasoning included;
- ``reasoning_tokens``: the informational reasoning subset of output (never added to totals).

No prompt or completion text is ever carried: only counts, ids, models, timestamps and paths.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, field_validator


class Record(NamedTuple):
    """One unit a reader hands to a parser: a complete JSONL line, a JSON file, or a row."""

    path: str
    pos: int  # byte offset of the line in the file (or a row watermark)
    raw: bytes


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: int
    tool: str
    provider: str | None
    model: str
    ts: datetime
    session_id: str | None = None
    project: str | None = None
    is_sidechain: bool = False
    agent_id: str | None = None
    message_id: str | None = None
    request_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    web_search_requests: int = 0
    web_fetch_requests: int = 0
    output_lower_bound: bool = False
    speed: str | None = None
    source_path: str
    source_offset: int
    # Which copy wins when the same event_id is seen again: the higher rank, ties keep the first.
    rank: int = 0
    # How many source lines were collapsed into this event by the parser (for the summary).
    copies: int = 1

    @field_validator("ts")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            return v.replace(tzinfo=timezone.utc)
        return v.astimezone(timezone.utc)

    @field_validator(
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_5m_tokens",
        "cache_write_1h_tokens",
        "reasoning_tokens",
        "web_search_requests",
        "web_fetch_requests",
    )
    @classmethod
    def _non_negative(cls, v: int) -> int:
        if v < 0:
            raise ValueError("token counts cannot be negative")
        if v > 1 << 40:
            raise ValueError("token count is implausibly large")
        return v

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
        )


class Problem(BaseModel):
    """A line or record that could not be used. Stored with its place; the data is not."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    offset: int
    kind: str  # invalid-json | schema | invalid-utf8 | ...
    reason: str
    length: int = 0


def make_id(*parts: object) -> int:
    """A stable signed 64-bit id from content (never from row order or time of ingest)."""
    h = hashlib.blake2b("\x1f".join("" if p is None else str(p) for p in parts).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "big", signed=True)
