"""Every glyph the studio draws, with its meaning: the graph draws from here and ``?`` explains from here."""

from __future__ import annotations

__all__ = ["LEGEND", "STALL_GLYPH", "STATUS_GLYPHS", "legend_markdown"]

#: A node's status, shown in its top border (with the duration once it ended).
STATUS_GLYPHS = {
    "running": "▶",
    "paused": "⏸",
    "done": "✓",
    "failed": "✗",
    "skipped": "·",
    "cancelled": "⊘",
    "reused": "↺",
}

#: An ``async def`` note that held the worker's event loop past the run's threshold (50 ms unless told).
STALL_GLYPH = "⚠"

#: (section, [(glyph, meaning), ...]) in the order ``?`` shows them.
LEGEND: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Status, in a box's top border",
        [
            (STATUS_GLYPHS["done"], "done in 12 ms, 1.23 s, 2 min 3 s"),
            (STATUS_GLYPHS["failed"], "failed"),
            (STATUS_GLYPHS["running"], "running"),
            (STATUS_GLYPHS["paused"], "paused before it"),
            (STATUS_GLYPHS["skipped"], "skipped"),
            (STATUS_GLYPHS["cancelled"], "cancelled"),
            (STATUS_GLYPHS["reused"], "reused from the parent run (a resume, a re-run from a note)"),
            ("↻2", "this run took 2 attempts"),
            ("↪", "this run fell back"),
            (
                f"{STALL_GLYPH} 200 ms",
                "blocked the event loop 200 ms (an async def note calling blocking code)",
            ),
        ],
    ),
    (
        "Resilience, in the box",
        [
            ("↻3", "@retry, up to 3 attempts"),
            ("◷2s", "@timeout"),
            ("↪", "@fallback"),
            ("⚡", "@circuit_breaker"),
        ],
    ),
    (
        "Measures",
        [
            ("◉", "the cadence"),
            ("▼", "then"),
            ("∥", ".sync, lanes at once"),
            ("◇", ".split, true / false lanes"),
            ("▾", "child cadence"),
            ("┄", ".sequence"),
            ("▸", "collapsed (space)"),
            ("●", "breakpoint (b)"),
            ("━", "selected"),
        ],
    ),
    (
        "Timeline, a Gantt chart of the run's own time (paused time left out)",
        [
            ("┆", "a tick of the time axis (its step on the left); a click on a row selects its note"),
            ("███", "a note's bar: green done, red failed, cyan running (…: still running)"),
            ("∥ ▾ ◇", "a .sync group, child cadence, split: a grey bar over the rows indented under it"),
            ("↻2", "retried: the yellow part of the bar is the failed attempts"),
            ("↪ ◷", "fell back, timed out"),
            (STALL_GLYPH, "blocked the event loop (by its name, and the time after its bar)"),
        ],
    ),
    (
        "Events tab",
        [
            ("⇉", "merged"),
            ("↳ ↲", "child in, out"),
            ("◷", "timed out"),
            ("■", "run ended"),
            ("◈", "a data breakpoint held the run right after a note (w: a field, W: an expression)"),
        ],
    ),
    (
        "Across runs",
        [
            ("m =", "in the history (h): mark two runs, compare them note by note"),
            ("≠", "a note that differs between the two runs (d: only those)"),
            ("p", "on a score field: the notes that wrote it, in order (Enter jumps to one)"),
        ],
    ),
]


def legend_markdown() -> str:
    """The legend as Markdown for the help panel ``?`` opens: one short paragraph per section."""
    parts = []
    for section, entries in LEGEND:
        shown = "; ".join(f"`{glyph}` {meaning}" for glyph, meaning in entries)
        parts.append(f"**{section}:** {shown}")
    return "\n\n".join(parts)
