"""Horizontal bar charts for a terminal: one line per label, bars drawn with eighth-blocks; the
bars are as long as the terminal's width leaves room for (10 to 50 cells), so no line wraps."""

from __future__ import annotations

from collections.abc import Callable, Sequence

EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(value: float, top: float, width: int) -> str:
    """A bar of ``value / top * width`` cells, in eighths of a cell."""
    if top <= 0 or value <= 0:
        return ""
    eighths = round(value / top * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


def human(n: float) -> str:
    """1234567 -> '1.2M'."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    width: int | None = None,
    fmt: Callable[[float], str] = human,
    notes: Sequence[str] | None = None,
    title: str | None = None,
) -> str:
    """Lines 'label │████▌ value [note]'; a None value shows as 'n/a'."""
    nums = [v or 0.0 for v in values]
    top = max(nums, default=0.0)
    lw = max((len(x) for x in labels), default=0)
    if width is None:
        import sys

        from logscan.reports.output import terminal_width

        tail = max((len("n/a" if v is None else fmt(v)) + (len(notes[i]) + 2 if notes and notes[i] else 0)
                    for i, v in enumerate(values)), default=0)
        width = max(10, min(50, (terminal_width(sys.stdout) or 100) - lw - 3 - tail))
    lines = [title] if title else []
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        b = bar(v or 0.0, top, width)
        shown = "n/a" if v is None else fmt(v)
        note = f"  {notes[i]}" if notes and notes[i] else ""
        lines.append(f"{label.rjust(lw)} │{b.ljust(width)} {shown}{note}")
    return "\n".join(lines) + "\n"
