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
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidatorFunctionWrapHandler, field_validator

# A token or request count: never negative, and a count above 2**40 is corrupt input. Checked by
# pydantic-core itself (no Python call per field: events are built at hundreds of MB/s).
Count = Annotated[int, Field(ge=0, le=1 << 40)]


# An event stamped later than now + FUTURE_SKEW (a wrong clock where the log was written) is kept
# but not counted as "in the last hour" nor in a current budget period; status and doctor count it.
FUTURE_SKEW = timedelta(minutes=5)


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
    input_tokens: Count = 0
    output_tokens: Count = 0
    cache_read_tokens: Count = 0
    cache_write_5m_tokens: Count = 0
    cache_write_1h_tokens: Count = 0
    reasoning_tokens: Count = 0
    web_search_requests: Count = 0
    web_fetch_requests: Count = 0
    output_lower_bound: bool = False
    speed: str | None = None
    source_path: str
    source_offset: int
    # Which copy wins when the same event_id is seen again: the higher rank, ties keep the first (between hosts: the smaller host name, so synced stores agree).
    rank: int = 0
    # How many source lines were collapsed into this event by the parser (for the summary).
    copies: int = 1

    @field_validator("ts", mode="wrap")
    @classmethod
    def _utc(cls, v: Any, handler: ValidatorFunctionWrapHandler) -> datetime:
        if type(v) is str:
            try:
                v = datetime.fromisoformat(v)  # C speed for the usual ISO 8601 stamps
            except ValueError:
                pass  # pydantic's parser takes it (or says what is wrong)
        dt: datetime = handler(v)
        if dt.tzinfo is None:
            return dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc)

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_5m_tokens
            + self.cache_write_1h_tokens
        )


def new_event(**fields: Any) -> Event:
    """``Event(**fields)``, validated the same way, without ``BaseModel.__init__``'s Python layer:
    that layer is a third of the cost of an event, and parsers make hundreds of thousands."""
    return validate_event(fields)


# ``new_event`` for a dict the caller built (one dict fewer than keyword arguments): pydantic-core's
# validator itself, the same checks as ``Event(**fields)``.
validate_event: Callable[[dict[str, Any]], Event] = Event.__pydantic_validator__.validate_python


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
    try:
        text = "\x1f".join(parts)  # type: ignore[arg-type]  (the usual case: all strings)
    except TypeError:
        text = "\x1f".join("" if p is None else str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


class QuotaSnapshot(BaseModel):
    """One reading of a subscription quota bar (FORMATS.md sections 1.7, 1.8, 2, 3.3, 3.4).

    ``window`` is ``five_hour``, ``weekly``, ``weekly_model`` (with ``scope`` naming the model,
    e.g. "Sonnet only", "Opus", "Fable"), ``monthly``, ``credits``, or for Codex windows of other
    lengths ``<N>h`` / ``annual``. ``used_percent`` is the share used (a "% left" reading is
    converted); it is None for a plain credit balance. ``resets_at`` is an absolute UTC instant,
    None when the source gives no reset or one that cannot be resolved. ``zone_assumed`` names
    the zone used to resolve a wall-clock reset that came without one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    snapshot_id: int = 0  # filled from the content when 0
    tool: str
    window: str
    scope: str | None = None
    used_percent: float | None = None
    resets_at: datetime | None = None
    captured_at: datetime
    source: str  # usage-paste | status-paste | transcript | rollout | statusline
    window_minutes: int | None = None
    credits: float | None = None  # remaining credits, for credit rows
    plan: str | None = None
    zone_assumed: str | None = None
    note: str | None = None  # e.g. a stale reset: the panel was copied earlier than it was pasted
    source_path: str | None = None
    source_offset: int | None = None

    @field_validator("captured_at", "resets_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return None
        if v.tzinfo is None:
            return v.replace(tzinfo=timezone.utc)
        return v.astimezone(timezone.utc)

    @field_validator("used_percent")
    @classmethod
    def _percent(cls, v: float | None) -> float | None:
        if v is not None and not (0.0 <= v <= 1000.0):
            raise ValueError("a quota percent must lie between 0 and 1000")
        return v

    def model_post_init(self, __context: object) -> None:
        if not self.snapshot_id:
            object.__setattr__(
                self,
                "snapshot_id",
                make_id(
                    "quota",
                    self.tool,
                    self.window,
                    self.scope,
                    self.used_percent,
                    self.resets_at.isoformat() if self.resets_at else None,
                    self.captured_at.isoformat(),
                    self.source,
                    self.credits,
                ),
            )
