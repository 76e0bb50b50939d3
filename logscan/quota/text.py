"""Parsers for quota panels copied from a terminal: Claude Code ``/usage`` and Codex ``/status``.

Captures are messy (FORMATS.md sections 2 and 3.4): ANSI escapes, CR-only line endings,
half-redrawn frames (``Curretsession``, ``Current week (all modls)``), stripped spaces
(``Currentweek(allmodels)``), status bars with unrelated percentages, several frames in one
paste. The rules: clean the text, cut it into panels at each panel header, and take the **last
panel that holds at least one bar**. Within a panel the first reading of a window wins (a
garbled redraw copy comes after the real row). A panel that only says "Loading…" or shows an
error stores nothing and raises ``QuotaTextError`` with the reason.

The parsers never raise anything else, whatever the input (tested with hypothesis).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from logscan.errors import LogscanError
from logscan.models import QuotaSnapshot
from logscan.quota.timeparse import resolve_reset

ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Claude Code /usage
CLAUDE_HEADER_RE = re.compile(r"^\W*Settings\b", re.I)
CLAUDE_LABEL_RE = re.compile(r"^[\s│|]*Cur\w{0,6}?\s*(?P<what>session|week)\s*(?:\((?P<scope>[^)]{0,60})\))?", re.I)
CLAUDE_END_RE = re.compile(r"^\W*(?:Extra\s*usage|Account:|Org:|Esc\s*to)", re.I)
PERCENT_RE = re.compile(r"(?P<n>[-−]?\s*\d{1,4}(?:\.\d+)?)\s*%\s*(?P<kind>used|left|remaining)", re.I)
RESETS_RE = re.compile(r"\bResets?\s*:?\s*(?P<rest>.{0,80})", re.I)  # "Resets4:29am" in space-less captures
CLAUDE_ERROR_RE = re.compile(r"(?:^|\n)\W*Error:?\s*(?P<msg>.{0,300})", re.I | re.S)
LOADING_RE = re.compile(r"Loading\s*usage\s*data", re.I)

# Codex /status
CODEX_HEADER_RE = re.compile(r"OpenAI\s*Codex|^\s*/status\b|^\s*╭", re.I)
CODEX_ROW_RE = re.compile(
    r"(?P<label>[A-Za-z0-9][\w .\-]{0,40}?)\s*limit:\s*(?:\[[^\]\n]{0,60}\])?\s*"
    r"(?P<n>[-−]?\s*\d{1,4}(?:\.\d+)?)\s*%\s*(?P<kind>used|left)(?:\s*\(\s*resets\s*(?P<reset>[^)\n]{0,40})\))?",
    re.I,
)
CODEX_CREDITS_RE = re.compile(r"Credits:\s*(?P<n>\d[\d,]{0,15}(?:\.\d+)?)\s*credits", re.I)
CODEX_CREDITS_USED_RE = re.compile(r"(?P<used>\d[\d,]{0,15})\s*of\s*(?P<limit>\d[\d,]{0,15})\s*credits\s*used", re.I)
CODEX_NO_LIMITS_RE = re.compile(r"Limits:\s*visit", re.I)
CODEX_STALE_RE = re.compile(r"limits\s*may\s*be\s*stale", re.I)


class QuotaTextError(LogscanError):
    """The pasted text holds no usable quota panel (loading, an error panel, or something else)."""


@dataclass
class PanelResult:
    tool: str  # "claude-code" | "codex"
    snapshots: list[QuotaSnapshot]
    notes: list[str] = field(default_factory=list)
    panels: int = 1


def percent(text: str, where: str) -> float:
    """A bar's percentage; anything outside 0-100 is not a reading (a garbled or misread panel)."""
    pct = float(text.replace("−", "-").replace(" ", ""))
    if not 0.0 <= pct <= 100.0:
        raise QuotaTextError(f"{where} shows {text.strip()}%, which no quota bar can show (0-100 %); nothing was stored. "
                             "Copy the panel again (the whole panel, after it has finished loading).")
    return pct


def clean(text: str) -> str:
    """No ANSI, no stray control characters, LF line endings."""
    text = ANSI_RE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return CTRL_RE.sub("", text).replace("\u00a0", " ")


def detect(text: str) -> str | None:
    """'claude-code', 'codex', or None when the text looks like neither."""
    t = clean(text)
    claude = sum(1 for line in t.split("\n") if CLAUDE_LABEL_RE.match(line)) + (2 if re.search(r"Usage\s*\(", t) else 0)
    codex = len(CODEX_ROW_RE.findall(t)) + len(CODEX_CREDITS_RE.findall(t)) + (2 if re.search(r"OpenAI\s*Codex", t) else 0)
    if LOADING_RE.search(t) or re.search(r"Failed\s*to\s*load\s*usage\s*data", t, re.I):
        claude += 1
    if CODEX_NO_LIMITS_RE.search(t):
        codex += 1
    if claude == codex == 0:
        return None
    return "claude-code" if claude >= codex else "codex"


def parse_panel(text: str, captured_at: datetime, *, zone: tuple[tzinfo, str] | None = None, source: str | None = None) -> PanelResult:
    """Auto-detect and parse; raises QuotaTextError when nothing usable is there."""
    kind = detect(text)
    if kind == "claude-code":
        return parse_claude_usage(text, captured_at, zone=zone, source=source or "usage-paste")
    if kind == "codex":
        return parse_codex_status(text, captured_at, zone=zone, source=source or "status-paste")
    raise QuotaTextError(
        "The text on stdin is neither a Claude Code /usage panel nor a Codex /status card. "
        "Copy the whole panel from the terminal (the 'Current session' / '5h limit' rows) and paste it again."
    )


def _split(lines: list[str], is_header: re.Pattern[str]) -> list[list[str]]:
    panels: list[list[str]] = [[]]
    for line in lines:
        if is_header.search(line) and panels[-1]:
            panels.append([])
        panels[-1].append(line)
    return panels


# -- Claude Code /usage ---------------------------------------------------------------------
def _claude_window(what: str, scope: str | None) -> tuple[str, str | None]:
    if what.lower() == "session":
        return "five_hour", None
    if scope is None:
        return "weekly", None
    compact = re.sub(r"\W", "", scope).lower()
    if not compact or difflib.SequenceMatcher(None, compact, "allmodels").ratio() >= 0.8:
        return "weekly", None
    label = " ".join(scope.split())
    if " " not in label and compact.endswith("only") and len(compact) > 4:
        label = label[: -len("only")] + " only"  # "Sonnetonly" from a capture without spaces
    return "weekly_model", label


def parse_claude_usage(text: str, captured_at: datetime, *, zone: tuple[tzinfo, str] | None = None, source: str = "usage-paste") -> PanelResult:
    lines = clean(text).split("\n")
    panels = _split(lines, CLAUDE_HEADER_RE)
    notes: list[str] = []
    for i in range(len(panels) - 1, -1, -1):
        snaps = _claude_sections(panels[i], captured_at, zone, source, notes)
        if snaps:
            if i < len(panels) - 1:
                notes.append(f"{len(panels) - 1 - i} later panel(s) held no readings (loading, error or cut off) and were skipped")
            return PanelResult("claude-code", snaps, _dedupe_notes(notes), len(panels))
    whole = "\n".join(lines)
    if m := CLAUDE_ERROR_RE.search(whole):
        msg = " ".join(m["msg"].split())
        code = re.search(r'"error_code"\s*:\s*"(\w+)"', whole)
        hint = " Log in again in Claude Code (/login), then run /usage and paste the panel." if code and "token" in code.group(1) else ""
        reason = code.group(1) if code else msg[:120]
        raise QuotaTextError(f"The Claude Code /usage panel shows an error ({reason}); nothing was stored.{hint}")
    if LOADING_RE.search(whole):
        raise QuotaTextError(
            "The Claude Code /usage panel was still loading ('Loading usage data…') and shows no bars; nothing was stored. "
            "Wait until the bars appear, then copy the panel again."
        )
    raise QuotaTextError("No 'Current session' or 'Current week' bar with a percentage was found in the Claude Code /usage text; nothing was stored.")


def _claude_sections(lines: list[str], captured_at: datetime, zone: tuple[tzinfo, str] | None, source: str, notes: list[str]) -> list[QuotaSnapshot]:
    out: dict[tuple[str, str | None], QuotaSnapshot] = {}
    cur: dict[str, object] | None = None

    def close() -> None:
        if cur is None or cur.get("pct") is None:
            return
        key = (str(cur["window"]), cur["scope"])  # type: ignore[arg-type]
        if key in out:
            return  # a redraw copy; the first reading wins
        reset_at = None
        assumed = None
        note = None
        if isinstance(cur.get("reset"), str):
            r = resolve_reset(str(cur["reset"]), captured_at, zone, 300 if key[0] == "five_hour" else 10080)
            reset_at, assumed, note = r.at, r.zone_assumed, r.note
            if r.note:
                notes.append(r.note)
            if r.at is None:
                notes.append(f"could not read the reset time of {key[1] or key[0]}")
            elif assumed:
                notes.append(f"reset times without a zone were read in {assumed}")
        pct = percent(str(cur["pct"]), f"the {key[1] or key[0].replace('_', ' ')} bar")
        used = pct if cur["kind"] == "used" else 100.0 - pct
        out[key] = QuotaSnapshot(
            tool="claude-code",
            window=key[0],
            scope=key[1],
            used_percent=max(0.0, min(used, 1000.0)),
            resets_at=reset_at,
            captured_at=captured_at,
            source=source,
            window_minutes=300 if key[0] == "five_hour" else 10080,
            zone_assumed=assumed if reset_at is not None else None,
            note=note,
        )

    for line in lines:
        m = CLAUDE_LABEL_RE.match(line)
        if m:
            close()
            window, scope = _claude_window(m["what"], m["scope"])
            cur = {"window": window, "scope": scope, "pct": None, "kind": None, "reset": None}
            line = line[m.end() :]
        elif CLAUDE_END_RE.match(line) or CLAUDE_HEADER_RE.match(line):
            close()
            cur = None
            continue
        if cur is None:
            continue
        if cur["pct"] is None and (p := PERCENT_RE.search(line)):
            cur["pct"] = p["n"]
            cur["kind"] = "used" if p["kind"].lower() == "used" else "left"
        if cur["pct"] is not None and cur["reset"] is None and (r := RESETS_RE.search(line)):
            cur["reset"] = r["rest"]
    close()
    return list(out.values())


def _dedupe_notes(notes: list[str]) -> list[str]:
    return list(dict.fromkeys(notes))


# -- Codex /status ----------------------------------------------------------------------------
def codex_window(minutes: int) -> str:
    """Codex's own grouping (``get_limits_duration``): up to a day (+3 min) is hours, up to a
    week is weekly, then monthly; monthly windows are 43,800 minutes (365/12 days), so the monthly
    bound here is 31 days rather than Codex's 30."""
    if minutes <= 24 * 60 + 3:
        hours = max(1, round(minutes / 60))
        return "five_hour" if hours == 5 else f"{hours}h"
    if minutes <= 7 * 24 * 60 + 3:
        return "weekly"
    if minutes <= 31 * 24 * 60 + 3:
        return "monthly"
    return "annual"


def _codex_label(label: str) -> tuple[str, str | None, int | None]:
    words = label.split()
    if not words:
        return "", None, None
    last = words[-1].lower()
    scope_words = words[:-1]
    if last == "credit" and len(words) >= 2:  # "Monthly credit limit"
        last = words[-2].lower()
        scope_words = words[:-2] + ["credits"]
    scope = " ".join(scope_words) or None
    if m := re.fullmatch(r"(\d{1,3})h", last):
        minutes = int(m.group(1)) * 60
        return codex_window(minutes), scope, minutes
    table = {"weekly": ("weekly", 10080), "monthly": ("monthly", 43800), "annual": ("annual", 525600), "daily": ("24h", 1440)}
    if last in table:
        return table[last][0], scope, table[last][1]
    return "", None, None


def parse_codex_status(text: str, captured_at: datetime, *, zone: tuple[tzinfo, str] | None = None, source: str = "status-paste") -> PanelResult:
    lines = [line.strip().strip("│|").strip() for line in clean(text).split("\n")]
    panels = _split(lines, CODEX_HEADER_RE)
    notes: list[str] = []
    for i in range(len(panels) - 1, -1, -1):
        snaps = _codex_rows(panels[i], captured_at, zone, source, notes)
        if snaps:
            if any(CODEX_STALE_RE.search(x) for x in panels[i]):
                notes.append("Codex warned that these limits may be stale (start a new turn to refresh them)")
            if i < len(panels) - 1:
                notes.append(f"{len(panels) - 1 - i} later card(s) held no limits and were skipped")
            return PanelResult("codex", snaps, _dedupe_notes(notes), len(panels))
    whole = "\n".join(lines)
    if CODEX_NO_LIMITS_RE.search(whole):
        raise QuotaTextError(
            "The Codex /status card has no limit bars ('Limits: visit chatgpt.com/codex/settings/usage'); nothing was stored. "
            "Send a message in Codex first so it receives its limits, then run /status again."
        )
    raise QuotaTextError("No '5h limit', 'Weekly limit', 'Monthly limit' or 'Credits' row was found in the Codex /status text; nothing was stored.")


def _num(s: str) -> float:
    return float(s.replace(",", ""))


def _codex_rows(lines: list[str], captured_at: datetime, zone: tuple[tzinfo, str] | None, source: str, notes: list[str]) -> list[QuotaSnapshot]:
    out: dict[tuple[str, str | None], QuotaSnapshot] = {}
    last_key: tuple[str, str | None] | None = None
    for line in lines:
        if m := CODEX_ROW_RE.search(line):
            window, scope, minutes = _codex_label(m["label"])
            if not window:
                notes.append(f"unknown Codex limit row {m['label'][:30]!r} skipped")
                continue
            key = (window, scope)
            last_key = key
            if key in out:
                continue
            pct = percent(m["n"], f"the {m['label'].strip()[:30]} row")
            used = pct if m["kind"].lower() == "used" else 100.0 - pct
            reset_at = assumed = note = None
            if m["reset"]:
                r = resolve_reset(m["reset"], captured_at, zone, minutes)
                reset_at, assumed, note = r.at, r.zone_assumed, r.note
                if r.note:
                    notes.append(r.note)
                if r.at is None:
                    notes.append(f"could not read the reset time of the {m['label'].strip()[:30]} limit")
                elif assumed:
                    notes.append(f"Codex prints reset times without a zone; they were read in {assumed}")
            out[key] = QuotaSnapshot(
                tool="codex",
                window=window,
                scope=scope,
                used_percent=max(0.0, min(used, 1000.0)),
                resets_at=reset_at,
                captured_at=captured_at,
                source=source,
                window_minutes=minutes,
                zone_assumed=assumed if reset_at is not None else None,
                note=note,
            )
        elif (m2 := CODEX_CREDITS_USED_RE.search(line)) and last_key is not None and last_key[1] and "credits" in last_key[1]:
            snap = out[last_key]
            remaining = _num(m2["limit"]) - _num(m2["used"])
            out[last_key] = QuotaSnapshot(**{**snap.model_dump(), "credits": remaining, "snapshot_id": 0})
        elif m3 := CODEX_CREDITS_RE.search(line):
            key = ("credits", None)
            if key not in out:
                out[key] = QuotaSnapshot(tool="codex", window="credits", credits=_num(m3["n"]), captured_at=captured_at, source=source)
    return list(out.values())
