"""Text from user code on its way to a terminal: control characters shown, never obeyed.

An exception message, a log line or a score value may hold ESC or OSC sequences (``\\x1b]0;title\\x07``)
that would retitle, recolour or clear the user's terminal. The headless commands print through
:func:`escaped`, which shows each C0/C1 control character (but newline and tab) as an escape.
"""

from __future__ import annotations

import io
from typing import TextIO, cast

__all__ = ["escape_controls", "escaped"]

_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0)]
_PLAIN = {code: f"\\x{code:02x}" for code in _CONTROLS if chr(code) not in "\n\t"}
# In JSON output a control character can only be inside a string, where \\u is a valid escape.
_JSON = {code: f"\\u{code:04x}" for code in _CONTROLS if chr(code) not in "\n\t"}


def escape_controls(text: str, *, json: bool = False) -> str:
    """``text`` with control characters other than newline and tab written as escapes."""
    return text.translate(_JSON if json else _PLAIN)


class _Escaping(io.TextIOBase):
    def __init__(self, stream: TextIO, *, json: bool) -> None:
        super().__init__()
        self.stream = stream
        self.json = json

    def write(self, text: str) -> int:
        self.stream.write(escape_controls(text, json=self.json))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def escaped(stream: TextIO, *, json: bool = False) -> TextIO:
    """A stream that writes to ``stream`` with control characters escaped (as JSON escapes for JSON)."""
    if isinstance(stream, _Escaping):
        return cast(TextIO, stream)
    return cast(TextIO, _Escaping(stream, json=json))
